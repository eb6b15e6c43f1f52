//! The avatar bucket (R2, binding `AVATARS`): every call the product makes to it, as named operations, so the routes
//! (upload, serve, account deletion) and the health check never touch the bucket's API. The store's own error text
//! is logged, never shown: it can name buckets, hosts and internal state.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use thiserror::Error;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Bucket, Env};

use crate::error::ApiError;

/// The bucket's binding in `wrangler.toml`.
pub const BINDING: &str = "AVATARS";

// The bucket as the runtime gives it: workers-rs's `put` takes the value as a `Vec` in wasm memory, and avatars are
// stored from the runtime's memory (`routes::avatars::held_image`).
#[wasm_bindgen]
extern "C" {
    type RawBucket;
    #[wasm_bindgen(method, catch, js_name = put)]
    fn put_bytes(this: &RawBucket, key: &str, value: &Uint8Array, options: &Object) -> Result<Promise, JsValue>;
}

/// A failed storage call, with the runtime's text for the log.
#[derive(Debug, Error)]
#[error("avatar storage: {0}")]
pub struct StorageError(String);

impl From<worker::Error> for StorageError {
    fn from(error: worker::Error) -> Self {
        StorageError(error.to_string())
    }
}

impl From<JsValue> for StorageError {
    fn from(error: JsValue) -> Self {
        StorageError(crate::subrequest::Failure(error).to_string())
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        worker::console_error!("{error}");
        ApiError::DependencyUnavailable { dependency: "storage".to_owned(), retry_after_secs: Some(1), cause: error.0 }
    }
}

/// The avatar bucket of this deployment.
pub struct AvatarStore {
    bucket: Bucket,
}

/// A stored image: its version and size, and its bytes on demand (a 304 needs no body).
pub struct StoredImage {
    object: worker::Object,
}

impl StoredImage {
    /// The stored object's HTTP ETag.
    pub fn etag(&self) -> String {
        self.object.http_etag()
    }

    /// The image's size in bytes.
    pub fn size(&self) -> u64 {
        self.object.size()
    }

    /// The image's bytes as the runtime's stream, for a response to pass on without copying them into the isolate's
    /// memory (`None`: the object has no body).
    pub fn stream(self) -> Result<Option<worker::web_sys::ReadableStream>, StorageError> {
        match self.object.body() {
            Some(body) => match body.response_body()? {
                worker::ResponseBody::Stream(stream) => Ok(Some(stream)),
                _ => Ok(None),
            },
            None => Ok(None),
        }
    }
}

impl AvatarStore {
    /// The bucket bound to this Worker.
    pub fn open(env: &Env) -> Result<Self, StorageError> {
        Ok(Self { bucket: env.bucket(BINDING)? })
    }

    /// Whether an object is stored under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        Ok(self.bucket.head(key).await?.is_some())
    }

    /// Stores an image (held in the runtime's memory) with its type and caching policy.
    pub async fn put_image(
        &self,
        key: &str,
        bytes: &Uint8Array,
        mime: &str,
        cache_control: &str,
    ) -> Result<(), StorageError> {
        let metadata = Object::new();
        let options = Object::new();
        Reflect::set(&metadata, &"contentType".into(), &mime.into())?;
        Reflect::set(&metadata, &"cacheControl".into(), &cache_control.into())?;
        Reflect::set(&options, &"httpMetadata".into(), &metadata)?;
        let bucket: &RawBucket = self.bucket.as_ref().unchecked_ref();
        durable_objects::promise_wait::wait(&bucket.put_bytes(key, bytes, &options)?).await?;
        Ok(())
    }

    /// The image stored under `key`, if any.
    pub async fn image(&self, key: &str) -> Result<Option<StoredImage>, StorageError> {
        Ok(self.bucket.get(key).execute().await?.map(|object| StoredImage { object }))
    }

    /// Removes the object under `key` (nothing when there is none).
    pub async fn remove(&self, key: &str) -> Result<(), StorageError> {
        Ok(self.bucket.delete(key).await?)
    }

    /// The health check: a metadata read of a key nobody writes, within `budget_ms`.
    pub async fn ping(&self, budget_ms: u64) -> Result<(), String> {
        match crate::adapters::guard::deadline(budget_ms, self.bucket.head("__health")).await {
            Some(answer) => answer.map(drop).map_err(|e| e.to_string()),
            None => Err(format!("storage did not answer within {budget_ms} ms")),
        }
    }
}
