//! `regctl doctor`: each failure is a real server (or the lack of one) on loopback, and the test
//! asserts the check id, its status and the fix.

use std::fs;

use serde_json::{json, Value};

use crate::support::creds::login_stdin;
use crate::support::registry::free_port;
use crate::support::TestEnv;

/// Runs doctor with JSON output; returns the document and the exit code.
fn doctor(env: &TestEnv, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["doctor"];
    all.extend(args);
    env.json(&all)
}

/// The check with this id in the report of `registry` ("local configuration": the machine's
/// block, reported once).
pub fn check<'a>(doc: &'a Value, registry: &str, id: &str) -> &'a Value {
    let report = std::iter::once(&doc["local"])
        .chain(doc["registries"].as_array().unwrap())
        .find(|r| r["registry"] == registry)
        .unwrap_or_else(|| panic!("no report for {registry} in {doc}"));
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} for {registry} in {report}"))
}

#[test]
fn connection_refused() {
    let env = TestEnv::new();
    let host = format!("127.0.0.1:{}", free_port());
    let (doc, code) = doctor(&env, &[&host, "--timeout", "3"]);
    assert_eq!(code, 1);
    assert_eq!(
        (doc["ok"].clone(), doc["failed"].clone()),
        (json!(false), json!(true))
    );
    let c = check(&doc, &host, "tcp.refused");
    assert_eq!(c["status"], "fail");
    assert!(
        c["fix"].as_str().unwrap().contains("start the registry"),
        "{c}"
    );
    assert_eq!(check(&doc, &host, "dns.resolved")["status"], "ok");
}

#[test]
fn a_name_under_invalid_does_not_resolve() {
    let env = TestEnv::new();
    let (doc, code) = doctor(
        &env,
        &["registry.regctl-test.invalid:5000", "--timeout", "3"],
    );
    assert_eq!(code, 1);
    let c = check(
        &doc,
        "registry.regctl-test.invalid:5000",
        "dns.no_such_host",
    );
    assert_eq!(c["status"], "fail");
    assert!(c["fix"].as_str().unwrap().contains("/etc/hosts"));
    // Later phases are reported as skipped, not run.
    let report = &doc["registries"][0]["checks"];
    assert!(report
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["status"] == "skip"));
}

#[test]
fn https_proxy_pointing_at_a_closed_port() {
    let mut env = TestEnv::new();
    env.set_env("HTTPS_PROXY", &format!("http://127.0.0.1:{}", free_port()));
    let (doc, code) = doctor(&env, &["registry.example.com", "--timeout", "3"]);
    assert_eq!(code, 1);
    let c = check(&doc, "registry.example.com", "proxy.unreachable");
    assert_eq!(c["status"], "fail");
    assert!(
        c["message"].as_str().unwrap().contains("HTTPS_PROXY"),
        "{c}"
    );
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .contains("NO_PROXY=registry.example.com"),
        "{c}"
    );
}

#[test]
fn dockerd_proxy_from_a_systemd_drop_in_differs_from_the_shell() {
    let env = TestEnv::new();
    let dropins = env.path("etc/systemd/docker.service.d");
    fs::create_dir_all(&dropins).unwrap();
    fs::write(
        dropins.join("http-proxy.conf"),
        format!(
            "[Service]\nEnvironment=\"HTTPS_PROXY=http://127.0.0.1:{}\"\n",
            free_port()
        ),
    )
    .unwrap();
    let (doc, _) = doctor(&env, &["registry.example.com", "--timeout", "3"]);
    assert_eq!(
        check(&doc, "registry.example.com", "proxy.differs")["status"],
        "warn"
    );
    let c = check(&doc, "registry.example.com", "proxy.unreachable");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("docker.service drop-ins"),
        "{c}"
    );
}

#[test]
fn loopback_is_never_proxied_as_in_go() {
    let mut env = TestEnv::new();
    env.set_env("HTTPS_PROXY", "http://127.0.0.1:9");
    let host = format!("127.0.0.1:{}", free_port());
    let (doc, _) = doctor(&env, &[&host, "--timeout", "3"]);
    assert_eq!(check(&doc, &host, "proxy.none")["status"], "ok");
}

