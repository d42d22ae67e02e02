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

/// Long options whose value is a secret (`login --password`).
pub const SECRET_LONG_OPTIONS: &[&str] = &["--password"];
/// Short options whose value is a secret (`login -p`).
pub const SECRET_SHORT_OPTIONS: &[char] = &['p'];
/// Every short option that takes a value: in a cluster (`-vpSECRET`, `-qu alice`) the rest of
/// the word, or the next word, is its value. A test checks this against the command line.
pub const VALUE_SHORT_OPTIONS: &[char] = &['o', 'p', 'u'];

/// argv with the value of every secret option replaced by `<redacted>`, in every spelling clap
/// accepts: `-p X`, `-pX`, `-p=X`, `-vpX`, `--password X`, `--password=X` (up to `--`).
pub fn mask_secret_args(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut words = argv.iter();
    let mask = "<redacted>";
    // Whether the next word is the value of a secret option (or of another option).
    let mut next_is_value: Option<bool> = None;
    while let Some(w) = words.next() {
        if let Some(secret) = next_is_value.take() {
            out.push(if secret { mask.to_string() } else { w.clone() });
            continue;
        }
        if w == "--" {
            out.push(w.clone());
            out.extend(words.cloned());
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let secret = SECRET_LONG_OPTIONS.contains(&format!("--{name}").as_str());
            match (secret, value) {
                (true, Some(_)) => out.push(format!("--{name}={mask}")),
                (true, None) => {
                    out.push(w.clone());
                    next_is_value = Some(true);
                }
                (false, _) => out.push(w.clone()),
            }
            continue;
        }
        let Some(cluster) = w.strip_prefix('-').filter(|c| !c.is_empty()) else {
            out.push(w.clone());
            continue;
        };
        let mut kept = String::from("-");
        for (i, c) in cluster.char_indices() {
            kept.push(c);
            if !VALUE_SHORT_OPTIONS.contains(&c) {
                continue;
            }
            let rest = &cluster[i + c.len_utf8()..];
            let secret = SECRET_SHORT_OPTIONS.contains(&c);
            if rest.is_empty() {
                next_is_value = Some(secret);
            } else if secret {
                kept.push_str(if rest.starts_with('=') { "=" } else { "" });
                kept.push_str(mask);
            } else {
                kept.push_str(rest);
            }
            break;
        }
        out.push(kept);
    }
    out
}

