//! The competition's way in: the RPC method `order` ([`crate::rpc_order`]), one publish (or test operation) in and
//! its reply as one string out.

use super::Relay;
use crate::rpc_order::export_order;

export_order!(Relay);
