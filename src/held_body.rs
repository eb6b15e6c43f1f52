//! Request bodies read into the runtime's memory (a JavaScript `Uint8Array`), not the isolate's wasm memory. The wasm
//! memory never shrinks once grown and an isolate may use 128 MB in all, so a body enters it only whole, when it is
//! about to be used: a slow client's partial body (a chunked one is read chunk by chunk, counted as it comes) costs
//! only the runtime's memory, which is freed with its request.

use durable_objects::promise_wait::wait;
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use worker::web_sys::{ReadableStream, ReadableStreamDefaultReader};

use crate::error::ApiError;
use crate::http::body;
use crate::http::incoming::Incoming;

/// Reads the request's body, refusing it with 413 as soon as more than `limit` bytes arrived (a chunked body has no
/// declared length; a declared length above the limit is refused before anything is read).
pub async fn read(req: &Incoming, limit: usize) -> Result<Uint8Array, ApiError> {
    body::check_declared_length(req.content_length(), limit)?;
    let declared = body::declared_length(req.content_length(), req.transfer_encoded());
    let bytes = match (declared, req.raw().body()) {
        (Some(0), _) | (_, None) => Uint8Array::new_with_length(0),
        // The runtime holds a body framed by its length to that length: it is read in one piece (a stream costs a
        // promise per chunk).
        (Some(_), Some(_)) => {
            let buffer = wait(&req.raw().array_buffer().map_err(unreadable)?).await.map_err(unreadable)?;
            Uint8Array::new(&buffer)
        }
        (None, Some(stream)) => read_chunks(stream, limit).await?,
    };
    if bytes.length() as usize > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(bytes)
}

/// Reads a body without a declared length chunk by chunk, counting as they come; 413 once they pass `limit`, after
/// draining what follows.
pub async fn read_chunks(stream: ReadableStream, limit: usize) -> Result<Uint8Array, ApiError> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let chunks = Array::new();
    let mut total = 0usize;
    while let Some(chunk) = next_chunk(&reader).await? {
        if let Err(too_large) = body::count_within(&mut total, chunk.length() as usize, limit) {
            drain(&reader).await;
            return Err(too_large);
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
/// cancels the rest. `wrangler dev`'s proxy stalls on an upload the Worker stopped reading: the next request it took
/// hung, and in one probe later ones alternated with 500s (workerd alone does not). Draining in `wait_until`, after
/// the 413, did not help, so this runs before it.
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
