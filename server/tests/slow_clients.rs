//! Slow and greedy clients against the real server loop: a client that trickles its request
//! headers is cut off at the deadline, and past the connection cap new connections wait for a
//! free slot instead of being served (or exhausting the process).

mod common;
use common::TestApp;
use flightdeck::serve::Limits;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEALTH: &[u8] = b"GET /api/health HTTP/1.1\r\nHost: flightdeck\r\n\r\n";

/// Reads until the answer's status line has arrived, or `within` passes.
async fn status_line(tcp: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let deadline = Instant::now() + within;
    while !got.windows(2).any(|w| w == b"\r\n") {
        let mut buf = [0u8; 1024];
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got);
    text.lines().next().map(str::to_string)
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off() {
    let app = TestApp::sqlite().await;
    let url = app
        .serve_tcp_with(Limits {
            header_read_timeout: Duration::from_secs(1),
            max_connections: 100,
            ..Limits::default()
        })
        .await;
    let addr = url.trim_start_matches("http://");
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: flight")
        .await
        .unwrap();
    // Then nothing more: the server closes the connection at the deadline.
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // a 408, then the close
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the connection was still open after 5 s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "cut off too early: {took:?}"
    );

    // A client that sends its request at once is served as before.
    let mut quick = TcpStream::connect(addr).await.unwrap();
    quick.write_all(HEALTH).await.unwrap();
    let line = status_line(&mut quick, Duration::from_secs(5)).await;
    assert_eq!(line.as_deref(), Some("HTTP/1.1 200 OK"));
}

#[tokio::test]
async fn past_the_connection_cap_a_connection_waits_for_a_free_slot() {
    let app = TestApp::sqlite().await;
    let url = app
        .serve_tcp_with(Limits {
            header_read_timeout: Duration::from_secs(30),
            max_connections: 2,
            ..Limits::default()
        })
        .await;
    let addr = url.trim_start_matches("http://");
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(HEALTH).await.unwrap();
        let line = status_line(&mut tcp, Duration::from_secs(5)).await;
        assert_eq!(line.as_deref(), Some("HTTP/1.1 200 OK"));
        held.push(tcp); // kept open (keep-alive)
    }
    // The third is accepted by the kernel but not served while both slots are taken...
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(HEALTH).await.unwrap();
    assert_eq!(
        status_line(&mut third, Duration::from_millis(700)).await,
        None
    );
    // ...and is served as soon as one closes.
    drop(held.pop());
    let line = status_line(&mut third, Duration::from_secs(5)).await;
    assert_eq!(line.as_deref(), Some("HTTP/1.1 200 OK"));
}
