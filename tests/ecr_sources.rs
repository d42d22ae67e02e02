//! ECR logins from every AWS credential source the AWS CLI accepts beyond keys and profiles,
//! through the real binaries (`regctl login`, `docker-credential-regctl get`), each behind the
//! SigV4-verifying front (tests/support/aws.rs): web identity against moto's STS, the EC2
//! instance role against moto's instance-metadata answers (IMDSv2 enforced by the loopback
//! stand-in in tests/support/aws_machine.py), the container endpoint and IAM Identity Center
//! against that stand-in (their real counterparts run only on AWS: see aws_machine.py).

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::ecr_cli::{
    assert_get_serves_token, assert_no_secret, helper, json_run, sandbox, settings_file, HOST,
};
use crate::support::aws::{AwsStack, Behaviour, Machine, TestKey};
use crate::support::creds::{path_with_helper, write_config};
use crate::support::{tree_state, Run, TestEnv};

const ROLE: &str = "arn:aws:iam::123456789012:role/ci";
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.ci-token.sig";
const DUAL_STACK: &str = "123456789012.dkr-ecr.us-east-1.on.aws";

/// The keys moto's instance metadata hands out (moto/instance_metadata/responses.py).
const IMDS_KEY: TestKey = TestKey {
    id: "test-key",
    secret: "test-secret-key",
    session_token: Some("test-session-token"),
    behaviour: Behaviour::Allow,
};
const CONTAINER_KEY: TestKey = TestKey {
    id: "ASIACONTAINER000001",
    secret: "container-secret",
    session_token: Some("container-session"),
    behaviour: Behaviour::Allow,
};
const SSO_KEY: TestKey = TestKey {
    id: "ASIASSOROLE00000001",
    secret: "sso-role-secret",
    session_token: Some("sso-role-session"),
    behaviour: Behaviour::Allow,
};

/// A sandbox on `aws`, with the helper on PATH and a config.json.
fn env_on(aws: &AwsStack) -> TestEnv {
    let mut env = sandbox(&aws.endpoint, false);
    env.set_env("PATH", &path_with_helper());
    write_config(&env, "{}\n");
    env
}

/// `regctl login ARGS` succeeded; its JSON document.
fn logged_in(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = vec!["login"];
    all.extend(args);
    let (doc, code, _) = json_run(env, &all);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["ecr"]["token"], "fetched", "{doc}");
    doc
}

/// `regctl login HOST` failed with every one of `words` in stderr, exit 1, nothing written.
fn refused(env: &TestEnv, args: &[&str], words: &[&str]) -> Run {
    let before = tree_state(env.dir.path());
    let mut all = vec!["login"];
    all.extend(args);
    let run = env.run(&all);
    assert_no_secret(&run);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.starts_with("error: "), "{run:?}");
    for w in words {
        assert!(run.stderr.contains(w), "expected {w:?} in: {}", run.stderr);
    }
    assert_eq!(
        tree_state(env.dir.path()),
        before,
        "{args:?} wrote something"
    );
    run
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn in_an_hour() -> String {
    regctl::creds::ecr::rfc3339(SystemTime::now() + Duration::from_secs(3600))
}

