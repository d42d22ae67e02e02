//! Secret hygiene: every command of the suite's scenarios that touches a secret runs here with a
//! known unique password (and a wrong one), as text, with `-v`, with `-o json` and with `--diff`,
//! on success and on the error paths, and nothing it prints holds the secret in any form regctl
//! handles it in (as typed, `base64(user:secret)` as config.json keeps it, URL-encoded as an
//! OAuth form sends it). Only the helper protocol's `get`, whose job is to hand the secret back,
//! prints it (checked, so the test can see a leak when there is one). config.json holding a
//! plain-text secret is 0600 (0700 directory), also when it was readable by others before.
//! ECR logins likewise keep the AWS secret key and the token (in both its forms) to themselves.
//! Real components: the registry (TLS + htpasswd, and token auth with the test token server),
//! gnome-keyring on a private bus, docker-credential-regctl, moto behind the SigV4-verifying
//! front. The one stand-in is a broken credential helper (a shell script), because no real helper
//! can be made to answer garbage.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use base64::Engine;

use crate::support::aws::{AwsStack, TestKey};
use crate::support::creds::{install_ca, path_with_helper, run_helper};
use crate::support::keyring::SecretService;
use crate::support::pki::TestCa;
use crate::support::registry::{free_port, Registry, RegistryOptions};
use crate::support::token_server::TokenServer;
use crate::support::{mode, Run, TestEnv};

const USER: &str = "hygiene-user";
/// The password: unique, so that any occurrence in output is a leak.
const SECRET: &str = "Hyg1ene-9d2f7c41-pa55";
/// A wrong password, which must not be printed either.
const WRONG: &str = "Wr0ng-5be80a13-guess";
/// AWS keys for the ECR logins (moto behind the SigV4-verifying front checks them).
const AWS_KEY: TestKey = TestKey::allow("AKIAHYGIENE000000001", "hygiene-aws-Secret-4c7e21");
const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
/// What moto mints for account 123456789012.
const ECR_TOKEN: &str = "123456789012-auth-token";

/// Every form a secret takes inside regctl.
fn forms(secret: &str) -> Vec<String> {
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        secret.to_string(),
        b64(format!("{USER}:{secret}")),
        b64(format!("<token>:{secret}")),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ]
}

/// Every secret an ECR login handles: the AWS secret key, and moto's token as docker gets it
/// (the password) and as config.json and the ECR API carry it (base64 of `AWS:password`).
fn ecr_forms() -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{ECR_TOKEN}"));
    vec![AWS_KEY.secret.to_string(), ECR_TOKEN.to_string(), b64]
}

/// Nothing `run` printed holds either password in any form, nor an ECR secret.
#[track_caller]
fn clean(run: &Run, what: &str) {
    let mut all = forms(SECRET);
    all.extend(forms(WRONG));
    all.extend(ecr_forms());
    for form in all {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains(&form),
                "{what}: the secret ({form}) is in {stream}:\n{text}"
            );
        }
    }
}

/// Runs regctl with `args` and `stdin` in each output mode (text, `-v`, `-o json`, and `--diff`
/// as text and JSON when `diff`), checks each is clean, and returns the text run.
#[track_caller]
fn each_mode(env: &TestEnv, args: &[&str], stdin: &str, diff: bool) -> Run {
    let mut modes: Vec<Vec<&str>> = vec![vec![], vec!["-v"], vec!["-o", "json"]];
    if diff {
        modes.push(vec!["--diff"]);
        modes.push(vec!["--diff", "-o", "json", "-v"]);
    }
    let mut first = None;
    for extra in modes {
        let out = env
            .cmd()
            .args(args)
            .args(&extra)
            .write_stdin(stdin)
            .output()
            .unwrap();
        let run = Run::from(out);
        clean(&run, &format!("regctl {args:?} {extra:?}"));
        if extra.first() == Some(&"-o") {
            let doc: serde_json::Value = serde_json::from_str(&run.stdout)
                .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {run:?}"));
            assert!(doc.is_object());
        }
        first.get_or_insert(run);
    }
    first.unwrap()
}

