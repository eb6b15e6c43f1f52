//! What the Competition DO contributes to the Worker's metrics (open sockets, frames sent), through the link the
//! Worker installs (`worker_link`; the metrics module lives in the Worker crate, which depends on this one). Without
//! it the object still works; it just reports nothing.

use std::future::Future;
use std::pin::Pin;

/// A metrics flush to run after the response.
pub type Flush = Pin<Box<dyn Future<Output = ()>>>;

/// What an object counts (the Worker maps each onto its metric family; no labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectMetric {
    /// Moves of the open-sockets gauge.
    WebsocketConnections,
    /// Frames sent to subscribers.
    WebsocketMessagesSent,
    /// Moves of the dead-letter gauge.
    OutboxDeadLetters,
}