/// The command line the user ran, quoted so it can be pasted back; secret option values are
/// masked (`-p '<redacted>'`).
pub fn command_line(argv: &[String]) -> String {
    let mut words: Vec<String> = mask_secret_args(argv)
        .iter()
        .map(|a| shell_quote(a))
        .collect();
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

/// A daemon.json key spelled like dockerd's command-line flag: dockerd ignores it.
pub fn rename_flag_named_key(key: &str, real: &str) -> String {
    format!("regctl daemon unset {key} && regctl daemon set {real} VALUE")
}

/// An http:// mirror that the containerd image store only uses when its host is insecure.
pub fn insecure_for_http_mirror(host: &str) -> String {
    insecure_add(host)
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

/// A credential helper named in config.json (or chosen for a login) that is not on PATH.
pub fn install_credential_helper(helper: &str) -> String {
    match helper {
        "regctl" => helper_symlink(),
        "secretservice" | "pass" => format!(
            "install it: sudo apt-get install golang-docker-credential-helpers (provides docker-credential-{helper})"
        ),
        "ecr-login" => "install it: sudo apt-get install amazon-ecr-credential-helper, or log in with regctl login (ECR tokens built in)".to_string(),
        _ => format!("install docker-credential-{helper} on PATH, or use another store: regctl login --store keychain (what is stored already moves with regctl creds migrate --to keychain)"),
    }
}

/// Docker Hub's certificates come from the system store, not certs.d.
pub fn docker_hub_ca() -> String {
    "for Docker Hub (or a TLS-intercepting proxy in front of it) add the CA to the system store: sudo cp ca.pem /usr/local/share/ca-certificates/proxy.crt && sudo update-ca-certificates && sudo systemctl restart docker".to_string()
}

/// A leaf was offered where its CA is needed.
pub fn need_issuing_ca(issuer: &str) -> String {
    format!("ask the registry's administrator for the CA certificate of {issuer}, then: regctl trust-ca REGISTRY CA_FILE")
}

/// An expired or not yet valid certificate: renew it, or insist.
pub fn force_validity(argv: &[String]) -> String {
    format!(
        "check this machine's clock and renew the certificate; to write it anyway: {} --force",
        command_line(argv)
    )
}

/// `--from-server` without a terminal: the same command, pinned.
pub fn pin_fingerprint(argv: &[String], pin_flag: &str, fingerprint: &str) -> String {
    format!(
        "compare the fingerprint with the registry's administrator, then: {}",
        command_with(argv, pin_flag, fingerprint)
    )
}

/// The command line with `flag value` in place of any `flag` already given.
pub fn command_with(argv: &[String], flag: &str, value: &str) -> String {
    let mut kept = Vec::new();
    let mut skip = false;
    for a in argv {
        if skip {
            skip = false;
        } else if a == flag {
            skip = true;
        } else if !a.starts_with(&format!("{flag}=")) {
            kept.push(a.clone());
        }
    }
    kept.extend([flag.to_string(), value.to_string()]);
    command_line(&kept)
}

/// A pinned leaf stops working when the server's certificate is renewed.
pub fn pinned_leaf_renewal(subject: &str, expires: &str) -> String {
    format!("when the registry renews {subject} (it expires on {expires}), run trust-ca again with the new certificate's fingerprint")
}

/// A server sent its own CA-issued certificate alone: get the CA, or pin exactly that
/// certificate (which must be redone when it is renewed).
pub fn leaf_only(argv: &[String], pin_flag: &str, issuer: &str, leaf_fingerprint: &str) -> String {
    format!(
        "{}; or, to trust exactly the certificate it presented (again at each renewal), compare its fingerprint with the administrator and: {}",
        need_issuing_ca(issuer),
        command_with(argv, pin_flag, leaf_fingerprint)
    )
}

/// The server presented another certificate than the one pinned.
pub fn fingerprint_mismatch() -> String {
    "do not trust it: the connection may be intercepted or the CA was replaced; check the fingerprint with the registry's administrator".to_string()
}

/// OpenSSL's `TRUSTED CERTIFICATE` format, which Go does not read.
pub fn convert_trusted_certificate(path: &str) -> String {
    format!(
        "convert it to a plain certificate: openssl x509 -in {} -out ca.pem",
        shell_quote(path)
    )
}

/// An encrypted client key.
pub fn decrypt_key(path: &str) -> String {
    format!(
        "decrypt it (you will be asked for its passphrase): openssl pkey -in {} -out client-plain.key",
        shell_quote(path)
    )
}

/// A registry that answers plain HTTP has no certificate to trust.
/// A registry that wants a client certificate (mTLS): the pair goes into its certs.d folder.
pub fn client_certificate(host: &str) -> String {
    format!("sudo regctl trust-ca {host} --client-cert CLIENT.cert --client-key CLIENT.key")
}

/// A token realm's CA for dockerd's classic image store: it reaches the realm with the
/// registry's TLS settings, so the CA goes into the registry's folder, beside its own.
pub fn realm_ca_in_registry_folder(
    certs_dir: &std::path::Path,
    registry: &str,
    realm: &str,
) -> String {
    format!(
        "put the CA of {realm} into {registry}'s folder (dockerd reads certs.d/{realm}/ only for {realm} itself): sudo cp REALM_CA.crt {}",
        shell_quote(&certs_dir.join(registry).join("token-realm.crt").display().to_string())
    )
}

/// A token realm's CA for dockerd's containerd image store: only the system roots count.
pub fn realm_ca_in_system_roots(realm: &str) -> String {
    let file = realm.replace([':', '[', ']'], "_");
    format!("dockerd's containerd image store trusts only the system roots for a token realm: sudo cp REALM_CA.crt /usr/local/share/ca-certificates/{file}.crt && sudo update-ca-certificates && sudo systemctl restart docker")
}

/// A token realm whose certificate is wrong in itself (name, dates).
pub fn fix_realm_certificate(realm: &str) -> String {
    format!("fix the certificate of the token realm {realm} (its name and dates must be valid for the URL the registry announces)")
}

pub fn plain_http_registry(host: &str) -> String {
    format!(
        "a plain HTTP registry has no certificate; to use it anyway: {}",
        insecure_add(host)
    )
}

/// Nothing answered at the registry's address.
pub fn registry_unreachable(host: &str) -> String {
    format!("check that the registry runs and that {host} is the right host and port (the default is 443)")
}

/// The fix for a `certs.*` lint problem about `file` in registry folder `dir`.
pub fn certs_problem_fix(id: &str, dir: &std::path::Path, file: Option<&str>) -> Option<String> {
    let path = |f: &str| shell_quote(&dir.join(f).display().to_string());
    let stem = |f: &str| f.rsplit_once('.').map_or(f, |(s, _)| s).to_string();
    let f = file.unwrap_or_default();
    Some(match id {
        "certs.der_in_crt" => format!(
            "convert it to PEM: openssl x509 -inform der -in {p} -out {p}.pem && mv {p}.pem {p}",
            p = path(f)
        ),
        "certs.ca_wrong_extension" => format!("rename it: mv {} {}", path(f), path(&format!("{}.crt", stem(f)))),
        "certs.key_permissions" => format!("chmod 600 {}", path(f)),
        "certs.cert_without_key" => format!(
            "add its key as {}, or, if it is a CA, rename it: mv {} {}",
            path(&format!("{}.key", stem(f))),
            path(f),
            path(&format!("{}.crt", stem(f)))
        ),
        "certs.key_without_cert" => format!("add its certificate as {}", path(&format!("{}.cert", stem(f)))),
        "certs.unparsable_crt" | "certs.crt_not_ca" | "certs.expired" => {
            let host = dir
                .file_name()
                .map(|n| shell_quote(&n.to_string_lossy()))
                .unwrap_or_default();
            if f == "ca.crt" {
                format!("replace it with the registry's CA: regctl trust-ca {host} CA_FILE")
            } else {
                format!("remove it (rm {}) and install the registry's CA: regctl trust-ca {host} CA_FILE", path(f))
            }
        }
        "certs.pinned_leaf" => {
            let host = dir
                .file_name()
                .map(|n| shell_quote(&n.to_string_lossy()))
                .unwrap_or_default();
            format!("after each renewal: regctl trust-ca {host} --from-server --fingerprint NEW_SHA256; or trust the CA that issued it: regctl trust-ca {host} CA_FILE")
        }
        "certs.folder_port_mismatch" => {
            "name the folder exactly as image names spell the registry (with :PORT only when they do)".to_string()
        }
        "certs.hosts_toml_invalid" | "certs.hosts_bad_url" => format!(
            "correct {} at the place named (containerd's format: server = \"https://HOST\", [host.\"https://MIRROR\"] tables)",
            path("hosts.toml")
        ),
        "certs.hosts_unknown_key" => format!(
            "remove or rename the key in {} (the message lists the keys containerd reads)",
            path("hosts.toml")
        ),
        "certs.hosts_missing_file" => format!(
            "put the file in place, or remove it from {}",
            path("hosts.toml")
        ),
        "certs.hosts_folder_mismatch" => format!(
            "set server in {} to the registry this folder is named after, or rename the folder",
            path("hosts.toml")
        ),
        "certs.hosts_no_host_table" => {
            let host = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!(
                "for containerd 1.7, add a host table to {}: [host.\"https://{host}\"] with capabilities = [\"pull\", \"resolve\", \"push\"]",
                path("hosts.toml")
            )
        }
        "certs.hosts_hides_ca" => {
            let host = dir
                .file_name()
                .map(|n| shell_quote(&n.to_string_lossy()))
                .unwrap_or_default();
            format!(
                "regctl trust-ca {host} {} --certs-dir {} (names the CA in hosts.toml)",
                path(f),
                dir.parent()
                    .map(|d| shell_quote(&d.display().to_string()))
                    .unwrap_or_default()
            )
        }
        _ => return None,
    })
}

/// A TOML file regctl will not edit until it parses.
pub fn fix_toml(path: &std::path::Path) -> String {
    format!(
        "correct {} at the line named (regctl never rewrites a file it cannot parse)",
        shell_quote(&path.display().to_string())
    )
}

/// A registries.conf.d problem's fix.
pub fn registries_conf_fix(id: &str, file: &std::path::Path) -> Option<String> {
    let f = shell_quote(&file.display().to_string());
    Some(match id {
        "config.registries_conf_invalid" => format!("correct {f} at the line named (containers-registries.conf(5))"),
        "config.registries_conf_unknown_key" => format!("remove or rename the key in {f} (containers-registries.conf(5) lists them)"),
        "config.registries_conf_bad_location" => format!("write location as host[:port][/path] without a scheme in {f}; set insecure = true for HTTP"),
        _ => return None,
    })
}

/// containerd's CRI reads hosts.toml only from `config_path`: the lines that set it.
pub fn containerd_config_path(
    config: &std::path::Path,
    certs_dir: &std::path::Path,
    v3: bool,
) -> String {
    let table = if v3 {
        "plugins.\"io.containerd.cri.v1.images\".registry"
    } else {
        "plugins.\"io.containerd.grpc.v1.cri\".registry"
    };
    format!(
        "in {}, set [{table}] config_path = {:?}, then: systemctl restart containerd",
        config.display(),
        certs_dir.display().to_string()
    )
}

/// After a hosts.toml changed: who reads it and when.
pub fn hosts_toml_take_effect() -> String {
    "containerd and dockerd 28+ (containerd image store) read hosts.toml at every pull: no restart needed".to_string()
}

/// After certs.d changed: when it applies.
pub fn certs_take_effect(containers: bool) -> String {
    let who = if containers {
        "docker, podman and skopeo read"
    } else {
        "docker reads"
    };
    format!("{who} certs.d at each connection: no restart needed; check with: regctl certs list")
}

/// The registry's token realm is on another host whose certificate dockerd would not trust.
pub fn realm_untrusted(
    url: &str,
    realm: &str,
    issuer: &str,
    argv: &[String],
    fingerprint: &str,
    containerd: bool,
) -> String {
    let with_realm = command_with(
        &[argv, &["--with-realm".to_string()]].concat(),
        "--realm-fingerprint",
        fingerprint,
    );
    let place = if containerd {
        format!("dockerd's containerd image store checks it with the system roots only, so --with-realm installs its CA into the OS trust store (then restart dockerd): {with_realm} (the same as regctl trust-ca {realm} --from-server --system)")
    } else {
        format!("dockerd's classic image store checks it with this registry's certs.d folder, where --with-realm puts its CA: {with_realm}")
    };
    format!("the token realm {url} presents a certificate issued by {issuer}, which dockerd does not trust for the token request, so docker pull will fail there; {place}")
}

/// After the OS trust store changed: dockerd (Go) reads the system roots once, at start.
pub fn system_roots_take_effect(rootless: bool) -> String {
    let systemctl = if rootless {
        "systemctl --user"
    } else {
        "sudo systemctl"
    };
    format!("dockerd reads the system's roots only when it starts, so restart it: {systemctl} restart docker; curl and newly started tools see the change at once")
}

/// dockerd neither verifies insecure registries nor reads certs.d for them.
pub fn insecure_registry_skips_ca(host: &str) -> String {
    format!("dockerd treats {host} as insecure (listed in insecure-registries, or on loopback): it skips verification and does not read certs.d for it, client certificates included; podman and skopeo still use these files")
}

/// A config.json `auths` entry docker cannot decode either.
pub fn bad_auth_entry(path: &std::path::Path, key: &str) -> String {
    format!(
        "log in again to replace it (regctl login {}), or delete auths[{key:?}] from {} by hand",
        shell_quote(key),
        shell_quote(&path.display().to_string())
    )
}

/// No Secret Service answers (or it answers too slowly).
pub fn start_secret_service() -> String {
    "start a Secret Service (gnome-keyring-daemon --start --components=secrets, inside a D-Bus session such as dbus-run-session -- $SHELL), or store in plain text: regctl login --store file".into()
}

/// The keyring is locked.
pub fn unlock_keyring() -> String {
    "unlock the keyring (log in to the desktop, or: printf '%s' \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets), or store in plain text: regctl login --store file".into()
}

/// A credential helper that failed or answered garbage.
pub fn run_helper_by_hand(helper: &str) -> String {
    format!("run it by hand to see what it says: echo SERVER | docker-credential-{helper} get")
}

/// An ECR registry stores no password: it logs in with AWS credentials.
pub fn ecr_login_without_password(server: &str) -> String {
    format!(
        "log in with AWS credentials instead (no password): regctl login {}",
        shell_quote(server)
    )
}

/// The registry refused the credentials given to login.
pub fn check_login_credentials() -> String {
    "check the username and password (or token) and try again; nothing was stored".into()
}

/// Login could not reach the registry.
pub fn login_unreachable() -> String {
    "check the address and that the registry is up: regctl doctor REGISTRY; to store credentials without checking them: regctl login --no-verify".into()
}

/// The address answered, but not as a registry.
pub fn not_a_registry() -> String {
    "use the registry's own address (Docker Hub is docker.io); a registry answers 200 or 401 to GET /v2/".into()
}

/// How certs.d files are named.
pub fn certs_d_file_names() -> String {
    "CA certificates must end in .crt; a client pair is NAME.cert with NAME.key".into()
}

/// A daemon.json key dockerd does not know, with the key it probably meant.
pub fn rename_daemon_key(key: &str, suggestion: &str) -> String {
    format!("rename it: regctl daemon unset {key} && regctl daemon set {suggestion} VALUE")
}

/// What a registry mirror looks like.
pub fn mirror_syntax() -> String {
    "a mirror is a bare http(s) URL such as https://mirror.example.com".into()
}

/// What an insecure registry entry looks like.
pub fn insecure_syntax() -> String {
    "an insecure registry is host[:port] or a CIDR such as 10.0.0.0/8".into()
}

/// A file on a read-only file system.
pub fn read_only_file_system() -> String {
    "the file system is mounted read-only; edit the file where it is writable".into()
}

/// An ECR host regctl does not recognise (a VPC endpoint or a proxy in front of ECR).
pub fn force_ecr(host: &str) -> String {
    format!("for a VPC endpoint or proxy in front of ECR, force it: regctl login {host} --ecr --region REGION")
}

/// No AWS region anywhere.
pub fn aws_region() -> String {
    "pass --region REGION, or set AWS_REGION".into()
}

/// No (or half) static AWS credentials.
pub fn aws_configure() -> String {
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run: aws configure".into()
}

/// A named AWS profile that does not exist.
pub fn aws_create_profile(profile: &str) -> String {
    format!("create it with: aws configure --profile {profile} (list profiles: aws configure list-profiles)")
}

/// A profile with one of its two keys.
pub fn aws_complete_profile(profile: &str) -> String {
    format!("set both keys with: aws configure --profile {profile}")
}

/// A profile kind regctl does not read itself.
pub fn aws_export_credentials(profile: &str) -> String {
    format!("let the AWS CLI produce the credentials: add `credential_process = aws configure export-credentials --profile {profile} --format process` to a profile and use that profile")
}

/// AWS said the session expired.
pub fn aws_session_expired() -> String {
    "the AWS session has expired: refresh it (aws sso login, or new temporary credentials)".into()
}

/// AWS does not know the access key id.
pub fn aws_unknown_key() -> String {
    "the access key id is unknown to AWS: check the key, its region's partition, or the session token".into()
}

/// AWS says the signature does not match.
pub fn aws_wrong_secret() -> String {
    "the secret access key does not belong to the access key id".into()
}

/// The identity may not get an ECR token.
pub fn aws_ecr_permission() -> String {
    "the identity needs ecr:GetAuthorizationToken (ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken for ECR Public)".into()
}

/// AWS could not be reached.
pub fn aws_unreachable() -> String {
    "check the network, HTTPS_PROXY, and AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL if set".into()
}

/// Login needs a username and password and cannot ask for them.
pub fn login_non_interactive(argv: &[String]) -> String {
    let registry = argv
        .iter()
        .skip_while(|a| a.as_str() != "login")
        .nth(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| format!(" {}", shell_quote(a)))
        .unwrap_or_default();
    format!("pass them without a prompt: printf '%s' \"$PASSWORD\" | regctl login{registry} -u USER --password-stdin")
}

/// `--store file` while a credsStore is configured.
pub fn file_store_shadowed(helper: &str) -> String {
    format!(
        "use that store instead (regctl login --store helper:{helper}), or keep the secret out of plain text: regctl login --store keychain"
    )
}

/// `--store file` for an ECR login: the token in auths stops working when it expires.
pub fn ecr_token_in_file(path: &std::path::Path, expires_at: &str, host: &str) -> String {
    format!(
        "the ECR token stored in plain text in '{}' expires at {expires_at}: docker fails with it after that; log in again before then, or let docker-credential-regctl refresh it: regctl login {}",
        path.display(),
        shell_quote(host)
    )
}

/// An ECR login whose config.json entry is gone: docker does not use it.
pub fn ecr_not_in_config(host: &str) -> String {
    format!(
        "config.json does not send docker here; log in again: regctl login {}",
        shell_quote(host)
    )
}

/// A password for an ECR registry (from `aws ecr get-login-password`) lasts 12 hours.
pub fn ecr_password_expires(host: &str) -> String {
    format!(
        "{host} is an Amazon ECR registry: a password from `aws ecr get-login-password` stops working after 12 hours; without -u and a password, regctl mints tokens from your AWS credentials and keeps them fresh: regctl login {}",
        shell_quote(host)
    )
}

/// The ECR login command again, without `--store`.
pub fn ecr_default_store(argv: &[String]) -> String {
    let mut kept = Vec::new();
    let mut words = argv.iter();
    while let Some(w) = words.next() {
        if w == "--store" {
            words.next();
        } else if !w.starts_with("--store=") {
            kept.push(w.clone());
        }
    }
    format!("leave out --store: {}", command_line(&kept))
}

/// How to put docker-credential-regctl on PATH: a symlink to regctl (it answers to that name).
pub fn helper_symlink() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "$(command -v regctl)".into());
    format!(
        "put docker-credential-regctl on PATH, for example: sudo ln -s {} /usr/local/bin/docker-credential-regctl",
        shell_quote(&exe)
    )
}

