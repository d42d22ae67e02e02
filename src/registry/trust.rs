//! dockerd's trust for one registry: the system roots plus `certs.d/<host:port>/*.crt`, and the
//! client pair `*.cert`/`*.key` from the same folder (moby `ReadCertsDirectory`), decided the way
//! Go decides. Where webpki and Go differ, Go wins, because that is what docker does: a
//! certificate that is itself in the trusted pool (the self-signed CA:TRUE server certificate
//! `openssl req -x509` makes, placed in certs.d) is accepted, where webpki would refuse a CA used
//! as an end entity.

use crate::files::bounded;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: missing key {key} (CA certificates must use the extension .crt)")]
    MissingKey { path: PathBuf, key: PathBuf },
    #[error("{path}: missing client certificate {cert} for the key")]
    MissingCert { path: PathBuf, cert: PathBuf },
    #[error("{path}: the client certificate or key is unusable: {detail}")]
    BadClientPair { path: PathBuf, detail: String },
}

/// Why docker would refuse a registry's certificate chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustFailure {
    /// `x509: certificate signed by unknown authority`.
    UnknownAuthority {
        issuer: String,
        subject: String,
    },
    /// `x509: certificate is valid for ..., not HOST` (or relies on the legacy Common Name).
    HostnameMismatch {
        valid_for: Vec<String>,
        legacy_cn: bool,
    },
    /// `x509: certificate has expired or is not yet valid` (expired side).
    Expired {
        not_after: i64,
    },
    NotYetValid {
        not_before: i64,
    },
    Other(String),
}

/// How the chain was trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trusted {
    /// A chain to a root in the system store or in certs.d.
    Chain,
    /// The server's own certificate is in certs.d (Go accepts it; webpki would not).
    LeafInPool,
}

/// Trust material for one registry.
#[derive(Debug, Clone)]
pub struct HostTrust {
    roots: Arc<RootCertStore>,
    /// The DER of every trusted certificate, for Go's "the certificate is itself trusted" rule.
    pool: Vec<Vec<u8>>,
    /// CA files read from certs.d.
    pub ca_files: Vec<PathBuf>,
    /// `(certificate chain, key)` from certs.d.
    client: Option<Arc<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>>,
    pub client_files: Option<(PathBuf, PathBuf)>,
}

