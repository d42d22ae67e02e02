//! regctl configures the Docker client side of container registries: daemon.json, config.json,
//! certs.d, the OS keychain, ECR token logins, and a doctor that explains failing pulls.
//!
//! The library holds everything; `main.rs` only parses argv and maps the result to an exit code.
//! Core modules (`files`) never print and never prompt; `commands` and `output` talk to people.

pub mod candidates;
pub mod cli;
pub mod commands;
pub mod context;
pub mod creds;
pub mod doctor;
pub mod error;
pub mod error_text;
pub mod files;
pub mod hints;
pub mod names;
pub mod output;
pub mod registry;

pub use context::Context;
pub use error::Error;
