//! ECR token logins through the real binaries: `regctl login/logout/creds list` and
//! `docker-credential-regctl get/store`, against moto_server behind the SigV4-verifying front
//! (tests/support/aws.rs). No keychain is reachable in these sandboxes: ECR needs none.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{json, Value};

use crate::support::aws::{AwsStack, TestKey};
use crate::support::creds::{
    client_config, helper_dir, login_stdin, path_with_helper, write_config,
};
use crate::support::registry::free_port;
use crate::support::{age_file, refused, tree_state, FileState, Run, TestEnv};

pub(crate) const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
/// What moto mints for account 123456789012 (its token is base64("AWS:" + this)).
pub(crate) const MOTO_PASSWORD: &str = "123456789012-auth-token";
const GOOD: TestKey = TestKey::allow("AKIAGOODKEY0000001", "good-secret");

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A sandbox whose AWS API is `endpoint`; `keys`: AWS_ACCESS_KEY_ID/SECRET in the environment.
pub(crate) fn sandbox(endpoint: &str, keys: bool) -> TestEnv {
    let mut env = TestEnv::new();
    env.set_env("AWS_ENDPOINT_URL", endpoint);
    if keys {
        env.set_env("AWS_ACCESS_KEY_ID", GOOD.id);
        env.set_env("AWS_SECRET_ACCESS_KEY", GOOD.secret);
    }
    env
}

/// `docker-credential-regctl ACTION` with the sandbox's environment and `stdin`.
pub(crate) fn helper(env: &TestEnv, action: &str, stdin: &str) -> Run {
    let out = assert_cmd::Command::new(helper_dir().join("docker-credential-regctl"))
        .env_clear()
        .envs(env.env_vars())
        .arg(action)
        .write_stdin(stdin)
        .output()
        .unwrap();
    Run::from(out)
}

/// No secret (the token, its base64 forms, the AWS secret key) in what a command printed.
pub(crate) fn assert_no_secret(run: &Run) {
    for secret in [
        MOTO_PASSWORD.to_string(),
        b64(&format!("AWS:{MOTO_PASSWORD}")),
        GOOD.secret.to_string(),
    ] {
        assert!(
            !run.stdout.contains(&secret) && !run.stderr.contains(&secret),
            "a secret was printed:\nstdout: {}\nstderr: {}",
            run.stdout,
            run.stderr
        );
    }
}

/// `regctl ARGS -o json`: the document, the exit code, and the run (for secret checks).
pub(crate) fn json_run(env: &TestEnv, args: &[&str]) -> (Value, i32, Run) {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let run = env.run(&all);
    assert_no_secret(&run);
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {run:?}"));
    (doc, run.code, run)
}

pub(crate) fn cache_dir(env: &TestEnv) -> PathBuf {
    env.xdg_cache.join("regctl/ecr")
}

pub(crate) fn settings_file(env: &TestEnv, host: &str) -> PathBuf {
    env.xdg_state.join(format!("regctl/ecr-hosts/{host}.json"))
}