#[test]
fn ecr_web_identity_from_env_and_profile_through_moto_sts() {
    let aws = AwsStack::start_with(&[], &[JWT]);
    let mut env = env_on(&aws);
    let token_file = env.home.join("web-identity-token");
    write(&token_file, &format!("{JWT}\n"));
    env.set_env(
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        &token_file.display().to_string(),
    );
    env.set_env("AWS_ROLE_ARN", ROLE);
    env.set_env("AWS_ROLE_SESSION_NAME", "ci-run");
    // Web identity comes before the default profile's keys, as in the AWS CLI.
    write(
        &env.home.join(".aws/credentials"),
        "[default]\naws_access_key_id = AKIAUNKNOWN00000000\naws_secret_access_key = x\n",
    );

    let doc = logged_in(&env, &[HOST]);
    assert_eq!(
        doc["ecr"]["credentials"],
        format!("web identity role {ROLE} (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)")
    );
    assert_eq!(aws.accepted("sts-web-identity"), 1);
    assert_eq!(aws.accepted("ecr"), 1);
    assert_get_serves_token(&env, HOST);
    // The dual-stack name of the same registry is ECR too: same account, region and identity,
    // so the same token.
    let (doc, code, _) = json_run(&env, &["login", DUAL_STACK]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        (&doc["ecr"]["account"], &doc["ecr"]["token"]),
        (&json!("123456789012"), &json!("cached"))
    );
    assert_get_serves_token(&env, DUAL_STACK);
    // A pull-through-cache repository's URL names the same registry.
    assert_get_serves_token(&env, &format!("https://{HOST}/docker-hub/library/nginx"));
    assert_eq!(aws.accepted("sts-web-identity"), 1);
    assert_eq!(aws.accepted("ecr"), 1, "get served from the cache");

    // The profile form: web_identity_token_file + role_arn (~ expanded).
    let env2 = env_on(&aws);
    write(&env2.home.join("jwt"), JWT);
    write(
        &env2.home.join(".aws/config"),
        &format!("[profile irsa]\nweb_identity_token_file = ~/jwt\nrole_arn = {ROLE}\n"),
    );
    let doc = logged_in(&env2, &[HOST, "--profile", "irsa"]);
    assert!(
        doc["ecr"]["credentials"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "web identity role {ROLE} (web_identity_token_file of profile \"irsa\""
            )),
        "{doc}"
    );
    assert_get_serves_token(&env2, HOST);
    assert_eq!(aws.accepted("sts-web-identity"), 2);

    // A missing token file: named, with where it was set and the fix.
    let mut env3 = env_on(&aws);
    let missing = env3.home.join("no-such-token");
    env3.set_env(
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        &missing.display().to_string(),
    );
    env3.set_env("AWS_ROLE_ARN", ROLE);
    refused(
        &env3,
        &[HOST],
        &[
            &format!(
                "error: cannot read the web identity token file {} (from AWS_WEB_IDENTITY_TOKEN_FILE): No such file",
                missing.display()
            ),
            "hint: point AWS_WEB_IDENTITY_TOKEN_FILE at the token file that exists",
        ],
    );
    let run = helper(&env3, "get", HOST);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("cannot read the web identity token file"),
        "{run:?}"
    );
    // A token STS does not accept: STS's own words.
    write(&missing, "not-the-token");
    refused(&env3, &[HOST], &["sts at", "InvalidIdentityToken"]);
    assert_eq!(aws.accepted("sts-web-identity"), 2);
}

#[test]
fn ecr_instance_role_from_moto_metadata_with_imdsv2() {
    let aws = AwsStack::start(&[IMDS_KEY]);
    let imds = Machine::start(json!({"upstream": aws.moto, "imds": {"token_put": "ok"}}));
    let mut env = env_on(&aws);
    env.set_env("AWS_EC2_METADATA_DISABLED", "false");
    env.set_env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.endpoint);

    let doc = logged_in(&env, &[HOST]);
    assert_eq!(
        doc["ecr"]["credentials"],
        format!(
            "the EC2 instance role (instance metadata at {})",
            imds.endpoint
        )
    );
    // A token first, then the role name and its keys, both with the token (the stand-in
    // refuses any GET without it).
    assert_eq!((imds.count("imds-token"), imds.count("imds-get")), (1, 2));
    assert_eq!(imds.count("imds-refused"), 0);
    assert_get_serves_token(&env, HOST);
    assert_eq!(imds.count("imds-get"), 2, "get served from the cache");

    // A forced name with no region anywhere: the instance's (moto says us-east-1).
    let doc = logged_in(&env, &["ecr-proxy.internal", "--ecr"]);
    assert_eq!(doc["ecr"]["region"], "us-east-1");
    assert_eq!(aws.accepted("ecr"), 2);

    // IMDSv2 switched off on the instance (the token PUT answers 403): IMDSv1, as botocore.
    let v1 = Machine::start(
        json!({"upstream": aws.moto, "imds": {"token_put": "forbidden", "v1_allowed": true}}),
    );
    let mut env_v1 = env_on(&aws);
    env_v1.set_env("AWS_EC2_METADATA_DISABLED", "false");
    env_v1.set_env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &v1.endpoint);
    logged_in(&env_v1, &[HOST]);
    assert_eq!(
        (v1.count("imds-token-forbidden"), v1.count("imds-get")),
        (1, 2)
    );
    // ... but not when IMDSv1 is off here.
    let mut env_v1_off = env_on(&aws);
    env_v1_off.set_env("AWS_EC2_METADATA_DISABLED", "false");
    env_v1_off.set_env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &v1.endpoint);
    env_v1_off.set_env("AWS_EC2_METADATA_V1_DISABLED", "true");
    refused(
        &env_v1_off,
        &[HOST],
        &["the IMDSv2 token request was refused, and IMDSv1 is off"],
    );
}

