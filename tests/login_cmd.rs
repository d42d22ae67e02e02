//! `regctl login` / `logout` with the plain-text store against the real registry (TLS from a test
//! CA in certs.d, htpasswd), checked by skopeo; and every bad input leaving files unchanged.

use std::io::{Read, Write};
use std::net::TcpListener;

use base64::Engine;
use serde_json::json;

use crate::support::creds::{
    client_config, htpasswd_registry, json_with_stdin, login, login_bob_unverified, login_stdin,
    skopeo_inspect, write_config, PASSWORD, USER,
};
use crate::support::hostile::RecordingProxy;
use crate::support::registry::free_port;
use crate::support::{age_file, FileState, TestEnv};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn login_writes_auths_that_skopeo_uses_and_second_login_changes_nothing() {
    let env = TestEnv::new();
    let r = htpasswd_registry(&env);
    let before = skopeo_inspect(&env, &r);
    assert_ne!(
        before.code, 0,
        "skopeo must need the credentials regctl writes"
    );

    let (doc, code, stderr) = login(&env, r.host(), &["--store", "file"]);
    assert_eq!(code, 0, "{doc}\n{stderr}");
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["store"], "file");
    assert_eq!(doc["auth"], "basic");
    // The CA in certs.d made TLS verify (not the loopback insecure fallback).
    assert_eq!(doc["transport"], "https");
    assert!(!doc.to_string().contains(PASSWORD), "secret in JSON output");
    // The trailing newline from stdin was trimmed, as docker does.
    let config = client_config(&env);
    assert_eq!(
        config["auths"][r.host()],
        json!({"auth": b64(&format!("{USER}:{PASSWORD}"))})
    );
    assert!(doc["warnings"][0]
        .as_str()
        .unwrap()
        .contains("stored unencrypted"));

    let inspect = skopeo_inspect(&env, &r);
    assert_eq!(inspect.code, 0, "skopeo: {}", inspect.stderr);
    assert!(inspect.stdout.contains("\"Digest\""));

    age_file(&env.client_config_path());
    let state = FileState::of(&env.client_config_path());
    let (doc, code, _) = login(&env, r.host(), &["--store", "file"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(false)), "{doc}");
    assert!(doc["msg"]
        .as_str()
        .unwrap()
        .starts_with("already logged in"));
    assert_eq!(FileState::of(&env.client_config_path()), state);
}

#[test]
fn wrong_password_writes_nothing() {
    let env = TestEnv::new();
    let r = htpasswd_registry(&env);
    std::fs::create_dir_all(&env.docker_config).unwrap();
    std::fs::write(env.client_config_path(), "{\n\t\"keep\": 1\n}\n").unwrap();
    let state = FileState::of(&env.client_config_path());
    let (doc, code, _) = json_with_stdin(
        &env,
        &[
            "login",
            r.host(),
            "-u",
            USER,
            "--password-stdin",
            "--store",
            "file",
        ],
        "wrong\n",
    );
    assert_eq!(code, 1);
    assert_eq!(doc["failed"], true);
    let msg = doc["msg"].as_str().unwrap();
    assert!(
        msg.contains("incorrect username or password") && msg.contains(r.host()),
        "{msg}"
    );
    assert_eq!(FileState::of(&env.client_config_path()), state);
}