impl HostTrust {
    /// System roots plus the folder `certs_dir/<host_port>` (which may not exist).
    pub fn load(certs_dir: &Path, host_port: &str) -> Result<HostTrust, TrustError> {
        let mut roots = RootCertStore::empty();
        let mut pool = Vec::new();
        for cert in rustls_native_certs::load_native_certs().certs {
            pool.push(cert.as_ref().to_vec());
            let _ = roots.add(cert);
        }
        let dir = certs_dir.join(host_port);
        let mut trust = HostTrust {
            roots: Arc::new(RootCertStore::empty()),
            pool: Vec::new(),
            ca_files: Vec::new(),
            client: None,
            client_files: None,
        };
        let entries = match fs::read_dir(&dir) {
            Ok(e) => {
                let mut v: Vec<PathBuf> = e.flatten().map(|e| e.path()).collect();
                v.sort();
                v
            }
            Err(_) => Vec::new(),
        };
        for path in &entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.ends_with(".crt") {
                let bytes = bounded::read_file(path, bounded::limits::PEM).map_err(|source| {
                    TrustError::Read {
                        path: path.clone(),
                        source,
                    }
                })?;
                // Like Go's AppendCertsFromPEM: what does not parse is skipped.
                for cert in CertificateDer::pem_slice_iter(&bytes).flatten() {
                    pool.push(cert.as_ref().to_vec());
                    let _ = roots.add(cert);
                }
                trust.ca_files.push(path.clone());
            } else if let Some(stem) = name.strip_suffix(".cert") {
                let key = dir.join(format!("{stem}.key"));
                if !key.exists() {
                    return Err(TrustError::MissingKey {
                        path: path.clone(),
                        key,
                    });
                }
                trust.load_client_pair(path, &key)?;
            } else if let Some(stem) = name.strip_suffix(".key") {
                let cert = dir.join(format!("{stem}.cert"));
                if !cert.exists() {
                    return Err(TrustError::MissingCert {
                        path: path.clone(),
                        cert,
                    });
                }
            }
        }
        trust.roots = Arc::new(roots);
        trust.pool = pool;
        Ok(trust)
    }

    fn load_client_pair(&mut self, cert: &Path, key: &Path) -> Result<(), TrustError> {
        let bad = |detail: String| TrustError::BadClientPair {
            path: cert.to_path_buf(),
            detail,
        };
        let cert_bytes =
            bounded::read_file(cert, bounded::limits::PEM).map_err(|source| TrustError::Read {
                path: cert.to_path_buf(),
                source,
            })?;
        let key_bytes =
            bounded::read_file(key, bounded::limits::PEM).map_err(|source| TrustError::Read {
                path: key.to_path_buf(),
                source,
            })?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if chain.is_empty() {
            return Err(bad("no certificate".into()));
        }
        let key_der = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| bad(e.to_string()))?;
        // moby uses the first pair it finds.
        if self.client.is_none() {
            self.client = Some(Arc::new((chain, key_der)));
            self.client_files = Some((cert.to_path_buf(), key.to_path_buf()));
        }
        Ok(())
    }

    /// The client certificate chain and key from certs.d, for a TLS handshake.
    pub fn client_auth(&self) -> Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        self.client
            .as_deref()
            .map(|(chain, key)| (chain.clone(), key.clone_key()))
    }

    /// Verifies a presented chain (leaf first) for `hostname` at `now`, as Go would.
    pub fn verify(
        &self,
        chain: &[Vec<u8>],
        hostname: &str,
        now: UnixTime,
    ) -> Result<Trusted, TrustFailure> {
        let Some(leaf) = chain.first() else {
            return Err(TrustFailure::Other(
                "the server presented no certificate".into(),
            ));
        };
        if self.pool.iter().any(|c| c == leaf) {
            return check_leaf_alone(leaf, hostname, now.as_secs() as i64)
                .map(|_| Trusted::LeafInPool);
        }
        let verifier = self.webpki_verifier();
        let end_entity = CertificateDer::from(leaf.as_slice());
        let intermediates: Vec<CertificateDer<'_>> = chain[1..]
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let name = server_name(hostname)?;
        match verifier.verify_server_cert(&end_entity, &intermediates, &name, &[], now) {
            Ok(_) => Ok(Trusted::Chain),
            Err(rustls::Error::InvalidCertificate(e)) => Err(map_failure(e, leaf, hostname)),
            Err(e) => Err(TrustFailure::Other(e.to_string())),
        }
    }

    fn webpki_verifier(&self) -> Arc<WebPkiServerVerifier> {
        WebPkiServerVerifier::builder_with_provider(
            self.roots.clone(),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap_or_else(|_| {
            // An empty store cannot build a verifier; nothing can verify then.
            WebPkiServerVerifier::builder_with_provider(
                Arc::new(self_signed_placeholder_store()),
                Arc::new(rustls::crypto::ring::default_provider()),
            )
            .build()
            .expect("a store with one anchor builds")
        })
    }

    /// A TLS client configuration with this trust: Go's verification, or none at all for an
    /// insecure registry (dockerd sets InsecureSkipVerify), and the client pair when there is one.
    pub fn client_config(&self, verify: bool) -> Arc<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = Arc::new(ChainVerifier::new(if verify {
            Decision::Go(self.clone())
        } else {
            Decision::Accept
        }));
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match self.client.as_deref() {
            Some((chain, key)) => builder
                .clone()
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .unwrap_or_else(|_| builder.with_no_client_auth()),
            None => builder.with_no_client_auth(),
        };
        Arc::new(config)
    }
}

