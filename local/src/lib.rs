//! Local-only development tools. Nothing here is deployed.

pub mod token;