#[test]
fn malformed_daemon_json() {
    let env = TestEnv::new();
    env.write_daemon("{\"registry-mirrors\": [\"https://m.example.com/\"");
    let host = format!("127.0.0.1:{}", free_port());
    let (doc, code) = doctor(&env, &[&host, "--timeout", "3"]);
    assert_eq!(code, 1);
    // The machine's files are judged once, in the local block, not in each registry's.
    let c = check(&doc, "local configuration", "config.daemon_json_invalid");
    assert_eq!(c["status"], "fail");
    assert!(c["message"].as_str().unwrap().contains("is not valid JSON"));
    assert!(!doc["registries"].to_string().contains("config."), "{doc}");
    // With nothing named anywhere, doctor still checks the local files.
    let (doc, code) = doctor(&env, &[]);
    assert_eq!(code, 1);
    check(&doc, "local configuration", "config.daemon_json_invalid");
}

#[test]
fn a_cred_helper_missing_from_path() {
    let env = TestEnv::new();
    fs::create_dir_all(&env.docker_config).unwrap();
    fs::write(
        env.client_config_path(),
        "{\"credHelpers\": {\"registry.example.com\": \"nosuchhelper\"}}",
    )
    .unwrap();
    let (doc, code) = doctor(&env, &["--timeout", "2"]);
    assert_eq!(code, 1);
    let c = check(&doc, "registry.example.com", "creds.helper_missing");
    assert_eq!(c["status"], "fail");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("docker-credential-nosuchhelper"));
}

#[test]
fn registries_are_reported_in_a_stable_order() {
    let env = TestEnv::new();
    env.write_daemon("{\"insecure-registries\": [\"zz.regctl-test.invalid:5000\", \"10.0.0.0/8\"], \"registry-mirrors\": [\"https://aa.regctl-test.invalid\"]}");
    let (doc, _) = doctor(&env, &["--timeout", "2"]);
    let names: Vec<&str> = doc["registries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["registry"].as_str().unwrap())
        .collect();
    // Mirrors are judged in Docker Hub's report (as mirrors), which always comes last.
    assert_eq!(names, ["zz.regctl-test.invalid:5000", "docker.io"]);
    let hub = &doc["registries"][1];
    assert_eq!(hub["mirrors"][0]["url"], "https://aa.regctl-test.invalid");
    assert_eq!(hub["mirrors"][0]["verdict"], "dead", "{hub}");
}

#[test]
fn explain_a_pasted_error() {
    let env = TestEnv::new();
    let text = "Error response from daemon: Get \"https://r.example.com:5000/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority";
    let (doc, code) = doctor(&env, &["--explain", text]);
    assert_eq!(code, 0);
    assert_eq!(doc["registry"], "r.example.com:5000");
    let e = &doc["explanations"][0];
    assert_eq!(e["error"], "x509.unknown_authority");
    assert!(e["checks"]
        .as_array()
        .unwrap()
        .contains(&json!("tls.unknown_authority")));
    assert!(e["fixes"][0]
        .as_str()
        .unwrap()
        .starts_with("sudo regctl trust-ca r.example.com:5000"));
    let run = env.run(&["doctor", "--explain", text]);
    insta::assert_snapshot!("doctor_explain_unknown_authority", run.stdout);
    let (doc, code) = doctor(&env, &["--explain", "something else entirely"]);
    assert_eq!((code, doc["explanations"].clone()), (1, json!([])));
}

use crate::support::netns::NetnsHost;
use crate::support::pki::{self_signed_ca_leaf, TestCa, Validity};
use crate::support::registry::{Registry, RegistryOptions};

fn statuses(doc: &Value, registry: &str) -> Vec<(String, String)> {
    doc["registries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["registry"] == registry)
        .unwrap()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Logs in to a test registry as alice, in plain text (the store does not matter to doctor).
fn login(env: &TestEnv, host: &str, password: &str) {
    let run = login_stdin(env, host, "alice", password, &["--store", "file"]);
    assert!(run.code == 0, "{}", run.stderr);
}

fn tls_registry(host: &NetnsHost, cert: crate::support::pki::Pem) -> Registry {
    Registry::start_in(
        RegistryOptions {
            tls: Some(cert),
            users: vec![("alice".into(), "s3cret".into())],
            ..Default::default()
        },
        host,
    )
}

#[test]
fn a_healthy_registry_with_its_ca_trusted() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let ca = TestCa::new("Healthy CA");
    let reg = tls_registry(&host, ca.server(&[&host.ip]));
    let ca_file = env.path("ca.pem");
    fs::write(&ca_file, &ca.pem.cert).unwrap();
    assert_eq!(
        env.run(&["trust-ca", &reg.host, &ca_file.display().to_string()])
            .code,
        0
    );
    login(&env, &reg.host, "s3cret");
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 0, "{doc:#}");
    let auth = check(&doc, &reg.host, "auth.ok");
    assert!(
        auth["message"]
            .as_str()
            .unwrap()
            .contains("user \"alice\" from plain text in config.json is accepted (basic"),
        "{auth}"
    );
    assert_eq!(check(&doc, &reg.host, "tls.trusted")["status"], "ok");
    assert_eq!(check(&doc, &reg.host, "registry.api")["status"], "ok");
    assert_eq!(check(&doc, &reg.host, "registry.ok")["status"], "ok");
    let run = env.run(&["doctor", &reg.host]);
    assert!(run.stdout.contains("✓ registry.ok"), "{}", run.stdout);
}

#[test]
fn ca_not_trusted_names_the_issuer_and_the_pinned_fix_works() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let ca = TestCa::new("Private Registry CA");
    // The server sends its chain (leaf, then the root), as most deployments do.
    let mut cert = ca.server(&[&host.ip]);
    cert.cert.push_str(&ca.pem.cert);
    let reg = tls_registry(&host, cert);
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 1);
    let c = check(&doc, &reg.host, "tls.unknown_authority");
    assert_eq!(c["status"], "fail");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("Private Registry CA"),
        "{c}"
    );
    let fix = c["fix"].as_str().unwrap();
    assert!(fix.contains("--from-server --fingerprint"), "{fix}");
    // The fix, run as printed (without sudo), makes the registry healthy.
    let command = fix.split("then: sudo ").nth(1).unwrap();
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    assert_eq!(env.run(&args).code, 0);
    login(&env, &reg.host, "s3cret");
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn wrong_hostname() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let ca = TestCa::new("Name CA");
    let reg = tls_registry(&host, ca.server(&["registry.internal.example"]));
    fs::create_dir_all(env.certs_dir.join(&reg.host)).unwrap();
    fs::write(env.certs_dir.join(&reg.host).join("ca.crt"), &ca.pem.cert).unwrap();
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 1);
    let c = check(&doc, &reg.host, "tls.hostname_mismatch");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("valid for registry.internal.example, not"),
        "{c}"
    );
    assert!(c["fix"].as_str().unwrap().contains("IP:"), "{c}");
}

