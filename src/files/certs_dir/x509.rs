//! Certificates and keys as certs.d holds them: PEM bundles or DER in, X.509 facts out (subject,
//! issuer, SHA-256 fingerprint, validity, CA or leaf), and the checks moby skips silently (a DER or
//! unparsable `.crt` is ignored by dockerd, so regctl refuses to write one). Pure functions over
//! bytes: no file access, no printing.

use std::fmt;

use base64::Engine as _;
use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::PrivateKeyDer;
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// A SHA-256 fingerprint, shown as openssl does (`AB:CD:...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// Reads what users paste: `AB:CD:..`, `abcd..`, with an optional `sha256:`, `SHA256=` or
    /// openssl's `sha256 Fingerprint=` in front.
    pub fn parse(text: &str) -> Option<Fingerprint> {
        let t = text.trim();
        let t = t.rsplit_once('=').map_or(t, |(_, v)| v);
        let lower = t.to_ascii_lowercase();
        let t = lower.strip_prefix("sha256:").unwrap_or(&lower);
        let hex: String = t
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&colon_hex(&self.0))
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Seconds since the Unix epoch, shown as an RFC 3339 UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The calendar date (`2099-01-01`).
    pub fn date(&self) -> String {
        let (y, m, d) = civil_from_days(self.0.div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.rem_euclid(86_400);
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// What a certificate is, for messages and for the trust rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertKind {
    /// basicConstraints CA:TRUE (this includes `openssl req -x509` self-signed server certificates).
    Ca,
    /// Not a CA, but signed by its own key: usable as its own trust anchor.
    SelfSignedLeaf,
    /// A TLS server certificate issued by some CA.
    ServerLeaf,
    /// A TLS client certificate issued by some CA.
    ClientLeaf,
    /// Another end-entity certificate.
    Leaf,
}

impl CertKind {
    pub fn describe(&self) -> &'static str {
        match self {
            CertKind::Ca => "a CA certificate",
            CertKind::SelfSignedLeaf => "a self-signed certificate",
            CertKind::ServerLeaf => "a server certificate",
            CertKind::ClientLeaf => "a client certificate",
            CertKind::Leaf => "an end-entity certificate",
        }
    }

    /// Whether trusting it alone makes sense: a CA, or a certificate that vouches for itself.
    pub fn is_anchor(&self) -> bool {
        matches!(self, CertKind::Ca | CertKind::SelfSignedLeaf)
    }
}

/// The facts about one certificate that regctl reports and decides on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub sha256: Fingerprint,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub kind: CertKind,
    /// basicConstraints CA:TRUE.
    pub ca: bool,
    /// Signed by its own key (a root, or a self-signed server certificate).
    pub self_signed: bool,
    #[serde(skip)]
    pub der: Vec<u8>,
    #[serde(skip)]
    spki_key: Vec<u8>,
}

/// Validity relative to a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    NotYetValid,
    Expired,
    /// Valid, with this many whole days left.
    Valid {
        days_left: i64,
    },
}

