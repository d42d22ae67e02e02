//! The command line, declared with clap derive. Doc comments here are the help text users see.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCompleter;

use crate::output::{ColorChoice, Format};

/// Configure the Docker client side of container registries.
///
/// regctl edits /etc/docker/daemon.json and ~/.docker/config.json without losing what it does not
/// know, installs registry certificates, and explains why pulls fail. Every change reports whether
/// it changed anything, supports --check and --diff, and prints JSON with -o json.
#[derive(Debug, Parser)]
#[command(
    name = "regctl",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "Examples:
  regctl doctor registry.example.com:5000           why does a pull fail, and the fix
  regctl trust-ca registry.example.com --from-server --fingerprint SHA256
  printf '%s' \"$PW\" | regctl login registry.example.com -u alice --password-stdin
  sudo regctl mirror add https://mirror.gcr.io --diff && sudo regctl daemon reload"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The docker client config directory (holds config.json)
    #[arg(
        long,
        global = true,
        env = "DOCKER_CONFIG",
        value_name = "DIR",
        help_heading = "Paths"
    )]
    pub config_dir: Option<PathBuf>,

    /// dockerd's configuration file [default: /etc/docker/daemon.json; rootless:
    /// $XDG_CONFIG_HOME/docker/daemon.json]
    #[arg(
        long,
        global = true,
        env = "REGCTL_DAEMON_CONFIG",
        value_name = "FILE",
        help_heading = "Paths"
    )]
    pub daemon_config: Option<PathBuf>,

    /// Registry certificate directory [default: /etc/docker/certs.d; rootless:
    /// $XDG_CONFIG_HOME/docker/certs.d]
    #[arg(
        long,
        global = true,
        env = "REGCTL_CERTS_DIR",
        value_name = "DIR",
        help_heading = "Paths"
    )]
    pub certs_dir: Option<PathBuf>,

    /// podman/skopeo's certificate directory, written by `trust-ca --containers`
    /// [default: /etc/containers/certs.d]
    #[arg(
        long,
        global = true,
        env = "REGCTL_CONTAINERS_CERTS_DIR",
        value_name = "DIR",
        help_heading = "Paths"
    )]
    pub containers_certs_dir: Option<PathBuf>,

    /// containerd's hosts directory (hosts.toml per registry), written with --containerd
    /// [default: /etc/containerd/certs.d]
    #[arg(
        long,
        global = true,
        env = "REGCTL_CONTAINERD_CERTS_DIR",
        value_name = "DIR",
        help_heading = "Paths"
    )]
    pub containerd_certs_dir: Option<PathBuf>,

    /// containerd's configuration, checked for CRI's config_path
    /// [default: /etc/containerd/config.toml]
    #[arg(
        long,
        global = true,
        env = "REGCTL_CONTAINERD_CONFIG",
        value_name = "FILE",
        help_heading = "Paths"
    )]
    pub containerd_config: Option<PathBuf>,

    /// podman/skopeo's registries.conf drop-in directory; regctl writes only 50-regctl.conf
    /// there, with --containers [default: /etc/containers/registries.conf.d]
    #[arg(
        long,
        global = true,
        env = "REGCTL_REGISTRIES_CONF_D",
        value_name = "DIR",
        help_heading = "Paths"
    )]
    pub registries_conf_d: Option<PathBuf>,

    /// The dockerd version whose rules apply (20.10, 26.1, ...) [default: what `dockerd
    /// --version` says, else 29.0]
    #[arg(
        long,
        global = true,
        env = "REGCTL_DOCKERD_VERSION",
        value_name = "VERSION",
        help_heading = "Paths"
    )]
    pub dockerd_version: Option<crate::files::dockerd::EngineVersion>,

    /// Report what would change; write nothing
    #[arg(long, global = true, help_heading = "Output")]
    pub check: bool,

    /// Show each file change (unified diff; "diff" in JSON)
    #[arg(long, global = true, help_heading = "Output")]
    pub diff: bool,

    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Format::Text, help_heading = "Output")]
    pub output: Format,

    /// Same as -o json
    #[arg(long, global = true, help_heading = "Output")]
    pub json: bool,

    /// When to colour text output (NO_COLOR is honoured)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorChoice,

    /// Print only data and errors
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Output"
    )]
    pub quiet: bool,

    /// Print what regctl reads and decides
    #[arg(short, long, global = true, help_heading = "Output")]
    pub verbose: bool,

    /// Never prompt (implied when stdin is not a terminal)
    #[arg(long, global = true, help_heading = "Output")]
    pub non_interactive: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose registries end to end and print the command that fixes each problem
    #[command(
        after_help = "Proxies are judged as dockerd uses them: daemon.json \"proxies\", else docker.service drop-ins,
