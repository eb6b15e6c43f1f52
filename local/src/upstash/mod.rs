//! A local stand-in for Upstash Redis's REST API, never deployed: `POST /` with a JSON command array,
//! `POST /pipeline`, `POST /multi-exec`, Bearer-token auth and Upstash's reply encoding (`Upstash-Encoding: base64`
//! included), in front of the real local `redis-server`. Production talks to Upstash.

mod encoding;
mod handlers;

pub use handlers::{router, Gateway};
