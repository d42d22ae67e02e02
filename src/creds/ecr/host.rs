//! Which registries are Amazon ECR and what their names say (account, region, FIPS, partition),
//! matching amazon-ecr-credential-helper's host pattern, and where each one's API lives.
//!
//! The pattern (FACTS.md) is matched by hand rather than with the `regex` crate: it is a fixed
//! sequence of literal parts, one digit run and one label, and a dozen lines of code replace a
//! dependency the rest of regctl has no use for. The table test in this file pins it down.

use crate::names::convert_to_hostname;

use super::EcrError;

/// The one ECR Public registry; its API exists only in us-east-1.
pub const PUBLIC_HOST: &str = "public.ecr.aws";
pub const PUBLIC_REGION: &str = "us-east-1";

/// Registry domains (the regex's last group) and the DNS suffix of their partition's API
/// endpoints. The dual-stack `on.aws` names are served by the partition's regular API.
const DOMAINS: &[(&str, &str)] = &[
    ("amazonaws.com", "amazonaws.com"),
    ("amazonaws.com.cn", "amazonaws.com.cn"),
    ("amazonaws.eu", "amazonaws.eu"),
    ("on.aws", "amazonaws.com"),
    ("on.amazonwebservices.com.cn", "amazonaws.com.cn"),
    ("sc2s.sgov.gov", "sc2s.sgov.gov"),
    ("c2s.ic.gov", "c2s.ic.gov"),
    ("cloud.adc-e.uk", "cloud.adc-e.uk"),
    ("csp.hci.ic.gov", "csp.hci.ic.gov"),
];

/// What an ECR registry name says about where its tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrHost {
    /// The registry host name, lower-cased, without scheme, port or path.
    pub hostname: String,
    /// The 12-digit registry id; `None` for ECR Public and for forced custom names.
    pub account: Option<String>,
    /// The region in the name; `None` for a forced custom name.
    pub region: Option<String>,
    /// The name asks for FIPS endpoints (`dkr-ecr-fips` / `dkr.ecr-fips`).
    pub fips: bool,
    /// DNS suffix of the partition's API endpoints; `None` for a forced custom name (then the
    /// region decides).
    pub partition_domain: Option<&'static str>,
    /// ECR Public (`public.ecr.aws`): the `ecr-public` API.
    pub public: bool,
}

/// The two token APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ecr,
    EcrPublic,
}

impl Service {
    /// The SigV4 signing name.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Ecr => "ecr",
            Service::EcrPublic => "ecr-public",
        }
    }

    /// The `X-Amz-Target` of GetAuthorizationToken.
    pub fn target(self) -> &'static str {
        match self {
            Service::Ecr => "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
            Service::EcrPublic => "SpencerFrontendService.GetAuthorizationToken",
        }
    }
}

impl EcrHost {
    /// Recognises an ECR registry as users and docker name it: bare host, `host:port`, or URL.
    pub fn parse(server: &str) -> Result<EcrHost, EcrError> {
        let hostname = bare_hostname(server);
        if hostname == PUBLIC_HOST {
            return Ok(EcrHost {
                hostname,
                account: None,
                region: Some(PUBLIC_REGION.to_string()),
                fips: false,
                partition_domain: Some("amazonaws.com"),
                public: true,
            });
        }
        match match_private(&hostname) {
            Some((account, fips, region, partition_domain)) => Ok(EcrHost {
                account: Some(account.to_string()),
                region: Some(region.to_string()),
                fips,
                partition_domain: Some(partition_domain),
                public: false,
                hostname,
            }),
            None => Err(EcrError::NotEcrHost { host: hostname }),
        }
    }

    /// `--ecr`: treat any name (a VPC endpoint, a proxy) as ECR. A name that is ECR anyway keeps
    /// what it says; any other name has no account (the token is for the caller's own registry)
    /// and takes its region from `--region` or the AWS configuration.
    pub fn forced(server: &str) -> EcrHost {
        EcrHost::parse(server).unwrap_or_else(|_| EcrHost {
            hostname: bare_hostname(server),
            account: None,
            region: None,
            fips: false,
            partition_domain: None,
            public: false,
        })
    }