#[test]
fn check_and_diff_write_nothing_then_logout_removes_and_repeats_as_unchanged() {
    let env = TestEnv::new();
    let r = htpasswd_registry(&env);
    let (doc, code, _) = login(&env, r.host(), &["--store", "file", "--check", "--diff"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert!(doc["msg"].as_str().unwrap().starts_with("would log in"));
    assert!(doc["diff"][0]["after"]
        .as_str()
        .unwrap()
        .contains("\"auths\""));
    assert!(
        !env.client_config_path().exists(),
        "--check created config.json"
    );

    let (_, code, _) = login(&env, r.host(), &["--store", "file"]);
    assert_eq!(code, 0);
    // An old URL-style key for the same host goes too, as docker's logout erases it.
    let mut config = client_config(&env);
    config["auths"][format!("https://{}", r.host())] = json!({"auth": b64("old:pw")});
    std::fs::write(env.client_config_path(), config.to_string()).unwrap();
    let (doc, code) = env.json(&["logout", r.host()]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(client_config(&env)["auths"], json!({}));
    assert_ne!(skopeo_inspect(&env, &r).code, 0);
    let (doc, code) = env.json(&["logout", r.host()]);
    assert_eq!((code, &doc["changed"]), (0, &json!(false)), "{doc}");
}

#[test]
fn unreachable_registry_fails_unless_no_verify() {
    let env = TestEnv::new();
    let host = format!("127.0.0.1:{}", free_port());
    let bob = |extra: &[&str], stdin: &str| {
        let mut args = vec!["--store", "file", "-o", "json"];
        args.extend_from_slice(extra);
        let run = login_stdin(&env, &host, "bob", stdin, &args);
        (run.document(&args), run.code, run.stderr)
    };
    let (doc, code, _) = bob(&[], "pw\n");
    assert_eq!(code, 1);
    let msg = doc["msg"].as_str().unwrap();
    assert!(msg.contains("cannot reach") && msg.contains(&host), "{msg}");
    assert!(doc["hint"].as_str().unwrap().contains("--no-verify"));
    assert!(!env.client_config_path().exists());

    let (doc, code, _) = bob(&["--no-verify"], "pw\r\n");
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(doc["verified"], false);
    assert_eq!(client_config(&env)["auths"][&host]["auth"], b64("bob:pw"));
}

/// A plain HTTP server on loopback that answers 404 to everything.
fn not_a_registry() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
            );
        }
    });
    port
}

#[test]
fn a_server_answering_404_is_not_a_registry() {
    let env = TestEnv::new();
    let host = format!("127.0.0.1:{}", not_a_registry());
    let run = login_stdin(&env, &host, "bob", "pw", &["--store", "file"]);
    let stderr = &run.stderr;
    assert_eq!(run.code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "http://{host}/v2/ is not a registry (it answered 404"
        )),
        "{stderr}"
    );
    assert!(!env.client_config_path().exists());
}

#[test]
fn bad_inputs_exit_1_and_leave_config_alone() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.docker_config).unwrap();
    // bm9jb2xvbg== is "nocolon": docker cannot decode it either.
    std::fs::write(
        env.client_config_path(),
        "{\n\t\"auths\": {\n\t\t\"r.example.com\": {\"auth\": \"bm9jb2xvbg==\"}\n\t}\n}\n",
    )
    .unwrap();
    let state = FileState::of(&env.client_config_path());
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[
                "login",
                "r.example.com",
                "-u",
                "bob",
                "--password-stdin",
                "--no-verify",
            ],
            "pw",
            "auths[\"r.example.com\"].auth is invalid",
        ),
        (
            &[
                "login",
                "other.example.com",
                "-u",
                "",
                "--password-stdin",
                "--no-verify",
            ],
            "pw",
            "the username is empty",
        ),
        (
            &[
                "login",
                "other.example.com",
                "-u",
                "bob",
                "--password-stdin",
                "--no-verify",
            ],
            "\n",
            "the password is empty",
        ),
        (
            &["login", "other.example.com", "--no-verify"],
            "",
            "no username given, and regctl cannot prompt",
        ),
    ];
    for (args, stdin, want) in cases {
        let run = env.cmd().args(*args).write_stdin(*stdin).output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert_eq!(FileState::of(&env.client_config_path()), state, "{args:?}");
    }
    // A store that is none of the stores is a usage error, caught by clap (exit 2).
    let args = [
        "login",
        "other.example.com",
        "-u",
        "bob",
        "--store",
        "vault",
    ];
    let run = env.cmd().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"vault\" is not a store"), "{stderr}");
    assert_eq!(FileState::of(&env.client_config_path()), state);
    let run = env
        .cmd()
        .args(["login", "other.example.com", "--no-verify"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("hint: pass them without a prompt"),
        "{stderr}"
    );
    assert!(stderr.contains("regctl login other.example.com -u USER --password-stdin"));
}