/// docker's warning for `-p`.
pub const PASSWORD_ARGV_WARNING: &str =
    "WARNING! Using --password via the CLI is insecure. Use --password-stdin.";

/// DOCKER_AUTH_CONFIG (docker 28.3+) holds credentials docker uses before config.json's.
pub const DOCKER_AUTH_CONFIG_WARNING: &str = "DOCKER_AUTH_CONFIG is set: docker uses the credentials in it before what this login stores (unset it to use these)";

/// docker's warning when a password is written in plain text.
pub fn plain_text_warning(path: &std::path::Path) -> String {
    format!(
        "WARNING! Your credentials are stored unencrypted in '{}'. Configure a credential helper to remove this warning. See https://docs.docker.com/go/credential-store/ (or: regctl creds migrate --to keychain)",
        path.display()
    )
}

/// An IAM Identity Center session that expired or was never started on this machine.
pub fn aws_sso_login(profile: &str) -> String {
    format!(
        "run: aws sso login --profile {} (then log in again, or let docker pull: the helper mints from the new session)",
        shell_quote(profile)
    )
}

/// A web identity token file that cannot be read.
pub fn web_identity_token_file(origin: &str) -> String {
    format!(
        "point {origin} at the token file that exists (in EKS with IRSA, the pod's service account needs the eks.amazonaws.com/role-arn annotation and the pod a restart)"
    )
}

