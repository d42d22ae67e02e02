//! `docker-credential-regctl`: the Docker credential-helper protocol served from the OS keychain
//! (the same code as `regctl credential-helper`).

fn main() {
    let argv: Vec<_> = std::env::args_os().collect();
    std::process::exit(regctl::commands::credential_helper::main(&argv));
}
