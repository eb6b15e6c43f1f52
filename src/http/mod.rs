//! Protocol-level pieces of the request pipeline that need no runtime: request ids, response headers, body rules,
//! the access log line.

pub mod access_log;
pub mod body;
pub mod cors;
pub mod etag;
pub mod incoming;
pub mod reply;
pub mod request_id;
pub mod schema;
pub mod security_headers;
pub mod shape_error;
pub mod trace;