/// Web identity without a role to assume.
pub fn web_identity_role() -> String {
    "set AWS_ROLE_ARN (or role_arn in the profile) to the role the token may assume".to_string()
}

/// The container credentials endpoint refused the authorization token.
pub fn container_token() -> String {
    "the pod or task must send the token its agent gave it: check AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod Identity mounts /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token) or AWS_CONTAINER_AUTHORIZATION_TOKEN, and the pod identity association of its service account".to_string()
}

/// A container credentials URI regctl will not send a token to.
pub fn container_uri() -> String {
    "use https, a loopback address, http://169.254.170.2 (ECS) or http://169.254.170.23 (EKS Pod Identity) in AWS_CONTAINER_CREDENTIALS_FULL_URI".to_string()
}

/// The IMDSv2 token request timed out: inside a container, the answer dies at hop limit 1.
pub fn imds_hop_limit() -> String {
    "inside a container on EC2, IMDSv2 needs a hop limit of 2: aws ec2 modify-instance-metadata-options --instance-id INSTANCE_ID --http-put-response-hop-limit 2 --http-endpoint enabled".to_string()
}

/// No credentials anywhere, instance metadata included.
pub fn aws_no_credentials() -> String {
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run: aws configure (or aws sso login --profile PROFILE); off EC2, AWS_EC2_METADATA_DISABLED=true skips the instance metadata".to_string()
}

