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

// The bucket and its objects as the runtime gives them. Every call is a promise awaited through one guarded path
// (workers-rs's wrappers would give each call its own instance of the guard), and `put` takes the value from the
// runtime's memory (`routes::avatars::held_image`), where workers-rs's `put` wants a `Vec` in wasm memory.
#[wasm_bindgen]
extern "C" {
    type RawBucket;
    #[wasm_bindgen(method, catch)]
    fn head(this: &RawBucket, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn get(this: &RawBucket, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn delete(this: &RawBucket, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = delete)]
    fn delete_keys(this: &RawBucket, keys: &js_sys::Array) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn list(this: &RawBucket, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = put)]
    fn put_bytes(this: &RawBucket, key: &str, value: &Uint8Array, options: &Object) -> Result<Promise, JsValue>;

    type RawObject;
    #[wasm_bindgen(method, getter, js_name = httpEtag)]
    fn http_etag(this: &RawObject) -> String;
    #[wasm_bindgen(method, getter)]
    fn size(this: &RawObject) -> f64;
    #[wasm_bindgen(method, getter)]
    fn body(this: &RawObject) -> JsValue;
}

/// The runtime's text of a failed storage call, for the log (`AdapterError` is logged, never shown).
fn failed(error: impl std::fmt::Display) -> AdapterError {
    AdapterError::Unreachable(Dependency::Storage, error.to_string())
}

/// A storage call the runtime threw or rejected.
fn rejected(error: JsValue) -> AdapterError {
    failed(crate::subrequest::Failure(error))
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
    object: RawObject,
}

impl StoredImage {
    /// The stored object's HTTP ETag.
    pub fn etag(&self) -> String {
        self.object.http_etag()
    }

    /// The image's size in bytes.
    pub fn size(&self) -> u64 {
        self.object.size() as u64
    }

    /// The image's bytes as the runtime's stream, for a response to pass on without copying them into the isolate's
    /// memory (`None`: the object has no body).
    pub fn stream(self) -> Option<worker::web_sys::ReadableStream> {
        self.object.body().dyn_into().ok()
    }
}

impl AvatarStore {
    /// The bucket bound to this Worker, under the isolate's storage breaker and `budget_ms` per call.
    pub fn open(env: &Env, breakers: &'static Breakers, budget_ms: u64) -> Result<Self, AdapterError> {
        Ok(Self { bucket: env.bucket(BINDING).map_err(failed)?, breakers, budget_ms })
    }

    /// Runs the call `start` begins on the bucket under the breaker and the budget (`start` runs only if the breaker
    /// allows it), and answers what its promise resolved to. `write`: whether the call writes (a put or a removal),
    /// which only the test builds' fault knob tells apart.
    async fn call(
        &self,
        write: bool,
        start: &dyn Fn(&RawBucket) -> Result<Promise, JsValue>,
    ) -> Result<JsValue, AdapterError> {
        #[cfg(not(feature = "test-routes"))]
        let _ = write;
        let bucket: &RawBucket = self.bucket.as_ref().unchecked_ref();
        self.breakers
            .guarded(Dependency::Storage, self.budget_ms, async move {
                #[cfg(feature = "test-routes")]
                fault::wait(write).await;
                let promise = start(bucket).map_err(rejected)?;
                durable_objects::promise_wait::wait(&promise).await.map_err(rejected)
            })
            .await
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
        let set =
            |target: &Object, name: &str, value: &JsValue| Reflect::set(target, &name.into(), value).map_err(rejected);
        set(&metadata, "contentType", &mime.into())?;
        set(&metadata, "cacheControl", &cache_control.into())?;
        set(&options, "httpMetadata", &metadata)?;
        self.call(true, &|bucket| bucket.put_bytes(key, bytes, &options)).await.map(drop)
    }

    /// The image stored under `key`, if any.
    pub async fn image(&self, key: &str) -> Result<Option<StoredImage>, AdapterError> {
        let found = self.call(false, &|bucket| bucket.get(key)).await?;
        Ok((!found.is_null_or_undefined()).then(|| StoredImage { object: found.unchecked_into() }))
    }

    /// Removes the object under `key` (nothing when there is none).
    pub async fn remove(&self, key: &str) -> Result<(), AdapterError> {
        self.call(true, &|bucket| bucket.delete(key)).await.map(drop)
    }

    /// Every key that starts with `prefix`, page by page (the bucket lists at most 1 000 keys a call).
    pub async fn keys_under(&self, prefix: &str) -> Result<Vec<String>, AdapterError> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let options = Object::new();
            Reflect::set(&options, &"prefix".into(), &prefix.into()).map_err(rejected)?;
            if let Some(cursor) = &cursor {
                Reflect::set(&options, &"cursor".into(), &cursor.into()).map_err(rejected)?;
            }
            let page = self.call(false, &|bucket| bucket.list(&options)).await?;
            let field = |name: &str| Reflect::get(&page, &name.into()).map_err(rejected);
            let objects: js_sys::Array = field("objects")?.dyn_into().map_err(rejected)?;
            for object in objects.iter() {
                keys.extend(Reflect::get(&object, &"key".into()).map_err(rejected)?.as_string());
            }
            cursor = field("cursor")?.as_string();
            if field("truncated")?.as_bool() != Some(true) || cursor.is_none() {
                return Ok(keys);
            }
        }
    }

    /// Removes every object under `keys` (those that are gone already are no error), 1 000 a call as the bucket
    /// takes them.
    pub async fn remove_all(&self, keys: &[String]) -> Result<(), AdapterError> {
        for chunk in keys.chunks(1_000) {
            let keys: js_sys::Array = chunk.iter().map(|key| JsValue::from_str(key)).collect();
            self.call(true, &|bucket| bucket.delete_keys(&keys)).await?;
        }
        Ok(())
    }

    /// The health check: a metadata read of a key nobody writes, within `budget_ms`.
    pub async fn ping(&self, budget_ms: u64) -> Result<(), String> {
        let bucket: &RawBucket = self.bucket.as_ref().unchecked_ref();
        let head = async {
            #[cfg(feature = "test-routes")]
            fault::wait(false).await;
            durable_objects::promise_wait::wait(&bucket.head("__health")?).await
        };
        match crate::adapters::guard::deadline(budget_ms, head).await {
            Some(answer) => answer.map(drop).map_err(|e| crate::subrequest::Failure(e).to_string()),
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
        static WRITES_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    /// From now on every call to the bucket (or, with `writes_only`, every put and removal) waits `ms` before it
    /// starts (0: none).
    pub fn hang(ms: u64, writes_only: bool) {
        HANG_MS.with(|hang| hang.set(ms));
        WRITES_ONLY.with(|only| only.set(writes_only));
    }

    /// Waits as long as the bucket is set to hang for a call of this kind.
    pub async fn wait(write: bool) {
        let ms = HANG_MS.with(Cell::get);
        if ms > 0 && (write || !WRITES_ONLY.with(Cell::get)) {
            crate::platform::sleep(ms).await;
        }
    }
}
