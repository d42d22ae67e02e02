//! Talking about and to registries: name normalisation (one rule for every command).

pub mod names;
