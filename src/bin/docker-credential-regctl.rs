//! `docker-credential-regctl`: the Docker credential-helper protocol, with ECR tokens minted from
//! AWS credentials for ECR registries and the OS keychain for the rest (the same code as
//! `regctl credential-helper`).

fn main() {
    let argv: Vec<_> = std::env::args_os().collect();
    std::process::exit(regctl::commands::credential_helper::main(&argv));
}