/// `credsStore: "ecr-login"` sends every registry to amazon-ecr-credential-helper.
pub fn ecr_login_creds_store(path: &std::path::Path, ecr_hosts: &[String]) -> String {
    let per_host = if ecr_hosts.is_empty() {
        "regctl login ACCOUNT.dkr.ecr.REGION.amazonaws.com".to_string()
    } else {
        ecr_hosts
            .iter()
            .map(|h| format!("regctl login {}", shell_quote(h)))
            .collect::<Vec<_>>()
            .join(" && ")
    };
    format!(
        "remove \"credsStore\": \"ecr-login\" from {} and route only ECR hosts to a helper with credHelpers, which this writes: {per_host}",
        path.display()
    )
}

/// `regctl insecure add HOST`: the one command that makes dockerd use plain HTTP for a registry.
pub fn insecure_add(host: &str) -> String {
    format!("regctl insecure add {}", shell_quote(host))
}

/// The plain-HTTP fix with the reload dockerd needs, as root.
pub fn insecure_add_and_reload(host: &str) -> String {
    format!("sudo {} && sudo regctl daemon reload", insecure_add(host))
}

/// The alternative to plain HTTP.
pub fn serve_over_tls() -> String {
    "or serve the registry over TLS and trust its CA with regctl trust-ca".into()
}