impl CertInfo {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<CertInfo, String> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err(format!("{} bytes follow the certificate", rest.len()));
        }
        Ok(Self::from_parsed(&cert, &der[..der.len() - rest.len()]))
    }

    fn from_parsed(cert: &X509Certificate<'_>, der: &[u8]) -> CertInfo {
        let self_signed = cert.subject().as_raw() == cert.issuer().as_raw()
            && cert.verify_signature(None).is_ok();
        let kind = if cert.is_ca() {
            CertKind::Ca
        } else if self_signed {
            CertKind::SelfSignedLeaf
        } else {
            match cert.extended_key_usage() {
                Ok(Some(eku)) if eku.value.server_auth => CertKind::ServerLeaf,
                Ok(Some(eku)) if eku.value.client_auth => CertKind::ClientLeaf,
                _ => CertKind::Leaf,
            }
        };
        CertInfo {
            subject: name_or_empty(cert.subject().to_string()),
            issuer: name_or_empty(cert.issuer().to_string()),
            sha256: Fingerprint::of(der),
            not_before: Timestamp(cert.validity().not_before.timestamp()),
            not_after: Timestamp(cert.validity().not_after.timestamp()),
            kind,
            ca: cert.is_ca(),
            self_signed,
            der: der.to_vec(),
            spki_key: cert.public_key().subject_public_key.data.to_vec(),
        }
    }

    pub fn validity(&self, now: i64) -> Validity {
        if now < self.not_before.0 {
            Validity::NotYetValid
        } else if now > self.not_after.0 {
            Validity::Expired
        } else {
            Validity::Valid {
                days_left: (self.not_after.0 - now) / 86_400,
            }
        }
    }

    /// One line for people and diffs: fingerprint, subject, expiry.
    pub fn summary(&self) -> String {
        format!(
            "SHA256 {}  {}  ({}, expires {})",
            self.sha256,
            self.subject,
            self.kind.describe(),
            self.not_after.date()
        )
    }

    /// Everything a person compares with what the administrator gave: subject, issuer, SHA-256
    /// fingerprint, validity, and whether it is a CA.
    pub fn details(&self) -> String {
        format!(
            "{}; issuer {}; SHA-256 {}; valid {} to {}; {}",
            self.subject,
            self.issuer,
            self.sha256,
            self.not_before.date(),
            self.not_after.date(),
            if self.ca {
                "a CA".to_string()
            } else {
                format!("not a CA ({})", self.kind.describe())
            }
        )
    }

    pub fn pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }

    fn parsed(&self) -> Option<X509Certificate<'_>> {
        X509Certificate::from_der(&self.der).ok().map(|(_, c)| c)
    }

    /// The "CA Issuers" URLs of its Authority Information Access extension: where the issuing
    /// CA's certificate can be downloaded (RFC 5280 4.2.2.1).
    pub fn ca_issuers_urls(&self) -> Vec<String> {
        use x509_parser::extensions::{GeneralName, ParsedExtension};
        use x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS;
        let Some(cert) = self.parsed() else {
            return Vec::new();
        };
        let mut urls = Vec::new();
        for ext in cert.extensions() {
            if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
                for desc in aia.iter() {
                    if let (true, GeneralName::URI(uri)) = (
                        desc.access_method == OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS,
                        &desc.access_location,
                    ) {
                        urls.push(uri.to_string());
                    }
                }
            }
        }
        urls
    }

    /// Its Authority Key Identifier (the issuing CA's key id), as `AB:CD:...`.
    pub fn authority_key_id(&self) -> Option<String> {
        use x509_parser::extensions::ParsedExtension;
        let cert = self.parsed()?;
        cert.extensions()
            .iter()
            .find_map(|ext| match ext.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    aki.key_identifier.as_ref().map(|k| colon_hex(k.0))
                }
                _ => None,
            })
    }

    /// Whether `issuer` signed this certificate (names match and the signature verifies).
    pub fn issued_by(&self, issuer: &CertInfo) -> bool {
        let (Some(child), Some(parent)) = (self.parsed(), issuer.parsed()) else {
            return false;
        };
        child.issuer().as_raw() == parent.subject().as_raw()
            && child.verify_signature(Some(parent.public_key())).is_ok()
    }
}

/// Bytes as `AB:CD:...`.
fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn name_or_empty(s: String) -> String {
    if s.is_empty() {
        "(empty name)".to_string()
    } else {
        s
    }
}

/// How certificate bytes were encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Pem,
    Der,
}

/// Certificates read from one file or one handshake, in order.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub encoding: Encoding,
    pub certs: Vec<CertInfo>,
}

impl Bundle {
    /// The bundle as certs.d wants it: PEM, one block per certificate, LF line ends.
    pub fn pem(&self) -> String {
        self.certs.iter().map(CertInfo::pem).collect()
    }

    /// One summary line per certificate (for diffs).
    pub fn summary(&self) -> String {
        self.certs.iter().map(|c| c.summary() + "\n").collect()
    }
}

/// Why bytes are not a certificate bundle. Messages complete "FILE ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("is empty")]
    Empty,
    #[error("holds a private key ({label} block); it must hold certificates only, never a key")]
    PrivateKey { label: String },
    #[error("holds a {label} block, not a CERTIFICATE")]
    NotCertificate { label: String },
    #[error("is neither PEM (-----BEGIN CERTIFICATE-----) nor a DER certificate")]
    Garbage,
    #[error("is not valid PEM: {0}")]
    BadPem(String),
    #[error("certificate {index} does not parse as X.509: {detail}")]
    BadCert { index: usize, detail: String },
}

