//! The `regctl` binary: parse argv, run the command, map the result to an exit code.

fn main() {
    std::process::exit(regctl::commands::main(std::env::args_os().collect()));
}