/// Trust a CA file for a registry.
pub fn trust_ca_file(host: &str) -> String {
    format!("sudo regctl trust-ca {host} /path/to/ca.crt")
}

/// Look at the server's chain before trusting it.
pub fn trust_ca_from_server(host: &str) -> String {
    format!("sudo regctl trust-ca {host} --from-server   (shows the chain and its fingerprint; pin it with --fingerprint SHA256)")
}

/// Trust a CA the server sends, pinned by its fingerprint, after checking it.
pub fn trust_ca_pinned(host: &str, fingerprint: &str) -> String {
    format!("check this fingerprint with the registry's administrator, then: sudo regctl trust-ca {host} --from-server --fingerprint {fingerprint}")
}

/// Trust an intercepting proxy's CA, pinned by its fingerprint.
pub fn trust_proxy_ca_pinned(host: &str, fingerprint: &str) -> String {
    format!("trust the proxy's CA for this registry (after checking it with your network team): sudo regctl trust-ca {host} --from-server --fingerprint {fingerprint}")
}

/// The server sends only its leaf: the CA file must come from elsewhere.
pub fn trust_ca_of_leaf(host: &str, issuer: &str) -> String {
    format!("the server sends only its leaf; get the CA that issued it ({issuer}) and run: sudo regctl trust-ca {host} CA_FILE")
}

/// `regctl doctor HOST` with why.
pub fn doctor(host: &str, what: Option<&str>) -> String {
    match what {
        Some(w) => format!("regctl doctor {host}   ({w})"),
        None => format!("regctl doctor {host}"),
    }
}

/// `regctl login HOST`.
pub fn login(host: &str) -> String {
    format!("regctl login {host}")
}

/// Log in again with the stored user name.
pub fn login_again(host: &str, username: &str) -> String {
    format!(
        "log in again: regctl login {host} -u {}",
        shell_quote(username)
    )
}

/// Where each registry's credentials are.
pub fn creds_list() -> String {
    "regctl creds list   (shows where each registry's credentials are)".into()
}

/// The same, when a helper is missing.
pub fn creds_list_configured() -> String {
    "or see where credentials are configured: regctl creds list".into()
}

/// Pull with a name the certificate lists, or reissue it.
pub fn pull_with_listed_name(valid_for: &str, not: &str) -> String {
    format!("pull with a name the certificate lists ({valid_for}) instead of {not}")
}

/// Reissue a certificate with the right subjectAltName (`IP:` for an address).
pub fn reissue_with_san(host: &str) -> String {
    let kind = if host.parse::<std::net::IpAddr>().is_ok() {
        "IP"
    } else {
        "DNS"
    };
    format!("reissue the certificate with subjectAltName {kind}:{host}")
}

/// The explain wording of [`reissue_with_san`] when the text does not say which kind.
pub fn reissue_with_san_either(host: &str) -> String {
    format!("or reissue the certificate with subjectAltName DNS:{host} (IP:{host} for an address)")
}