else the shell's HTTPS_PROXY / HTTP_PROXY / NO_PROXY (never for loopback, as in Go); the credential
check goes through that proxy, as `regctl login` does.

Examples:
  regctl doctor                          every registry named in config.json and daemon.json
  regctl doctor registry.example.com:5000 --timeout 5
  regctl doctor --explain 'x509: certificate signed by unknown authority'
  regctl doctor docker.io -o json | jq '.registries[].checks[] | select(.status == \"fail\")'"
    )]
    Doctor(DoctorArgs),

    /// Registry mirrors: Docker Hub's in daemon.json, any registry's in hosts.toml
    /// (containerd, dockerd 28+) and registries.conf.d (podman, skopeo)
    #[command(
        subcommand,
        after_help = "Examples:
  sudo regctl mirror add https://mirror.gcr.io && sudo regctl daemon reload
  regctl mirror list --probe                     which mirrors still serve Docker Hub, fastest first
  sudo regctl mirror add https://mirror.example.com --for ghcr.io --containerd --containers
  sudo regctl mirror remove https://dockerhub.azk8s.cn && sudo regctl daemon reload"
    )]
    Mirror(MirrorCommand),

    /// Registries dockerd reaches without TLS verification (daemon.json insecure-registries)
    #[command(
        subcommand,
        after_help = "Examples:
  sudo regctl insecure add registry.lan:5000 && sudo regctl daemon reload
  sudo regctl insecure add 10.0.0.0/8 --check --diff
  regctl insecure list -o json"
    )]
    Insecure(InsecureCommand),

    /// Read, edit, validate and reload dockerd's daemon.json
    #[command(
        subcommand,
        after_help = "Examples:
  regctl daemon show
  sudo regctl daemon set max-concurrent-downloads 10 --diff && sudo regctl daemon reload
  regctl daemon validate --daemon-config ./daemon.json"
    )]
    Daemon(DaemonCommand),

    /// Print the shell code that completes regctl commands and registry names
    #[command(after_help = "Examples:
  source <(regctl completions bash)                 # in ~/.bashrc
  regctl completions zsh > \"${fpath[1]}/_regctl\"
  regctl completions fish > ~/.config/fish/completions/regctl.fish")]
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },

    /// Write man pages (regctl.1 and one per subcommand) into a directory
    #[command(after_help = "Examples:
  sudo regctl man /usr/local/share/man/man1
  regctl man ./man && man -l man/regctl.1")]
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },

    /// Trust a registry's CA (and client certificate) in certs.d: the fix for "x509: certificate
    /// signed by unknown authority"
    #[command(
        override_usage = "regctl trust-ca [OPTIONS] <REGISTRY> <CA_FILE | --from-server [--fingerprint SHA256]>
       regctl trust-ca [OPTIONS] <REGISTRY> [CA_FILE] --client-cert FILE --client-key FILE
       regctl trust-ca [OPTIONS] <REGISTRY> <CA_FILE | --from-server> --system
       regctl trust-ca [OPTIONS] <REGISTRY> --remove [--system]",
        after_help = "Examples:
  regctl trust-ca registry.example.com:5000 ca.pem
  regctl trust-ca registry.example.com --from-server --fingerprint 3F:A1:...:9C
  regctl trust-ca registry.example.com --from-server --fingerprint 3F:A1:...:9C --with-realm --realm-fingerprint 77:0B:...:E1
  regctl trust-ca registry.example.com ca.pem --client-cert me.cert --client-key me.key --containers
  regctl trust-ca registry.example.com:5000 --remove --check
  sudo regctl trust-ca auth.example.com ca.pem --system --diff"
    )]
    TrustCa(TrustCaArgs),

    /// Registry certificates in certs.d
    #[command(
        subcommand,
        after_help = "Examples:
  regctl certs list
  regctl certs list registry.example.com:5000 -o json"
    )]
    Certs(CertsCommand),

    /// Log in to a registry: check the credentials against it, then store them where docker,
    /// skopeo and podman look (credHelpers > credsStore > plain-text auths)
    ///
    /// Amazon ECR registries (ACCOUNT.dkr.ecr.REGION.amazonaws.com, public.ecr.aws) need no
    /// password: regctl mints 12-hour tokens from your AWS credentials, found in the AWS CLI's
    /// order (environment keys; AWS_PROFILE or --profile in ~/.aws/credentials and ~/.aws/config
    /// with role_arn, web identity, IAM Identity Center (after aws sso login) or
    /// credential_process; AWS_WEB_IDENTITY_TOKEN_FILE; the ECS / EKS Pod Identity container
    /// endpoint; the EC2 instance role) and, by default, points credHelpers at
    /// docker-credential-regctl, which mints a new token before the cached one ends.
    ///
    /// The check goes through dockerd's proxy, as `docker login`'s does (dockerd checks the
    /// credentials): daemon.json "proxies", else docker.service drop-ins, else the shell's
    /// HTTPS_PROXY / HTTP_PROXY / NO_PROXY (never for loopback); `regctl doctor` names the same
    /// proxy. AWS calls for ECR follow the shell's proxy variables, as the AWS CLI does.
    #[command(after_help = "Examples:
  regctl login registry.example.com -u alice
  printf '%s' \"$TOKEN\" | regctl login ghcr.io -u alice --password-stdin --store keychain
  regctl login 10.0.0.5:5000 -u ci --password-stdin --store file -o json < pw.txt
  regctl login registry.example.com -u alice --store helper:pass
  regctl login 123456789012.dkr.ecr.eu-west-1.amazonaws.com
  regctl login 123456789012.dkr.ecr.eu-west-1.amazonaws.com --profile prod
  aws sso login --profile dev && regctl login 123456789012.dkr-ecr.eu-west-1.on.aws --profile dev
  regctl login ecr-proxy.internal:5000 --ecr --region us-east-1 -o json")]
    Login(LoginArgs),

    /// Log out: erase a registry's credentials from its credential store and from config.json
    #[command(after_help = "Examples:
  regctl logout registry.example.com
  regctl logout --all --check")]
    Logout {
        /// Registry: host[:port], a URL, or docker.io (the default)
        #[arg(value_name = "REGISTRY", conflicts_with = "all", add = ArgValueCompleter::new(crate::candidates::registry_candidates))]
        registry: Option<String>,
        /// Every registry known from auths and credHelpers
        #[arg(long)]
        all: bool,
    },

    /// Stored registry credentials: list them, move plain-text ones into the keychain
    #[command(
        subcommand,
        after_help = "Examples:
  regctl creds list
  regctl creds migrate --to keychain --check
  regctl creds list -o json | jq '.credentials[]'"
    )]
    Creds(CredsCommand),

    /// Serve the Docker credential-helper protocol from the OS keychain (this is what
    /// docker-credential-regctl runs; docker calls it through credHelpers)
    #[command(after_help = "Examples:
  echo registry.example.com | regctl credential-helper get
  regctl credential-helper list
  ln -s \"$(command -v regctl)\" ~/.local/bin/docker-credential-regctl")]
    CredentialHelper {
        /// The protocol's action
        #[arg(value_name = "ACTION", value_enum)]
        action: HelperAction,
    },
}

