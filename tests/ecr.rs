//! ECR token logins against moto_server behind a SigV4-verifying front (tests/support/aws.rs),
//! through the library: the CLI wiring (`login`, `docker-credential-regctl get`) comes with the
//! credentials store. Every AWS input is injected through `AwsEnv` and a temp HOME.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use regctl::creds::ecr::{
    self, AwsEnv, AwsOptions, CacheKey, EcrDirs, EcrError, EcrHost, HostSettings, TokenOrigin,
};

use crate::support::aws::{AwsStack, Behaviour, TestKey};
use crate::support::mode;

const ACCOUNT: &str = "123456789012";
const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
/// What moto mints for account 123456789012.
const MOTO_PASSWORD: &str = "123456789012-auth-token";

const GOOD: TestKey = TestKey::allow("AKIAGOODKEY0000001", "good-secret");

/// A temp HOME plus regctl's cache and state directories.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("regctl-ecr-")
            .tempdir()
            .unwrap();
        fs::create_dir_all(dir.path().join("home/.aws")).unwrap();
        Sandbox { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn dirs(&self) -> EcrDirs {
        EcrDirs {
            cache_dir: self.dir.path().join("cache/regctl"),
            state_dir: self.dir.path().join("state/regctl"),
        }
    }

    /// Writes `~/.aws/<name>`.
    fn aws_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.home().join(".aws").join(name);
        fs::write(&path, text).unwrap();
        path
    }

    /// An AwsEnv as the process environment would give it: HOME and these variables only.
    fn env(&self, vars: &[(&str, &str)]) -> AwsEnv {
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("HOME".into(), self.home().display().to_string());
        // Never the real instance metadata address.
        map.entry("AWS_EC2_METADATA_DISABLED".into())
            .or_insert_with(|| "true".into());
        AwsEnv::from_lookup(|k| map.get(k).cloned())
    }
}

fn env_keys<'a>(key: &TestKey, endpoint: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", key.id),
        ("AWS_SECRET_ACCESS_KEY", key.secret),
        ("AWS_ENDPOINT_URL", endpoint),
    ]
}

fn login(
    sandbox: &Sandbox,
    env: &AwsEnv,
    server: &str,
    settings: &HostSettings,
) -> Result<ecr::Login, EcrError> {
    ecr::login(
        server,
        settings,
        env,
        &sandbox.dirs(),
        SystemTime::now(),
        false,
    )
}