/// An IP address in the image name, and a certificate with DNS names only.
pub fn pull_with_dns_name() -> String {
    "pull with a DNS name the certificate lists instead of the address".into()
}

/// A certificate that names the host only in its Common Name.
pub fn reissue_without_common_name(host: &str) -> String {
    format!("reissue it with a subjectAltName, e.g. openssl req -x509 ... -addext \"subjectAltName=DNS:{host}\"")
}

/// doctor's wording for a mismatch: the names it lists, or the SAN to add.
pub fn hostname_mismatch(host: &str, valid_for: &[String], legacy_cn: bool) -> String {
    if legacy_cn {
        format!("{} (Go ignores the Common Name)", reissue_with_san(host))
    } else if valid_for.is_empty() {
        reissue_with_san(host)
    } else {
        let kind = if host.parse::<std::net::IpAddr>().is_ok() {
            "IP"
        } else {
            "DNS"
        };
        format!(
            "pull with a name the certificate lists ({}), or reissue it with subjectAltName {kind}:{host}",
            valid_for.join(", ")
        )
    }
}

/// An expired registry certificate.
pub fn renew_certificate(host: Option<(&str, &str)>) -> String {
    match host {
        Some((registry, bound)) => {
            format!("renew the certificate of {registry} (it expired on {bound})")
        }
        None => "renew the registry's certificate".into(),
    }
}

/// A certificate that is not valid yet.
pub fn not_yet_valid(registry: &str, bound: &str) -> String {
    format!("the certificate of {registry} is not valid before {bound}: check the server's clock, or reissue it")
}

/// How to check the clock.
pub fn check_clock() -> String {
    "check the clock: timedatectl status (enable NTP: sudo timedatectl set-ntp true)".into()
}

/// This machine's clock is wrong.
pub fn fix_clock() -> String {
    "this machine's clock is wrong: sudo timedatectl set-ntp true (then check: timedatectl status)"
        .into()
}

/// Is the port a TLS port at all?
pub fn test_tls_port(host: &str, port: u16) -> String {
    format!("is {host}:{port} a TLS port? test it: openssl s_client -connect {host}:{port} -servername {host} </dev/null (a firewall dropping large packets or an MTU problem stalls handshakes too)")
}

/// A certs.d folder dockerd cannot load.
pub fn certs_list(host: &str) -> String {
    format!("see the problems: regctl certs list {host}")
}

/// dockerd reads its proxy from daemon.json's `proxies` (or its own environment).
pub fn dockerd_proxy() -> String {
    "configure dockerd's proxy: sudo regctl daemon set proxies '{\"https-proxy\": \"http://PROXY:PORT\"}' && sudo systemctl restart docker".into()
}

/// Bypass the proxy for one registry in dockerd.
pub fn bypass_dockerd_proxy(host: &str) -> String {
    format!("bypass it for the registry: {}", dockerd_no_proxy(host))
}

fn dockerd_no_proxy(host: &str) -> String {
    format!("regctl daemon set proxies.no-proxy {host}")
}

/// A proxy that refuses connections.
pub fn proxy_refused(host: &str) -> String {
    format!("start the proxy or correct its address; or bypass it for this registry: export NO_PROXY={host} (for dockerd: {})", dockerd_no_proxy(host))
}

/// Something answered, but not a registry API.
pub fn not_a_registry_port(host: &str) -> String {
    format!("check the address and port: a registry answers /v2/ with 200 or 401 (try: curl -si https://{host}/v2/)")
}

/// The account lacks rights, or the path is wrong.
pub fn check_repository_permissions() -> String {
    "check the repository path and the account's permissions on it".into()
}

/// Docker Hub's pull limit.
pub fn login_docker_hub_for_limit() -> String {
    "log in to raise the limit: regctl login docker.io".into()
}

/// Pull through a mirror.
pub fn pull_through_mirror() -> String {
    format!("or pull through a mirror: {}", mirror_add_any())
}

/// Give dockerd a Docker Hub mirror (the URL is the user's to choose).
pub fn mirror_add_any() -> String {
    "sudo regctl mirror add https://MIRROR && sudo regctl daemon reload".into()
}

/// Nothing listens on a registry's port.
pub fn nothing_listens(host: &str, port: u16) -> String {
    format!("nothing listens on {host}:{port}: start the registry, or give the port it listens on (regctl doctor {host}:PORT)")
}

/// daemon.json has problems dockerd refuses: the whole list.
pub fn daemon_validate(path: &str) -> String {
    format!(
        "see every problem with: regctl daemon validate --daemon-config {}",
        shell_quote(path)
    )
}

/// `--explain` knows no cause: diagnose the registry itself.
pub fn doctor_registry() -> String {
    "diagnose the registry instead: regctl doctor REGISTRY".into()
}

/// Credentials in plain text in config.json.
pub fn migrate_to_keychain() -> String {
    "move them with: regctl creds migrate --to keychain".into()
}

/// The name does not resolve.
pub fn check_name(name: &str) -> String {
    format!("check the name: getent hosts {name}")
}

