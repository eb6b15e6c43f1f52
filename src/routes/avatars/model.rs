//! Avatar images: the type from magic bytes (never only the header), the size limit, and keys: one per upload, under
//! its owner's prefix.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;

/// Largest avatar accepted (2 MiB).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// The bytes at an image's start that tell its type (WebP's signature, the longest, ends at 12).
pub const HEAD_BYTES: usize = 12;
/// `Cache-Control` of a served avatar: a key is written once, by one upload, so what it serves never changes.
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// An accepted image type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Png,
    Jpeg,
    Webp,
}

impl ImageType {
    const ALL: [ImageType; 3] = [ImageType::Png, ImageType::Jpeg, ImageType::Webp];

    /// The media type.
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Webp => "image/webp",
        }
    }

    /// The key's extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Png => "png",
            ImageType::Jpeg => "jpg",
            ImageType::Webp => "webp",
        }
    }

    /// The type the bytes are, from their signature.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageType::Webp)
        } else {
            None
        }
    }
}

/// Checks an upload of `len` bytes starting with `head` (its first [`HEAD_BYTES`]): the declared type must be one of
/// ours (or `application/octet-stream`, when the bytes say which), the bytes must be that type, and small enough.
pub fn check_upload(content_type: Option<&str>, head: &[u8], len: usize) -> Result<ImageType, ApiError> {
    if len > MAX_BYTES {
        return Err(ApiError::PayloadTooLarge { limit: MAX_BYTES });
    }
    let declared = content_type.and_then(|v| v.split(';').next()).map(|v| v.trim().to_ascii_lowercase());
    // Generated API clients send raw bytes as octet-stream: the magic bytes decide, as they always do.
    if declared.as_deref() == Some("application/octet-stream") {
        return ImageType::sniff(head)
            .ok_or_else(|| ApiError::UnsupportedMediaType("the body is not a PNG, JPEG or WebP image".to_owned()));
    }
    let declared = ImageType::ALL.into_iter().find(|t| Some(t.mime()) == declared.as_deref()).ok_or_else(|| {
        ApiError::UnsupportedMediaType("Content-Type must be image/png, image/jpeg or image/webp".to_owned())
    })?;
    match ImageType::sniff(head) {
        Some(actual) if actual == declared => Ok(actual),
        Some(actual) => Err(ApiError::UnsupportedMediaType(format!(
            "the body is {} but Content-Type says {}",
            actual.mime(),
            declared.mime()
        ))),
        None => Err(ApiError::UnsupportedMediaType("the body is not a PNG, JPEG or WebP image".to_owned())),
    }
}

/// Bytes of a key that name its owner: the start of SHA-256 of the owner's id (96 bits, so two owners never share a
/// prefix, and the id itself is not in the URL).
const OWNER_BYTES: usize = 12;
/// Random bytes of a key that name the upload (160 bits).
pub const UPLOAD_BYTES: usize = 20;

/// The start every key of `owner`'s images has (hex), to list them all: the images an account ever stored, left
/// behind by failed uploads included, leave with it.
pub fn owner_prefix(owner: &Uuid) -> String {
    base16ct::lower::encode_string(&Sha256::digest(owner.as_bytes())[..OWNER_BYTES])
}

/// The key of one upload: its owner's prefix, then `upload` (random bytes), in hex, with the type's extension. A key
/// per upload, not per picture: with the content in the key, two uploads of the same picture shared one object, so
/// an upload that failed (removing its object) or replaced it (removing the one it replaced) could remove the image
/// a concurrent upload had just set on the profile. Now every object is one upload's alone, removed only when that
/// upload failed or its image was replaced.
pub fn key_of(owner: &Uuid, upload: &[u8; UPLOAD_BYTES], image: ImageType) -> String {
    format!("{}{}.{}", owner_prefix(owner), base16ct::lower::encode_string(upload), image.extension())
}

