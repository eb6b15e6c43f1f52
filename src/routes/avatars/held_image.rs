//! An uploaded image, held in the runtime's memory (a JavaScript `Uint8Array`, read by `held_body`) from its arrival
//! to its storing. The Worker copies into its own memory only the first bytes (the type), and the bucket is handed
//! the same buffer.
//!
//! Why not the wasm memory: it never shrinks once grown, and an isolate may use 128 MB in all, so images held there
//! had to be bounded (at most 8 uploads at once, the others waiting for a place). A client that sent its body slowly
//! kept its place while it did: 8 such uploads, even from one account, kept every other upload of the isolate waiting
//! until it was refused (503 after 10 s). An image held here costs the isolate only while its request lasts, and a
//! slow body costs only its own request.

use js_sys::Uint8Array;

use crate::error::ApiError;
use crate::http::incoming::Incoming;

use super::model::HEAD_BYTES;

/// An upload's bytes in the runtime's memory.
pub struct HeldImage(Uint8Array);

impl HeldImage {
    /// Reads the request's body, refusing it with 413 as soon as more than `limit` bytes arrived.
    pub async fn read(req: &Incoming, limit: usize) -> Result<Self, ApiError> {
        Ok(Self(crate::held_body::read(req, limit).await?))
    }

    /// The image's size in bytes.
    pub fn size(&self) -> usize {
        self.0.length() as usize
    }

    /// The image's first [`HEAD_BYTES`] (fewer when it is shorter), which tell its type.
    pub fn head(&self) -> Vec<u8> {
        self.0.subarray(0, self.0.length().min(HEAD_BYTES as u32)).to_vec()
    }

    /// The bytes, for the bucket.
    pub fn bytes(&self) -> &Uint8Array {
        &self.0
    }
}
