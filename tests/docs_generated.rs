//! Completions and man pages: the checked-in copies match what the binary generates, a real bash
//! completes commands and registry names, and `man -l` renders the pages.

use std::fs;
use std::process::Command;

use crate::support::{output_ok, regctl_bin, require_tool, TestEnv};

const SHELLS: &[(&str, &str)] = &[
    ("bash", "regctl.bash"),
    ("zsh", "_regctl"),
    ("fish", "regctl.fish"),
    ("powershell", "regctl.ps1"),
    ("elvish", "regctl.elv"),
];

#[test]
fn checked_in_completions_are_current() {
    let env = TestEnv::new();
    for (shell, file) in SHELLS {
        let run = env.run(&["completions", shell]);
        assert_eq!(run.code, 0);
        let checked_in = fs::read_to_string(format!("completions/{file}")).unwrap_or_default();
        assert!(
            checked_in == run.stdout,
            "completions/{file} is stale: run scripts/generate"
        );
    }
}

#[test]
fn checked_in_man_pages_are_current() {
    let env = TestEnv::new();
    let dir = env.path("man");
    let run = env.run(&["man", &dir.display().to_string(), "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut generated: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    generated.sort();
    let mut checked_in: Vec<String> = fs::read_dir("man")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    checked_in.sort();
    assert_eq!(generated, checked_in, "man/ is stale: run scripts/generate");
    for page in &generated {
        assert!(
            fs::read(dir.join(page)).unwrap() == fs::read(format!("man/{page}")).unwrap(),
            "man/{page} is stale: run scripts/generate"
        );
    }
    // A second run writes nothing.
    let (doc, _) = env.json(&["man", &dir.display().to_string()]);
    assert_eq!(doc["changed"], false);
}

#[test]
fn man_renders_with_a_commands_section() {
    let man = require_tool("man");
    let out = output_ok(
        Command::new(man)
            .args(["-l", "man/regctl.1"])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .env("TERM", "dumb"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SUBCOMMANDS"), "{text}");
    assert!(text.contains("regctl-mirror(1)"), "{text}");
    let sub = Command::new("man")
        .args(["-l", "man/regctl-mirror-add.1"])
        .env("MANPAGER", "cat")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&sub.stdout).contains("regctl mirror add https://mirror.gcr.io")
    );
}

/// Completes `line` in a real bash with regctl's registration script sourced.
fn bash_complete(env: &TestEnv, line: &str) -> Vec<String> {
    let bash = require_tool("bash");
    let words: Vec<&str> = line.split(' ').collect();
    let script = format!(
        "source <(regctl completions bash)\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE='{line}'\nCOMP_POINT={point}\nCOMP_TYPE=9\n_clap_complete_regctl regctl '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        cword = words.len() - 1,
        point = line.len(),
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let bin_dir = regctl_bin().parent().unwrap().to_path_buf();
    let mut cmd = Command::new(bash);
    cmd.env_clear();
    for (k, v) in env.env_vars() {
        cmd.env(k, v);
    }
    cmd.env(
        "PATH",
        format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
    );
    let out = output_ok(cmd.arg("-c").arg(script));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_commands_and_known_registries() {
    let env = TestEnv::new();
    assert_eq!(bash_complete(&env, "regctl mi"), ["mirror"]);
    assert!(bash_complete(&env, "regctl mirror ").contains(&"add".to_string()));
    fs::create_dir_all(&env.docker_config).unwrap();
    fs::write(
        env.client_config_path(),
        "{\"auths\": {\"registry.example.com:5000\": {}}}",
    )
    .unwrap();
    fs::create_dir_all(env.certs_dir.join("certs.example.com")).unwrap();
    let offered = bash_complete(&env, "regctl doctor ");
    assert!(
        offered.contains(&"registry.example.com:5000".to_string()),
        "{offered:?}"
    );
    assert!(
        offered.contains(&"certs.example.com".to_string()),
        "{offered:?}"
    );
    assert_eq!(
        bash_complete(&env, "regctl doctor reg"),
        ["registry.example.com:5000"]
    );
    let offered = bash_complete(&env, "regctl login ");
    assert!(
        offered.contains(&"registry.example.com:5000".to_string()),
        "{offered:?}"
    );
    assert_eq!(
        bash_complete(&env, "regctl logout reg"),
        ["registry.example.com:5000"]
    );
    assert_eq!(
        bash_complete(&env, "regctl trust-ca cer"),
        ["certs.example.com"]
    );
}

/// Every command path (`["mirror", "add"]`, ...) from `regctl help`-free walking of --help output.
fn command_paths() -> Vec<Vec<String>> {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            let mut path = prefix.clone();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, path, out);
        }
    }
    let mut out = vec![Vec::new()];
    walk(&regctl::cli::Cli::command(), Vec::new(), &mut out);
    out
}

#[test]
fn help_snapshots_and_every_command_shows_examples() {
    let env = TestEnv::new();
    for path in command_paths() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{args:?}");
        let name = if path.is_empty() {
            "regctl".to_string()
        } else {
            format!("regctl-{}", path.join("-"))
        };
        insta::assert_snapshot!(format!("help_{name}"), env.redact(&run.stdout));
        // Every page a person can open, command groups (`regctl mirror --help`) included.
        let examples = run
            .stdout
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("{name} --help has no examples"));
        let count = examples.lines().filter(|l| l.contains("regctl")).count();
        assert!(
            count >= 2,
            "{name} needs two or three examples:\n{examples}"
        );
    }
}
