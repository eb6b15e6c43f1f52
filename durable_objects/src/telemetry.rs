//! What the Competition DO contributes to the Worker's metrics (open sockets, frames sent), through the link the
//! Worker installs (`worker_link`; the metrics module lives in the Worker crate, which depends on this one). Without
//! it the object still works; it just reports nothing.

use std::future::Future;
use std::pin::Pin;

/// A metrics flush to run after the response.
pub type Flush = Pin<Box<dyn Future<Output = ()>>>;

/// What an object counts (the Worker maps each onto its metric family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectMetric {
    /// Moves of the open-sockets gauge.
    WebsocketConnections,
    /// Frames sent to subscribers.
    WebsocketMessagesSent,
    /// Moves of the dead-letter gauge.
    OutboxDeadLetters,
    /// A live socket's rule refused a client, by which rule.
    WebsocketRefusal(Refusal),
}

/// Which live-socket rule refused a client (`standings::socket_rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// More frames than the socket's budget: closed (1008).
    FrameFlood,
    /// A frame longer than any of the protocol: closed (1009).
    FrameTooLarge,
    /// A `resume` past the user's replay allowance: answered with a snapshot.
    ReplayAllowance,
}

impl Refusal {
    /// Its `reason` label.
    pub const fn reason(self) -> &'static str {
        match self {
            Refusal::FrameFlood => "frame_flood",
            Refusal::FrameTooLarge => "frame_too_large",
            Refusal::ReplayAllowance => "replay_allowance",
        }
    }
}