/// The labels of every `-----BEGIN X-----` line, in order.
fn pem_labels(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("-----BEGIN ")?
                .strip_suffix("-----")
                .map(str::to_string)
        })
        .collect()
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Reads a PEM bundle or DER certificate(s). Text around PEM blocks is allowed (as Go allows it);
/// any block that is not a CERTIFICATE is refused. An accepted bundle holds at least one
/// certificate.
pub fn parse_bundle(bytes: &[u8]) -> Result<Bundle, BundleError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(BundleError::Empty);
    }
    if !looks_like_pem(bytes) {
        if bytes.first() != Some(&0x30) {
            return Err(BundleError::Garbage);
        }
        return parse_der_sequence(bytes).map(|certs| Bundle {
            encoding: Encoding::Der,
            certs,
        });
    }
    let labels = pem_labels(bytes);
    if let Some(l) = labels.iter().find(|l| l.contains("PRIVATE KEY")) {
        return Err(BundleError::PrivateKey { label: l.clone() });
    }
    if let Some(l) = labels.iter().find(|l| l.as_str() != "CERTIFICATE") {
        return Err(BundleError::NotCertificate { label: l.clone() });
    }
    let mut certs = Vec::new();
    for (i, section) in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes).enumerate() {
        let (kind, der) = section.map_err(|e| BundleError::BadPem(e.to_string()))?;
        if kind != SectionKind::Certificate {
            return Err(BundleError::NotCertificate {
                label: format!("{kind:?}"),
            });
        }
        certs.push(
            CertInfo::from_der(&der).map_err(|detail| BundleError::BadCert {
                index: i + 1,
                detail,
            })?,
        );
    }
    if certs.is_empty() {
        return Err(BundleError::BadPem(
            "no -----BEGIN CERTIFICATE----- block at the start of a line".into(),
        ));
    }
    if certs.len() != labels.len() {
        return Err(BundleError::BadPem(format!(
            "{} BEGIN lines but {} complete CERTIFICATE blocks",
            labels.len(),
            certs.len()
        )));
    }
    Ok(Bundle {
        encoding: Encoding::Pem,
        certs,
    })
}

/// One or more DER certificates back to back.
fn parse_der_sequence(bytes: &[u8]) -> Result<Vec<CertInfo>, BundleError> {
    let mut certs = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (after, cert) =
            X509Certificate::from_der(rest).map_err(|e| match certs.is_empty() {
                true => BundleError::Garbage,
                false => BundleError::BadCert {
                    index: certs.len() + 1,
                    detail: e.to_string(),
                },
            })?;
        certs.push(CertInfo::from_parsed(
            &cert,
            &rest[..rest.len() - after.len()],
        ));
        rest = after;
    }
    Ok(certs)
}

/// The text of one PEM block, 64 columns, LF line ends.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A private key, checked but never shown: only its type and its public key's fingerprint.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// `RSA`, `ECDSA`, `ED25519`.
    pub algorithm: String,
    /// SHA-256 of the public key's SubjectPublicKeyInfo.
    pub public_sha256: Fingerprint,
    /// The key as PEM, to be written with mode 0600.
    pub pem: String,
    public_key: Vec<u8>,
}

impl KeyInfo {
    /// For diffs and listings: what the key is, never the key.
    pub fn summary(&self) -> String {
        format!(
            "{} private key, public key SHA256 {}",
            self.algorithm, self.public_sha256
        )
    }

    /// Whether this key belongs to the certificate.
    pub fn matches(&self, cert: &CertInfo) -> bool {
        self.public_key == cert.spki_key
    }
}

/// Why bytes are not a usable private key. Messages complete "FILE ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is empty")]
    Empty,
    #[error("is an encrypted private key, which docker cannot use")]
    Encrypted,
    #[error("holds no private key")]
    NoKey,
    #[error("is not a usable private key: {0}")]
    Invalid(String),
}

