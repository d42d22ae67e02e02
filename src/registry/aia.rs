//! Downloads the certificate an AIA "CA Issuers" URL names (RFC 5280 4.2.2.1), for servers that
//! send their own certificate without the intermediate that issued it: `trust-ca --from-server`
//! then can offer the whole chain instead of refusing. Bounded like every other request: one
//! time limit for the whole download, at most `client::MAX_BODY` bytes, no redirects, plain
//! HTTP only (what RFC 5280 describes; an `https` URL would need the trust it is fetched to
//! build). The proxy is the caller's choice (from `Context`), never reqwest's system proxy.

use std::time::Duration;

use reqwest::blocking::Client;
use url::Url;

use super::client::{read_capped, CappedRead, MAX_BODY};
use crate::error_text::chain;

/// The whole download, connect included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum AiaError {
    #[error("the CA Issuers URL {url:?} is not a plain http:// URL regctl can download")]
    Unsupported { url: String },
    #[error("cannot download {url}: {detail}")]
    Fetch { url: String, detail: String },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent more than {} MiB; a certificate is a few KB, so regctl stopped reading", MAX_BODY >> 20)]
    TooLarge { url: String },
}

/// GETs `url` through `proxy` (a proxy URL, or none for a direct connection) within `timeout`
/// and returns the body.
pub fn fetch(url: &str, proxy: Option<&str>, timeout: Duration) -> Result<Vec<u8>, AiaError> {
    let unsupported = || AiaError::Unsupported {
        url: url.to_string(),
    };
    let parsed = Url::parse(url).map_err(|_| unsupported())?;
    if parsed.scheme() != "http" || parsed.host_str().is_none() {
        return Err(unsupported());
    }
    let failed = |e: &dyn std::error::Error| AiaError::Fetch {
        url: url.to_string(),
        detail: chain(e),
    };
    // reqwest needs a process-wide provider even for plain HTTP clients; ours is ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("regctl/", env!("CARGO_PKG_VERSION")));
    if let Some(p) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(p).map_err(|e| failed(&e))?);
    }
    let client = builder.build().map_err(|e| failed(&e))?;
    let resp = client.get(parsed).send().map_err(|e| failed(&e))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(AiaError::Status {
            url: url.to_string(),
            status,
        });
    }
    read_capped(resp).map_err(|e| match e {
        CappedRead::TooLarge => AiaError::TooLarge {
            url: url.to_string(),
        },
        CappedRead::Io(e) => failed(&e),
    })
}