/// The one cached token file.
fn cache_file(env: &TestEnv) -> PathBuf {
    let files: Vec<PathBuf> = fs::read_dir(cache_dir(env))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// Rewrites the cached token's expiry (epoch seconds), as time passing would.
fn set_cached_expiry(env: &TestEnv, expires_at: SystemTime) {
    let path = cache_file(env);
    let mut doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    doc["expiresAt"] = json!(expires_at.duration_since(UNIX_EPOCH).unwrap().as_secs());
    fs::write(&path, doc.to_string()).unwrap();
}

/// `get` succeeded with moto's token for `server`, and printed nothing on stderr.
pub(crate) fn assert_get_serves_token(env: &TestEnv, server: &str) {
    let run = helper(env, "get", &format!("{server}\n"));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap(),
        json!({"ServerURL": server, "Username": "AWS", "Secret": MOTO_PASSWORD})
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn ecr_login_with_env_credentials_serves_tokens_through_the_helper() {
    let aws = AwsStack::start(&[GOOD]);
    let mut env = sandbox(&aws.endpoint, true);
    env.set_env("PATH", &path_with_helper());
    write_config(&env, "{\n\t\"keep\": {\"me\": 1}\n}\n");

    // --check: a token is minted (proving the keys), nothing is written anywhere.
    let before = tree_state(env.dir.path());
    let (doc, code, _) = json_run(&env, &["login", HOST, "--check", "--diff"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert!(doc["msg"].as_str().unwrap().starts_with("would log in"));
    assert_eq!(tree_state(env.dir.path()), before);
    assert_eq!(aws.accepted("ecr"), 1);

    let (doc, code, _) = json_run(&env, &["login", HOST]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(
        (&doc["store"], &doc["username"]),
        (&json!("ecr"), &json!("AWS"))
    );
    assert_eq!(doc["ecr"]["credentials"], "environment variables");
    assert_eq!(doc["ecr"]["region"], "us-east-1");
    assert_eq!(doc["ecr"]["token"], "fetched");
    // The helper is on PATH: no note about it.
    assert!(doc.get("warnings").is_none(), "{doc}");
    let expires_at = doc["ecr"]["expires_at"].as_str().unwrap().to_string();
    assert_eq!(
        client_config(&env),
        json!({"keep": {"me": 1}, "credHelpers": {HOST: "regctl"}, "auths": {HOST: {}}})
    );
    assert_eq!(aws.accepted("ecr"), 2);

    // What docker runs: AWS and moto's token (the decoded password of its authorizationToken).
    assert_get_serves_token(&env, HOST);
    assert_get_serves_token(&env, &format!("https://{HOST}"));
    assert_eq!(aws.accepted("ecr"), 2, "served from the cache");
    // docker login stores back what get gave it: accepted; another password is refused.
    let item = |secret: &str| json!({"ServerURL": HOST, "Username": "AWS", "Secret": secret});
    let run = helper(&env, "store", &item(MOTO_PASSWORD).to_string());
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    let run = helper(&env, "store", &item("typed-by-hand").to_string());
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("is an Amazon ECR registry"), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "hint: log in with AWS credentials instead (no password): regctl login {HOST}"
        )),
        "{run:?}"
    );

    // The second identical login changes nothing, not even mtimes.
    age_file(&env.client_config_path());
    age_file(&settings_file(&env, HOST));
    let config = FileState::of(&env.client_config_path());
    let settings = FileState::of(&settings_file(&env, HOST));
    let (doc, code, _) = json_run(&env, &["login", HOST]);
    assert_eq!((code, &doc["changed"]), (0, &json!(false)), "{doc}");
    assert!(doc["msg"]
        .as_str()
        .unwrap()
        .starts_with("already logged in"));
    assert_eq!(doc["ecr"]["token"], "cached");
    assert_eq!(FileState::of(&env.client_config_path()), config);
    assert_eq!(FileState::of(&settings_file(&env, HOST)), settings);
    let text = env.run(&["login", HOST]);
    assert_eq!(text.code, 0);
    assert_no_secret(&text);

    // creds list: the ECR row with its expiry, in JSON and in text; the keychain is not asked.
    let (doc, code, _) = json_run(&env, &["creds", "list"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        doc["credentials"],
        json!([{"registry": HOST, "store": "ecr", "username": "AWS", "plaintext": false, "error": null, "expires_at": expires_at}])
    );
    let run = env.run(&["creds", "list"]);
    assert_no_secret(&run);
    let row: Vec<&str> = run
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
        [
            HOST,
            "ecr",
            "AWS",
            "(token",
            "until",
            &format!("{expires_at})")
        ]
    );

    // logout: the credHelpers entry, the cached token and the saved choices go.
    let (doc, code, _) = json_run(&env, &["logout", HOST, "--check"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(FileState::of(&env.client_config_path()), config);
    let (doc, code, _) = json_run(&env, &["logout", HOST]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(client_config(&env), json!({"keep": {"me": 1}, "auths": {}}));
    assert_eq!(fs::read_dir(cache_dir(&env)).unwrap().count(), 0);
    assert!(!settings_file(&env, HOST).exists());
    let (doc, code, _) = json_run(&env, &["logout", HOST]);
    assert_eq!((code, &doc["changed"]), (0, &json!(false)), "{doc}");
}

#[test]
fn ecr_login_with_a_profile_and_a_forced_name_the_helper_remembers() {
    let aws = AwsStack::start(&[GOOD]);
    // No keys in the environment, no default profile: only the profile chosen at login works.
    let env = sandbox(&aws.endpoint, false);
    fs::create_dir_all(env.home.join(".aws")).unwrap();
    fs::write(
        env.home.join(".aws/credentials"),
        format!(
            "[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            GOOD.id, GOOD.secret
        ),
    )
    .unwrap();

    let (doc, code, _) = json_run(&env, &["login", HOST, "--profile", "ci"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(doc["ecr"]["profile"], "ci");
    assert!(doc["ecr"]["credentials"]
        .as_str()
        .unwrap()
        .starts_with("profile \"ci\" in "));
    // docker-credential-regctl is not on this PATH: login says so, with the symlink to make.
    let warning = doc["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("docker-credential-regctl is not on PATH, so docker and skopeo cannot get ECR tokens yet")
            && warning.contains("ln -s"),
        "{warning}"
    );
    // The helper gets no flags: it uses the profile saved at login.
    assert_get_serves_token(&env, HOST);
    let (doc, _, _) = json_run(&env, &["login", HOST, "--profile", "ci"]);
    assert_eq!(doc["changed"], false, "{doc}");
    // Dropping --profile is a different login: the default chain has no credentials.
    let run = env.run(&["login", HOST]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no AWS credentials found"), "{run:?}");

    // A name that is not ECR's own (a proxy), forced with --ecr and a region.
    let proxy = "ecr-proxy.internal:5000";
    let (doc, code, _) = json_run(
        &env,
        &[
            "login",
            proxy,
            "--ecr",
            "--region",
            "us-east-1",
            "--profile",
            "ci",
        ],
    );
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(doc["ecr"]["forced"], true);
    assert_eq!(client_config(&env)["credHelpers"][proxy], "regctl");
    assert_get_serves_token(&env, proxy);
    let (doc, _, _) = json_run(&env, &["creds", "list"]);
    let stores: Vec<(&str, &str)> = doc["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["registry"].as_str().unwrap(),
                r["store"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(stores, [(HOST, "ecr"), (proxy, "ecr")]);
    let (doc, code, _) = json_run(&env, &["logout", proxy]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    // Forgotten: the helper no longer treats the proxy as ECR (the keychain would answer).
    let run = helper(&env, "get", proxy);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains(MOTO_PASSWORD));
}

#[test]
fn ecr_store_file_writes_the_token_into_auths_and_says_when_it_expires() {
    let aws = AwsStack::start(&[GOOD]);
    let env = sandbox(&aws.endpoint, true);
    // The diff shows where the token goes, not the token.
    let (doc, code, _) = json_run(
        &env,
        &["login", HOST, "--store", "file", "--check", "--diff"],
    );
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert!(doc["diff"][0]["after"]
        .as_str()
        .unwrap()
        .contains("\"auth\": \"<redacted>\""));
    assert!(!env.client_config_path().exists());
    let (doc, code, run) = json_run(&env, &["login", HOST, "--store", "file"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{run:?}");
    assert_eq!(doc["store"], "file");
    let expires_at = doc["ecr"]["expires_at"].as_str().unwrap();
    let warning = doc["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains(&format!("expires at {expires_at}"))
            && warning.contains(&env.client_config_path().display().to_string()),
        "{warning}"
    );
    // docker reads it as is: auths only, no credHelpers entry.
    assert_eq!(
        client_config(&env),
        json!({"auths": {HOST: {"auth": b64(&format!("AWS:{MOTO_PASSWORD}"))}}})
    );
    let (doc, _, _) = json_run(&env, &["creds", "list"]);
    assert_eq!(
        doc["credentials"],
        json!([{"registry": HOST, "store": "file", "username": "AWS", "plaintext": true, "error": null, "expires_at": expires_at}])
    );
    assert!(
        doc.get("notes").is_none(),
        "no advice to move a token: {doc}"
    );

    age_file(&env.client_config_path());
    let state = FileState::of(&env.client_config_path());
    let (doc, code, _) = json_run(&env, &["login", HOST, "--store", "file"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(false)), "{doc}");
    assert_eq!(FileState::of(&env.client_config_path()), state);
    // Text mode says the same on stderr, without the token.
    let run = env.run(&["login", HOST, "--store", "file"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains(&format!("expires at {expires_at}")),
        "{run:?}"
    );
    assert_no_secret(&run);

    // A store that would keep a 12-hour token without refreshing it is refused.
    refused(
        &env,
        &env.client_config_path(),
        &["login", HOST, "--store", "keychain"],
        &[
            "--store keychain cannot keep ECR tokens fresh",
            "hint: leave out --store",
        ],
    );
}

#[test]
fn ecr_helper_serves_the_cache_without_aws_and_never_an_expired_token() {
    let mut aws = AwsStack::start(&[GOOD]);
    let env = sandbox(&aws.endpoint, true);
    let (_, code, _) = json_run(&env, &["login", HOST]);
    assert_eq!(code, 0);
    assert_eq!(aws.accepted("ecr"), 1);

    // The endpoint goes away: a fresh cached token is served all the same.
    aws.stop_front();
    assert_get_serves_token(&env, HOST);

    // Within 15 minutes of its end: a refresh is tried, fails, and the still valid token is
    // served with the failure on stderr.
    set_cached_expiry(&env, SystemTime::now() + Duration::from_secs(5 * 60));
    let run = helper(&env, "get", HOST);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(MOTO_PASSWORD));
    assert!(
        run.stderr
            .starts_with(&format!("warning: cannot reach ecr at {}", aws.endpoint)),
        "{run:?}"
    );

    // Expired and the endpoint down: exit 1, the real cause, and no secret at all.
    set_cached_expiry(&env, SystemTime::now() - Duration::from_secs(60));
    let run = helper(&env, "get", HOST);
    assert_eq!(run.code, 1, "{run:?}");
    assert_no_secret(&run);
    let cause = format!("cannot reach ecr at {}: ", aws.endpoint);
    // The protocol's error text (what docker shows) on stdout; for people, the same on
    // stderr with the hint.
    assert!(run.stdout.starts_with(&cause), "{run:?}");
    assert!(
        run.stderr.starts_with(&format!("error: {cause}")),
        "{run:?}"
    );
    assert!(run.stderr.contains("\nhint: check the network"), "{run:?}");
    // regctl login says the same, and leaves config.json alone.
    let run = refused(&env, &env.client_config_path(), &["login", HOST], &[&cause]);
    assert_no_secret(&run);
}

#[test]
fn ecr_bad_aws_configuration_exits_1_and_writes_nothing() {
    // Nothing listens here: an ECR login that got as far as the network would say so.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let env = sandbox(&endpoint, false);
    write_config(&env, "{\n\t\"auths\": {}\n}\n");
    let config = env.client_config_path();
    let aws_dir = env.home.join(".aws");
    let refused = |args: &[&str], words: &[&str]| {
        let before = tree_state(env.dir.path());
        let run = refused(&env, &config, args, words);
        assert_no_secret(&run);
        assert_eq!(
            tree_state(env.dir.path()),
            before,
            "{args:?} wrote something"
        );
        run
    };

    // No AWS credentials anywhere: every source tried is named.
    let cred_path = aws_dir.join("credentials").display().to_string();
    let run = refused(
        &["login", HOST],
        &[
            "error: no AWS credentials found; tried: environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set)",
            &format!("profile \"default\" in {cred_path} (file does not exist)"),
            "hint: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run: aws configure",
        ],
    );
    assert!(!run.stderr.contains("no basic auth credentials"));
    // The helper says the same instead of "credentials not found".
    let before = tree_state(env.dir.path());
    let run = helper(&env, "get", HOST);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with("no AWS credentials found; tried:"),
        "{run:?}"
    );
    assert!(
        run.stderr.starts_with("error: no AWS credentials found"),
        "{run:?}"
    );
    assert_eq!(tree_state(env.dir.path()), before);

    // A profile that does not exist.
    fs::create_dir_all(&aws_dir).unwrap();
    fs::write(
        aws_dir.join("credentials"),
        "[default]\naws_access_key_id = AKIAX\naws_secret_access_key = x\n",
    )
    .unwrap();
    refused(
        &["login", HOST, "--profile", "nope"],
        &[
            "AWS profile \"nope\" does not exist in",
            "hint: create it with: aws configure --profile nope",
        ],
    );

    // A malformed credentials file: file and line.
    fs::write(
        aws_dir.join("credentials"),
        "[default]\naws_access_key_id = AKIAX\nthis is not a setting\n",
    )
    .unwrap();
    refused(
        &["login", HOST],
        &[&format!("{cred_path}:3: expected `key = value`")],
    );

    // Good keys, unreachable endpoint.
    fs::write(
        aws_dir.join("credentials"),
        "[default]\naws_access_key_id = AKIAX\naws_secret_access_key = x\n",
    )
    .unwrap();
    refused(
        &["login", HOST],
        &[
            &format!("cannot reach ecr at {endpoint}: "),
            "hint: check the network",
        ],
    );
    // --ecr with no region anywhere.
    refused(
        &["login", "ecr-proxy.internal", "--ecr"],
        &["no AWS region for ecr-proxy.internal", "--region"],
    );
}

#[test]
fn non_ecr_hosts_and_passwords_take_the_usual_login() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let env = sandbox(&endpoint, true);
    let state_dir = env.xdg_state.join("regctl");
    let nothing_written = |path: &Path| assert!(!path.exists(), "{} exists", path.display());

    // Not ECR, no --ecr, no password: the usual login, which needs a username.
    let run = env.run(&["login", "registry.example.com"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with("error: no username given"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("ecr") && !run.stderr.contains("AWS"));
    nothing_written(&state_dir);
    nothing_written(&env.client_config_path());

    // --profile or --region on a name that is not ECR's: the way to force it.
    let run = env.run(&["login", "registry.example.com", "--profile", "x"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("registry.example.com is not an Amazon ECR registry")
            && run.stderr.contains(
                "hint: for a VPC endpoint or proxy in front of ECR, force it: regctl login registry.example.com --ecr --region REGION"
            ),
        "{run:?}"
    );
    // --ecr and a password do not go together (usage error).
    let run = env.run(&["login", HOST, "--ecr", "-u", "AWS"]);
    assert_eq!(run.code, 2, "{run:?}");

    // An ECR name with a password (aws ecr get-login-password | ...): stored as given, with a
    // note that regctl can mint tokens instead.
    let run = login_stdin(
        &env,
        HOST,
        "AWS",
        "pasted-token\n",
        &["--no-verify", "--store", "file", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(doc["notes"][0]
        .as_str()
        .unwrap()
        .contains("regctl mints tokens from your AWS credentials"));
    assert_eq!(
        client_config(&env)["auths"][HOST]["auth"],
        b64("AWS:pasted-token")
    );
    nothing_written(&state_dir);
}

#[test]
fn hostile_expiry_times_from_the_ecr_api_are_errors_not_panics() {
    use crate::support::hostile::{response, Hostile};
    // Not AWS: a loopback server answering GetAuthorizationToken with an impossible expiresAt
    // (moto's is fixed; these are what a hostile endpoint or proxy could send).
    for expires in [
        "1e300",
        "1e19",
        "-1",
        "18446744073709551616",
        "99999999999999999999999999",
    ] {
        let body = format!(
            r#"{{"authorizationData":[{{"authorizationToken":"{}","expiresAt":{expires},"proxyEndpoint":"https://{HOST}"}}]}}"#,
            b64("AWS:hostile-password")
        );
        let server = Hostile::plain(move |_| {
            response(
                "200 OK",
                &[("Content-Type", "application/x-amz-json-1.1")],
                &body,
            )
        });
        let env = sandbox(&format!("http://{}", server.host), true);
        let state = write_config(&env, "{}\n");
        let run = env.run(&["login", HOST]);
        assert_eq!(run.code, 1, "{expires}: {run:?}");
        assert!(
            run.stderr.contains("expiresAt ")
                && run.stderr.contains(" is not a time (seconds since 1970"),
            "{expires}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(FileState::of(&env.client_config_path()), state);
        let got = helper(&env, "get", HOST);
        assert_eq!(got.code, 1, "{expires}: {got:?}");
        assert!(!got.stderr.contains("panicked"), "{}", got.stderr);
        assert!(!got.stdout.contains("hostile-password"), "{got:?}");
    }
}
