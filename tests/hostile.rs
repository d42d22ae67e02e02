//! Hostile servers (tests/support/hostile.rs) against the real binary: `login`, `doctor` and
//! `trust-ca --from-server` never hang past their timeouts, read bounded amounts, fail with a
//! clear error and exit 1 without writing anything, never print what a server smuggles into its
//! answer as terminal escapes, and never send credentials where FACTS.md forbids it (to another
//! host on redirect, over plain HTTP to a host that is not insecure).
//! The time bounds are bounds on hanging (timeout + 2 s), not speed targets.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::creds::{install_ca, login_bob_unverified, login_stdin, write_config};
use crate::support::hostile::{
    basic_challenge, bearer_challenge, response, Hostile, NetnsRecorder, Reply,
};
use crate::support::netns::NetnsHost;
use crate::support::pki::TestCa;
use crate::support::registry::{Registry, RegistryOptions, TokenAuth};
use crate::support::{assert_refused, FileState, Run, TestEnv};

/// The password every login here sends; it must never be printed.
const SECRET: &str = "hostile-Secret-7f3a9c";
const ESC: char = '\u{1b}';

/// A sandbox with a config.json (so that "nothing written" is byte-exact) and the CA of the
/// hostile servers installed for each of `hosts`.
fn sandbox(ca: &TestCa, hosts: &[&str]) -> (TestEnv, FileState) {
    let env = TestEnv::new();
    for h in hosts {
        install_ca(&env, h, ca);
    }
    let state = write_config(&env, "{\n\t\"auths\": {}\n}\n");
    (env, state)
}

/// `regctl login HOST -u alice --password-stdin --store file --timeout SECS [-o json]`, timed.
fn login(env: &TestEnv, host: &str, timeout: &str, json: bool) -> (Run, Duration) {
    let mut args = vec!["--store", "file", "--timeout", timeout];
    if json {
        args.extend(["-o", "json"]);
    }
    let started = Instant::now();
    let run = login_stdin(env, host, "alice", &format!("{SECRET}\n"), &args);
    (run, started.elapsed())
}

/// A login that must fail: exit 1, an `error:` naming every one of `words`, the same failure as
/// JSON, config.json untouched, no secret and no terminal escape in anything printed.
fn login_refused(env: &TestEnv, host: &str, state: &FileState, words: &[&str]) -> Run {
    let (run, took) = login(env, host, "10", false);
    assert!(took < Duration::from_secs(12), "login took {took:?}");
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert_refused(&run, words, &env.client_config_path(), state);
    let (json, _) = login(env, host, "10", true);
    let doc = json.document(&["login", host]);
    assert_eq!(
        (json.code, &doc["failed"]),
        (1, &Value::Bool(true)),
        "{doc}"
    );
    for text in [&run.stdout, &run.stderr, &json.stdout, &json.stderr] {
        assert!(!text.contains(SECRET), "the password was printed: {text}");
        assert!(
            !text.contains(ESC),
            "a terminal escape got through: {text:?}"
        );
    }
    assert_eq!(&FileState::of(&env.client_config_path()), state);
    run
}

/// `regctl doctor HOST --timeout SECS -o json`, timed.
fn doctor(env: &TestEnv, host: &str, timeout: &str) -> (Value, i32, Duration) {
    let started = Instant::now();
    let (doc, code) = env.json(&["doctor", host, "--timeout", timeout]);
    (doc, code, started.elapsed())
}

/// The (status, message) of the check with this id in the report of `registry`.
fn check(doc: &Value, registry: &str, id: &str) -> (String, String) {
    let c = crate::doctor_cmd::check(doc, registry, id);
    (
        c["status"].as_str().unwrap().to_string(),
        c["message"].as_str().unwrap().to_string(),
    )
}

