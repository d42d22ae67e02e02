//! Every `hint:` line and every "next step" regctl prints comes from here, so that the same
//! situation always gets the same, runnable advice.

/// Quote one argument for a POSIX shell, only when it needs it.
pub fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The command line the user ran, quoted so it can be pasted back.
pub fn command_line(argv: &[String]) -> String {
    let mut words: Vec<String> = argv.iter().map(|a| shell_quote(a)).collect();
    if let Some(first) = words.first_mut() {
        // Show the program by name, not by the path it was started from.
        if let Some(name) = std::path::Path::new(first.as_str()).file_name() {
            *first = name.to_string_lossy().into_owned();
        }
    }
    words.join(" ")
}

/// Permission denied on a root-owned file: the same command again with sudo.
pub fn rerun_with_sudo(argv: &[String]) -> String {
    format!("sudo {}", command_line(argv))
}

/// How to make dockerd apply a change, depending on whether every changed key reloads live.
pub fn apply_daemon_change(restart_keys: &[String], rootless: bool) -> String {
    let systemctl = if rootless {
        "systemctl --user"
    } else {
        "sudo systemctl"
    };
    if restart_keys.is_empty() {
        format!(
            "dockerd applies this on reload: regctl daemon reload (or: {systemctl} reload docker)"
        )
    } else {
        format!(
            "dockerd applies {} only on restart: {systemctl} restart docker",
            restart_keys.join(", ")
        )
    }
}

/// A JSON value typed without quotes where a string was meant.
pub fn quote_json_string(key: &str, raw: &str) -> String {
    format!(
        "regctl daemon set {} {}",
        shell_quote(key),
        shell_quote(&format!("\"{raw}\""))
    )
}

/// Clearing mirrors or insecure registries live needs an empty list, not a missing key.
pub fn clear_list_live(key: &str) -> String {
    format!("to clear it on a live reload, set it empty instead: regctl daemon set {key} '[]'")
}

/// A file regctl will not edit because of its encoding.
pub fn convert_to_utf8(path: &std::path::Path) -> String {
    let p = shell_quote(&path.display().to_string());
    format!("convert it first: iconv -f UTF-16 -t UTF-8 {p} > {p}.utf8 && mv {p}.utf8 {p}")
}

/// A config.json with a byte order mark: docker itself cannot read it.
pub fn strip_bom(path: &std::path::Path) -> String {
    format!(
        "remove the byte order mark: sed -i '1s/^\\xEF\\xBB\\xBF//' {}",
        shell_quote(&path.display().to_string())
    )
}

/// A file that does not parse: show where, and how to look at it.
pub fn fix_json(path: &std::path::Path) -> String {
    format!(
        "fix the file by hand, then check it with: python3 -m json.tool {}",
        shell_quote(&path.display().to_string())
    )
}

/// dockerd is not running (or the pidfile is elsewhere).
pub fn dockerd_not_running(rootless: bool) -> String {
    if rootless {
        "start it: systemctl --user start docker (or pass --pidfile FILE)".to_string()
    } else {
        "start it: sudo systemctl start docker (or pass --pidfile FILE)".to_string()
    }
}

/// A credential helper named in config.json that is not on PATH.
pub fn install_credential_helper(helper: &str) -> String {
    match helper {
        "regctl" => "put docker-credential-regctl on PATH: sudo ln -s \"$(command -v regctl | xargs dirname)/docker-credential-regctl\" /usr/local/bin/".to_string(),
        "secretservice" | "pass" => format!(
            "install it: sudo apt-get install golang-docker-credential-helpers (provides docker-credential-{helper})"
        ),
        "ecr-login" => "install it: sudo apt-get install amazon-ecr-credential-helper, or log in with regctl login (ECR tokens built in)".to_string(),
        _ => format!("install docker-credential-{helper}, or store the credentials elsewhere: regctl creds migrate --to keychain"),
    }
}
