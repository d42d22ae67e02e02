//! Test certificates made with rcgen: a private CA, server and client leaves signed by it, an
//! expired leaf, the self-signed CA:TRUE leaf that `openssl req -x509` produces, intermediate
//! CAs, and leaves that name their issuer's download URL (AIA "CA Issuers").

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

/// A certificate and its private key, PEM encoded.
#[derive(Debug, Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
    pub der: Vec<u8>,
}

impl Pem {
    /// A rustls server configuration presenting this certificate (TLS servers in the tests).
    pub fn server_config(&self) -> std::sync::Arc<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(self.der.clone())],
            PrivateKeyDer::from_pem_slice(self.key.as_bytes()).unwrap(),
        )
        .unwrap();
        std::sync::Arc::new(config)
    }
}

pub struct TestCa {
    pub name: String,
    pub pem: Pem,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A calendar date: (year, month, day).
pub type Ymd = (i32, u8, u8);

/// The UTC date `days` from today (negative for the past).
pub fn days_from_now(days: i64) -> Ymd {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let date = regctl::files::certs_dir::x509::Timestamp(now + days * 86_400).date();
    let mut parts = date.split('-').map(|p| p.parse::<i32>().unwrap());
    let (y, m, d) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    (y, m as u8, d as u8)
}

/// Validity of a leaf.
#[derive(Debug, Clone, Copy)]
pub enum Validity {
    Current,
    Expired,
    NotYetValid,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        TestCa::with_validity(name, (2024, 1, 1), (2099, 1, 1))
    }

    /// A CA valid between two dates (year, month, day), e.g. expired or expiring soon.
    pub fn with_validity(name: &str, not_before: Ymd, not_after: Ymd) -> TestCa {
        let (params, key) = ca_params(name, not_before, not_after);
        let key_pem = key.serialize_pem();
        let issuer = CertifiedIssuer::self_signed(params, key).unwrap();
        TestCa::from_issuer(name, key_pem, issuer)
    }

    /// An intermediate CA issued by this one; with `ca_issuers_url`, its AIA extension says
    /// where this CA's certificate can be downloaded.
    pub fn intermediate(&self, name: &str, ca_issuers_url: Option<&str>) -> TestCa {
        let (mut params, key) = ca_params(name, (2024, 1, 1), (2099, 1, 1));
        params.custom_extensions = ca_issuers_url.map(aia_extension).into_iter().collect();
        let key_pem = key.serialize_pem();
        let issuer = CertifiedIssuer::signed_by(params, key, &self.issuer).unwrap();
        TestCa::from_issuer(name, key_pem, issuer)
    }

    fn from_issuer(name: &str, key: String, issuer: CertifiedIssuer<'static, KeyPair>) -> TestCa {
        TestCa {
            name: name.to_string(),
            pem: Pem {
                cert: issuer.pem(),
                key,
                der: issuer.der().to_vec(),
            },
            issuer,
        }
    }

    /// A TLS server certificate whose AIA extension says its issuer can be downloaded from
    /// `ca_issuers_url`.
    pub fn server_with_aia(&self, sans: &[&str], ca_issuers_url: &str) -> Pem {
        self.leaf_with(
            sans,
            ExtendedKeyUsagePurpose::ServerAuth,
            Validity::Current,
            vec![aia_extension(ca_issuers_url)],
        )
    }

    /// A TLS server certificate for these names (DNS names or IP addresses).
    pub fn server(&self, sans: &[&str]) -> Pem {
        self.leaf(sans, ExtendedKeyUsagePurpose::ServerAuth, Validity::Current)
    }

    pub fn server_with(&self, sans: &[&str], validity: Validity) -> Pem {
        self.leaf(sans, ExtendedKeyUsagePurpose::ServerAuth, validity)
    }

    /// A TLS client certificate (for mTLS registries).
    pub fn client(&self, cn: &str) -> Pem {
        self.leaf(
            &[cn],
            ExtendedKeyUsagePurpose::ClientAuth,
            Validity::Current,
        )
    }

    fn leaf(&self, sans: &[&str], eku: ExtendedKeyUsagePurpose, validity: Validity) -> Pem {
        self.leaf_with(sans, eku, validity, Vec::new())
    }

    fn leaf_with(
        &self,
        sans: &[&str],
        eku: ExtendedKeyUsagePurpose,
        validity: Validity,
        extensions: Vec<CustomExtension>,
    ) -> Pem {
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, sans.first().copied().unwrap_or("leaf"));
        params.extended_key_usages = vec![eku];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let (nb, na) = match validity {
            Validity::Current => (date_time_ymd(2024, 1, 1), date_time_ymd(2099, 1, 1)),
            Validity::Expired => (date_time_ymd(2020, 1, 1), date_time_ymd(2021, 1, 1)),
            Validity::NotYetValid => (date_time_ymd(2090, 1, 1), date_time_ymd(2099, 1, 1)),
        };
        params.not_before = nb;
        params.not_after = na;
        params.custom_extensions = extensions;
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

/// CA parameters and a new key.
fn ca_params(name: &str, not_before: Ymd, not_after: Ymd) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "regctl tests");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = date_time_ymd(not_after.0, not_after.1, not_after.2);
    (params, KeyPair::generate().unwrap())
}

/// DER of a length.
fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=0x7f => vec![n as u8],
        0x80..=0xff => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend(content);
    out
}

/// authorityInfoAccess (1.3.6.1.5.5.7.1.1) with one id-ad-caIssuers (1.3.6.1.5.5.7.48.2)
/// entry whose location is the URI `url` (GeneralName [6] IA5String).
fn aia_extension(url: &str) -> CustomExtension {
    let ca_issuers_oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut desc = ca_issuers_oid.to_vec();
    desc.extend(der(0x86, url.as_bytes()));
    let content = der(0x30, &der(0x30, &desc));
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], content)
}

/// A self-signed certificate with CA:TRUE that is also the server's certificate, as
/// `openssl req -x509 -newkey ... -addext subjectAltName=...` makes by default.
pub fn self_signed_ca_leaf(sans: &[&str]) -> Pem {
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(
        DnType::CommonName,
        sans.first().copied().unwrap_or("self-signed"),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = date_time_ymd(2024, 1, 1);
    params.not_after = date_time_ymd(2099, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
        der: cert.der().to_vec(),
    }
}