/// A store that trusts nothing real, for when no roots exist at all.
fn self_signed_placeholder_store() -> RootCertStore {
    RootCertStore {
        roots: vec![rustls::pki_types::TrustAnchor {
            subject: b"\x30\x00".as_slice().into(),
            subject_public_key_info: b"\x30\x00".as_slice().into(),
            name_constraints: None,
        }],
    }
}

fn server_name(hostname: &str) -> Result<ServerName<'static>, TrustFailure> {
    let bare = hostname.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string()).map_err(|e| TrustFailure::Other(format!("{bare}: {e}")))
}

/// Go's checks for a certificate that is itself trusted: validity and the host name.
fn check_leaf_alone(der: &[u8], hostname: &str, now: i64) -> Result<(), TrustFailure> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| TrustFailure::Other(e.to_string()))?;
    let validity = cert.validity();
    if now > validity.not_after.timestamp() {
        return Err(TrustFailure::Expired {
            not_after: validity.not_after.timestamp(),
        });
    }
    if now < validity.not_before.timestamp() {
        return Err(TrustFailure::NotYetValid {
            not_before: validity.not_before.timestamp(),
        });
    }
    let (names, legacy_cn) = cert_names(&cert);
    if names_match(&names, hostname) {
        Ok(())
    } else {
        Err(TrustFailure::HostnameMismatch {
            valid_for: names,
            legacy_cn: legacy_cn && cn_matches(&cert, hostname),
        })
    }
}

/// The names a certificate is valid for (SAN DNS names and IPs), and whether it has no SANs.
fn cert_names(cert: &X509Certificate<'_>) -> (Vec<String>, bool) {
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push(d.to_string()),
                GeneralName::IPAddress(ip) => match ip.len() {
                    4 => names.push(
                        std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).unwrap_or_default())
                            .to_string(),
                    ),
                    16 => names.push(
                        std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).unwrap_or_default())
                            .to_string(),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let no_san = names.is_empty();
    (names, no_san)
}

fn cn_matches(cert: &X509Certificate<'_>, hostname: &str) -> bool {
    cert.subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .any(|cn| names_match(&[cn.to_string()], hostname))
}

/// Go's host name matching: exact (case-insensitive), a leftmost `*` label, or an IP address.
fn names_match(names: &[String], hostname: &str) -> bool {
    let host = hostname
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        if let (Ok(a), Ok(b)) = (
            n.parse::<std::net::IpAddr>(),
            host.parse::<std::net::IpAddr>(),
        ) {
            return a == b;
        }
        match n.strip_prefix("*.") {
            Some(rest) => host
                .split_once('.')
                .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
            None => n.trim_end_matches('.') == host,
        }
    })
}

fn map_failure(e: CertificateError, leaf: &[u8], hostname: &str) -> TrustFailure {
    let parsed = X509Certificate::from_der(leaf).ok().map(|(_, c)| c);
    match e {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            let (issuer, subject) = parsed
                .as_ref()
                .map(|c| (c.issuer().to_string(), c.subject().to_string()))
                .unwrap_or_default();
            TrustFailure::UnknownAuthority { issuer, subject }
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let (names, no_san) = parsed.as_ref().map(cert_names).unwrap_or_default();
            let legacy_cn = no_san && parsed.as_ref().is_some_and(|c| cn_matches(c, hostname));
            TrustFailure::HostnameMismatch {
                valid_for: names,
                legacy_cn,
            }
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            TrustFailure::Expired {
                not_after: parsed
                    .as_ref()
                    .map(|c| c.validity().not_after.timestamp())
                    .unwrap_or_default(),
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            TrustFailure::NotYetValid {
                not_before: parsed
                    .as_ref()
                    .map(|c| c.validity().not_before.timestamp())
                    .unwrap_or_default(),
            }
        }
        // webpki refuses a CA:TRUE certificate as the server's; Go reports an unknown authority
        // unless the certificate itself is trusted (handled before webpki is asked).
        other if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            let (issuer, subject) = parsed
                .as_ref()
                .map(|c| (c.issuer().to_string(), c.subject().to_string()))
                .unwrap_or_default();
            TrustFailure::UnknownAuthority { issuer, subject }
        }
        other => TrustFailure::Other(format!("{other:?}")),
    }
}