#[test]
fn expired_certificate() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let ca = TestCa::new("Expiry CA");
    let reg = tls_registry(&host, ca.server_with(&[&host.ip], Validity::Expired));
    fs::create_dir_all(env.certs_dir.join(&reg.host)).unwrap();
    fs::write(env.certs_dir.join(&reg.host).join("ca.crt"), &ca.pem.cert).unwrap();
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 1);
    let c = check(&doc, &reg.host, "tls.expired");
    let message = c["message"].as_str().unwrap();
    assert!(
        message.contains("valid until 2021-01-01") && message.contains("server's Date header"),
        "{c}"
    );
    assert!(c["fix"].as_str().unwrap().contains("renew"), "{c}");
}

#[test]
fn self_signed_ca_leaf_in_certs_d_is_accepted_as_docker_does() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let cert = self_signed_ca_leaf(&[&host.ip]);
    let reg = tls_registry(&host, cert.clone());
    fs::create_dir_all(env.certs_dir.join(&reg.host)).unwrap();
    fs::write(env.certs_dir.join(&reg.host).join("ca.crt"), &cert.cert).unwrap();
    login(&env, &reg.host, "s3cret");
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 0, "{doc:#}");
    let c = check(&doc, &reg.host, "tls.trusted");
    assert!(
        c["message"].as_str().unwrap().contains("docker accepts it"),
        "{c}"
    );
}

#[test]
fn plain_http_registry_not_listed_then_listed_insecure() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let reg = Registry::start_in(RegistryOptions::default(), &host);
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 1);
    let c = check(&doc, &reg.host, "http.plain_http_not_insecure");
    let fix = c["fix"].as_str().unwrap();
    assert_eq!(
        fix,
        format!(
            "sudo regctl insecure add {} && sudo regctl daemon reload",
            reg.host
        )
    );
    assert_eq!(env.run(&["insecure", "add", &reg.host]).code, 0);
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        check(&doc, &reg.host, "http.plain_http_insecure")["status"],
        "warn"
    );
    assert_eq!(check(&doc, &reg.host, "registry.api")["status"], "ok");
}