#[test]
fn ecr_host_parsing_table() {
    // (name, account, region, fips, API endpoint)
    let good = [
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            Some(ACCOUNT),
            "us-east-1",
            false,
            "https://api.ecr.us-east-1.amazonaws.com",
        ),
        (
            "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/",
            Some(ACCOUNT),
            "eu-west-1",
            false,
            "https://api.ecr.eu-west-1.amazonaws.com",
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            Some(ACCOUNT),
            "cn-north-1",
            false,
            "https://api.ecr.cn-north-1.amazonaws.com.cn",
        ),
        (
            "123456789012.dkr-ecr-fips.us-east-1.amazonaws.com",
            Some(ACCOUNT),
            "us-east-1",
            true,
            "https://ecr-fips.us-east-1.amazonaws.com",
        ),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            Some(ACCOUNT),
            "us-gov-west-1",
            true,
            "https://ecr-fips.us-gov-west-1.amazonaws.com",
        ),
        (
            "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com",
            Some(ACCOUNT),
            "us-gov-west-1",
            false,
            "https://api.ecr.us-gov-west-1.amazonaws.com",
        ),
        (
            "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
            Some(ACCOUNT),
            "us-iso-east-1",
            false,
            "https://api.ecr.us-iso-east-1.c2s.ic.gov",
        ),
        (
            "123456789012.dkr.ecr-fips.us-iso-east-1.c2s.ic.gov",
            Some(ACCOUNT),
            "us-iso-east-1",
            true,
            "https://api.ecr-fips.us-iso-east-1.c2s.ic.gov",
        ),
        (
            "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
            Some(ACCOUNT),
            "us-isob-east-1",
            false,
            "https://api.ecr.us-isob-east-1.sc2s.sgov.gov",
        ),
        (
            "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
            Some(ACCOUNT),
            "eu-isoe-west-1",
            false,
            "https://api.ecr.eu-isoe-west-1.cloud.adc-e.uk",
        ),
        (
            "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
            Some(ACCOUNT),
            "us-isof-south-1",
            false,
            "https://api.ecr.us-isof-south-1.csp.hci.ic.gov",
        ),
        (
            "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
            Some(ACCOUNT),
            "eusc-de-east-1",
            false,
            "https://api.ecr.eusc-de-east-1.amazonaws.eu",
        ),
        (
            "123456789012.dkr-ecr.us-east-1.on.aws",
            Some(ACCOUNT),
            "us-east-1",
            false,
            "https://api.ecr.us-east-1.amazonaws.com",
        ),
        (
            "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
            Some(ACCOUNT),
            "cn-north-1",
            false,
            "https://api.ecr.cn-north-1.amazonaws.com.cn",
        ),
        (
            "public.ecr.aws",
            None,
            "us-east-1",
            false,
            "https://api.ecr-public.us-east-1.amazonaws.com",
        ),
    ];
    for (name, account, region, fips, endpoint) in good {
        let h = EcrHost::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(h.account.as_deref(), account, "{name}");
        assert_eq!(h.region.as_deref(), Some(region), "{name}");
        assert_eq!(h.fips, fips, "{name}");
        assert_eq!(h.public, name == "public.ecr.aws", "{name}");
        assert_eq!(h.default_endpoint(region), endpoint, "{name}");
    }
    let public = EcrHost::parse("public.ecr.aws").unwrap();
    assert_eq!(public.service().signing_name(), "ecr-public");
    assert_eq!(
        public.service().target(),
        "SpencerFrontendService.GetAuthorizationToken"
    );

    for bad in [
        "docker.io",
        "registry.example.com",
        "12345678901.dkr.ecr.us-east-1.amazonaws.com", // 11 digits
        "1234567890123.dkr.ecr.us-east-1.amazonaws.com", // 13 digits
        "12345678901a.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.org",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
        "evil.123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr..amazonaws.com",
        "123456789012.dkr.ecr.-us-east-1.amazonaws.com",
        "123456789012.dkr_ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr-gov.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us.east.1.amazonaws.com",
        "ecr.aws",
        "public.ecr.aws.example",
        "",
    ] {
        match EcrHost::parse(bad) {
            Err(EcrError::NotEcrHost { .. }) => {}
            other => panic!("{bad:?} must not be ECR: {other:?}"),
        }
    }
}

#[test]
fn ecr_login_with_env_credentials() {
    let session = TestKey {
        id: "ASIASESSIONKEY0001",
        secret: "session-secret",
        session_token: Some("the-session-token"),
        behaviour: Behaviour::Allow,
    };
    let aws = AwsStack::start(&[GOOD, session.clone()]);
    let sandbox = Sandbox::new();
    let env = sandbox.env(&env_keys(&GOOD, &aws.endpoint));

    let done = login(&sandbox, &env, HOST, &HostSettings::default()).unwrap();
    let token = &done.outcome.token;
    assert_eq!(done.outcome.origin, TokenOrigin::Fetched);
    assert_eq!(
        (token.username.as_str(), token.password.as_str()),
        ("AWS", MOTO_PASSWORD)
    );
    assert!(token.expires_at > SystemTime::now() + Duration::from_secs(11 * 3600));
    assert_eq!(
        token.proxy_endpoint.as_deref(),
        Some("https://123456789012.dkr.ecr.us-east-1.amazonaws.com")
    );
    assert_eq!(done.resolved.source.describe(), "environment variables");
    assert!(done.settings_changed);

    // The cache file: 0600 in a 0700 directory, no key material in it.
    let cache_file = sandbox.dirs().tokens().path(&CacheKey::of(&done.resolved));
    assert_eq!(mode(&cache_file), 0o600);
    assert_eq!(mode(cache_file.parent().unwrap()), 0o700);
    let text = fs::read_to_string(&cache_file).unwrap();
    assert!(
        !text.contains(GOOD.id) && !text.contains(GOOD.secret),
        "{text}"
    );

    // docker-credential-regctl get: served from the cache, AWS not asked again.
    let got = ecr::helper_get(HOST, &env, &sandbox.dirs(), SystemTime::now())
        .unwrap()
        .unwrap();
    assert_eq!(got.origin, TokenOrigin::Cached);
    assert_eq!(got.token.password, MOTO_PASSWORD);
    assert_eq!(aws.accepted("ecr"), 1);

    // A second identical login changes no stored setting.
    let again = login(&sandbox, &env, HOST, &HostSettings::default()).unwrap();
    assert!(!again.settings_changed);
    assert_eq!(again.outcome.origin, TokenOrigin::Cached);

    // Temporary credentials: the session token is sent and signed.
    let sandbox = Sandbox::new();
    let mut vars = env_keys(&session, &aws.endpoint);
    vars.push(("AWS_SESSION_TOKEN", "the-session-token"));
    let done = login(
        &sandbox,
        &sandbox.env(&vars),
        HOST,
        &HostSettings::default(),
    )
    .unwrap();
    assert_eq!(done.outcome.token.password, MOTO_PASSWORD);
    assert_eq!(aws.accepted("ecr"), 2);

    // A non-ECR name is not served by the ECR code (another store answers).
    assert!(ecr::helper_get(
        "registry.example.com",
        &env,
        &sandbox.dirs(),
        SystemTime::now()
    )
    .unwrap()
    .is_none());
}