/// The credential-helper protocol's actions (store and get read stdin, as docker sends them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HelperAction {
    Store,
    Get,
    Erase,
    List,
    Version,
}

/// `--timeout SECS`: a number of seconds above 0 and at most 3600 (fractions allowed), parsed
/// once into a Duration; anything else is a usage error.
pub fn timeout_secs(text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(std::time::Duration::from_secs_f64(secs)),
        _ => Err("a number of seconds above 0 and at most 3600".to_string()),
    }
}

/// `regctl trust-ca`: what to trust, where from.
#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("what")
        .required(true)
        .multiple(true)
        .args(["ca_file", "from_server", "client_cert", "remove"])
))]
pub struct TrustCaArgs {
    /// The registry as image names spell it: HOST[:PORT] (the port is part of the folder name)
    #[arg(add = ArgValueCompleter::new(crate::candidates::registry_candidates))]
    pub registry: String,

    /// The CA certificate: a PEM bundle or DER file
    #[arg(value_name = "CA_FILE", conflicts_with_all = ["from_server", "remove"])]
    pub ca_file: Option<PathBuf>,

    /// Take the CA from the chain the registry presents (asks on a terminal; otherwise needs
    /// --fingerprint)
    #[arg(long, conflicts_with = "remove")]
    pub from_server: bool,