#[test]
fn a_server_that_never_answers_tls_times_out_within_the_timeout() {
    let env = TestEnv::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    // Accepts and holds connections without a byte of TLS.
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            keep.lock().unwrap().push(s);
        }
    });
    let started = std::time::Instant::now();
    let (doc, code) = doctor(&env, &[&host, "--timeout", "2"]);
    let took = started.elapsed();
    assert_eq!(code, 1);
    assert_eq!(
        check(&doc, &host, "tls.handshake_timeout")["status"],
        "fail"
    );
    // A bound on hanging, as the issue asks (--timeout + 1 s), not a speed target.
    assert!(
        took < std::time::Duration::from_secs(3),
        "doctor took {took:?}"
    );
}

#[test]
fn an_http_server_answering_404_on_v2_is_not_a_registry() {
    let env = TestEnv::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 9\r\n\r\nnot found",
            );
        }
    });
    let (doc, code) = doctor(&env, &[&host, "--timeout", "3"]);
    assert_eq!(code, 1, "{doc:#}");
    // Loopback is insecure for dockerd: it falls back to plain HTTP, then finds no registry.
    assert_eq!(
        check(&doc, &host, "http.plain_http_insecure")["status"],
        "warn"
    );
    let c = check(&doc, &host, "registry.not_a_registry");
    assert!(
        c["message"].as_str().unwrap().contains("404")
            && c["message"].as_str().unwrap().contains("nginx"),
        "{c}"
    );
}

#[test]
fn a_leaf_only_server_with_an_unknown_ca_asks_for_the_issuing_ca() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let ca = TestCa::new("Leaf Only CA");
    let reg = tls_registry(&host, ca.server(&[&host.ip]));
    let (doc, _) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    let c = check(&doc, &reg.host, "tls.unknown_authority");
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .contains("get the CA that issued it (CN=Leaf Only CA"),
        "{c}"
    );
    // Every later phase is skipped, in order.
    let ids: Vec<(String, String)> = statuses(&doc, &reg.host);
    assert_eq!(
        ids.last().unwrap(),
        &("skipped".to_string(), "skip".to_string())
    );
}

#[test]
fn certs_lint_reports_a_cert_without_its_key() {
    let env = TestEnv::new();
    let host = format!("127.0.0.1:{}", free_port());
    let dir = env.certs_dir.join(&host);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("client.cert"),
        TestCa::new("Lint CA").client("me").cert,
    )
    .unwrap();
    let (doc, code) = doctor(&env, &[&host, "--timeout", "2"]);
    assert_eq!(code, 1);
    let c = check(&doc, &host, "certs.lint");
    assert_eq!(c["status"], "fail");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("certs.cert_without_key"),
        "{c}"
    );
}

#[test]
fn wrong_stored_password_and_no_stored_credentials() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let ca = TestCa::new("Auth CA");
    let reg = tls_registry(&host, ca.server(&[&host.ip]));
    fs::create_dir_all(env.certs_dir.join(&reg.host)).unwrap();
    fs::write(env.certs_dir.join(&reg.host).join("ca.crt"), &ca.pem.cert).unwrap();

    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 1);
    let c = check(&doc, &reg.host, "auth.no_credentials");
    assert_eq!(c["status"], "fail");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("no basic auth credentials"),
        "{c}"
    );
    assert_eq!(c["fix"], format!("regctl login {}", reg.host));

    // A password that was right once and changed since: stored without verification.
    let run = login_stdin(
        &env,
        &reg.host,
        "alice",
        "outdated",
        &["--store", "file", "--no-verify"],
    );
    assert!(run.code == 0);
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 1);
    let c = check(&doc, &reg.host, "auth.bad_credentials");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("rejects user \"alice\""),
        "{c}"
    );
    assert_eq!(
        c["fix"],
        format!("log in again: regctl login {} -u alice", reg.host)
    );
    let text = env.run(&["doctor", &reg.host]).stdout;
    assert!(
        !text.contains("outdated"),
        "doctor must never print a secret"
    );
}

