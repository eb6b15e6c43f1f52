//! An uploaded image, held in the runtime's memory (a JavaScript `Uint8Array`) from its arrival to its storing. The
//! Worker copies into its own memory only the first bytes (the type); the key's digest is WebCrypto's, and the bucket
//! is handed the same buffer.
//!
//! Why not the wasm memory: it never shrinks once grown, and an isolate may use 128 MB in all, so images held there
//! had to be bounded (at most 8 uploads at once, the others waiting for a place). A client that sent its body slowly
//! kept its place while it did: 8 such uploads, even from one account, kept every other upload of the isolate waiting
//! until it was refused (503 after 10 s). An image held here costs the isolate only while its request lasts, and a
//! slow body costs only its own request.

use durable_objects::promise_wait::wait;
use js_sys::{Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::web_sys::{ReadableStream, ReadableStreamDefaultReader};

use crate::error::ApiError;
use crate::http::body;
use crate::http::incoming::Incoming;

use super::model::HEAD_BYTES;

#[wasm_bindgen]
extern "C" {
    /// The runtime's `crypto.subtle`.
    type Subtle;
    #[wasm_bindgen(method, catch)]
    fn digest(this: &Subtle, algorithm: &str, data: &Uint8Array) -> Result<Promise, JsValue>;
}

/// An upload's bytes in the runtime's memory.
pub struct HeldImage(Uint8Array);

impl HeldImage {
    /// Reads the request's body, refusing it with 413 as soon as more than `limit` bytes arrived (a chunked body has
    /// no declared length).
    pub async fn read(req: &Incoming, limit: usize) -> Result<Self, ApiError> {
        body::check_declared_length(req.content_length(), limit)?;
        let declared = body::declared_length(req.content_length(), req.transfer_encoded());
        let bytes = match (declared, req.raw().body()) {
            (Some(0), _) | (_, None) => Uint8Array::new_with_length(0),
            // The runtime holds a body framed by its length to that length: it is read in one piece.
            (Some(_), Some(_)) => {
                let buffer = wait(&req.raw().array_buffer().map_err(unreadable)?).await.map_err(unreadable)?;
                Uint8Array::new(&buffer)
            }
            (None, Some(stream)) => read_chunks(stream, limit).await?,
        };
        if bytes.length() as usize > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        Ok(Self(bytes))
    }

    /// The image's size in bytes.
    pub fn size(&self) -> usize {
        self.0.length() as usize
    }

    /// The image's first [`HEAD_BYTES`] (fewer when it is shorter), which tell its type.
    pub fn head(&self) -> Vec<u8> {
        self.0.subarray(0, self.0.length().min(HEAD_BYTES as u32)).to_vec()
    }

    /// SHA-256 of `prefix` followed by the image.
    pub async fn digest_after(&self, prefix: &[u8]) -> Result<Vec<u8>, ApiError> {
        let input = Uint8Array::new_with_length((prefix.len() + self.size()) as u32);
        input.set(&Uint8Array::from(prefix), 0);
        input.set(&self.0, prefix.len() as u32);
        let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(hashing)?;
        let subtle: Subtle = Reflect::get(&crypto, &"subtle".into()).map_err(hashing)?.unchecked_into();
        let digest = wait(&subtle.digest("SHA-256", &input).map_err(hashing)?).await.map_err(hashing)?;
        Ok(Uint8Array::new(&digest).to_vec())
    }

    /// The bytes, for the bucket.
    pub fn bytes(&self) -> &Uint8Array {
        &self.0
    }
}

/// Reads a chunked body's chunks, counting as they come; 413 once they pass `limit`, after draining what follows.
async fn read_chunks(stream: ReadableStream, limit: usize) -> Result<Uint8Array, ApiError> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let chunks = Array::new();
    let mut total = 0usize;
    while let Some(chunk) = next_chunk(&reader).await? {
        total += chunk.length() as usize;
        if total > limit {
            drain(&reader).await;
            return Err(ApiError::PayloadTooLarge { limit });
        }
        chunks.push(&chunk);
    }
    let whole = Uint8Array::new_with_length(total as u32);
    let mut at = 0;
    for chunk in chunks.iter() {
        let chunk: Uint8Array = chunk.unchecked_into();
        whole.set(&chunk, at);
        at += chunk.length();
    }
    Ok(whole)
}

/// The stream's next chunk (`None`: the body ended).
async fn next_chunk(reader: &ReadableStreamDefaultReader) -> Result<Option<Uint8Array>, ApiError> {
    let step = wait(&reader.read()).await.map_err(unreadable)?;
    if Reflect::get(&step, &"done".into()).map_err(unreadable)?.is_truthy() {
        return Ok(None);
    }
    let value = Reflect::get(&step, &"value".into()).map_err(unreadable)?;
    value.dyn_into::<Uint8Array>().map(Some).map_err(|_| ApiError::BadRequest("unreadable body".to_owned()))
}

/// Reads and drops what is left of a refused body, for at most `body::DRAIN_LIMIT` bytes and `body::DRAIN_MS`, then
/// cancels the rest (`wrangler dev`'s proxy stalls on an upload the Worker stopped reading: `runtime::read_body`).
async fn drain(reader: &ReadableStreamDefaultReader) {
    let rest = async {
        let mut drained = 0usize;
        while drained <= body::DRAIN_LIMIT {
            match next_chunk(reader).await {
                Ok(Some(chunk)) => drained += chunk.length() as usize,
                _ => return,
            }
        }
    };
    let _ = crate::adapters::guard::deadline(body::DRAIN_MS, rest).await;
    let _ = reader.cancel();
}

fn unreadable(error: JsValue) -> ApiError {
    ApiError::BadRequest(format!("unreadable body: {}", crate::subrequest::Failure(error)))
}

fn hashing(error: JsValue) -> ApiError {
    ApiError::Internal(format!("hashing the image: {}", crate::subrequest::Failure(error)))
}
