//! The registry client's credential guard, seen from the network: credentials answered with a
//! redirect to another host are not followed there.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::assert_refused;
use crate::support::creds::{login_bob_unverified, login_stdin, write_config};
use crate::support::TestEnv;

/// A plain HTTP server on loopback answering every request with `respond(request_text)`;
/// returns its port and a request counter.
fn serve(respond: impl Fn(&str) -> String + Send + 'static) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let n = conn.read(&mut buf).unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !text.starts_with("GET ") && !text.starts_with("POST ") {
                continue; // a TLS hello: not HTTP, hang up
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = conn.write_all(respond(&text).as_bytes());
        }
    });
    (port, count)
}

#[test]
fn credentials_do_not_follow_a_redirect_to_another_host() {
    let env = TestEnv::new();
    let (other, other_hits) = serve(|_| {
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_string()
    });
    let (port, _) = serve(move |req| {
        if req.to_ascii_lowercase().contains("\r\nauthorization:") {
            format!("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{other}/v2/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        } else {
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
        }
    });
    let state = write_config(&env, "{}\n");
    let host = format!("127.0.0.1:{port}");
    let run = login_stdin(&env, &host, "bob", "pw", &["--store", "file"]);
    assert_refused(
        &run,
        &[&format!("redirected to http://127.0.0.1:{other}/v2/")],
        &env.client_config_path(),
        &state,
    );
    assert_eq!(
        other_hits.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    // --no-verify stores without contacting the registry at all.
    let run = login_bob_unverified(&env, &host, &["--store", "file"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
