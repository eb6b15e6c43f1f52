//! The load tool behind `scripts/load`: virtual users with their own tokens drive a weighted mix of API scenarios
//! (or, in WebSocket mode, subscribers and writers on one competition) against a Worker, and report requests,
//! statuses, RPS and latency percentiles from HDR histograms, as text, JSON and an HTML page with SVG charts.
//! Every run is bounded (duration and request cap) and, unless told otherwise, targets only this machine.

pub mod client;
pub mod mix;
pub mod options;
pub mod redis_stats;
pub mod report;
pub mod run;
pub mod setup;
pub mod stats;
pub mod thresholds;
pub mod worker_metrics;
pub mod ws;