/// Doctor fails within timeout + 2 s with `id` failed, and nothing it prints carries an escape.
fn doctor_fails(env: &TestEnv, host: &str, id: &str, words: &[&str]) {
    let (doc, code, took) = doctor(env, host, "3");
    assert!(took < Duration::from_secs(5), "doctor took {took:?}");
    assert_eq!(code, 1, "{doc:#}");
    let (status, message) = check(&doc, host, id);
    assert_eq!(status, "fail", "{doc:#}");
    for w in words {
        assert!(message.contains(w), "expected {w:?} in {message:?}");
    }
    assert!(!doc.to_string().contains(ESC), "{doc}");
    let text = env.run(&["doctor", host, "--timeout", "3"]);
    assert!(
        !text.stdout.contains(ESC) && !text.stderr.contains(ESC),
        "{text:?}"
    );
}

#[test]
fn hostile_gigantic_heads_are_refused_without_reading_them_all() {
    let ca = TestCa::new("hostile heads CA");
    // 1 MB of header lines, and a single header line of 1 MB.
    let many: String = (0..16_000)
        .map(|i| format!("X-Filler-{i:05}: {}\r\n", "a".repeat(48)))
        .collect();
    let lines = Hostile::tls(&ca, move |_| {
        Reply::text(format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\n{many}\r\n"
        ))
    });
    let one = Hostile::tls(&ca, |_| {
        Reply::text(format!(
            "HTTP/1.1 401 Unauthorized\r\nX-Huge: {}\r\n\r\n",
            "b".repeat(1 << 20)
        ))
    });
    let (env, state) = sandbox(&ca, &[&lines.host, &one.host]);
    for server in [&lines, &one] {
        login_refused(&env, &server.host, &state, &["cannot reach"]);
        doctor_fails(&env, &server.host, "registry.no_answer", &["64 KiB"]);
        assert!(!server.saw_authorization());
    }
}

#[test]
fn hostile_malformed_status_lines_and_headers_fail_cleanly() {
    let ca = TestCa::new("hostile malformed CA");
    let answers: &[&[u8]] = &[
        b"HTTP/1.1 abc Unauthorized\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 99999 Huge\r\nContent-Length: 0\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"\x00\x01\x02\xff\xfe garbage \r\n\r\n",
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n",
        // Terminal escapes in the reason phrase and headers: printed, they would rewrite the
        // user's terminal (title, screen, colours).
        b"HTTP/1.1 404 \x1b[2J\x1b[31mgotcha\r\nServer: \x1b]0;owned\x07evil\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"\x1b[5mblink\"\r\nContent-Length: 0\r\n\r\n",
    ];
    for answer in answers {
        let bytes = answer.to_vec();
        let server = Hostile::tls(&ca, move |_| Reply::Bytes(bytes.clone()));
        let (env, state) = sandbox(&ca, &[&server.host]);
        let shown = String::from_utf8_lossy(answer);
        let run = login_refused(&env, &server.host, &state, &[]);
        assert!(
            run.stderr.contains(&server.host),
            "{shown:?}: {}",
            run.stderr
        );
        let (doc, code, took) = doctor(&env, &server.host, "3");
        assert!(took < Duration::from_secs(5), "{shown:?}: {took:?}");
        assert_eq!(code, 1, "{shown:?}: {doc:#}");
        assert!(!doc.to_string().contains(ESC), "{shown:?}: {doc}");
        let text = env.run(&["doctor", &server.host, "--timeout", "3"]);
        assert!(!text.stdout.contains(ESC), "{shown:?}: {}", text.stdout);
        assert!(!server.saw_authorization(), "{shown:?}");
    }
}

/// A complete 401 answer, sent one byte per second.
fn dribbled(answer: Reply) -> Reply {
    match answer {
        Reply::Bytes(b) => Reply::Dribble(b, Duration::from_secs(1)),
        other => other,
    }
}

#[test]
fn hostile_a_server_dribbling_a_byte_per_second_is_cut_off_at_the_timeout() {
    let ca = TestCa::new("hostile slow CA");
    // Slow from the first byte of /v2/.
    let slow = Hostile::tls(&ca, |_| dribbled(basic_challenge()));
    // Quick to challenge, slow once credentials arrive.
    let slow_auth = Hostile::tls(&ca, |seen| {
        if seen.authorization.is_some() {
            dribbled(response("200 OK", &[], "{}"))
        } else {
            basic_challenge()
        }
    });
    let (env, state) = sandbox(&ca, &[&slow.host, &slow_auth.host]);

    let (doc, code, took) = doctor(&env, &slow.host, "2");
    assert!(took < Duration::from_secs(4), "doctor took {took:?}");
    assert_eq!(code, 1);
    let (status, message) = check(&doc, &slow.host, "registry.no_answer");
    assert_eq!(status, "fail");
    assert!(message.contains("within 2 s"), "{message}");

    for server in [&slow, &slow_auth] {
        let (run, took) = login(&env, &server.host, "2", false);
        assert!(took < Duration::from_secs(4), "login took {took:?}");
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains("no answer within"), "{}", run.stderr);
        assert!(!run.stderr.contains(SECRET));
        assert_eq!(FileState::of(&env.client_config_path()), state);
    }
    assert!(!slow.saw_authorization());
}