#[test]
fn ecr_login_with_profiles_and_credential_process() {
    let aws = AwsStack::start(&[GOOD, TestKey::allow("AKIAPROCESSKEY0001", "process-secret")]);
    let sandbox = Sandbox::new();
    // Files named by AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, profile from --profile,
    // region and endpoint from the profile.
    let creds = sandbox.dir.path().join("elsewhere-credentials");
    let config = sandbox.dir.path().join("elsewhere-config");
    fs::write(
        &creds,
        format!(
            "[prod]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            GOOD.id, GOOD.secret
        ),
    )
    .unwrap();
    fs::write(
        &config,
        format!(
            "[profile prod]\nregion = eu-west-1\nendpoint_url = {}\n",
            aws.endpoint
        ),
    )
    .unwrap();
    // The default ~/.aws files would fail: they must not be read.
    sandbox.aws_file("credentials", "garbage without a section\n");
    let env = sandbox.env(&[
        ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
    ]);
    let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    let settings = HostSettings {
        profile: Some("prod".into()),
        ..Default::default()
    };
    let done = login(&sandbox, &env, host, &settings).unwrap();
    assert_eq!(done.outcome.token.password, MOTO_PASSWORD);
    assert_eq!(done.resolved.region, "eu-west-1");
    assert_eq!(done.resolved.endpoint, aws.endpoint);
    assert!(done.resolved.source.describe().contains("profile \"prod\""));

    // The helper gets no flags: the login's profile is remembered. With the cache gone it
    // must mint with the prod keys again.
    fs::remove_dir_all(&sandbox.dirs().cache_dir).unwrap();
    let got = ecr::helper_get(host, &env, &sandbox.dirs(), SystemTime::now())
        .unwrap()
        .unwrap();
    assert_eq!(got.origin, TokenOrigin::Fetched);
    assert_eq!(aws.accepted("ecr"), 2);
    let listed = ecr::list(&env, &sandbox.dirs()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].host, host);
    assert_eq!(
        listed[0].expires_at,
        Some(got.token.expires_at).map(|t| {
            // The cache keeps whole seconds.
            SystemTime::UNIX_EPOCH
                + Duration::from_secs(t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs())
        })
    );

    // credential_process in the default ~/.aws/config, with an Expiration; AWS_PROFILE picks it.
    let sandbox = Sandbox::new();
    let script = sandbox.dir.path().join("creds.sh");
    fs::write(
        &script,
        "#!/bin/sh\nprintf '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESSKEY0001\", \"SecretAccessKey\": \"process-secret\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n",
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    sandbox.aws_file(
        "config",
        &format!(
            "[profile tools]\ncredential_process = {} --some-arg\nregion = us-east-1\n",
            script.display()
        ),
    );
    let env = sandbox.env(&[
        ("AWS_PROFILE", "tools"),
        ("AWS_ENDPOINT_URL_ECR", &aws.endpoint),
    ]);
    let done = login(&sandbox, &env, HOST, &HostSettings::default()).unwrap();
    assert_eq!(done.outcome.token.password, MOTO_PASSWORD);
    assert!(done
        .resolved
        .source
        .describe()
        .contains("credential_process"));

    // A failing process: its exit status and stderr are the message.
    fs::write(
        &script,
        "#!/bin/sh\necho 'session expired, run aws sso login' >&2\nexit 3\n",
    )
    .unwrap();
    fs::remove_dir_all(&sandbox.dirs().cache_dir).unwrap();
    let err = login(&sandbox, &env, HOST, &HostSettings::default()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, EcrError::CredentialProcess { .. }), "{err:?}");
    assert!(
        text.contains("exited with status 3: session expired, run aws sso login"),
        "{text}"
    );
}

