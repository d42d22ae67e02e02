//! Hardening of the credential commands (issue 12, classes 1-4): several config.json keys for one
//! registry resolve as docker resolves them (exact key first, then older URL-style keys; every
//! spelling of `auths` and its members that docker's Go decoder reads); no secret in any spelling
//! reaches a diff, list, verbose line, error or hint; `logout --all` removes what it can when one
//! entry is broken; and config.json is locked only around its read-modify-write, so a second
//! regctl and a docker-style writer (temp file + rename, no lock) get through while a login waits
//! for its password or for a slow registry. Real components: gnome-keyring on a private bus and
//! docker-credential-regctl (migrate). The slow registry is a loopback stand-in (`Hostile`): no
//! real registry can be made to answer one byte at a time.

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::keychain::helper;
use crate::support::creds::{client_config, install_ca, path_with_helper, write_config};
use crate::support::hostile::{basic_challenge, response, Hostile, Reply};
use crate::support::keyring::SecretService;
use crate::support::pki::TestCa;
use crate::support::registry::free_port;
use crate::support::{Run, TestEnv};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Waits for `child` at most `limit` (a bound on hanging, not a timing); kills it after that.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Rewrites config.json as docker does (no lock; a temp file in the same directory renamed over
/// it), adding a member.
fn docker_style_write(env: &TestEnv, key: &str, value: Value) {
    let path = env.client_config_path();
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc[key] = value;
    let tmp = env.docker_config.join("config.json123456");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

#[test]
fn migrate_keeps_the_credential_docker_uses_when_keys_collide() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    env.set_env("PATH", &path_with_helper());
    // r.io: the exact key first, an older URL-style key after it (docker reads the exact one);
    // q.io: the other way round; s.io only under spellings docker's Go decoder also reads.
    write_config(
        &env,
        &json!({
            "auths": {
                "r.io": {"auth": b64("new:R-NEW-pw")},
                "https://r.io/v1/": {"auth": b64("old:R-OLD-pw")},
                "https://q.io/v1/": {"auth": b64("old:Q-OLD-pw")},
                "q.io": {"auth": b64("new:Q-NEW-pw")},
            },
            "AUTHS": {"s.io": {"Auth": b64("sam:S-pw")}},
        })
        .to_string(),
    );
    let (doc, code) = env.json(&["creds", "list"]);
    assert_eq!(code, 0, "{doc}");
    let users: Vec<(String, String)> = doc["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["registry"].as_str().unwrap().to_string(),
                r["username"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = |r: &str, u: &str| (r.to_string(), u.to_string());
    assert_eq!(
        users,
        [
            want("q.io", "new"),
            want("r.io", "new"),
            want("s.io", "sam")
        ],
        "{doc}"
    );

    let (doc, code) = env.json(&["creds", "migrate", "--to", "keychain"]);
    assert_eq!(code, 0, "{doc}");
    let mut migrated: Vec<String> = serde_json::from_value(doc["migrated"].clone()).unwrap();
    migrated.sort();
    assert_eq!(migrated, ["q.io", "r.io", "s.io"], "{doc}");
    for (host, user, pw) in [
        ("r.io", "new", "R-NEW-pw"),
        ("q.io", "new", "Q-NEW-pw"),
        ("s.io", "sam", "S-pw"),
    ] {
        let (code, out) = helper(&ss.address, "get", host);
        assert_eq!(code, 0, "{host}: {out}");
        let got: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            (got["Username"].as_str(), got["Secret"].as_str()),
            (Some(user), Some(pw))
        );
    }
    // No plain-text secret is left in the file, in any spelling.
    let text = std::fs::read_to_string(env.client_config_path()).unwrap();
    let config = client_config(&env);
    for host in ["r.io", "q.io", "s.io"] {
        assert_eq!(config["credHelpers"][host], "regctl", "{config}");
    }
    for k in ["https://r.io/v1/", "https://q.io/v1/"] {
        assert!(config["auths"].get(k).is_none(), "{config}");
    }
    assert!(!text.to_lowercase().contains("\"auth\""), "{text}");
    let (doc, _) = env.json(&["creds", "migrate", "--to", "keychain"]);
    assert_eq!(doc["changed"], false, "{doc}");
}

#[test]
fn logout_all_with_one_broken_entry_removes_the_good_ones_and_names_it() {
    let env = TestEnv::new();
    write_config(
        &env,
        &json!({"auths": {
            "a.io": {"auth": b64("u:pa")},
            "broken.io": {"auth": "%%%not-base64"},
            "c.io": {"Auth": b64("u:pc")},
        }})
        .to_string(),
    );
    let run = env.run(&["logout", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("broken.io")
            && run
                .stderr
                .contains(&env.client_config_path().display().to_string()),
        "the broken entry and its file are named:\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("no stored credentials"),
        "{}",
        run.stderr
    );
    assert_eq!(client_config(&env)["auths"], json!({}));
}

/// The secret held under each spelling docker's decoder reads: one per row, unique.
fn spellings() -> Vec<(&'static str, Value, String)> {
    let secret = |i: usize| format!("Sp3ll-{i:02}-secret");
    type Entry = fn(&str) -> Value;
    let rows: Vec<(&str, Entry)> = vec![
        ("auth", |s| json!({"auth": b64(&format!("u:{s}"))})),
        ("Auth", |s| json!({"Auth": b64(&format!("u:{s}"))})),
        ("AUTH", |s| json!({"AUTH": b64(&format!("u:{s}"))})),
        ("identitytoken", |s| json!({"identitytoken": s})),
        ("IdentityToken", |s| json!({"IdentityToken": s})),
        (
            "identitytoKen (Kelvin sign)",
            |s| json!({("identitytoken".replace('k', "\u{212A}")): s}),
        ),
        ("registryToken", |s| json!({"registryToken": s})),
        ("REGISTRYTOKEN", |s| json!({"REGISTRYTOKEN": s})),
        ("password", |s| json!({"password": s, "username": "u"})),
        ("Password", |s| json!({"Password": s, "username": "u"})),
        ("paſſword (long s)", |s| json!({"pa\u{17F}\u{17F}word": s})),
    ];
    rows.into_iter()
        .enumerate()
        .map(|(i, (name, f))| {
            let s = secret(i);
            (name, f(&s), s)
        })
        .collect()
}

/// Every form the secret could be printed in: as is and base64 of `u:secret` (and its prefix
/// without padding, which a partial print would show).
fn leaks(text: &str, secret: &str) -> bool {
    let b = b64(&format!("u:{secret}"));
    text.contains(secret) || text.contains(b.trim_end_matches('='))
}

#[track_caller]
fn assert_clean(run: &Run, secret: &str, what: &str) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !leaks(text, secret),
            "{what}: the secret is in {stream}:\n{text}"
        );
    }
}