/// Without DNS, /etc/hosts.
pub fn etc_hosts(name: &str) -> String {
    format!("without DNS, add it to /etc/hosts: echo 'IP {name}' | sudo tee -a /etc/hosts")
}

/// `pass` without a GPG key.
pub fn pass_init() -> String {
    "initialise it: pass init GPG_KEY_ID".into()
}

/// The OS keychain instead of `pass`.
pub fn login_keychain_store() -> String {
    "or keep credentials in the OS keychain instead: regctl login REGISTRY --store keychain".into()
}

/// A Secret Service for an SSH session.
pub fn start_secret_service_session() -> String {
    "start one in the session: dbus-run-session -- gnome-keyring-daemon --unlock --components=secrets".into()
}

/// config.json's plain text on a server without a keyring.
pub fn login_file_store(host: &str) -> String {
    format!("or store credentials in config.json on this server: regctl login {host} --store file")
}

/// A Harbor robot account whose `$name` the shell expanded: single quotes keep it.
pub fn quote_robot_account(host: &str) -> String {
    format!("quote the name in single quotes so the shell leaves $ alone: printf '%s' \"$TOKEN\" | regctl login {host} -u 'robot$NAME' --password-stdin (or: docker login {host} -u 'robot$NAME')")
}

/// A command line clap refused: the usage of the (sub)command it names.
pub fn usage(command_path: &[String]) -> String {
    let mut words = vec!["regctl".to_string()];
    words.extend(command_path.iter().cloned());
    format!("see the usage: {} --help", words.join(" "))
}

// Mirrors and DNS (issue 14)

/// A Docker Hub mirror that is dead or serves no Docker Hub content: take it out of the list
/// dockerd uses (daemon.json, reloaded; or certs.d/docker.io/hosts.toml, read on every pull).
pub fn mirror_remove(url: &str, in_hosts_toml: bool) -> String {
    format!(
        "{}{}",
        mirror_edit("remove", url, in_hosts_toml),
        reload_unless(in_hosts_toml)
    )
}

/// A slow mirror listed before a faster one: move it to the end of the list (dockerd tries
/// mirrors in order).
pub fn mirror_move_last(url: &str, in_hosts_toml: bool) -> String {
    format!(
        "move it last: {} && {}{}",
        mirror_edit("remove", url, in_hosts_toml),
        mirror_edit("add", url, in_hosts_toml),
        reload_unless(in_hosts_toml)
    )
}

fn mirror_edit(verb: &str, url: &str, in_hosts_toml: bool) -> String {
    let target = if in_hosts_toml {
        " --for docker.io"
    } else {
        ""
    };
    format!("sudo regctl mirror {verb} {}{target}", shell_quote(url))
}

fn reload_unless(in_hosts_toml: bool) -> &'static str {
    if in_hosts_toml {
        ""
    } else {
        " && sudo regctl daemon reload"
    }
}

/// Docker Hub itself refuses or drops the connection from this host.
pub fn docker_hub_unreachable() -> String {
    format!("Docker Hub is not reachable from this host (firewall, proxy or no internet): give dockerd a mirror that is, {}, or a proxy (HTTPS_PROXY in a docker.service drop-in)", mirror_add_any())
}

/// No name server of the resolver answers: every name fails, not one.
pub fn dns_down(resolv_conf: &str) -> String {
    format!(
        "point {} at a name server that answers (resolvectl status shows systemd-resolved's), then test it: getent hosts registry-1.docker.io",
        shell_quote(resolv_conf)
    )
}

/// A name the name servers say does not exist.
pub fn dns_no_such_host(host: &str) -> String {
    format!(
        "check the spelling of {host}; for a registry {}",
        etc_hosts(host)
    )
}

/// Name servers answer, but not within the time for this name.
pub fn dns_slow(resolv_conf: &str) -> String {
    format!(
        "check the resolvers in {} (resolvectl status) and that they answer",
        shell_quote(resolv_conf)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_option_values_never_reach_a_hint() {
        let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        for line in [
            "regctl login r.io -u alice -p S3CRET",
            "regctl login r.io -u alice -pS3CRET",
            "regctl login r.io -u alice -p=S3CRET",
            "regctl login r.io -vpS3CRET",
            "regctl login r.io -qvp S3CRET",
            "regctl login r.io --password S3CRET",
            "regctl login r.io --password=S3CRET",
            "regctl -ujoe login r.io -p S3CRET -o json",
        ] {
            let hint = rerun_with_sudo(&words(line));
            assert!(!hint.contains("S3CRET"), "{line}: {hint}");
            assert!(hint.contains("<redacted>"), "{line}: {hint}");
        }
        // Other values are kept, also a `-p` after `--` (a positional word).
        assert_eq!(
            command_line(&words("regctl -uS3 -o json login -- -p")),
            "regctl -uS3 -o json login -- -p"
        );
        let masked = mask_secret_args(&words("regctl login -vpX"));
        assert_eq!(mask_secret_args(&masked), masked);
    }
}