#[test]
fn ecr_assume_role_through_source_profile() {
    let aws = AwsStack::start(&[GOOD]);
    let sandbox = Sandbox::new();
    sandbox.aws_file(
        "credentials",
        &format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            GOOD.id, GOOD.secret
        ),
    );
    sandbox.aws_file(
        "config",
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\nregion = us-east-1\n",
    );
    let env = sandbox.env(&[("AWS_ENDPOINT_URL", &aws.endpoint)]);
    let settings = HostSettings {
        profile: Some("deploy".into()),
        ..Default::default()
    };
    let done = login(&sandbox, &env, HOST, &settings).unwrap();
    assert_eq!(done.outcome.token.password, MOTO_PASSWORD);
    // STS was called with the base keys, ECR with the role's (the front only knows those
    // through the AssumeRole answer it passed on).
    assert_eq!((aws.accepted("sts"), aws.accepted("ecr")), (1, 1));
    // The cache is keyed by the role, not by the temporary key: no STS call when cached.
    ecr::helper_get(HOST, &env, &sandbox.dirs(), SystemTime::now()).unwrap();
    assert_eq!(aws.accepted("sts"), 1);

    // A loop of source profiles is named.
    sandbox.aws_file(
        "config",
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n",
    );
    let settings = HostSettings {
        profile: Some("a".into()),
        ..Default::default()
    };
    let err = login(&sandbox, &env, HOST, &settings).unwrap_err();
    assert_eq!(
        err.to_string(),
        "AWS profiles refer to each other in a loop: a -> b -> a"
    );
}