#[test]
fn ecr_imds_timeout_names_the_hop_limit_and_disabled_imds_is_skipped() {
    let aws = AwsStack::start(&[IMDS_KEY]);
    // The answer to the token PUT never comes, as one hop too far inside a container; the
    // instance requires IMDSv2, so the v1 fallback gets 401.
    let hung = Machine::start(json!({"upstream": aws.moto, "imds": {"token_put": "hang"}}));
    let mut env = env_on(&aws);
    env.set_env("AWS_EC2_METADATA_DISABLED", "false");
    env.set_env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &hung.endpoint);
    let started = Instant::now();
    let run = refused(
        &env,
        &[HOST],
        &[
            "error: no AWS credentials found; tried: environment variables",
            &format!("EC2 instance metadata at {}: the IMDSv2 token request (PUT /latest/api/token) got no answer within 1 s and IMDSv1 failed", hung.endpoint),
            "HTTP 401",
            "hint: inside a container on EC2, IMDSv2 needs a hop limit of 2: aws ec2 modify-instance-metadata-options",
        ],
    );
    // A bound on hanging, not a timing assertion: the 1 s timeouts, not the stand-in's 30 s.
    assert!(started.elapsed() < Duration::from_secs(15), "{run:?}");
    assert_eq!(hung.count("imds-token-hang"), 1);

    // AWS_EC2_METADATA_DISABLED=true (every other test's default): not asked, and said so.
    let off = env_on(&aws);
    refused(
        &off,
        &[HOST],
        &[
            "EC2 instance metadata (AWS_EC2_METADATA_DISABLED=true)",
            "hint: set AWS_ACCESS_KEY_ID",
        ],
    );
}

#[test]
fn ecr_container_credentials_with_the_pod_identity_token() {
    let aws = AwsStack::start(&[CONTAINER_KEY]);
    let machine = Machine::start(json!({"container": {
        "path": "/v1/credentials",
        "token": "pod-identity-token",
        "credentials": {
            "AccessKeyId": CONTAINER_KEY.id,
            "SecretAccessKey": CONTAINER_KEY.secret,
            "Token": CONTAINER_KEY.session_token,
            "Expiration": in_an_hour(),
        },
    }}));
    let mut env = env_on(&aws);
    let uri = format!("{}/v1/credentials", machine.endpoint);
    let token_file = env.home.join("eks-pod-identity-token");
    write(&token_file, "pod-identity-token");
    env.set_env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri);
    env.set_env(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        &token_file.display().to_string(),
    );
    // The token file wins over the variable, as in botocore.
    env.set_env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "stale-token");

    let doc = logged_in(&env, &[HOST]);
    assert_eq!(
        doc["ecr"]["credentials"],
        format!("the container credentials endpoint {uri}")
    );
    assert_eq!(machine.count("container"), 1);
    assert_get_serves_token(&env, HOST);
    assert_eq!(machine.count("container"), 1, "get served from the cache");

    // credential_source = EcsContainer: the container's keys sign an STS AssumeRole.
    let mut chained = env_on(&aws);
    chained.set_env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri);
    chained.set_env(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        &token_file.display().to_string(),
    );
    write(
        &chained.home.join(".aws/config"),
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\ncredential_source = EcsContainer\n",
    );
    let doc = logged_in(&chained, &[HOST, "--profile", "deploy"]);
    assert_eq!(
        doc["ecr"]["credentials"],
        "role arn:aws:iam::123456789012:role/deploy (profile \"deploy\")"
    );
    assert_eq!((machine.count("container"), aws.accepted("sts")), (2, 1));

    // The endpoint refuses the token (a rotated or foreign one): named, with the fix.
    let mut bad = env_on(&aws);
    let bad_file = bad.home.join("token");
    write(&bad_file, "someone-elses-token");
    bad.set_env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri);
    bad.set_env(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        &bad_file.display().to_string(),
    );
    refused(
        &bad,
        &[HOST],
        &[
            &format!("error: the container credentials endpoint {uri} (from AWS_CONTAINER_CREDENTIALS_FULL_URI) gave no credentials: HTTP 401 (sent the token in {} (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)): the pod identity token is invalid or expired", bad_file.display()),
            "hint: the pod or task must send the token its agent gave it",
        ],
    );
    assert_eq!(machine.count("container-refused"), 1);
    // A full URI off loopback over plain http is refused before anything is sent.
    let mut far = env_on(&aws);
    far.set_env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://10.1.2.3/creds",
    );
    refused(
        &far,
        &[HOST],
        &[
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is \"http://10.1.2.3/creds\"",
            "hint: use https",
        ],
    );
}

