//! Talking about and to registries: name normalisation (one rule for every command), which
//! Docker regctl faces (engine), dockerd's trust, the trust-aware HTTP client, WWW-Authenticate
//! challenges, the Basic/Bearer token flows, fetching a missing intermediate from its AIA URL,
//! and the TLS probe and bounded HTTP/1.1 exchange doctor uses.

pub mod aia;
pub mod challenge;
pub mod client;
pub mod engine;
pub mod from_server;
pub mod http1;
pub mod tls_probe;
pub mod token;
pub mod trust;