#[test]
fn ecr_signature_is_checked_and_aws_errors_are_mapped() {
    let key = |id, behaviour| TestKey {
        id,
        secret: "s3cret",
        session_token: None,
        behaviour,
    };
    let aws = AwsStack::start(&[
        GOOD,
        key("AKIADENIEDKEY00001", Behaviour::Deny),
        key("AKIAEXPIREDKEY0001", Behaviour::Expired),
        key("AKIAGARBAGEKEY0001", Behaviour::GarbageToken),
    ]);
    let sandbox = Sandbox::new();
    let attempt = |id: &'static str, secret: &'static str| {
        let env = sandbox.env(&env_keys(&TestKey::allow(id, secret), &aws.endpoint));
        ecr::fetch_token(
            &ecr::resolve(&EcrHost::parse(HOST).unwrap(), &AwsOptions::default(), &env).unwrap(),
            SystemTime::now(),
        )
    };

    // The right secret passes; a wrong one is refused by the recomputed signature.
    assert_eq!(
        attempt(GOOD.id, GOOD.secret).unwrap().password,
        MOTO_PASSWORD
    );
    for (id, secret, code, message) in [
        (
            GOOD.id,
            "wrong-secret",
            "InvalidSignatureException",
            "The request signature we calculated does not match",
        ),
        (
            "AKIAUNKNOWNKEY0001",
            "x",
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        (
            "AKIADENIEDKEY00001",
            "s3cret",
            "AccessDeniedException",
            "is not authorized to perform: ecr:GetAuthorizationToken",
        ),
        (
            "AKIAEXPIREDKEY0001",
            "s3cret",
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ),
    ] {
        let err = attempt(id, secret).unwrap_err();
        match &err {
            EcrError::Aws {
                code: c,
                message: m,
                endpoint,
                service,
                ..
            } => {
                assert_eq!(c, code);
                assert!(m.contains(message), "{m}");
                assert_eq!(endpoint, &aws.endpoint);
                assert_eq!(*service, "ecr");
            }
            other => panic!("{id}: {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains(code) && text.contains(&aws.endpoint),
            "{text}"
        );
        assert!(err.hint().is_some(), "{code} needs a hint");
    }

    // A 200 answer whose token is not base64("user:password").
    let err = attempt("AKIAGARBAGEKEY0001", "s3cret").unwrap_err();
    assert!(matches!(err, EcrError::BadToken { .. }), "{err:?}");
    assert!(
        err.to_string().contains("does not decode: not base64"),
        "{err}"
    );
    // Only the good requests got through.
    assert_eq!(aws.accepted("ecr"), 2);
}

#[test]
fn ecr_public_and_forced_custom_names() {
    let aws = AwsStack::start(&[GOOD]);
    let sandbox = Sandbox::new();
    // ECR Public: ecr-public signing name, SpencerFrontendService target, body {} (checked by
    // the front), with the service-specific endpoint variable.
    let env = sandbox.env(&[
        ("AWS_ACCESS_KEY_ID", GOOD.id),
        ("AWS_SECRET_ACCESS_KEY", GOOD.secret),
        ("AWS_ENDPOINT_URL_ECR_PUBLIC", &aws.endpoint),
    ]);
    let done = login(&sandbox, &env, "public.ecr.aws", &HostSettings::default()).unwrap();
    assert_eq!(done.resolved.region, "us-east-1");
    let t = &done.outcome.token;
    assert_eq!(
        (t.username.as_str(), t.password.as_str()),
        ("AWS", format!("ecr-public-token-for-{}", GOOD.id).as_str())
    );
    assert_eq!(aws.accepted("ecr-public"), 1);

    // --ecr for a VPC endpoint name: the region from --region, no registryIds.
    let vpce = "vpce-0abc123-xyz.dkr.ecr.us-west-2.vpce.amazonaws.com";
    let env = sandbox.env(&env_keys(&GOOD, &aws.endpoint));
    let err = login(&sandbox, &env, vpce, &HostSettings::default()).unwrap_err();
    assert!(matches!(err, EcrError::NotEcrHost { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("--ecr --region"));
    let forced = HostSettings {
        region: Some("us-west-2".into()),
        forced: true,
        ..Default::default()
    };
    let done = login(&sandbox, &env, vpce, &forced).unwrap();
    assert_eq!(done.resolved.region, "us-west-2");
    assert_eq!(done.outcome.token.username, "AWS");
    // The helper knows it as ECR from the stored login.
    let got = ecr::helper_get(vpce, &env, &sandbox.dirs(), SystemTime::now())
        .unwrap()
        .unwrap();
    assert_eq!(got.origin, TokenOrigin::Cached);

    // Forced without any region anywhere: every place looked at is named.
    let none = HostSettings {
        forced: true,
        ..Default::default()
    };
    let err = login(&sandbox, &env, "ecr-proxy.internal", &none).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, EcrError::NoRegion { .. }), "{err:?}");
    for place in [
        "--region",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "region of profile \"default\"",
    ] {
        assert!(text.contains(place), "{text}");
    }

    // Logout forgets the stored choices and the cached token.
    assert!(ecr::logout(vpce, &env, &sandbox.dirs()).unwrap());
    assert!(!ecr::logout(vpce, &env, &sandbox.dirs()).unwrap());
    assert!(
        ecr::helper_get(vpce, &env, &sandbox.dirs(), SystemTime::now())
            .unwrap()
            .is_none()
    );
}

#[test]
fn ecr_cache_expiry_with_injected_time() {
    let mut aws = AwsStack::start(&[GOOD]);
    let sandbox = Sandbox::new();
    let env = sandbox.env(&env_keys(&GOOD, &aws.endpoint));
    let resolved =
        ecr::resolve(&EcrHost::parse(HOST).unwrap(), &AwsOptions::default(), &env).unwrap();
    let cache = sandbox.dirs().tokens();
    let now = SystemTime::now();

    let first = ecr::get_token(&resolved, &cache, now).unwrap();
    assert_eq!(first.origin, TokenOrigin::Fetched);
    let expires = cache.load(&CacheKey::of(&resolved)).unwrap().expires_at;

    // Fresh: from the cache, AWS not asked.
    let fresh = ecr::get_token(&resolved, &cache, now + Duration::from_secs(3600)).unwrap();
    assert_eq!(fresh.origin, TokenOrigin::Cached);
    assert_eq!(aws.accepted("ecr"), 1);

    // Within 15 minutes of the end: a new token from AWS.
    let near = expires - Duration::from_secs(10 * 60);
    let refreshed = ecr::get_token(&resolved, &cache, near).unwrap();
    assert_eq!(refreshed.origin, TokenOrigin::Fetched);
    assert_eq!(aws.accepted("ecr"), 2);

    // The endpoint goes down.
    aws.stop_front();
    let expires = cache.load(&CacheKey::of(&resolved)).unwrap().expires_at;
    // Near the end but not expired: the cached token, and the failure as a warning.
    let fallback = ecr::get_token(&resolved, &cache, expires - Duration::from_secs(60)).unwrap();
    assert_eq!(fallback.origin, TokenOrigin::CachedAfterRefreshFailed);
    assert!(matches!(
        fallback.warnings[..],
        [EcrError::Unreachable { .. }]
    ));
    // Expired: the real error, never the expired token.
    let err = ecr::get_token(&resolved, &cache, expires + Duration::from_secs(1)).unwrap_err();
    match &err {
        EcrError::Unreachable { endpoint, .. } => assert_eq!(endpoint, &aws.endpoint),
        other => panic!("{other:?}"),
    }
    assert!(err
        .to_string()
        .starts_with(&format!("cannot reach ecr at {}", aws.endpoint)));
    assert!(err.hint().is_some());
}

#[test]
fn ecr_bad_aws_configuration_says_what_failed() {
    let sandbox = Sandbox::new();
    let host = EcrHost::parse(HOST).unwrap();
    let resolve = |env: &AwsEnv, profile: Option<&str>| {
        let opts = AwsOptions {
            profile: profile.map(str::to_string),
            region: None,
        };
        ecr::resolve(&host, &opts, env)
    };
    let home_aws = sandbox.home().join(".aws");

    // No credentials anywhere: every source tried is listed.
    let err = resolve(&sandbox.env(&[]), None).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, EcrError::NoCredentials { .. }), "{err:?}");
    for needle in [
        "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set)".to_string(),
        format!(
            "profile \"default\" in {} (file does not exist)",
            home_aws.join("credentials").display()
        ),
        format!(
            "profile \"default\" in {} (file does not exist)",
            home_aws.join("config").display()
        ),
    ] {
        assert!(text.contains(&needle), "{text}");
    }
    assert!(err.hint().unwrap().contains("aws configure"));

    // Half of the environment pair.
    let err = resolve(&sandbox.env(&[("AWS_ACCESS_KEY_ID", "AKIA")]), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
    );

    // A profile that does not exist, by flag and by AWS_PROFILE.
    sandbox.aws_file(
        "credentials",
        "[default]\naws_access_key_id = A\naws_secret_access_key = B\n",
    );
    for (env, profile) in [
        (sandbox.env(&[]), Some("nope")),
        (sandbox.env(&[("AWS_PROFILE", "nope")]), None),
    ] {
        let err = resolve(&env, profile).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("AWS profile \"nope\" does not exist in"),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("aws configure --profile nope"));
    }

    // Malformed credentials file: file and line named.
    let path = sandbox.aws_file(
        "credentials",
        "[default]\naws_access_key_id = A\nthis is not a setting\n",
    );
    let err = resolve(&sandbox.env(&[]), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: expected `key = value`, found \"this is not a setting\"",
            path.display()
        )
    );

    // A key without its secret.
    sandbox.aws_file("credentials", "[default]\n\naws_access_key_id = A\n");
    let err = resolve(&sandbox.env(&[]), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "AWS profile \"default\" ({}:3) has aws_access_key_id but no aws_secret_access_key",
            path.display()
        )
    );

    // A profile with nothing that gives credentials.
    sandbox.aws_file("credentials", "");
    sandbox.aws_file("config", "[default]\nregion = us-east-1\n");
    let err = resolve(&sandbox.env(&[]), None).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "profile \"default\" in {} (no credentials in it)",
            home_aws.join("config").display()
        )),
        "{err}"
    );

    // SSO profiles whose configuration is incomplete: file, line and what is missing.
    let config = sandbox.aws_file(
        "config",
        "[profile sso]\nsso_session = corp\nsso_account_id = 1\n",
    );
    let err = resolve(&sandbox.env(&[]), Some("sso")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2: profile \"sso\" names sso_session \"corp\", but there is no [sso-session corp] section",
            config.display()
        )
    );
    sandbox.aws_file(
        "config",
        "[profile sso]\nsso_session = corp\nsso_account_id = 1\n[sso-session corp]\nsso_start_url = https://x/start\nsso_region = eu-west-1\n",
    );
    let err = resolve(&sandbox.env(&[]), Some("sso")).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("profile \"sso\" uses IAM Identity Center but has no sso_role_name"),
        "{err}"
    );
    // A web identity token file with no role to assume.
    let err = resolve(
        &sandbox.env(&[("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")]),
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AWS_WEB_IDENTITY_TOKEN_FILE names a web identity token file but no role to assume (AWS_ROLE_ARN or role_arn)"
    );
    assert!(err.hint().unwrap().contains("set AWS_ROLE_ARN"));

    // A non-ECR name.
    let err = EcrHost::parse("ghcr.io").unwrap_err();
    assert!(err
        .to_string()
        .starts_with("ghcr.io is not an Amazon ECR registry"));
}

