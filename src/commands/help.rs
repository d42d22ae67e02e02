//! `regctl --help` lists commands by what they are for (diagnosis, credentials, certificates,
//! daemon configuration, shell). clap lists subcommands in one block, so the grouped listing is
//! built here from each command's own help text; a test keeps every command in a group.

use clap::{CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// The groups, in the order `regctl --help` shows them.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("Diagnosis", &["doctor"]),
    (
        "Credentials",
        &["login", "logout", "creds", "credential-helper"],
    ),
    ("Certificates", &["trust-ca", "certs"]),
    ("Daemon configuration", &["mirror", "insecure", "daemon"]),
    ("Shell", &["completions", "man"]),
];

/// The command line with the grouped help.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let mut listing = String::new();
    for (title, names) in GROUPS {
        listing.push_str(&format!("{title}:\n"));
        for name in *names {
            let about = cmd
                .find_subcommand(name)
                .and_then(|s| s.get_about())
                .map(|a| a.to_string())
                .unwrap_or_default();
            listing.push_str(&format!("  {name:<18} {}\n", wrap(&about, 21, 100)));
        }
        listing.push('\n');
    }
    let template = format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{listing}Options:\n{{options}}{{after-help}}"
    );
    cmd.help_template(template)
}

/// Wraps text to `width` columns, continuation lines indented by `indent`.
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut col = indent;
    for word in text.split_whitespace() {
        if col > indent && col + 1 + word.len() > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
        } else if col > indent {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += word.len();
    }
    out
}

/// Parses argv with the grouped help.
pub fn parse(argv: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    let matches = command().try_get_matches_from(argv)?;
    Cli::from_arg_matches(&matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_exactly_one_group() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let n = GROUPS
                .iter()
                .filter(|(_, names)| names.contains(&sub.get_name()))
                .count();
            assert_eq!(n, 1, "{} must be in exactly one help group", sub.get_name());
        }
        for (_, names) in GROUPS {
            for name in *names {
                assert!(
                    cmd.find_subcommand(name).is_some(),
                    "{name} is grouped but does not exist"
                );
            }
        }
    }

    /// hints masks secret option values knowing which short options take a value and which are
    /// secrets: the lists must be the command line's.
    #[test]
    fn hints_know_every_value_taking_short_option_and_secret() {
        fn walk(cmd: &clap::Command, shorts: &mut Vec<char>, secrets: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let takes_value = arg.get_action().takes_values();
                if let (Some(c), true) = (arg.get_short(), takes_value) {
                    shorts.push(c);
                }
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                if takes_value && help.to_lowercase().contains("password") {
                    secrets.extend(arg.get_long().map(|l| format!("--{l}")));
                    secrets.extend(arg.get_short().map(|c| format!("-{c}")));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, shorts, secrets);
            }
        }
        let (mut shorts, mut secrets) = (Vec::new(), Vec::new());
        walk(&Cli::command(), &mut shorts, &mut secrets);
        shorts.sort();
        shorts.dedup();
        assert_eq!(shorts, crate::hints::VALUE_SHORT_OPTIONS);
        secrets.sort();
        secrets.dedup();
        let mut known: Vec<String> = crate::hints::SECRET_LONG_OPTIONS
            .iter()
            .map(|s| s.to_string())
            .chain(
                crate::hints::SECRET_SHORT_OPTIONS
                    .iter()
                    .map(|c| format!("-{c}")),
            )
            .collect();
        known.sort();
        assert_eq!(secrets, known);
    }
}