/// Found against dockerd: with TLS 1.3 the client finishes its handshake before the server
/// checks the client certificate, so a registry that wants one and gets none sends its
/// `bad certificate` alert on the first read. doctor said `tls.handshake` ok then
/// `registry.no_answer` with no fix; dockerd says `remote error: tls: bad certificate`.
#[test]
fn mtls_without_a_client_certificate_names_the_client_pair_fix() {
    let env = TestEnv::new();
    let host = NetnsHost::new();
    let ca = TestCa::new("mTLS CA");
    let reg = Registry::start_in(
        RegistryOptions {
            tls: Some(ca.server(&[&host.ip])),
            client_ca: Some(ca.pem.cert.clone()),
            ..Default::default()
        },
        &host,
    );
    let dir = env.certs_dir.join(&reg.host);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("ca.crt"), &ca.pem.cert).unwrap();
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 1, "{doc:#}");
    let c = check(&doc, &reg.host, "tls.client_certificate_refused");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["message"].as_str().unwrap().contains("bad certificate"),
        "{c}"
    );
    let fix = regctl::hints::client_certificate(&reg.host);
    assert_eq!(c["fix"], fix, "{c}");
    // The same cause from dockerd's own words.
    let said = format!(
        "Error response from daemon: Get \"https://{}/v2/\": remote error: tls: bad certificate",
        reg.host
    );
    let (doc, code) = doctor(&env, &["--explain", &said]);
    assert_eq!(code, 0);
    let e = &doc["explanations"][0];
    assert_eq!(e["error"], "tls.client_certificate_refused", "{doc:#}");
    assert!(e["checks"]
        .as_array()
        .unwrap()
        .contains(&json!("tls.client_certificate_refused")));
    assert_eq!(e["fixes"][0], fix);

    // With a client pair the same registry passes.
    let pair = ca.client("me");
    fs::write(dir.join("client.cert"), pair.cert).unwrap();
    fs::write(dir.join("client.key"), pair.key).unwrap();
    let (doc, code) = doctor(&env, &[&reg.host, "--timeout", "5"]);
    assert_eq!(code, 0, "{doc:#}");
}

/// Found against dockerd 26 with the containerd image store: a wrong password is reported in
/// containerd's words, which `--explain` did not know.
#[test]
fn explain_knows_the_containerd_stores_wording_of_a_bad_password() {
    let env = TestEnv::new();
    let text = "Error response from daemon: unexpected status from HEAD request to https://10.0.0.5:5000/v2/hello/manifests/v1: 401 Unauthorized";
    let (doc, code) = doctor(&env, &["--explain", text]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["registry"], "10.0.0.5:5000");
    let e = &doc["explanations"][0];
    assert_eq!(e["error"], "auth.unauthorized");
    assert!(e["checks"]
        .as_array()
        .unwrap()
        .contains(&json!("auth.bad_credentials")));
    assert_eq!(e["fixes"][0], "regctl login 10.0.0.5:5000");
}

#[test]
fn a_hanging_credential_helper_gets_doctors_timeout() {
    let mut env = TestEnv::new();
    let r = crate::support::creds::htpasswd_registry(&env);
    let host = r.host().to_string();
    crate::support::creds::install_helper(&mut env, "hang", "sleep 60");
    crate::support::creds::write_config(
        &env,
        &format!("{{\"credHelpers\": {{\"{host}\": \"hang\"}}}}\n"),
    );
    let started = std::time::Instant::now();
    let (doc, code) = doctor(&env, &[&host, "--timeout", "3"]);
    let took = started.elapsed();
    assert_eq!(code, 1, "{doc:#}");
    let failed = check(&doc, &host, "auth.store_failed");
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("docker-credential-hang get did not finish within 3 s"),
        "{failed}"
    );
    // A bound on hanging (the helper's own 30 s before), not a speed target: the loopback
    // phases before it take well under a second each.
    assert!(
        took < std::time::Duration::from_secs(6),
        "doctor took {took:?}"
    );
}

/// A plain-HTTP registry on loopback (insecure for dockerd) that resets TLS connections instead
/// of answering them: login reaches it over HTTP, and doctor follows dockerd the same way
/// (HTTPS first, then plain HTTP) instead of stopping at the TLS failure. Not a real registry:
/// the distribution registry answers TLS with an HTTP 400, which doctor already handled.
#[test]
fn a_loopback_registry_that_resets_tls_is_reached_over_http_like_login() {
    use crate::support::hostile::{basic_challenge, response, Hostile};
    let env = TestEnv::new();
    let good = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alice:s3cret")
    );
    let server = Hostile::plain_resetting_tls(move |seen| {
        if seen.authorization.as_deref() == Some(good.as_str()) {
            response(
                "200 OK",
                &[("Docker-Distribution-API-Version", "registry/2.0")],
                "{}",
            )
        } else {
            basic_challenge()
        }
    });
    let host = server.host.clone();
    login(&env, &host, "s3cret");
    let (doc, code) = doctor(&env, &[&host, "--timeout", "5"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(check(&doc, &host, "tls.handshake_failed")["status"], "warn");
    assert_eq!(
        check(&doc, &host, "http.plain_http_insecure")["status"],
        "warn"
    );
    assert_eq!(check(&doc, &host, "auth.ok")["status"], "ok");
    assert_eq!(check(&doc, &host, "registry.ok")["status"], "ok");
}