/// What a [`ChainVerifier`] does with the chain a server presents.
#[derive(Debug)]
enum Decision {
    /// Go's verdict with this trust.
    Go(HostTrust),
    /// Accept anything (dockerd's InsecureSkipVerify for insecure registries).
    Accept,
    /// Accept, and keep the chain for the caller to judge (trust-ca --from-server, doctor).
    Record(std::sync::Mutex<Option<Vec<Vec<u8>>>>),
}

/// The one rustls verifier regctl uses. Whatever it decides about the chain, the handshake
/// signatures are always checked, so the peer holds the leaf's key.
#[derive(Debug)]
pub struct ChainVerifier {
    decision: Decision,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ChainVerifier {
    fn new(decision: Decision) -> ChainVerifier {
        ChainVerifier {
            decision,
            algorithms: rustls::crypto::ring::default_provider().signature_verification_algorithms,
        }
    }

    /// A verifier that accepts and records the presented chain (read it back with `recorded`).
    pub fn recording() -> ChainVerifier {
        ChainVerifier::new(Decision::Record(std::sync::Mutex::new(None)))
    }

    /// The chain (leaf first) recorded during the handshake, if the server got that far.
    pub fn recorded(&self) -> Option<Vec<Vec<u8>>> {
        match &self.decision {
            Decision::Record(chain) => chain.lock().unwrap_or_else(|p| p.into_inner()).take(),
            _ => None,
        }
    }
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = || -> Vec<Vec<u8>> {
            std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect()
        };
        match &self.decision {
            Decision::Accept => Ok(ServerCertVerified::assertion()),
            Decision::Record(slot) => {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(chain());
                Ok(ServerCertVerified::assertion())
            }
            Decision::Go(trust) => {
                let host = match server_name {
                    ServerName::DnsName(d) => d.as_ref().to_string(),
                    ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
                    _ => String::new(),
                };
                trust
                    .verify(&chain(), &host, now)
                    .map(|_| ServerCertVerified::assertion())
                    .map_err(|f| rustls::Error::General(describe(&f, &host)))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Go's words for a trust failure (what users see from docker).
pub fn describe(f: &TrustFailure, host: &str) -> String {
    match f {
        TrustFailure::UnknownAuthority { issuer, .. } => {
            format!("x509: certificate signed by unknown authority (issuer: {issuer})")
        }
        TrustFailure::HostnameMismatch {
            legacy_cn: true, ..
        } => "x509: certificate relies on legacy Common Name field, use SANs instead".to_string(),
        TrustFailure::HostnameMismatch { valid_for, .. } if valid_for.is_empty() => {
            format!("x509: certificate is not valid for any names, but wanted to match {host}")
        }
        TrustFailure::HostnameMismatch { valid_for, .. } => {
            format!(
                "x509: certificate is valid for {}, not {host}",
                valid_for.join(", ")
            )
        }
        TrustFailure::Expired { .. } | TrustFailure::NotYetValid { .. } => {
            "x509: certificate has expired or is not yet valid".to_string()
        }
        TrustFailure::Other(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_host_name_matching() {
        let names = vec![
            "*.example.com".to_string(),
            "10.0.0.5".to_string(),
            "reg.local".to_string(),
        ];
        assert!(names_match(&names, "a.example.com"));
        assert!(!names_match(&names, "a.b.example.com"));
        assert!(!names_match(&names, "example.com"));
        assert!(names_match(&names, "10.0.0.5"));
        assert!(names_match(&names, "REG.local"));
        assert!(!names_match(&names, "10.0.0.6"));
    }
}