/// config.json holds a plain-text secret and nobody but its owner can read it.
#[track_caller]
fn private_config(env: &TestEnv) {
    let raw = fs::read_to_string(env.client_config_path()).unwrap();
    assert!(raw.contains("\"auth\""), "{raw}");
    assert_eq!(mode(&env.client_config_path()), 0o600);
    assert_eq!(mode(&env.docker_config), 0o700);
}

/// Runs docker-credential-regctl ACTION with `stdin` in the sandbox's environment.
fn helper(env: &TestEnv, action: &str, stdin: &str) -> Run {
    run_helper(&env.env_vars(), action, stdin)
}

fn htpasswd_registry(ca: &TestCa) -> Registry {
    Registry::start(RegistryOptions {
        tls: Some(ca.server(&["127.0.0.1", "localhost"])),
        users: vec![(USER.into(), SECRET.into())],
        ..Default::default()
    })
}

#[test]
fn secret_hygiene_file_store_login_creds_doctor_logout_and_errors() {
    let ca = TestCa::new("hygiene CA");
    let registry = htpasswd_registry(&ca);
    let host = registry.host.as_str();
    let env = TestEnv::new();
    install_ca(&env, host, &ca);
    let file = ["--store", "file"];

    // A first login, -p on the command line (warned about), checked: --check --diff.
    let mut args = vec!["login", host, "-u", USER, "-p", SECRET, "--check"];
    args.extend(file);
    each_mode(&env, &args, "", true);
    // The diff shows where the secret goes, not the secret.
    let diff = Run::from(env.cmd().args(&args).arg("--diff").output().unwrap());
    assert!(
        diff.stdout.contains("\"auth\": \"<redacted>\""),
        "{}",
        diff.stdout
    );
    // For real, then again (not changed), then with the password on stdin.
    let mut args = vec!["login", host, "-u", USER, "-p", SECRET];
    args.extend(file);
    let run = each_mode(&env, &args, "", true);
    assert_eq!(run.code, 0, "{}", run.stderr);
    private_config(&env);
    let mut args = vec!["login", host, "-u", USER, "--password-stdin"];
    args.extend(file);
    let run = each_mode(&env, &args, &format!("{SECRET}\n"), true);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // With what is stored.
    let run = each_mode(&env, &["login", host], "", false);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // A wrong password: refused, nothing printed of it (nor of the stored one).
    let mut args = vec!["login", host, "-u", USER, "-p", WRONG];
    args.extend(file);
    assert_eq!(each_mode(&env, &args, "", true).code, 1);
    let mut args = vec!["login", host, "-u", USER, "--password-stdin"];
    args.extend(file);
    assert_eq!(each_mode(&env, &args, WRONG, true).code, 1);

    let run = each_mode(&env, &["creds", "list"], "", false);
    assert!(run.stdout.contains(USER), "{}", run.stdout);
    let run = each_mode(&env, &["doctor", host, "--timeout", "5"], "", false);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // Error paths with the secret in hand: nothing listening, a bad store, a bad timeout, a
    // config.json docker cannot read, a password but no user.
    let closed = format!("127.0.0.1:{}", free_port());
    let mut args = vec!["login", &closed, "-u", USER, "-p", SECRET];
    args.extend(file);
    assert_eq!(each_mode(&env, &args, "", false).code, 1);
    // A bad store is a usage error, caught by clap (exit 2; with -o json also a JSON document).
    let args = ["login", host, "-u", USER, "-p", SECRET, "--store", "vault"];
    for extra in [&[][..], &["-v"], &["-o", "json"]] {
        let run = env.run(&[&args[..], extra].concat());
        clean(&run, &format!("regctl {args:?} {extra:?}"));
        assert_eq!(run.code, 2, "{run:?}");
    }
    // A bad --timeout is a usage error (clap's, exit 2) since the value is typed.
    let args = ["login", host, "-u", USER, "-p", SECRET, "--timeout", "0"];
    assert_eq!(each_mode(&env, &args, "", false).code, 2);
    assert_eq!(
        each_mode(&env, &["login", host, "--password-stdin"], SECRET, false).code,
        1
    );

    // Stored credentials that the registry rejects: doctor says so without the secret.
    let mut args = vec!["login", host, "-u", USER, "-p", WRONG, "--no-verify"];
    args.extend(file);
    assert_eq!(each_mode(&env, &args, "", true).code, 0);
    let run = each_mode(&env, &["doctor", host, "--timeout", "5"], "", false);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("auth.bad_credentials"),
        "{}",
        run.stdout
    );
    assert_eq!(each_mode(&env, &["login", host], "", false).code, 1);

    // Logout, --check --diff first (the diff shows the auth entry going).
    assert_eq!(
        each_mode(&env, &["logout", host, "--check"], "", true).code,
        0
    );
    let diff = Run::from(
        env.cmd()
            .args(["logout", host, "--check", "--diff"])
            .output()
            .unwrap(),
    );
    assert!(diff.stdout.contains("<redacted>"), "{}", diff.stdout);
    assert_eq!(each_mode(&env, &["logout", host], "", true).code, 0);

    // config.json that others could read: a plain-text login makes it private.
    fs::set_permissions(env.client_config_path(), fs::Permissions::from_mode(0o644)).unwrap();
    let mut args = vec!["login", host, "-u", USER, "-p", SECRET];
    args.extend(file);
    let run = each_mode(&env, &args, "", false);
    assert!(run.stderr.contains("0600"), "{}", run.stderr);
    private_config(&env);

    // A config.json docker cannot read (with the secret in it): the error does not quote it.
    let text = fs::read_to_string(env.client_config_path()).unwrap();
    fs::write(env.client_config_path(), format!("{text}\n}}")).unwrap();
    let mut args = vec!["login", host, "-u", USER, "-p", SECRET];
    args.extend(file);
    assert_eq!(each_mode(&env, &args, "", false).code, 1);
    assert_eq!(each_mode(&env, &["creds", "list"], "", false).code, 1);
    assert_eq!(each_mode(&env, &["logout", host], "", false).code, 1);
}

