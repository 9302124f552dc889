//! The revocation probe's HTTP fetch against hostile responders, served by
//! a tiny HTTP server inside the test on 127.0.0.1: an endless body, a
//! slow responder, an HTTP error, a redirect and garbage. Each fetch ends
//! within its timeout and size limit, and says why it gave no answer.

use mailaudit::probe::dns::Dns;
use mailaudit::probe::revocation::fetch::{Limits, Request, fetch};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Serves every connection with `answer` (after reading the request).
fn serve(answer: fn(&mut std::net::TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buffer = [0u8; 4096];
                let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
                let _ = stream.read(&mut buffer);
                answer(&mut stream);
            });
        }
    });
    format!("http://{address}/ocsp")
}

fn limits() -> Limits {
    Limits {
        timeout: Duration::from_secs(2),
        ocsp_bytes: 64 * 1024,
        crl_bytes: 128 * 1024,
    }
}

async fn fetch_from(url: &str, request: Request<'_>) -> (Result<Vec<u8>, String>, Duration) {
    let dns = Dns::new(None, Duration::from_secs(1)).expect("resolver");
    let started = Instant::now();
    (fetch(&dns, url, request, limits()).await, started.elapsed())
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_size_limit() {
    let url = serve(|stream| {
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n\r\n");
        let chunk = [0x30u8; 16 * 1024];
        for _ in 0..4096 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let (result, elapsed) = fetch_from(&url, Request::Ocsp(&[0x30, 0x00])).await;
    let error = result.expect_err("no body accepted");
    assert!(error.contains("larger than 65536 bytes"), "{error}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let (result, _) = fetch_from(&url, Request::Crl).await;
    assert!(
        result
            .expect_err("no CRL accepted")
            .contains("larger than 131072 bytes")
    );
}

#[tokio::test]
async fn a_slow_responder_costs_the_timeout_only() {
    let url = serve(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0");
        std::thread::sleep(Duration::from_secs(10));
    });
    let (result, elapsed) = fetch_from(&url, Request::Ocsp(&[0x30, 0x00])).await;
    assert!(result.is_err(), "{result:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[tokio::test]
async fn errors_and_redirects_are_no_answer_and_garbage_is_returned_for_judging() {
    let error = serve(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    });
    let (result, _) = fetch_from(&error, Request::Crl).await;
    assert_eq!(result.expect_err("503"), "HTTP status 503");
    // The certificate names where its status lives: a redirect elsewhere
    // is not followed.
    let redirect = serve(|stream| {
        let _ = stream.write_all(
            b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2/elsewhere\r\nContent-Length: 0\r\n\r\n",
        );
    });
    let (result, _) = fetch_from(&redirect, Request::Crl).await;
    assert_eq!(result.expect_err("302"), "HTTP status 302");
    let garbage = serve(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    });
    let (result, _) = fetch_from(&garbage, Request::Ocsp(&[0x30, 0x00])).await;
    assert_eq!(result.expect("a body"), b"hello");
}

#[tokio::test]
async fn only_http_urls_are_fetched() {
    let (result, _) = fetch_from("https://127.0.0.1:9/ocsp", Request::Crl).await;
    assert!(result.expect_err("https").contains("scheme https"));
    let (result, _) = fetch_from("ldap://127.0.0.1/cn=ca", Request::Crl).await;
    assert!(result.expect_err("ldap").contains("scheme ldap"));
}
