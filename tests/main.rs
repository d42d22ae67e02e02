//! regctl's one integration-test binary. Every test runs the real `regctl` binary inside a
//! `TestEnv` whose HOME, DOCKER_CONFIG, XDG dirs, daemon.json and certs.d live in a temp dir.
//! Real components (registry, gnome-keyring, skopeo, moto, ansible) are started by `support`.

mod support;

mod ansible_example;
mod bounded_inputs;
mod certs_cmd;
mod credential_helper;
mod creds_cmd;
mod creds_hardening;
mod daemon_cmd;
mod daemon_differential;
mod daemon_files;
mod docker_doctor;
mod docker_real;
mod docs_generated;
mod doctor_cmd;
mod doctor_mirrors;
mod ecr;
mod ecr_cli;
mod ecr_sources;
mod examples;
mod hostile;
mod hosts_files;
mod insecure_cmd;
mod keychain;
mod login_cmd;
mod mirror_cmd;
mod registry_client;
mod secret_hygiene;
mod tidy;
mod token_auth;
mod trust_ca_cmd;
mod trust_ca_docker;
mod trust_ca_system;
