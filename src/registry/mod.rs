//! Talking about and to registries: name normalisation (one rule for every command) and the TLS
//! probe that records the certificate chain a registry presents.

pub mod http1;
pub mod names;
pub mod tls_probe;
pub mod trust;