/// A login that stores in the file (so its diff shows the rest of config.json), checked only.
const LOGIN_TO_FILE: &[&str] = &[
    "login",
    "other.io",
    "-u",
    "x",
    "-p",
    "pw",
    "--no-verify",
    "--store",
    "file",
    "--diff",
    "--check",
];

/// Each command as text, with `-v`, and as JSON.
fn with_modes<'a>(commands: &[&[&'a str]]) -> Vec<Vec<&'a str>> {
    let modes: [&[&str]; 3] = [&[], &["-v"], &["-o", "json"]];
    commands
        .iter()
        .flat_map(|c| modes.iter().map(move |m| [*c, *m].concat()))
        .collect()
}

/// For every spelling docker's decoder accepts, in config.json as written and with `"\u0061uth"`
/// escapes: every command that prints (the diffs of login, logout and migrate, creds list, -v,
/// JSON) leaves the secret out.
#[test]
fn no_secret_in_any_spelling_reaches_any_output() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    env.set_env("PATH", &path_with_helper());
    let commands: Vec<Vec<&str>> = with_modes(&[
        &["creds", "list"],
        &["logout", "r.io", "--diff", "--check"],
        &["logout", "--all", "--diff", "--check"],
        LOGIN_TO_FILE,
        &["creds", "migrate", "--to", "keychain", "--diff", "--check"],
        // Login reusing what is stored (docker's order).
        &["login", "r.io", "--no-verify"],
    ]);
    let mut checked = 0;
    for (name, entry, secret) in spellings() {
        for escaped in [false, true] {
            let mut text = json!({"auths": {"r.io": entry.clone()}}).to_string();
            if escaped {
                // Member names starting with a `\u` escape, which the decoder reads the same.
                for c in ['a', 'A', 'i', 'I', 'r', 'R', 'p', 'P'] {
                    text = text.replace(&format!("\"{c}"), &format!("\"\\u{:04x}", c as u32));
                }
                assert!(text.contains("\\u00"), "{text}");
            }
            for args in &commands {
                write_config(&env, &text);
                let run = env.run(args);
                assert_clean(
                    &run,
                    &secret,
                    &format!("{name} (escaped: {escaped}): {args:?}"),
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 11 * 2 * 6 * 3);
}

/// Proxy URLs with a password, in config.json, daemon.json and the environment: masked in every
/// diff, value, doctor report and error.
#[test]
fn proxy_passwords_are_masked_wherever_printed() {
    const PW: &str = "Pr0xy-pw-7c1e";
    let mut env = TestEnv::new();
    env.set_env(
        "HTTPS_PROXY",
        &format!("http://u:{PW}@127.0.0.1:{}", free_port()),
    );
    write_config(
        &env,
        &json!({"proxies": {"default": {"httpProxy": format!("http://u:{PW}@proxy:3128"), "httpsProxy": format!("u:{PW}@proxy:3128")}}})
            .to_string(),
    );
    env.write_daemon(
        &json!({"proxies": {"http-proxy": format!("http://u:{PW}@proxy:3128"), "https-proxy": format!("http:\\/\\/u:{PW}@proxy:3128")}})
            .to_string()
            .replace("\\\\/", "\\/"),
    );
    // Broken JSON (no closing brace): the error repeats the value typed, and so does its hint.
    let typed = format!("{{\"http-proxy\": \"http://u:{PW}@proxy:3128\"");
    let runs = with_modes(&[
        LOGIN_TO_FILE,
        &[
            "mirror",
            "add",
            "https://mirror.example.com",
            "--diff",
            "--check",
        ],
        &["daemon", "show"],
        &["daemon", "get", "proxies"],
        &["daemon", "get", "proxies.https-proxy"],
        &["doctor", "registry.example.com", "--timeout", "3"],
        &["daemon", "set", "proxies", &typed, "--check"],
    ]);
    for args in runs {
        let run = env.run(&args);
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains(PW),
                "{args:?}: the proxy password is in {stream}:\n{text}"
            );
        }
        if args[0] == "daemon" || args[0] == "doctor" {
            // Each shows the proxy (or the value typed), masked.
            assert!(
                run.stdout.contains("<redacted>") || run.stderr.contains("<redacted>"),
                "{args:?} shows the proxy, masked:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
    }
}

/// While `login` waits: a second regctl (logout of other.io) completes, and a docker-style
/// write adds `key`.
fn others_get_through(env: &TestEnv, login: &mut Child, key: &str) {
    let mut logout = env
        .std_cmd()
        .args(["logout", "other.io"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut logout, Duration::from_secs(60));
    assert!(
        status.is_some_and(|s| s.success()),
        "logout did not complete while login waited"
    );
    assert!(
        login.try_wait().unwrap().is_none(),
        "logout had to wait for the login to end"
    );
    docker_style_write(env, key, json!("written by docker"));
}

/// Once `login` ends: it succeeded, and config.json holds the docker-style write, the logout and
/// the login's own credentials for `host`.
fn all_kept(env: &TestEnv, login: &mut Child, key: &str, host: &str, auth: &str) {
    let status = wait_bounded(login, Duration::from_secs(90)).expect("login finishes");
    let mut err = String::new();
    std::io::Read::read_to_string(login.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    let config = client_config(env);
    assert_eq!(config[key], "written by docker", "{config}");
    assert!(config["auths"].get("other.io").is_none(), "{config}");
    assert_eq!(config["auths"][host]["auth"], auth, "{config}");
}

/// A login waiting for its password (stdin held open, as a person at a prompt) holds no lock: a
/// second regctl (logout of another registry) completes meanwhile, and a docker-style write made
/// in that window survives the login's own write.
#[test]
fn a_login_waiting_for_its_password_blocks_nobody_and_loses_no_docker_write() {
    let env = TestEnv::new();
    write_config(
        &env,
        &json!({"auths": {"other.io": {"auth": b64("o:po")}}}).to_string(),
    );
    let mut login = env
        .std_cmd()
        .args([
            "login",
            "r.io",
            "-u",
            "alice",
            "--password-stdin",
            "--no-verify",
            "--store",
            "file",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Give it time to get to the read (the old code locked config.json before it).
    std::thread::sleep(Duration::from_millis(800));
    others_get_through(&env, &mut login, "psFormat");
    let mut stdin = login.stdin.take().unwrap();
    stdin.write_all(b"Wait1ng-pw\n").unwrap();
    drop(stdin);
    all_kept(
        &env,
        &mut login,
        "psFormat",
        "r.io",
        &b64("alice:Wait1ng-pw"),
    );
}

/// The same for a login waiting on a slow registry (its answer comes a byte at a time).
#[test]
fn a_login_waiting_on_a_slow_registry_blocks_nobody_and_loses_no_docker_write() {
    let env = TestEnv::new();
    write_config(
        &env,
        &json!({"auths": {"other.io": {"auth": b64("o:po")}}}).to_string(),
    );
    let ca = TestCa::new("slow registry CA");
    // Quick to challenge, slow (a byte every 100 ms) once the credentials arrive.
    let slow = Hostile::tls(&ca, |seen| {
        if seen.authorization.is_none() {
            return basic_challenge();
        }
        match response(
            "200 OK",
            &[("Docker-Distribution-API-Version", "registry/2.0")],
            "{}",
        ) {
            Reply::Bytes(b) => Reply::Dribble(b, Duration::from_millis(100)),
            other => other,
        }
    });
    install_ca(&env, &slow.host, &ca);
    let mut login = env
        .std_cmd()
        .args([
            "login",
            &slow.host,
            "-u",
            "alice",
            "-p",
            "Sl0w-pw",
            "--store",
            "file",
            "--timeout",
            "60",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the credentials reached the registry (login now waits on its slow answer).
    let start = Instant::now();
    while !slow.saw_authorization() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(slow.saw_authorization(), "login never sent its credentials");
    others_get_through(&env, &mut login, "detachKeys");
    all_kept(
        &env,
        &mut login,
        "detachKeys",
        &slow.host,
        &b64("alice:Sl0w-pw"),
    );
}
