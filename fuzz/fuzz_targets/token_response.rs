//! A token server's answer (`registry::token::token_from`): status and body from a possibly
//! hostile server. Invariants, checked against an independent reading of the body with
//! serde_json: no panic; 401/403 is a refusal, other non-200 statuses a token-server error; a 200
//! body is accepted exactly when it is a JSON object whose `token` (else `access_token`) is a
//! non-empty string of visible ASCII, and then that is the token, `expires_in` is at least 60 and
//! is the body's value when that is a larger integer; every error message is one line without
//! control characters (it is printed to terminals and logs) and never holds the token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regctl::registry::client::RegistryError;
use regctl::registry::token::token_from;
use serde_json::Value;
use url::Url;

const STATUSES: [u16; 8] = [200, 200, 200, 200, 401, 403, 404, 500];

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(first) % STATUSES.len()];
    let realm = Url::parse("https://auth.example.com/token").unwrap();
    let result = token_from(&realm, status, body);

    let json: Option<Value> = serde_json::from_slice(body).ok();
    let text = |k: &str| {
        json.as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let expected = text("token").or_else(|| text("access_token"));
    match result {
        Ok(token) => {
            assert_eq!(status, 200);
            assert_eq!(Some(token.token.as_str()), expected);
            assert!(token.token.bytes().all(|b| b.is_ascii_graphic()));
            assert!(token.expires_in >= 60);
            if let Some(n) = json.as_ref().and_then(|v| v["expires_in"].as_u64()) {
                assert_eq!(token.expires_in, n.max(60));
            }
        }
        Err(e) => {
            match (status, &e) {
                (401 | 403, RegistryError::Unauthorized { .. }) => {}
                (404 | 500, RegistryError::TokenServer { .. }) => {}
                (200, RegistryError::BadTokenResponse { .. }) => {
                    if let Some(t) = expected {
                        assert!(
                            !t.bytes().all(|b| b.is_ascii_graphic()),
                            "a usable token {t:?} was refused: {e}"
                        );
                    }
                }
                _ => panic!("status {status} gave {e:?}"),
            }
            let message = e.to_string();
            assert!(
                !message.chars().any(char::is_control),
                "control characters in {message:?}"
            );
            if status == 200 {
                if let Some(t) = expected.filter(|t| t.len() >= 8) {
                    assert!(!message.contains(t), "the token is echoed in {message:?}");
                }
            }
        }
    }
});