/// `python3 -c 'import hashlib; print(hashlib.sha1(b"corp").hexdigest())'`: the AWS CLI's
/// cache file for sso_session "corp".
const CORP_CACHE: &str = "ee0bfd2552fbd840c02cc48b6e823320543c450f.json";
const START_URL: &str = "https://d-1234567890.awsapps.com/start";
/// The same for a legacy profile: the SHA-1 of its start URL.
const LEGACY_CACHE: &str = "7487b5b67d5fa1132cf33fa93ae51ef38cc37752.json";

fn sso_config(env: &TestEnv) {
    write(
        &env.home.join(".aws/config"),
        &format!(
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n\n\
             [sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n\n\
             [profile old]\nsso_start_url = {START_URL}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Developer\n"
        ),
    );
}

#[test]
fn ecr_sso_session_token_refresh_and_expiry() {
    let aws = AwsStack::start(&[SSO_KEY]);
    let machine = Machine::start(json!({"sso": {
        "access_tokens": ["sso-access-1"],
        "account_id": "123456789012",
        "role_name": "Developer",
        "refresh": {
            "client_id": "client-1", "client_secret": "client-secret-1",
            "refresh_token": "refresh-1", "new_access_token": "sso-access-2",
        },
        "credentials": {
            "accessKeyId": SSO_KEY.id, "secretAccessKey": SSO_KEY.secret,
            "sessionToken": SSO_KEY.session_token,
        },
    }}));
    let sso_env = |env: &mut TestEnv| {
        env.set_env("AWS_ENDPOINT_URL_SSO", &machine.endpoint);
        env.set_env("AWS_ENDPOINT_URL_SSO_OIDC", &machine.endpoint);
        sso_config(env);
    };
    let now = SystemTime::now();
    let cache_doc = |expires_in: i64| {
        let at = if expires_in >= 0 {
            now + Duration::from_secs(expires_in as u64)
        } else {
            now - Duration::from_secs((-expires_in) as u64)
        };
        json!({
            "startUrl": START_URL, "region": "us-east-1", "accessToken": "sso-access-1",
            "expiresAt": regctl::creds::ecr::rfc3339(at),
            "clientId": "client-1", "clientSecret": "client-secret-1",
            "registrationExpiresAt": regctl::creds::ecr::rfc3339(now + Duration::from_secs(86400 * 30)),
            "refreshToken": "refresh-1", "scopes": ["sso:account:access"],
        })
    };

    // A token an hour from its end: used as it is.
    let mut env = env_on(&aws);
    sso_env(&mut env);
    let cache_file = env.home.join(".aws/sso/cache").join(CORP_CACHE);
    write(&cache_file, &cache_doc(3600).to_string());
    let doc = logged_in(&env, &[HOST, "--profile", "dev"]);
    assert_eq!(
        doc["ecr"]["credentials"],
        "AWS IAM Identity Center role Developer in account 123456789012 (profile \"dev\")"
    );
    assert_eq!((machine.count("sso"), machine.count("sso-oidc")), (1, 0));
    assert_get_serves_token(&env, HOST);
    assert_eq!(machine.count("sso"), 1, "get served from the cache");
    assert!(settings_file(&env, HOST).exists());

    // Ten minutes left: refreshed with the refresh token first, and the cache file updated
    // in place (keys regctl does not know are kept).
    let mut env = env_on(&aws);
    sso_env(&mut env);
    let cache_file = env.home.join(".aws/sso/cache").join(CORP_CACHE);
    write(&cache_file, &cache_doc(600).to_string());
    // --check refreshes in memory only: nothing written, the AWS CLI's cache included.
    let before = tree_state(env.dir.path());
    let (doc, code, _) = json_run(&env, &["login", HOST, "--profile", "dev", "--check"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(tree_state(env.dir.path()), before);
    assert_eq!(machine.count("sso-oidc"), 1);
    logged_in(&env, &[HOST, "--profile", "dev"]);
    assert_eq!((machine.count("sso-oidc"), machine.count("sso")), (2, 3));
    let cached: Value = serde_json::from_slice(&fs::read(&cache_file).unwrap()).unwrap();
    assert_eq!(cached["accessToken"], "sso-access-2");
    assert_eq!(cached["refreshToken"], "refresh-1-next");
    assert_eq!(cached["scopes"], json!(["sso:account:access"]));
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&cache_file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    // The legacy form cannot refresh: an expired token says to log in again.
    let mut env = env_on(&aws);
    sso_env(&mut env);
    let legacy = env.home.join(".aws/sso/cache").join(LEGACY_CACHE);
    write(&legacy, &cache_doc(-60).to_string());
    refused(
        &env,
        &[HOST, "--profile", "old"],
        &[
            "error: the AWS IAM Identity Center (SSO) session of profile \"old\" expired at",
            "a legacy sso_start_url profile cannot refresh it",
            "hint: run: aws sso login --profile old",
        ],
    );
    let run = helper(&env, "get", HOST);
    assert_eq!(run.code, 1);
    // Never logged in on this machine: no cache file.
    fs::remove_file(&legacy).unwrap();
    refused(
        &env,
        &[HOST, "--profile", "old"],
        &[
            "session of profile \"old\" cannot be used: no cached token",
            "hint: run: aws sso login --profile old",
        ],
    );
    // An sso_session whose refresh token the OIDC service refuses, token expired: nothing
    // written, the OIDC answer named.
    let mut env = env_on(&aws);
    sso_env(&mut env);
    let cache_file = env.home.join(".aws/sso/cache").join(CORP_CACHE);
    let mut doc = cache_doc(-60);
    doc["refreshToken"] = json!("revoked");
    write(&cache_file, &doc.to_string());
    refused(
        &env,
        &[HOST, "--profile", "dev"],
        &[
            "refreshing it failed: sso-oidc at",
            "InvalidGrantException",
            "hint: run: aws sso login --profile dev",
        ],
    );
}

#[test]
fn ecr_login_as_creds_store_is_flagged_with_the_fix() {
    let env = TestEnv::new();
    let config = format!("{{\"credsStore\": \"ecr-login\", \"auths\": {{\"{HOST}\": {{}}}}}}\n");
    write_config(&env, &config);
    let problem = format!(
        "{} has \"credsStore\": \"ecr-login\": docker sends the logins of every registry to amazon-ecr-credential-helper, which only knows ECR",
        env.client_config_path().display()
    );
    let fix = format!(
        "route only ECR hosts to a helper with credHelpers, which this writes: regctl login {HOST}"
    );

    // A registry that is not ECR: its logins would go to ecr-login, so doctor fails it.
    let other = format!("127.0.0.1:{}", crate::support::registry::free_port());
    let (doc, code) = env.json(&["doctor", &other, "--timeout", "2"]);
    assert_eq!(code, 1, "{doc}");
    let check = doc["registries"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "config.creds_store_ecr_login")
        .unwrap_or_else(|| panic!("no ecr-login check: {doc}"))
        .clone();
    assert_eq!(check["status"], "fail", "{check}");
    assert!(
        check["message"].as_str().unwrap().starts_with(&problem),
        "{check}"
    );
    assert!(check["fix"].as_str().unwrap().ends_with(&fix), "{check}");

    // creds list says the same, and lists what it can.
    let run = env.run(&["creds", "list"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&format!("warning: {problem}")),
        "{run:?}"
    );
    assert!(run.stderr.contains(&fix), "{run:?}");
    assert_eq!(
        fs::read_to_string(env.client_config_path()).unwrap(),
        config
    );
}