#[test]
fn secret_hygiene_keychain_migrate_and_the_helper_protocol() {
    let ss = SecretService::unlocked();
    let ca = TestCa::new("hygiene keychain CA");
    let registry = htpasswd_registry(&ca);
    let host = registry.host.as_str();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    env.set_env("PATH", &path_with_helper());
    install_ca(&env, host, &ca);

    let args = ["login", host, "-u", USER, "-p", SECRET, "--store", "file"];
    assert_eq!(each_mode(&env, &args, "", false).code, 0);
    private_config(&env);
    // Plain text into the keychain: the diff shows the auth entry leaving config.json.
    let migrate = ["creds", "migrate", "--to", "keychain"];
    let mut check = migrate.to_vec();
    check.push("--check");
    assert_eq!(each_mode(&env, &check, "", true).code, 0);
    let mut diff = migrate.to_vec();
    diff.push("--diff");
    let run = each_mode(&env, &diff, "", false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let raw = fs::read_to_string(env.client_config_path()).unwrap();
    assert!(!raw.contains(&forms(SECRET)[1]), "{raw}");
    assert_eq!(each_mode(&env, &migrate, "", true).code, 0);

    let args = [
        "login",
        host,
        "-u",
        USER,
        "--password-stdin",
        "--store",
        "keychain",
    ];
    assert_eq!(each_mode(&env, &args, SECRET, true).code, 0);
    let args = [
        "login", host, "-u", USER, "-p", WRONG, "--store", "keychain",
    ];
    assert_eq!(each_mode(&env, &args, "", true).code, 1);
    assert_eq!(each_mode(&env, &["creds", "list"], "", false).code, 0);
    let run = each_mode(&env, &["doctor", host, "--timeout", "5"], "", false);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The helper protocol: get hands the secret back (its job), nothing else prints it.
    for get in [
        helper(&env, "get", host),
        Run::from(
            env.cmd()
                .args(["credential-helper", "get"])
                .write_stdin(host)
                .output()
                .unwrap(),
        ),
    ] {
        assert_eq!(get.code, 0, "{get:?}");
        assert!(get.stdout.contains(SECRET), "{get:?}");
        assert!(!get.stderr.contains(SECRET), "{get:?}");
    }
    let other = format!(
        "{{\"ServerURL\":\"other.example.com\",\"Username\":\"{USER}\",\"Secret\":\"{SECRET}\"}}"
    );
    for action in ["store", "list", "erase", "version", "bogus"] {
        let input = match action {
            "store" => other.clone(),
            "erase" => "other.example.com".to_string(),
            _ => String::new(),
        };
        clean(&helper(&env, action, &input), action);
        let run = Run::from(
            env.cmd()
                .args(["credential-helper", action])
                .write_stdin(input)
                .output()
                .unwrap(),
        );
        clean(&run, action);
    }
    // A store request that is not JSON: the error does not quote it.
    clean(
        &helper(&env, "store", &format!("{other}garbage")),
        "store garbage",
    );

    assert_eq!(each_mode(&env, &["logout", host], "", true).code, 0);
    assert_eq!(each_mode(&env, &["logout", "--all"], "", true).code, 0);
}

#[test]
fn secret_hygiene_bearer_tokens_and_identity_tokens() {
    let ca = TestCa::new("hygiene token CA");
    let server = TokenServer::start_with(&ca, &[(USER, SECRET)], true);
    let registry = Registry::start(RegistryOptions {
        tls: Some(ca.server(&["127.0.0.1", "localhost"])),
        token: Some(server.registry_auth(&ca)),
        ..Default::default()
    });
    let host = registry.host.as_str();
    let env = TestEnv::new();
    install_ca(&env, host, &ca);
    install_ca(&env, &format!("127.0.0.1:{}", server.port), &ca);

    let args = [
        "login",
        host,
        "-u",
        USER,
        "--password-stdin",
        "--store",
        "file",
    ];
    assert_eq!(each_mode(&env, &args, SECRET, true).code, 0);
    private_config(&env);
    assert_eq!(each_mode(&env, &args, WRONG, true).code, 1);
    let run = each_mode(&env, &["doctor", host, "--timeout", "5"], "", false);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // An identity token (the token server's refresh token for the user) as docker stores it.
    let identity = format!("refresh-{USER}");
    fs::write(
        env.client_config_path(),
        format!("{{\n\t\"auths\": {{\n\t\t\"{host}\": {{\n\t\t\t\"identitytoken\": \"{identity}\"\n\t\t}}\n\t}}\n}}\n"),
    )
    .unwrap();
    for args in [
        vec!["login", host],
        vec!["creds", "list"],
        vec!["doctor", host, "--timeout", "5"],
        vec!["logout", host, "--check"],
    ] {
        let run = each_mode(&env, &args, "", true);
        assert_eq!(run.code, 0, "{args:?}: {}\n{}", run.stdout, run.stderr);
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(&identity), "{args:?}: {text}");
        }
    }
}

