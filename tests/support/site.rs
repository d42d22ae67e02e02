//! A registry on its own network namespace, reached at a DNS name (`NAME:PORT`) that the test's
//! dockerd or /etc/hosts maps to the namespace's address: the shape the real-Docker tests
//! (docker_real, hosts_files, trust_ca_docker) pull from.

use super::netns::NetnsHost;
use super::pki::TestCa;
use super::registry::{Registry, RegistryOptions};
use super::TestEnv;

/// What a site serves.
pub struct SiteOptions<'a> {
    /// The DNS name its certificate (if any) is for.
    pub dns_name: &'a str,
    /// TLS from a fresh CA named `CA_NAME`; plain HTTP without.
    pub ca_name: Option<&'a str>,
    /// An htpasswd user and password (the seeded image needs them too).
    pub user: Option<(&'a str, &'a str)>,
    /// The repository seeded with tag `v1`.
    pub repo: &'a str,
}

pub struct Site {
    pub host: NetnsHost,
    /// Runs as long as the site.
    _registry: Registry,
    pub ca: Option<TestCa>,
    /// `DNS_NAME:PORT`
    pub name: String,
}

impl Site {
    pub fn start(o: SiteOptions<'_>) -> Site {
        let host = NetnsHost::new();
        let ca = o.ca_name.map(TestCa::new);
        // The chain with its CA, so that `trust-ca --from-server` can take the CA from it.
        let tls = ca.as_ref().map(|ca| {
            let mut chain = ca.server(&[o.dns_name, &host.ip]);
            chain.cert.push_str(&ca.pem.cert);
            chain
        });
        let registry = Registry::start_in(
            RegistryOptions {
                tls,
                users: o
                    .user
                    .map(|(u, p)| vec![(u.to_string(), p.to_string())])
                    .unwrap_or_default(),
                ..Default::default()
            },
            &host,
        );
        let seed = registry.dir.path().join("seed-certs");
        std::fs::create_dir_all(&seed).unwrap();
        if let Some(ca) = &ca {
            std::fs::write(seed.join("ca.crt"), &ca.pem.cert).unwrap();
        }
        let creds = o.user.map(|(u, p)| format!("{u}:{p}"));
        registry.seed_image(
            o.repo,
            "v1",
            creds.as_deref(),
            ca.is_some().then_some(seed.as_path()),
        );
        let name = format!("{}:{}", o.dns_name, registry.port);
        Site {
            host,
            _registry: registry,
            ca,
            name,
        }
    }

    /// The site's CA (it serves TLS).
    pub fn ca(&self) -> &TestCa {
        self.ca.as_ref().expect("a TLS site")
    }

    /// The CA written into the sandbox as `FILE.pem`, as argv for `trust-ca REGISTRY CA_FILE`.
    pub fn ca_file(&self, env: &TestEnv, file: &str) -> String {
        let path = env.path(&format!("{file}.pem"));
        std::fs::write(&path, &self.ca().pem.cert).unwrap();
        path.display().to_string()
    }
}