    /// The SHA-256 fingerprint the presented CA must have, checked out of band
    #[arg(long, value_name = "SHA256", requires = "from_server")]
    pub fingerprint: Option<String>,

    /// Also trust the registry's token realm when it is on another host that dockerd would not
    /// trust, where the detected dockerd looks: the classic image store sends the token request
    /// with this registry's certs.d folder (realm-ca.crt there), the containerd image store with
    /// the system roots only (the OS trust store, as --system; then restart dockerd)
    #[arg(long, requires = "from_server")]
    pub with_realm: bool,

    /// The SHA-256 fingerprint the realm's CA must have (same rules as --fingerprint)
    #[arg(long, value_name = "SHA256", requires = "with_realm")]
    pub realm_fingerprint: Option<String>,

    /// Client certificate for registries that require one (written as client.cert)
    #[arg(
        long,
        value_name = "FILE",
        requires = "client_key",
        conflicts_with = "remove"
    )]
    pub client_cert: Option<PathBuf>,

    /// Its unencrypted private key (written as client.key, mode 0600)
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,

    /// Remove regctl's files for this registry (and the folder when nothing else is left)
    #[arg(long)]
    pub remove: bool,

    /// Also write (or remove) the same files for podman and skopeo (--containers-certs-dir)
    #[arg(long)]
    pub containers: bool,

    /// Also write (or remove) them for containerd (--containerd-certs-dir); a hosts.toml
    /// there, or in certs.d, gets ca = "ca.crt"
    #[arg(long)]
    pub containerd: bool,

    /// Accept an expired or not yet valid certificate
    #[arg(long, conflicts_with = "remove")]
    pub force: bool,

    /// Install the CA into the OS trust store instead of certs.d (Debian/Ubuntu:
    /// /usr/local/share/ca-certificates + update-ca-certificates; Fedora/RHEL:
    /// /etc/pki/ca-trust/source/anchors + update-ca-trust). dockerd reads it only at start; it
    /// reaches what certs.d does not (the containerd image store's token requests, curl). With
    /// --remove, removes only the file regctl added.
    #[arg(long, conflicts_with_all = ["client_cert", "containers"])]
    pub system: bool,

    /// Where the OS trust store's paths start for --system (a test root stands in for the
    /// system's /usr/local/share/ca-certificates, /etc/ssl/certs, ...) [default: /]
    #[arg(long, env = "REGCTL_SYSTEM_TRUST_ROOT", value_name = "DIR")]
    pub system_trust_root: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Each registry folder with its files, subjects, expiry and problems
    #[command(after_help = "Examples:
  regctl certs list
  regctl certs list registry.example.com:5000 -o json
  regctl certs list --containers
  regctl certs list --containerd ghcr.io")]
    List {
        /// Only this registry (HOST[:PORT])
        #[arg(add = ArgValueCompleter::new(crate::candidates::registry_candidates))]
        registry: Option<String>,
        /// List podman/skopeo's certs.d (--containers-certs-dir) instead of docker's
        #[arg(long, conflicts_with = "containerd")]
        containers: bool,
        /// List containerd's hosts directory (--containerd-certs-dir) instead of docker's
        #[arg(long)]
        containerd: bool,
    },
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Registry: host[:port], a URL, or docker.io (the default)
    #[arg(value_name = "REGISTRY", add = ArgValueCompleter::new(crate::candidates::registry_candidates))]
    pub registry: Option<String>,

    /// Username (prompted for on a terminal when missing)
    #[arg(short, long)]
    pub username: Option<String>,

    /// Password or token (insecure: it shows up in the process list and shell history)
    #[arg(short, long, conflicts_with = "password_stdin")]
    pub password: Option<String>,

    /// Read the password or token from stdin (one trailing newline is removed)
    #[arg(long)]
    pub password_stdin: bool,

    /// Where to keep the secret: auto (credHelpers/credsStore if configured, else the OS
    /// keychain when reachable, else plain text), file, keychain, or helper:NAME
    #[arg(long, default_value = "auto", value_name = "STORE")]
    pub store: crate::creds::ops::login::StoreChoice,

    /// Store the credentials without checking them against the registry (an ECR login always
    /// asks AWS for a token, which checks the AWS credentials)
    #[arg(long)]
    pub no_verify: bool,

    /// Seconds the check against the registry (and its token server) may take in all
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = timeout_secs)]
    pub timeout: std::time::Duration,

    /// Log in to Amazon ECR with AWS credentials even though the name is not ECR's own (a VPC
    /// endpoint, a proxy); ECR names are recognised without it
    #[arg(long, help_heading = "Amazon ECR", conflicts_with_all = ["username", "password", "password_stdin"])]
    pub ecr: bool,

    /// The AWS profile whose credentials mint ECR tokens [default: AWS_PROFILE, else "default"]
    #[arg(long, value_name = "PROFILE", help_heading = "Amazon ECR", conflicts_with_all = ["username", "password", "password_stdin"])]
    pub profile: Option<String>,

    /// The AWS region of the ECR API [default: the registry name's, else AWS_REGION, else the
    /// profile's]
    #[arg(long, value_name = "REGION", help_heading = "Amazon ECR", conflicts_with_all = ["username", "password", "password_stdin"])]
    pub region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CredsCommand {
    /// Every registry with stored credentials: where they are and the username, never the secret
    #[command(after_help = "Examples:
  regctl creds list
  regctl creds list -o json | jq '.credentials[] | select(.plaintext)'")]
    List,
    /// Move plain-text credentials from config.json into the keychain (credHelpers -> regctl)
    #[command(after_help = "Examples:
  regctl creds migrate --to keychain --check
  regctl creds migrate --to keychain --diff
  regctl creds migrate --to keychain -o json")]
    Migrate {
        /// The destination store
        #[arg(long, value_enum)]
        to: MigrateTarget,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MigrateTarget {
    Keychain,
}

/// Which programs' files a mirror or insecure-registry change goes to. Without any, dockerd's.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct Targets {
    /// dockerd: with --for, <certs-dir>/<REGISTRY>/hosts.toml (read by dockerd 28+ with the
    /// containerd image store); otherwise daemon.json [default]
    #[arg(long)]
    pub docker: bool,
    /// containerd: <containerd-certs-dir>/<REGISTRY>/hosts.toml (CRI with config_path, ctr
    /// --hosts-dir, nerdctl)
    #[arg(long)]
    pub containerd: bool,
    /// podman, skopeo, buildah: <registries-conf-d>/50-regctl.conf (the main registries.conf
    /// is never rewritten)
    #[arg(long)]
    pub containers: bool,
}

#[derive(Debug, Subcommand)]
pub enum MirrorCommand {
    /// Add mirrors: for Docker Hub in daemon.json, or for any registry (--for) as hosts.toml
    /// and registries.conf.d
    ///
    /// With --for, each mirror becomes a [host."URL"] table with capabilities = ["pull",
    /// "resolve"] in the registry's hosts.toml (server = the registry), tried in order before
    /// the registry; a CA and client pair regctl installed for the mirror's host (trust-ca) are
    /// named in its table. --containers writes [[registry]] location = REGISTRY with
    /// [[registry.mirror]] entries.
    #[command(after_help = "Examples:
  regctl mirror add https://mirror.gcr.io
  regctl mirror add http://10.0.0.5:5000 --diff
  regctl mirror add https://m1.example.com https://m2.example.com -o json
  regctl mirror add https://mirror.internal:6000 --for registry.example.com:5000
  regctl mirror add https://mirror.internal --for ghcr.io --containerd --containers --diff")]
    Add {
        /// Mirror URL: http(s)://HOST[:PORT] (a path only for dockerd 25.0 and later)
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
        /// The registry the mirrors stand in for (HOST[:PORT] as image names spell it, or
        /// docker.io) [default: Docker Hub, in daemon.json]
        #[arg(long = "for", value_name = "REGISTRY", add = ArgValueCompleter::new(crate::candidates::registry_candidates))]
        registry: Option<String>,
        #[command(flatten)]
        targets: Targets,
        /// Do not verify the mirror's TLS certificate (hosts.toml skip_verify = true)
        #[arg(long)]
        skip_verify: bool,
    },
    /// Remove mirrors (removing the last one leaves an empty list, so a reload clears it)
    #[command(after_help = "Examples:
  regctl mirror remove https://mirror.gcr.io
  regctl mirror remove https://mirror.gcr.io --check -o json
  regctl mirror remove https://mirror.internal --for ghcr.io --containerd --containers")]
    Remove {
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
        /// The registry the mirrors stand in for [default: Docker Hub, in daemon.json]
        #[arg(long = "for", value_name = "REGISTRY", add = ArgValueCompleter::new(crate::candidates::registry_candidates))]
        registry: Option<String>,
        #[command(flatten)]
        targets: Targets,
    },
    /// List mirrors: daemon.json's, every hosts.toml's (docker and containerd) and
    /// registries.conf.d's
    ///
    /// With --probe, each Docker Hub mirror of daemon.json is tested instead (DNS, TCP, TLS,
    /// /v2/, and whether it serves the probe image's manifest) and listed fastest first with
    /// its verdict (live, slow, not a mirror, dead) and fix, then what dockerd does with the
    /// list: it tries the mirrors in order, then Docker Hub itself.
    #[command(after_help = "Examples:
  regctl mirror list
  regctl mirror list -o json | jq '.hosts[] | {registry, mirrors}'
  regctl mirror list --probe
  regctl mirror list --probe --probe-image library/busybox:latest -o json | jq '.mirrors[] | {url, verdict, latency_ms}'")]
    List {
        /// Test each Docker Hub mirror and list them fastest first
        #[arg(long)]
        probe: bool,
        /// The image a mirror must serve (HEAD of its manifest)
        #[arg(long, value_name = "IMAGE", requires = "probe", default_value = crate::doctor::mirror::DEFAULT_PROBE_IMAGE)]
        probe_image: String,
        /// Seconds each network phase of a probe may take
        #[arg(long, value_name = "SECS", requires = "probe", default_value = "10", value_parser = timeout_secs)]
        timeout: std::time::Duration,
    },
}

#[derive(Debug, Subcommand)]
pub enum InsecureCommand {
    /// Add insecure registries: host[:port] or a CIDR (daemon.json); host[:port] with
    /// --containerd (an http:// host in hosts.toml) or --containers (insecure = true)
    #[command(after_help = "Examples:
  regctl insecure add registry.local:5000
  regctl insecure add 10.0.0.0/8 --diff
  regctl insecure add registry.local:5000 --containerd --containers")]
    Add {
        #[arg(required = true, value_name = "HOST|CIDR")]
        entries: Vec<String>,
        #[command(flatten)]
        targets: Targets,
    },
    /// Remove insecure registries
    #[command(after_help = "Examples:
  regctl insecure remove registry.local:5000
  regctl insecure remove 10.0.0.0/8 --check -o json
  regctl insecure remove registry.local:5000 --containerd")]
    Remove {
        #[arg(required = true, value_name = "HOST|CIDR")]
        entries: Vec<String>,
        #[command(flatten)]
        targets: Targets,
    },
    /// List insecure registries (127.0.0.0/8 and ::1/128 are always insecure too)
    #[command(after_help = "Examples:
  regctl insecure list
  regctl insecure list -o json | jq -r '.insecure_registries[]'")]
    List,
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Print daemon.json
    #[command(after_help = "Examples:
  regctl daemon show
  regctl daemon show -o json | jq .config")]
    Show,
    /// Print one key's value as JSON (nested keys with dots: log-opts.max-size)
    #[command(after_help = "Examples:
  regctl daemon get registry-mirrors
  regctl daemon get log-opts.max-size")]
    Get { key: String },
    /// Set a key to a JSON value, checked against dockerd's options
    #[command(after_help = "Examples:
  regctl daemon set max-concurrent-downloads 10
  regctl daemon set log-level debug
  regctl daemon set log-opts '{\"max-size\": \"10m\"}' --diff")]
    Set {
        key: String,
        /// A JSON value; for a key that holds a string, bare text is taken as that string
        #[arg(value_name = "JSON_VALUE", allow_hyphen_values = true)]
        value: String,
        /// Set a key dockerd does not know (it will refuse to start)
        #[arg(long)]
        force: bool,
    },
    /// Remove a key
    #[command(after_help = "Examples:
  regctl daemon unset debug
  regctl daemon unset log-opts.max-size --diff")]
    Unset { key: String },
    /// Check daemon.json as dockerd would at start-up (exit 1 on problems); the rules are those
    /// of the dockerd on PATH (or --dockerd-version) and its image store, and the report says
    /// which
    #[command(after_help = "Examples:
  regctl daemon validate
  regctl daemon validate --dockerd-version 20.10
  regctl daemon validate -o json")]
    Validate,
    /// Send SIGHUP to dockerd so it reloads daemon.json, and say what needs a restart instead
    #[command(after_help = "Examples:
  sudo regctl daemon reload
  regctl daemon reload --pidfile /run/user/1000/docker.pid")]
    Reload {
        /// dockerd's pidfile [default: /var/run/docker.pid; rootless: $XDG_RUNTIME_DIR/docker.pid]
        #[arg(long, value_name = "FILE")]
        pidfile: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Registries as you would type them (host, host:port, URL, docker.io); default: every
    /// registry named in config.json and daemon.json
    #[arg(value_name = "REGISTRY", add = ArgValueCompleter::new(crate::candidates::registry_candidates))]
    pub registries: Vec<String>,

    /// Seconds each network phase (DNS, TCP, TLS handshake, HTTP) may take
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = timeout_secs)]
    pub timeout: std::time::Duration,

    /// Explain a pasted docker/containerd error (offline): likely causes, checks and fixes
    #[arg(long, value_name = "ERROR TEXT", conflicts_with = "registries")]
    pub explain: Option<String>,

    /// The image a Docker Hub mirror must serve to count as one (HEAD of its manifest)
    #[arg(long, value_name = "IMAGE", default_value = crate::doctor::mirror::DEFAULT_PROBE_IMAGE)]
    pub probe_image: String,
}