#[test]
fn secret_hygiene_a_broken_helper_is_not_quoted() {
    // Stand-ins for misbehaving credential helpers (no real one answers garbage on demand):
    // `broken get` prints the secret inside something that is not the protocol's JSON; `echo`
    // has nothing stored and fails a `store` by echoing its input, secret included.
    let ca = TestCa::new("hygiene broken helper CA");
    let registry = htpasswd_registry(&ca);
    let host = registry.host.as_str();
    let mut env = TestEnv::new();
    install_ca(&env, host, &ca);
    let bin = env.path("bin");
    fs::create_dir_all(&bin).unwrap();
    let scripts = [
        (
            "broken",
            format!("get) printf '{{\"Username\":\"{USER}\",\"Secret\":\"{SECRET}\"}} trailing' ;;\n  list) printf 'gpg: decryption failed' ;;"),
        ),
        (
            "echo",
            "get|erase) echo 'credentials not found in native keychain'; exit 1 ;;\n  store) cat; exit 1 ;;\n  list) echo '{}' ;;".to_string(),
        ),
    ];
    for (name, cases) in scripts {
        let script = bin.join(format!("docker-credential-{name}"));
        fs::write(
            &script,
            format!("#!/bin/sh\ncase \"$1\" in\n  {cases}\n  *) exit 1 ;;\nesac\n"),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.set_env(
        "PATH",
        &format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    );
    fs::create_dir_all(&env.docker_config).unwrap();
    fs::write(
        env.client_config_path(),
        format!("{{\n\t\"credHelpers\": {{\n\t\t\"{host}\": \"broken\"\n\t}}\n}}\n"),
    )
    .unwrap();
    for args in [vec!["login", host], vec!["doctor", host, "--timeout", "5"]] {
        let run = each_mode(&env, &args, "", false);
        assert_eq!(run.code, 1, "{args:?}: {}\n{}", run.stdout, run.stderr);
        let said = format!("{}{}", run.stdout, run.stderr);
        assert!(
            said.contains("docker-credential-broken get"),
            "{args:?}: {said}"
        );
    }
    // As docker: logout warns that the helper could not erase, and carries on.
    let run = each_mode(&env, &["logout", host], "", false);
    assert!(run.stderr.contains("could not erase"), "{}", run.stderr);
    each_mode(&env, &["creds", "list"], "", false);
    let args = [
        "login",
        host,
        "-u",
        USER,
        "-p",
        SECRET,
        "--store",
        "helper:echo",
    ];
    let run = each_mode(&env, &args, "", false);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("docker-credential-echo store failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn secret_hygiene_ecr_tokens_and_aws_keys() {
    let aws = AwsStack::start(&[AWS_KEY]);
    let mut env = TestEnv::new();
    env.set_env("AWS_ENDPOINT_URL", &aws.endpoint);
    env.set_env("AWS_ACCESS_KEY_ID", AWS_KEY.id);
    env.set_env("AWS_SECRET_ACCESS_KEY", AWS_KEY.secret);
    env.set_env("PATH", &path_with_helper());

    // The token in plain text (--store file): --check --diff first, then for real.
    let login = ["login", ECR_HOST, "--store", "file"];
    let mut check = login.to_vec();
    check.push("--check");
    assert_eq!(each_mode(&env, &check, "", true).code, 0);
    assert_eq!(each_mode(&env, &login, "", true).code, 0);
    private_config(&env);
    assert_eq!(each_mode(&env, &["creds", "list"], "", false).code, 0);
    // Through the helper (credHelpers -> regctl): only get hands the token back.
    assert_eq!(each_mode(&env, &["login", ECR_HOST], "", true).code, 0);
    let get = helper(&env, "get", ECR_HOST);
    assert_eq!(get.code, 0, "{get:?}");
    assert!(get.stdout.contains(ECR_TOKEN), "{get:?}");
    clean(&helper(&env, "list", ""), "list");
    assert_eq!(
        each_mode(&env, &["logout", ECR_HOST, "--check"], "", true).code,
        0
    );
    assert_eq!(each_mode(&env, &["logout", ECR_HOST], "", true).code, 0);

    // A wrong AWS secret: AWS refuses the signature; the error names the key id, not the secret.
    env.set_env(
        "AWS_SECRET_ACCESS_KEY",
        "hygiene-aws-Secret-4c7e21-but-wrong",
    );
    let run = each_mode(&env, &login, "", false);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("hygiene-aws-Secret"), "{}", run.stderr);
}
