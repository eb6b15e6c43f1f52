//! The HTTP client of the load tool: each client owns one keep-alive HTTP/1.1 connection (as each `wrk` connection
//! does), opened on first use and again after a failure, so workers never contend for a shared pool. Clones start
//! without a connection. The whole response body is read before the latency is taken.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

use super::stats::Outcome;

/// A client for one base URL with its own connection.
pub struct Client {
    /// `host:port` to connect to.
    address: String,
    /// Path prefix of the base URL (usually empty).
    prefix: String,
    timeout: Duration,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Clone for Client {
    fn clone(&self) -> Self {
        Self { address: self.address.clone(), prefix: self.prefix.clone(), timeout: self.timeout, sender: None }
    }
}

/// One answered (or failed) request.
pub struct Answer {
    /// Status, timeout or error.
    pub outcome: Outcome,
    /// From sending to the last body byte.
    pub latency: Duration,
    /// The body, when there was an answer.
    pub body: Bytes,
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8787`) with a per-request `timeout`; only plain HTTP.
    pub fn new(base: &str, timeout: Duration) -> Self {
        let rest = base.trim_end_matches('/').trim_start_matches("http://");
        let (address, prefix) = match rest.split_once('/') {
            Some((address, path)) => (address.to_owned(), format!("/{path}")),
            None => (rest.to_owned(), String::new()),
        };
        Self { address, prefix, timeout, sender: None }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, Outcome> {
        let stream = tokio::net::TcpStream::connect(&self.address).await.map_err(|_| Outcome::Error)?;
        stream.set_nodelay(true).map_err(|_| Outcome::Error)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|_| Outcome::Error)?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn send(&mut self, method: Method, path: &str, token: Option<&str>, json: Option<String>) -> Answer {
        let started = Instant::now();
        let mut builder =
            Request::builder().method(method).uri(format!("{}{path}", self.prefix)).header("Host", &self.address);
        if let Some(token) = token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        let body = match json {
            Some(json) => {
                builder = builder.header("Content-Type", "application/json");
                Full::new(Bytes::from(json))
            }
            None => Full::new(Bytes::new()),
        };
        let Ok(request) = builder.body(body) else {
            return Answer { outcome: Outcome::Error, latency: started.elapsed(), body: Bytes::new() };
        };
        let timeout = self.timeout;
        let exchange = async {
            let mut sender = match self.sender.take() {
                Some(sender) if !sender.is_closed() => sender,
                _ => self.connect().await?,
            };
            sender.ready().await.map_err(|_| Outcome::Error)?;
            let response = sender.send_request(request).await.map_err(|_| Outcome::Error)?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.map_err(|_| Outcome::Error)?.to_bytes();
            // Only a connection that finished its exchange is used again.
            self.sender = Some(sender);
            Ok::<_, Outcome>((Outcome::Status(status), body))
        };
        let (outcome, body) = match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(outcome)) => (outcome, Bytes::new()),
            Err(_) => (Outcome::Timeout, Bytes::new()),
        };
        Answer { outcome, latency: started.elapsed(), body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_split_into_address_and_prefix() {
        let client = Client::new("http://127.0.0.1:8787/", Duration::from_secs(1));
        assert_eq!((client.address.as_str(), client.prefix.as_str()), ("127.0.0.1:8787", ""));
        let client = Client::new("http://localhost:9000/edge", Duration::from_secs(1));
        assert_eq!((client.address.as_str(), client.prefix.as_str()), ("localhost:9000", "/edge"));
    }
}