    /// Whether a registry name is ECR (private or public) by its name alone.
    pub fn is_ecr(server: &str) -> bool {
        EcrHost::parse(server).is_ok()
    }

    pub fn service(&self) -> Service {
        if self.public {
            Service::EcrPublic
        } else {
            Service::Ecr
        }
    }

    /// The DNS suffix of API endpoints for this host in `region`.
    pub fn api_domain(&self, region: &str) -> &'static str {
        self.partition_domain
            .unwrap_or_else(|| partition_domain_of_region(region))
    }

    /// The GetAuthorizationToken endpoint AWS's SDKs use for this host in `region`
    /// (botocore's endpoint rules, checked for every partition).
    pub fn default_endpoint(&self, region: &str) -> String {
        let domain = self.api_domain(region);
        match (self.public, self.fips) {
            (true, _) => format!("https://api.ecr-public.{region}.{domain}"),
            (false, false) => format!("https://api.ecr.{region}.{domain}"),
            // The aws and aws-us-gov partitions name FIPS endpoints differently from the rest.
            (false, true) if domain == "amazonaws.com" => {
                format!("https://ecr-fips.{region}.{domain}")
            }
            (false, true) => format!("https://api.ecr-fips.{region}.{domain}"),
        }
    }
}

/// The partition's API DNS suffix for a region name (for names that do not say it).
pub fn partition_domain_of_region(region: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "amazonaws.com.cn"),
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("us-iso-", "c2s.ic.gov"),
        ("eu-isoe-", "cloud.adc-e.uk"),
        ("eusc-", "amazonaws.eu"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("amazonaws.com", |(_, domain)| domain)
}

/// The host name alone: no scheme, path or port, lower-cased (DNS ignores case).
fn bare_hostname(server: &str) -> String {
    let host = convert_to_hostname(server.trim());
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// `^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(DOMAIN)$` on a lower-cased name:
/// account, FIPS, region and the partition's API domain.
fn match_private(host: &str) -> Option<(&str, bool, &str, &'static str)> {
    let account = host.get(..12)?;
    if !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = host[12..]
        .strip_prefix(".dkr.ecr")
        .or_else(|| host[12..].strip_prefix(".dkr-ecr"))?;
    let (fips, rest) = match rest.strip_prefix("-fips") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (region, domain) = rest.strip_prefix('.')?.split_once('.')?;
    let mut chars = region.bytes();
    let first_ok = chars.next().is_some_and(|b| b.is_ascii_alphanumeric());
    if !first_ok || !chars.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return None;
    }
    let (_, api_domain) = DOMAINS.iter().find(|(d, _)| *d == domain)?;
    Some((account, fips, region, api_domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_scheme_port_and_path() {
        for s in [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com:443",
            "123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM",
        ] {
            let h = EcrHost::parse(s).unwrap();
            assert_eq!(h.hostname, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
            assert_eq!(h.region.as_deref(), Some("us-east-1"));
        }
    }

    #[test]
    fn forced_names_take_the_region_elsewhere() {
        let h = EcrHost::forced("vpce-0abc.dkr.ecr.us-west-2.vpce.amazonaws.com");
        assert_eq!(h.account, None);
        assert_eq!(h.region, None);
        assert_eq!(
            h.default_endpoint("cn-northwest-1"),
            "https://api.ecr.cn-northwest-1.amazonaws.com.cn"
        );
        // A forced name that is ECR anyway keeps its account.
        let h = EcrHost::forced("123456789012.dkr.ecr.eu-west-1.amazonaws.com");
        assert_eq!(h.account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn regions_map_to_partitions() {
        for (region, domain) in [
            ("us-east-1", "amazonaws.com"),
            ("us-gov-west-1", "amazonaws.com"),
            ("cn-north-1", "amazonaws.com.cn"),
            ("us-iso-east-1", "c2s.ic.gov"),
            ("us-isob-east-1", "sc2s.sgov.gov"),
            ("us-isof-south-1", "csp.hci.ic.gov"),
            ("eu-isoe-west-1", "cloud.adc-e.uk"),
            ("eusc-de-east-1", "amazonaws.eu"),
        ] {
            assert_eq!(partition_domain_of_region(region), domain, "{region}");
        }
    }
}
