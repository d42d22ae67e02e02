//! Credentials for registries: where Docker's secrets come from and go to.

pub mod ecr;
