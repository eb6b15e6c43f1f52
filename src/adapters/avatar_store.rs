//! The avatar bucket (R2, binding `AVATARS`): every call the product makes to it, as named operations, so the routes
//! (upload, serve, account deletion) and the health check never touch the bucket's API. The store's own error text
//! is logged, never shown: it can name buckets, hosts and internal state.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Bucket, Env};

use super::error::{AdapterError, Dependency};
use super::guard::Breakers;

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

/// The runtime's text of a failed storage call, for the log (`AdapterError` is logged, never shown).
fn failed(error: impl std::fmt::Display) -> AdapterError {
    AdapterError::Unreachable(Dependency::Storage, error.to_string())
}

/// The avatar bucket of this deployment, behind its breaker and time budget: a bucket that hangs would otherwise
/// hold every upload, avatar read and account deletion until the client gave up.
pub struct AvatarStore {
    bucket: Bucket,
    breakers: &'static Breakers,
    budget_ms: u64,
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
    pub fn stream(self) -> Result<Option<worker::web_sys::ReadableStream>, AdapterError> {
        match self.object.body() {
            Some(body) => match body.response_body().map_err(failed)? {
                worker::ResponseBody::Stream(stream) => Ok(Some(stream)),
                _ => Ok(None),
            },
            None => Ok(None),
        }
    }
}

impl AvatarStore {
    /// The bucket bound to this Worker, under the isolate's storage breaker and `budget_ms` per call.
    pub fn open(env: &Env, breakers: &'static Breakers, budget_ms: u64) -> Result<Self, AdapterError> {
        Ok(Self { bucket: env.bucket(BINDING).map_err(failed)?, breakers, budget_ms })
    }

    /// Runs the call `start` begins under the breaker and the budget (`start` runs only if the breaker allows it).
    async fn guarded<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
        &self,
        start: impl FnOnce() -> Result<F, E>,
    ) -> Result<T, AdapterError> {
        self.breakers
            .guarded(Dependency::Storage, self.budget_ms, async move {
                #[cfg(feature = "test-routes")]
                fault::wait().await;
                start().map_err(failed)?.await.map_err(failed)
            })
            .await
    }

    /// Whether an object is stored under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, AdapterError> {
        Ok(self.guarded(|| Ok::<_, worker::Error>(self.bucket.head(key))).await?.is_some())
    }

    /// Stores an image (held in the runtime's memory) with its type and caching policy.
    pub async fn put_image(
        &self,
        key: &str,
        bytes: &Uint8Array,
        mime: &str,
        cache_control: &str,
    ) -> Result<(), AdapterError> {
        let metadata = Object::new();
        let options = Object::new();
        let set = |target: &Object, name: &str, value: &JsValue| {
            Reflect::set(target, &name.into(), value).map_err(|e| failed(crate::subrequest::Failure(e)))
        };
        set(&metadata, "contentType", &mime.into())?;
        set(&metadata, "cacheControl", &cache_control.into())?;
        set(&options, "httpMetadata", &metadata)?;
        let bucket: &RawBucket = self.bucket.as_ref().unchecked_ref();
        self.guarded(|| {
            let put = bucket.put_bytes(key, bytes, &options).map_err(crate::subrequest::Failure)?;
            Ok::<_, crate::subrequest::Failure>(async move {
                durable_objects::promise_wait::wait(&put).await.map_err(crate::subrequest::Failure)
            })
        })
        .await
        .map(drop)
    }

    /// The image stored under `key`, if any.
    pub async fn image(&self, key: &str) -> Result<Option<StoredImage>, AdapterError> {
        let found = self.guarded(|| Ok::<_, worker::Error>(self.bucket.get(key).execute())).await?;
        Ok(found.map(|object| StoredImage { object }))
    }

    /// Removes the object under `key` (nothing when there is none).
    pub async fn remove(&self, key: &str) -> Result<(), AdapterError> {
        self.guarded(|| Ok::<_, worker::Error>(self.bucket.delete(key))).await
    }

    /// The health check: a metadata read of a key nobody writes, within `budget_ms`.
    pub async fn ping(&self, budget_ms: u64) -> Result<(), String> {
        let head = async {
            #[cfg(feature = "test-routes")]
            fault::wait().await;
            self.bucket.head("__health").await
        };
        match crate::adapters::guard::deadline(budget_ms, head).await {
            Some(answer) => answer.map(drop).map_err(|e| e.to_string()),
            None => Err(format!("storage did not answer within {budget_ms} ms")),
        }
    }
}

/// Test builds only: a bucket that hangs, set by `POST /__test/storage?hang_ms=N` (local R2 cannot be slowed from
/// outside the runtime).
#[cfg(feature = "test-routes")]
pub mod fault {
    use std::cell::Cell;

    thread_local! {
        static HANG_MS: Cell<u64> = const { Cell::new(0) };
    }

    /// From now on every call to the bucket waits `ms` before it starts (0: none).
    pub fn hang(ms: u64) {
        HANG_MS.with(|hang| hang.set(ms));
    }

    /// Waits as long as the bucket is set to hang.
    pub async fn wait() {
        let ms = HANG_MS.with(Cell::get);
        if ms > 0 {
            crate::platform::sleep(ms).await;
        }
    }
}