/// Reads a private key (PKCS#8, PKCS#1 RSA or SEC1 EC; PEM or DER) and derives its public key.
pub fn parse_key(bytes: &[u8]) -> Result<KeyInfo, KeyError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(KeyError::Empty);
    }
    let key = if looks_like_pem(bytes) {
        let labels = pem_labels(bytes);
        let text = String::from_utf8_lossy(bytes);
        if labels.iter().any(|l| l.contains("ENCRYPTED")) || text.contains("Proc-Type: 4,ENCRYPTED")
        {
            return Err(KeyError::Encrypted);
        }
        PrivateKeyDer::from_pem_slice(bytes).map_err(|e| match e {
            rustls_pki_types::pem::Error::NoItemsFound => KeyError::NoKey,
            other => KeyError::Invalid(other.to_string()),
        })?
    } else {
        PrivateKeyDer::try_from(bytes).map_err(|e| KeyError::Invalid(e.to_string()))?
    };
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| KeyError::Invalid(e.to_string()))?;
    let spki = signer
        .public_key()
        .ok_or_else(|| KeyError::Invalid("cannot derive its public key".into()))?;
    let (_, parsed) = SubjectPublicKeyInfo::from_der(spki.as_ref())
        .map_err(|e| KeyError::Invalid(e.to_string()))?;
    let label = match &key {
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    };
    Ok(KeyInfo {
        algorithm: format!("{:?}", signer.algorithm()),
        public_sha256: Fingerprint::of(spki.as_ref()),
        pem: pem_encode(label, key.secret_der()),
        public_key: parsed.subject_public_key.data.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_every_common_spelling() {
        let fp = Fingerprint::of(b"x");
        let shown = fp.to_string();
        assert_eq!(shown.len(), 95);
        for typed in [
            shown.clone(),
            shown.to_lowercase(),
            shown.replace(':', ""),
            format!("sha256:{}", shown.replace(':', "").to_lowercase()),
            format!("sha256 Fingerprint={shown}"),
            format!("SHA256={shown}"),
        ] {
            assert_eq!(Fingerprint::parse(&typed), Some(fp), "{typed}");
        }
        assert_eq!(Fingerprint::parse("AB:CD"), None);
        assert_eq!(Fingerprint::parse(&"zz".repeat(32)), None);
    }

    #[test]
    fn timestamps_are_utc_dates() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(4_070_908_800).to_string(), "2099-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(951_782_400 + 3661).to_string(),
            "2000-02-29T01:01:01Z"
        );
    }

    #[test]
    fn refuses_what_is_not_a_certificate() {
        assert_eq!(parse_bundle(b" \n").unwrap_err(), BundleError::Empty);
        assert_eq!(
            parse_bundle(b"hello world").unwrap_err(),
            BundleError::Garbage
        );
        assert!(matches!(
            parse_bundle(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            Err(BundleError::PrivateKey { .. })
        ));
        assert!(matches!(
            parse_bundle(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
            Err(BundleError::NotCertificate { .. })
        ));
        assert!(matches!(
            parse_bundle(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            Err(BundleError::BadCert { index: 1, .. })
        ));
        assert!(matches!(
            parse_bundle(b"-----BEGIN CERTIFICATE-----\nAAAA\n"),
            Err(BundleError::BadPem(_))
        ));
        assert!(matches!(
            parse_bundle(&[0x30, 0x03, 0x02, 0x01, 0x01]),
            Err(BundleError::Garbage)
        ));
    }

    /// Found by the certs_pem fuzz target: a `-----BEGIN ` inside other text made the input look
    /// like PEM, no block was found, and the empty bundle was accepted (trust-ca wrote an empty
    /// ca.crt; `--client-cert` panicked on the missing first certificate).
    #[test]
    fn a_pem_marker_without_a_block_is_not_an_empty_bundle() {
        for bytes in [
            &b"0-----BEGIN "[..],
            b"x-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"-----BEGIN ",
        ] {
            assert!(
                matches!(parse_bundle(bytes), Err(BundleError::BadPem(_))),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn pem_lines_are_64_columns() {
        let pem = pem_encode("CERTIFICATE", &[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last().unwrap(), &"-----END CERTIFICATE-----");
    }
}