#[test]
fn ecr_unreachable_and_insecure_endpoints_are_named() {
    let sandbox = Sandbox::new();
    let host = EcrHost::parse(HOST).unwrap();
    let resolve = |env: &AwsEnv| ecr::resolve(&host, &AwsOptions::default(), env);

    // An endpoint nobody listens on: named, with the reason.
    let port = crate::support::registry::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let env = sandbox.env(&[
        ("AWS_ACCESS_KEY_ID", "AKIA"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_ENDPOINT_URL_ECR", &endpoint),
    ]);
    let err = ecr::fetch_token(&resolve(&env).unwrap(), SystemTime::now()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot reach ecr at {endpoint}: ")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");

    // Plain http to a non-loopback endpoint is refused before anything is sent.
    let env = sandbox.env(&[
        ("AWS_ACCESS_KEY_ID", "AKIA"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_ENDPOINT_URL", "http://ecr.example.com"),
    ]);
    let err = ecr::fetch_token(&resolve(&env).unwrap(), SystemTime::now()).unwrap_err();
    assert!(matches!(err, EcrError::BadEndpoint { .. }), "{err:?}");

    // None of this wrote anything.
    assert!(!sandbox.dirs().cache_dir.exists());
    assert!(!sandbox.dirs().state_dir.exists());
}

#[test]
fn ecr_answers_of_many_megabytes_are_cut_off() {
    use crate::support::hostile::{Hostile, Reply};
    const SIZE: usize = 64 << 20;
    let sandbox = Sandbox::new();
    let host = EcrHost::parse(HOST).unwrap();
    // Not AWS: a loopback server that answers GetAuthorizationToken with 64 MB of JSON, with the
    // length declared up front and without (read until close).
    let declared = Hostile::plain(|_| {
        Reply::Flood {
        head: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{{\"authorizationData\":[{{\"authorizationToken\":\"",
            SIZE + 40
        )
        .into_bytes(),
        total: SIZE,
        fill: b'A',
    }
    });
    let undeclared = Hostile::plain(|_| {
        Reply::Flood {
        head: b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nConnection: close\r\n\r\n{\"authorizationData\":[{\"authorizationToken\":\"".to_vec(),
        total: SIZE,
        fill: b'A',
    }
    });
    for server in [&declared, &undeclared] {
        let endpoint = format!("http://{}", server.host);
        let env = sandbox.env(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("AWS_ENDPOINT_URL_ECR", &endpoint),
        ]);
        let resolved = ecr::resolve(&host, &AwsOptions::default(), &env).unwrap();
        let err = ecr::fetch_token(&resolved, SystemTime::now()).unwrap_err();
        assert!(matches!(err, EcrError::BadResponse { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("ecr at {endpoint} sent an answer regctl cannot use: the answer is larger than 1 MiB; AWS answers with a few KB, so regctl stopped reading")
        );
        // regctl stopped reading: what got out is socket buffers, not the 64 MB.
        assert!(
            server.bytes_sent() < 3 * (16 << 20),
            "{} bytes went out",
            server.bytes_sent()
        );
    }
    assert!(!sandbox.dirs().cache_dir.exists());
}