#[test]
fn hostile_a_handshake_dribbling_a_byte_per_second_is_cut_off_at_the_timeout() {
    // A TLS record header announcing 16 KiB of handshake, then a byte per second: every read
    // gets a byte in time, only a deadline on the whole handshake ends it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut s in listener.incoming().take(4).flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut hello = [0u8; 4096];
                let _ = s.read(&mut hello);
                let _ = s.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]);
                for _ in 0..60 {
                    if s.write_all(&[0x02]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
        }
    });
    let env = TestEnv::new();
    let started = Instant::now();
    let run = env.run(&["trust-ca", &host, "--from-server"]);
    let took = started.elapsed();
    // trust-ca's handshake has 10 s (dockerd's TLS handshake timeout).
    assert!(took < Duration::from_secs(12), "trust-ca took {took:?}");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("TLS handshake") && run.stderr.contains("timed out"),
        "{}",
        run.stderr
    );
    assert!(!env.certs_dir.join(&host).exists());

    let (doc, code, took) = doctor(&env, &host, "2");
    assert!(took < Duration::from_secs(4), "doctor took {took:?}");
    assert_eq!(code, 1);
    assert_eq!(
        check(&doc, &host, "tls.handshake_timeout").0,
        "fail",
        "{doc:#}"
    );
}

#[test]
fn hostile_trust_ca_from_server_refuses_an_oversized_handshake() {
    // 1 MB of handshake records announcing a 16 MB certificate message.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Some(Ok(mut s)) = listener.incoming().next() {
            let mut hello = [0u8; 4096];
            let _ = s.read(&mut hello);
            let mut first = vec![0x0b, 0xff, 0xff, 0xff];
            first.resize(16_000, 0x30);
            let mut record = vec![0x16, 0x03, 0x03, 0x3e, 0x80];
            record.extend_from_slice(&first);
            let _ = s.write_all(&record);
            for _ in 0..64 {
                let mut more = vec![0x16, 0x03, 0x03, 0x3e, 0x80];
                more.resize(5 + 16_000, 0x30);
                if s.write_all(&more).is_err() {
                    break;
                }
            }
        }
    });
    let env = TestEnv::new();
    let started = Instant::now();
    let run = env.run(&["trust-ca", &host, "--from-server"]);
    assert!(started.elapsed() < Duration::from_secs(12));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("TLS"), "{}", run.stderr);
    assert!(!env.certs_dir.join(&host).exists());
}

