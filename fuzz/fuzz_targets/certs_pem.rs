//! certs.d content checks (`regctl::files::certs_dir`): PEM bundles, DER certificates and private
//! keys as `trust-ca`, `certs list` and doctor's lint read them. Invariants: no panic on any bytes;
//! an accepted bundle is non-empty and the PEM regctl would write for it (`Bundle::pem`) reads
//! back to the same certificates; an accepted key's PEM (what regctl writes to client.key) reads
//! back to the same key; the trust checks, summaries and fingerprints work on whatever parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regctl::files::certs_dir::x509::{parse_bundle, parse_key, Encoding, Fingerprint};
use regctl::files::certs_dir::{check_anchor, check_ca_bundle, check_pin, pick_anchor, summarize};

/// 2027-01-15, a fixed "now" so that runs are reproducible.
const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let _ = summarize("ca.crt", data);
    let _ = summarize("client.key", data);

    let bundle = parse_bundle(data).ok();
    if let Some(b) = &bundle {
        assert!(
            !b.certs.is_empty(),
            "an accepted bundle holds a certificate"
        );
        let pem = b.pem();
        let again = parse_bundle(pem.as_bytes())
            .unwrap_or_else(|e| panic!("the PEM regctl writes does not read back: {e}\n{pem}"));
        assert_eq!(again.encoding, Encoding::Pem);
        assert_eq!(
            again.certs, b.certs,
            "the PEM round trip changed the certificates"
        );
        let _ = b.summary();
        for c in &b.certs {
            let _ = c.validity(NOW);
            let _ = c.validity(i64::MIN);
            let _ = c.validity(i64::MAX);
            let _ = check_anchor(c, "fuzz.crt", NOW, false).map_err(|e| e.to_string());
            assert_eq!(Fingerprint::parse(&c.sha256.to_string()), Some(c.sha256));
        }
        let _ = check_ca_bundle(b, "fuzz.crt", NOW, true).map_err(|e| e.to_string());
        let _ = pick_anchor(&b.certs, "registry.example.com").map_err(|e| e.to_string());
        check_pin(
            &b.certs[0],
            "registry.example.com",
            &b.certs[0].sha256.to_string(),
        )
        .expect("a certificate matches its own fingerprint");
    }

    if let Ok(k) = parse_key(data) {
        let again = parse_key(k.pem.as_bytes())
            .unwrap_or_else(|e| panic!("the key PEM regctl writes does not read back: {e}"));
        assert_eq!(again.public_sha256, k.public_sha256);
        assert_eq!(again.algorithm, k.algorithm);
        let _ = k.summary();
        if let Some(b) = &bundle {
            let _ = k.matches(&b.certs[0]);
        }
    }

    if let Some(fp) = Fingerprint::parse(&String::from_utf8_lossy(data)) {
        assert_eq!(Fingerprint::parse(&fp.to_string()), Some(fp));
    }
});