#[test]
fn password_flag_prints_dockers_warning_and_text_output_snapshot() {
    let env = TestEnv::new();
    let run = env
        .cmd()
        .args([
            "login",
            "r.example.com:5000",
            "-u",
            "bob",
            "-p",
            "hunter2",
            "--no-verify",
            "--store",
            "file",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("hunter2"));
    assert!(!stderr.contains("DOCKER_AUTH_CONFIG"));
    insta::assert_snapshot!("login_password_flag", env.redact(&stderr));
}

#[test]
fn logout_all_erases_every_registry_once() {
    let env = TestEnv::new();
    for host in ["a.example.com", "b.example.com:5000"] {
        let run = login_bob_unverified(&env, host, &["--store", "file"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let state = FileState::of(&env.client_config_path());
    let (doc, _) = env.json(&["logout", "--all", "--check"]);
    assert_eq!(doc["changed"], true);
    assert_eq!(FileState::of(&env.client_config_path()), state);
    let (doc, code) = env.json(&["logout", "--all"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(
        doc["registries"],
        json!(["a.example.com", "b.example.com:5000"])
    );
    assert_eq!(client_config(&env)["auths"], json!({}));
    let (doc, _) = env.json(&["logout", "--all"]);
    assert_eq!(doc["changed"], false, "{doc}");
}

#[test]
fn docker_auth_config_in_the_environment_is_pointed_out() {
    let mut env = TestEnv::new();
    env.set_env("DOCKER_AUTH_CONFIG", r#"{"auths":{}}"#);
    let run = login_bob_unverified(&env, "r.example.com", &["--store", "file"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: DOCKER_AUTH_CONFIG is set"),
        "{}",
        run.stderr
    );
}

/// Waits until a tmux pane shows `text` (the prompt is drawn), then returns the pane.
fn wait_for_pane(socket: &std::path::Path, text: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let out = std::process::Command::new("tmux")
            .arg("-S")
            .arg(socket)
            .args(["capture-pane", "-p", "-t", "login"])
            .output()
            .unwrap();
        let pane = String::from_utf8_lossy(&out.stdout).into_owned();
        if pane.contains(text) {
            return pane;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tmux pane never showed {text:?}:\n{pane}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn prompts_for_username_and_password_on_a_terminal() {
    let tmux = crate::support::require_tool("tmux");
    let env = TestEnv::new();
    let socket = env.path("tmux.sock");
    let tmux_cmd = |args: &[&str]| {
        let ok = std::process::Command::new(&tmux)
            .arg("-S")
            .arg(&socket)
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux {args:?}");
    };
    let vars: Vec<String> = env
        .env_vars()
        .into_iter()
        .map(|(k, v)| format!("{k}='{}'", v.replace('\'', r"'\''")))
        .collect();
    let command = format!(
        "env -i {} {} login r.example.com --no-verify --store file; sleep 30",
        vars.join(" "),
        crate::support::regctl_bin().display()
    );
    tmux_cmd(&[
        "new-session",
        "-d",
        "-s",
        "login",
        "-x",
        "200",
        "-y",
        "20",
        &command,
    ]);
    wait_for_pane(&socket, "Username");
    tmux_cmd(&["send-keys", "-t", "login", "bob", "Enter"]);
    wait_for_pane(&socket, "Password");
    tmux_cmd(&["send-keys", "-t", "login", "pw", "Enter"]);
    let pane = wait_for_pane(&socket, "logged in to r.example.com as bob");
    tmux_cmd(&["kill-server"]);
    assert!(
        !pane.contains("pw\n") && !pane.contains(" pw "),
        "password echoed:\n{pane}"
    );
    assert_eq!(
        client_config(&env)["auths"]["r.example.com"]["auth"],
        b64("bob:pw")
    );
}

#[test]
fn self_signed_ca_certificate_in_certs_d_verifies_as_dockerd_does() {
    // `openssl req -x509` style: the server's own certificate, CA:TRUE, installed as ca.crt.
    // Go (dockerd) accepts it; webpki alone would not, and only loopback's insecure fallback
    // would let the login through unverified.
    let env = TestEnv::new();
    let pem = crate::support::pki::self_signed_ca_leaf(&["127.0.0.1"]);
    let registry =
        crate::support::registry::Registry::start(crate::support::registry::RegistryOptions {
            tls: Some(pem.clone()),
            users: vec![(USER.into(), PASSWORD.into())],
            ..Default::default()
        });
    let dir = env.certs_dir.join(&registry.host);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.crt"), &pem.cert).unwrap();
    let (doc, code, stderr) = login(&env, &registry.host, &["--store", "file"]);
    assert_eq!(code, 0, "{doc}\n{stderr}");
    assert_eq!(doc["transport"], "https", "{doc}");

    // Without the certificate in certs.d, loopback is insecure: TLS without verification.
    std::fs::remove_file(dir.join("ca.crt")).unwrap();
    let (doc, code, _) = login(&env, &registry.host, &["--store", "file"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["transport"], "https-unverified", "{doc}");
}

#[test]
fn client_certificate_pair_from_certs_d_is_presented_to_an_mtls_registry() {
    let env = TestEnv::new();
    let ca = crate::support::pki::TestCa::new("regctl mtls CA");
    let registry =
        crate::support::registry::Registry::start(crate::support::registry::RegistryOptions {
            tls: Some(ca.server(&["127.0.0.1"])),
            client_ca: Some(ca.pem.cert.clone()),
            users: vec![(USER.into(), PASSWORD.into())],
            ..Default::default()
        });
    let dir = env.certs_dir.join(&registry.host);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.crt"), &ca.pem.cert).unwrap();
    let state = write_config(&env, "{}\n");
    let (doc, code, _) = login(&env, &registry.host, &["--store", "file"]);
    assert_eq!(
        code, 1,
        "a registry requiring a client certificate let us in: {doc}"
    );
    assert!(
        doc["msg"].as_str().unwrap().contains("cannot reach"),
        "{doc}"
    );
    assert_eq!(FileState::of(&env.client_config_path()), state);

    let client = ca.client("regctl-test-client");
    std::fs::write(dir.join("client.cert"), &client.cert).unwrap();
    std::fs::write(dir.join("client.key"), &client.key).unwrap();
    let (doc, code, stderr) = login(&env, &registry.host, &["--store", "file"]);
    assert_eq!(code, 0, "{doc}\n{stderr}\n{}", registry.log());
    assert_eq!(doc["transport"], "https");

    // A .cert without its .key is moby's error, and nothing is written.
    std::fs::remove_file(dir.join("client.key")).unwrap();
    let state = FileState::of(&env.client_config_path());
    let (doc, code, _) = login(&env, &registry.host, &["--store", "file"]);
    assert_eq!(code, 1, "{doc}");
    assert!(
        doc["msg"]
            .as_str()
            .unwrap()
            .contains("CA certificates must use the extension .crt"),
        "{doc}"
    );
    assert_eq!(FileState::of(&env.client_config_path()), state);
}

/// login verifies the way `docker login` does: dockerd checks the credentials, so through
/// dockerd's proxy (daemon.json `proxies`), and doctor names the same proxy. The shell's
/// HTTPS_PROXY, which reqwest would read on its own, sees nothing.
#[test]
fn login_goes_through_dockerds_proxy_not_the_shells() {
    let dockerd_proxy = RecordingProxy::start();
    let shell_proxy = RecordingProxy::start();
    let mut env = TestEnv::new();
    env.set_env("HTTPS_PROXY", &shell_proxy.url);
    env.write_daemon(&format!(
        "{{\"proxies\": {{\"https-proxy\": \"{}\"}}}}\n",
        dockerd_proxy.url
    ));
    let (doc, code, _) = json_with_stdin(
        &env,
        &[
            "login",
            "registry.regctl-test.invalid",
            "-u",
            "bob",
            "--password-stdin",
            "--timeout",
            "5",
        ],
        "secret\n",
    );
    assert_eq!(code, 1, "{doc}");
    let seen = dockerd_proxy.seen();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("CONNECT registry.regctl-test.invalid:443 ")),
        "dockerd's proxy saw {seen:?}"
    );
    assert_eq!(shell_proxy.seen(), Vec::<String>::new());
    assert!(!env.client_config_path().exists(), "nothing stored");

    let (doc, _) = env.json(&["doctor", "registry.regctl-test.invalid", "--timeout", "3"]);
    let checks = doc["registries"][0]["checks"].as_array().unwrap();
    let used = checks
        .iter()
        .find(|c| c["id"] == "proxy.used")
        .unwrap_or_else(|| panic!("{doc}"));
    assert!(
        used["message"]
            .as_str()
            .unwrap()
            .contains(&dockerd_proxy.url),
        "{used}"
    );
}

/// With no proxy for dockerd, the shell's is the one both use, by Go's rules: never for
/// loopback. reqwest's own reading of HTTPS_PROXY would send this loopback login to it.
#[test]
fn loopback_logins_never_go_through_the_shells_proxy() {
    let shell_proxy = RecordingProxy::start();
    let mut env = TestEnv::new();
    env.set_env("HTTPS_PROXY", &shell_proxy.url);
    env.set_env("HTTP_PROXY", &shell_proxy.url);
    let host = format!("127.0.0.1:{}", free_port());
    let run = login_stdin(&env, &host, "bob", "secret\n", &["--store", "file"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(shell_proxy.seen(), Vec::<String>::new());
}

/// Bad values are usage errors: clap refuses them (exit 2) before anything is read or written,
/// naming the flag, for login's and doctor's --timeout and the helper's action.
#[test]
fn bad_flag_values_are_usage_errors() {
    let env = TestEnv::new();
    let state = write_config(&env, "{\"auths\": {}}\n");
    for args in [
        &["login", "r.example.com", "-u", "bob", "--timeout", "0"][..],
        &["login", "r.example.com", "-u", "bob", "--timeout", "abc"],
        &["login", "r.example.com", "-u", "bob", "--timeout", "3601"],
        &["doctor", "r.example.com", "--timeout=-1"],
        &["doctor", "r.example.com", "--timeout", "NaN"],
        &["credential-helper", "bogus"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: invalid value"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert_eq!(FileState::of(&env.client_config_path()), state, "{args:?}");
    }
    let run = env.run(&["doctor", "--timeout", "abc"]);
    assert!(
        run.stderr
            .contains("a number of seconds above 0 and at most 3600"),
        "{}",
        run.stderr
    );
    // With -o json the usage error is the one JSON document, exit 2 all the same.
    let (doc, code) = env.json(&["doctor", "--timeout", "0"]);
    assert_eq!(code, 2, "{doc}");
    assert_eq!(doc["failed"], true, "{doc}");
    assert!(
        doc["msg"]
            .as_str()
            .unwrap()
            .starts_with("invalid value '0' for '--timeout <SECS>'"),
        "{doc}"
    );
    assert_eq!(doc["hint"], "see the usage: regctl doctor --help", "{doc}");
    let (doc, code) = env.json(&["-o", "json", "mirror", "list", "--timeout", "x"]);
    assert_eq!(code, 2, "{doc}");
    assert_eq!(
        doc["hint"], "see the usage: regctl mirror list --help",
        "{doc}"
    );
    // Fractions are seconds too.
    let (doc, _) = env.json(&["doctor", "--explain", "toomanyrequests", "--timeout", "0.5"]);
    assert_eq!(
        doc["explanations"][0]["error"], "registry.rate_limited",
        "{doc}"
    );
}