/// The type of a well-formed key, or `None` (which the route answers with 404).
pub fn parse_key(key: &str) -> Option<ImageType> {
    let (hash, extension) = key.split_once('.')?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    ImageType::ALL.into_iter().find(|t| t.extension() == extension)
}

/// The key of the stored image an avatar URL of this service points at (`None` for any other URL).
pub fn key_of_url(url: &str) -> Option<&str> {
    let key = url.rsplit('/').next()?;
    parse_key(key).map(|_| key)
}

/// Reply of `POST /api/v1/me/avatar`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AvatarReply {
    /// Where the picture is served from now (public, immutable).
    pub avatar_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F'];
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 ";

    #[test]
    fn uploads_are_typed_by_their_bytes() {
        let cases: [(&str, &[u8], Option<u16>); 9] = [
            ("image/png", PNG, None),
            ("image/jpeg", JPEG, None),
            ("image/webp; charset=binary", WEBP, None),
            ("image/png", JPEG, Some(415)),
            ("image/gif", b"GIF89a", Some(415)),
            ("image/png", b"<svg onload=alert(1)>", Some(415)),
            ("application/octet-stream", PNG, None),
            ("application/octet-stream", b"<svg onload=alert(1)>", Some(415)),
            ("image/png", b"", Some(415)),
        ];
        for (content_type, bytes, status) in cases {
            let head = &bytes[..bytes.len().min(HEAD_BYTES)];
            assert_eq!(
                check_upload(Some(content_type), head, bytes.len()).err().map(|e| e.status()),
                status,
                "{content_type}"
            );
        }
        assert_eq!(check_upload(None, PNG, PNG.len()).err().map(|e| e.status()), Some(415));
        assert_eq!(check_upload(Some("image/png"), PNG, MAX_BYTES).err().map(|e| e.status()), None, "2 MiB is allowed");
        assert_eq!(check_upload(Some("image/png"), PNG, MAX_BYTES + 1).err().map(|e| e.status()), Some(413));
    }

    #[test]
    fn keys_are_one_per_upload_under_their_owners_prefix_and_parse_back() {
        let (ana, ben) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let key = key_of(&ana, &[7; UPLOAD_BYTES], ImageType::Png);
        assert_ne!(key, key_of(&ana, &[8; UPLOAD_BYTES], ImageType::Png), "another upload, another object");
        assert_ne!(key, key_of(&ben, &[7; UPLOAD_BYTES], ImageType::Png), "another owner, another object");
        assert!(key.starts_with(&owner_prefix(&ana)) && !key.starts_with(&owner_prefix(&ben)));
        // The owner's for good (account deletion lists the images by it): SHA-256 of the id's 16 bytes, as Python's
        // `hashlib.sha256(uuid.UUID(int=1).bytes).hexdigest()[:24]` computes it.
        assert_eq!(owner_prefix(&ana), "7c3ccd10bb7ec37b46d37926");
        assert_eq!(parse_key(&key), Some(ImageType::Png));
        assert!(key.ends_with(".png") && key.len() == 68);
        // Lower-case hex of 32 bytes, as every stored key since the first upload (their URLs are in profiles).
        let webp = key_of(&ana, &[0xa5; UPLOAD_BYTES], ImageType::Webp);
        assert_eq!(webp, format!("{}{}.webp", owner_prefix(&ana), "a5".repeat(UPLOAD_BYTES)));
        assert_eq!(
            parse_key(&format!("{}.jpg", "0f".repeat(32))),
            Some(ImageType::Jpeg),
            "keys of content still serve"
        );
        for bad in ["x.png", "../etc/passwd", &key.replace(".png", ".gif"), &key.to_uppercase(), ""] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
        assert_eq!(key_of_url(&format!("https://api.example/api/v1/avatars/{key}")), Some(key.as_str()));
        assert_eq!(key_of_url("https://tracker.example/pixel.gif"), None);
    }
}