#[test]
fn hostile_credentials_never_follow_a_redirect_to_another_port() {
    let ca = TestCa::new("hostile redirect CA");
    // The target would accept anything; it records whether credentials reached it.
    let target = Hostile::tls(&ca, |_| {
        response(
            "200 OK",
            &[("Docker-Distribution-API-Version", "registry/2.0")],
            "{\"token\":\"t\"}",
        )
    });
    let to = target.port;
    // The ping itself is redirected.
    let ping = Hostile::tls(&ca, move |_| {
        let location = format!("https://127.0.0.1:{to}/v2/");
        response("302 Found", &[("Location", location.as_str())], "")
    });
    // The request carrying credentials is redirected (307 keeps method and body).
    let authed = Hostile::tls(&ca, move |seen| {
        if seen.authorization.is_some() {
            let location = format!("https://127.0.0.1:{to}/v2/");
            response(
                "307 Temporary Redirect",
                &[("Location", location.as_str())],
                "",
            )
        } else {
            basic_challenge()
        }
    });
    // The token realm redirects the Basic-authenticated token request.
    let realm = Hostile::tls(&ca, move |seen| {
        let location = format!("https://127.0.0.1:{to}{}", seen.target);
        response(
            "307 Temporary Redirect",
            &[("Location", location.as_str())],
            "",
        )
    });
    let realm_url = format!("https://{}/token", realm.host);
    let bearer = Hostile::tls(&ca, move |_| bearer_challenge(&realm_url));
    let (env, state) = sandbox(
        &ca,
        &[
            &target.host,
            &ping.host,
            &authed.host,
            &realm.host,
            &bearer.host,
        ],
    );
    let redirected = format!("redirected to https://127.0.0.1:{to}/");
    for server in [&ping, &authed, &bearer] {
        login_refused(&env, &server.host, &state, &[&redirected]);
    }
    assert!(
        authed.saw_authorization(),
        "the test never reached the redirect"
    );
    assert!(
        realm.saw_authorization(),
        "the test never reached the redirect"
    );
    // doctor with stored credentials takes the same paths.
    for server in [&authed, &bearer] {
        let run = login_bob_unverified(&env, &server.host, &["--store", "file"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        doctor_fails(&env, &server.host, "auth.error", &[&redirected]);
    }
    assert!(
        !target.saw_authorization(),
        "credentials followed a redirect: {:?}",
        target.requests()
    );
}

#[test]
fn hostile_a_plain_http_token_realm_off_loopback_gets_no_credentials() {
    // The realm on a test host at a 10.x address (not insecure, unlike loopback), the registry
    // (real, TLS, token auth) on loopback.
    let mut netns = NetnsHost::new();
    let recorder = NetnsRecorder::start(&mut netns);
    let ca = TestCa::new("hostile realm CA");
    let realm = format!("{}/token", recorder.url);
    let registry = Registry::start(RegistryOptions {
        tls: Some(ca.server(&["127.0.0.1", "localhost"])),
        token: Some(TokenAuth {
            realm: realm.clone(),
            service: "hostile".into(),
            issuer: "hostile".into(),
            root_cert_bundle: ca.pem.cert.clone(),
        }),
        ..Default::default()
    });
    let (env, state) = sandbox(&ca, &[&registry.host]);

    // Without credentials, doctor asks the realm for an anonymous token over plain HTTP (no
    // secret in it): the realm is reachable, so what follows is not vacuous.
    let (doc, _, _) = doctor(&env, &registry.host, "5");
    assert_eq!(
        check(&doc, &registry.host, "auth.no_credentials").0,
        "warn",
        "{doc:#}"
    );
    let seen = recorder.requests();
    assert!(
        seen.iter()
            .any(|r| r.starts_with("GET /token?") && r.contains("authorization=no")),
        "{seen:?}"
    );

    let refused = format!("refusing to send credentials over plain HTTP to {realm}");
    login_refused(&env, &registry.host, &state, &[&refused]);
    // An identity token goes in a POST form body: refused the same way.
    write_config(
        &env,
        &format!(
            "{{\n\t\"auths\": {{\n\t\t\"{}\": {{\n\t\t\t\"identitytoken\": \"{SECRET}\"\n\t\t}}\n\t}}\n}}\n",
            registry.host
        ),
    );
    let run = env.run(&["login", &registry.host]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(&refused), "{}", run.stderr);
    doctor_fails(&env, &registry.host, "auth.error", &[&refused]);
    // Stored Basic credentials, checked by doctor.
    let run = login_bob_unverified(&env, &registry.host, &["--store", "file"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    doctor_fails(&env, &registry.host, "auth.error", &[&refused]);

    let seen = recorder.requests();
    assert!(
        seen.iter()
            .all(|r| r.contains("authorization=no") && r.ends_with("body=0")),
        "credentials reached the plain-HTTP realm: {seen:?}"
    );
}

#[test]
fn hostile_a_plain_http_token_realm_on_loopback_is_insecure_like_dockerd() {
    // The decision for loopback: dockerd treats 127.0.0.0/8 as insecure and the bytes never leave
    // the host, so a plain-HTTP realm there gets the Basic credentials as an insecure registry
    // would (the realm, not the registry, decides).
    let ca = TestCa::new("hostile loopback realm CA");
    let realm = Hostile::plain(|_| {
        response(
            "401 Unauthorized",
            &[],
            "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
        )
    });
    let realm_url = format!("http://{}/token", realm.host);
    let registry = Hostile::tls(&ca, move |_| bearer_challenge(&realm_url));
    let (env, state) = sandbox(&ca, &[&registry.host]);
    login_refused(
        &env,
        &registry.host,
        &state,
        &["incorrect username or password"],
    );
    assert!(realm.saw_authorization());
}

/// A registry whose /v2/ sends a Bearer challenge to its own `/token`, answered by `token`.
fn token_registry(
    ca: &TestCa,
    token: impl Fn(&crate::support::hostile::Seen) -> Reply + Send + Sync + 'static,
) -> Hostile {
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let port2 = port.clone();
    let server = Hostile::tls(ca, move |seen| {
        if seen.target.starts_with("/token") {
            token(seen)
        } else {
            bearer_challenge(&format!(
                "https://127.0.0.1:{}/token",
                port2.get().copied().unwrap_or_default()
            ))
        }
    });
    port.set(server.port).unwrap();
    server
}

#[test]
fn hostile_answers_of_many_megabytes_are_cut_off() {
    let ca = TestCa::new("hostile flood CA");
    const SIZE: usize = 64 << 20;
    // A token of 64 MB, declared up front; the same without a length (read until close); and a
    // /v2/ body of 64 MB.
    let declared = token_registry(&ca, |_| {
        Reply::Flood {
        head: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"token\":\"",
            SIZE + 12
        )
        .into_bytes(),
        total: SIZE,
        fill: b'a',
    }
    });
    let undeclared = token_registry(&ca, |_| {
        Reply::Flood {
        head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"token\":\""
            .to_vec(),
        total: SIZE,
        fill: b'a',
    }
    });
    let ping = Hostile::tls(&ca, |_| Reply::Flood {
        head: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec(),
        total: SIZE,
        fill: b' ',
    });
    let (env, state) = sandbox(&ca, &[&declared.host, &undeclared.host, &ping.host]);
    for server in [&declared, &undeclared, &ping] {
        login_refused(&env, &server.host, &state, &["more than 1 MiB"]);
        // The client stopped reading: what got out is socket buffers, not the 64 MB.
        assert!(
            server.bytes_sent() < 3 * (16 << 20),
            "{} bytes went out",
            server.bytes_sent()
        );
    }
    let run = login_bob_unverified(&env, &undeclared.host, &["--store", "file"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    doctor_fails(&env, &undeclared.host, "auth.error", &["more than 1 MiB"]);
}

#[test]
fn hostile_invalid_token_answers_fail_cleanly() {
    let ca = TestCa::new("hostile token CA");
    let answers: &[(&str, &str, &str)] = &[
        ("200 OK", "not json at all", "unusable answer"),
        ("200 OK", "{\"token\": 5}", "unusable answer"),
        ("200 OK", "{}", "unusable answer"),
        ("200 OK", "{\"token\": \"\"}", "unusable answer"),
        ("200 OK", "{\"token\": \"abc", "unusable answer"),
        ("200 OK", "[]", "unusable answer"),
        // Tokens an HTTP header cannot carry.
        ("200 OK", "{\"token\": \"line\\nbreak\"}", "unusable answer"),
        (
            "200 OK",
            "{\"token\": \"\\u001b[31mred\"}",
            "unusable answer",
        ),
        ("200 OK", "{\"token\": \"caf\u{e9}\"}", "unusable answer"),
        // An error page with terminal escapes in it.
        (
            "500 Internal Server Error",
            "\u{1b}]0;owned\u{7}\u{1b}[2Jboom",
            "answered 500",
        ),
    ];
    for (status, body, words) in answers {
        let (status, body) = (status.to_string(), body.to_string());
        let server = token_registry(&ca, move |_| {
            response(&status, &[("Content-Type", "application/json")], &body)
        });
        let (env, state) = sandbox(&ca, &[&server.host]);
        login_refused(&env, &server.host, &state, &["token server", words]);
    }
}
