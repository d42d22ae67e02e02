//! The real distribution registry (Debian's `docker-registry`), started on 127.0.0.1 in a temp
//! dir with optional TLS, htpasswd users, client-certificate auth or token auth; and a test
//! image pushed into it with skopeo, so that `skopeo inspect` has something to read.

use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::netns::NetnsHost;
use super::pki::Pem;
use super::{output_ok, require_tool};

/// Token auth settings (`auth.token` in the registry config).
#[derive(Debug, Clone)]
pub struct TokenAuth {
    pub realm: String,
    pub service: String,
    pub issuer: String,
    /// PEM bundle of the certificates that sign tokens (the x5c chain roots).
    pub root_cert_bundle: String,
}

#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Server certificate and key; plain HTTP when absent.
    pub tls: Option<Pem>,
    /// CA bundle for client certificates (mTLS: `http.tls.clientcas`).
    pub client_ca: Option<String>,
    /// htpasswd users (user, password).
    pub users: Vec<(String, String)>,
    pub token: Option<TokenAuth>,
    /// Pull-through cache of this upstream registry (`proxy.remoteurl`).
    pub proxy_remote: Option<String>,
}

pub struct Registry {
    pub port: u16,
    /// `127.0.0.1:PORT`, the registry as users type it.
    pub host: String,
    pub dir: TempDir,
    pub tls: bool,
    child: Child,
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on 127.0.0.1:port.
pub fn wait_for_port(port: u16, what: &str) {
    wait_for_addr("127.0.0.1", port, what)
}

/// Waits until something accepts connections on ip:port.
pub fn wait_for_addr(ip: &str, port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect((ip, port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what} did not listen on {ip}:{port} within 20 s");
}

impl Registry {
    pub fn start(opts: RegistryOptions) -> Registry {
        Self::start_on(opts, None)
    }

    /// The registry on a test host in its own network namespace, at a non-loopback address.
    pub fn start_in(opts: RegistryOptions, host: &NetnsHost) -> Registry {
        Self::start_on(opts, Some(host))
    }

    fn start_on(opts: RegistryOptions, netns: Option<&NetnsHost>) -> Registry {
        let bin = require_tool("docker-registry");
        let dir = tempfile::Builder::new()
            .prefix("regctl-registry-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        let listen_ip = netns
            .map(|h| h.ip.clone())
            .unwrap_or_else(|| "127.0.0.1".to_string());
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {listen_ip}:{port}\n  secret: regctl-test-secret\n",
            d.join("data").display()
        );
        if let Some(tls) = &opts.tls {
            fs::write(d.join("server.crt"), &tls.cert).unwrap();
            fs::write(d.join("server.key"), &tls.key).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                d.join("server.crt").display(),
                d.join("server.key").display()
            ));
            if let Some(ca) = &opts.client_ca {
                fs::write(d.join("client-ca.crt"), ca).unwrap();
                config.push_str(&format!(
                    "    clientcas:\n      - {}\n",
                    d.join("client-ca.crt").display()
                ));
            }
        }
        if !opts.users.is_empty() {
            let htpasswd = require_tool("htpasswd");
            let file = d.join("htpasswd");
            for (i, (user, pass)) in opts.users.iter().enumerate() {
                let mut cmd = Command::new(&htpasswd);
                cmd.arg("-Bb");
                if i == 0 {
                    cmd.arg("-c");
                }
                output_ok(cmd.arg(&file).arg(user).arg(pass));
            }
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: regctl-test\n    path: {}\n",
                file.display()
            ));
        } else if let Some(t) = &opts.token {
            fs::write(d.join("token-roots.pem"), &t.root_cert_bundle).unwrap();
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                t.realm,
                t.service,
                t.issuer,
                d.join("token-roots.pem").display()
            ));
        }
        if let Some(upstream) = &opts.proxy_remote {
            config.push_str(&format!("proxy:\n  remoteurl: {upstream}\n"));
        }
        fs::write(d.join("config.yml"), &config).unwrap();
        let log = fs::File::create(d.join("registry.log")).unwrap();
        let mut cmd = match netns {
            Some(h) => h.command(&bin.display().to_string()),
            None => Command::new(bin),
        };
        let child = cmd
            .arg("serve")
            .arg(d.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        wait_for_addr(&listen_ip, port, "docker-registry");
        Registry {
            port,
            host: format!("{listen_ip}:{port}"),
            dir,
            tls: opts.tls.is_some(),
            child,
        }
    }

    /// The registry's log, for assertion messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Pushes a tiny image to `repo:tag` with skopeo. `creds` is `user:pass` for an htpasswd
    /// registry; `cert_dir` holds the CA (and client pair) that let skopeo trust it.
    pub fn seed_image(&self, repo: &str, tag: &str, creds: Option<&str>, cert_dir: Option<&Path>) {
        let skopeo = require_tool("skopeo");
        let layout = self.dir.path().join("oci-layout");
        write_oci_layout(&layout, tag);
        let mut cmd = Command::new(skopeo);
        cmd.args(["copy", "--quiet", "--insecure-policy"]);
        if let Some(c) = creds {
            cmd.arg("--dest-creds").arg(c);
        }
        match cert_dir {
            Some(d) => {
                cmd.arg("--dest-cert-dir").arg(d);
            }
            None if !self.tls => {
                cmd.arg("--dest-tls-verify=false");
            }
            None => {}
        }
        cmd.arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.host));
        let out = cmd.env("HOME", self.dir.path()).output().unwrap();
        assert!(
            out.status.success(),
            "skopeo copy failed: {}\nregistry log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal OCI image layout: one empty gzip layer, a config, a manifest, an index.
pub fn write_oci_layout(dir: &Path, tag: &str) {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    // An empty tar archive (two zero blocks), gzip-compressed at store level.
    let tar = vec![0u8; 1024];
    let layer = gzip_store(&tar);
    let layer_digest = sha256_hex(&layer);
    let diff_id = sha256_hex(&tar);
    fs::write(blobs.join(&layer_digest), &layer).unwrap();
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"sha256:{diff_id}\"]}},\"config\":{{}}}}"
    );
    let config_digest = sha256_hex(config.as_bytes());
    fs::write(blobs.join(&config_digest), &config).unwrap();
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:{config_digest}\",\"size\":{}}},\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:{layer_digest}\",\"size\":{}}}]}}",
        config.len(),
        layer.len()
    );
    let manifest_digest = sha256_hex(manifest.as_bytes());
    fs::write(blobs.join(&manifest_digest), &manifest).unwrap();
    let index = format!(
        "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:{manifest_digest}\",\"size\":{},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{tag}\"}}}}]}}",
        manifest.len()
    );
    fs::write(dir.join("index.json"), index).unwrap();
    fs::write(dir.join("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}").unwrap();
}

/// gzip with "stored" (uncompressed) deflate blocks: valid gzip without a compression crate.
fn gzip_store(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(if chunks.peek().is_none() { 1 } else { 0 });
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.write_all(&crc32(data).to_le_bytes()).unwrap();
    out.write_all(&(data.len() as u32).to_le_bytes()).unwrap();
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
