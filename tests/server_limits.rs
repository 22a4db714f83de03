//! The HTTP server against hostile or broken clients, over real TCP on loopback: a client that
//! sends its head slowly is cut off, an oversized body gets a 413 the client can read, an
//! oversized head gets 431, and many clients at once are all served.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use brl::server::limits;
use common::http::{Server, TOKEN};

fn connect(s: &Server) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    c
}

/// Everything the server sends until it closes the connection.
fn read_all(c: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn clients_that_send_their_head_slowly_are_cut_off() {
    let s = Server::with_token();
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..30)
        .map(|_| {
            let mut c = connect(&s);
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .expect("partial head");
            c
        })
        .collect();
    // Each keeps the server waiting for the end of its head: the server closes them all.
    for c in &mut slow {
        let got = read_all(c);
        assert!(!got.contains("200 OK"), "a half head was answered: {got}");
    }
    let took = started.elapsed();
    assert!(
        took >= limits::HEAD_TIMEOUT && took < limits::HEAD_TIMEOUT * 3,
        "closed after {took:?}"
    );
    // The server still answers a well-behaved client.
    let (code, _) = s.get("/healthz");
    assert_eq!(code, 200);
}

#[test]
fn a_ten_megabyte_body_gets_a_413_the_client_reads() {
    let s = Server::with_token();
    for chunked in [false, true] {
        let mut c = connect(&s);
        let size = 10 * 1024 * 1024;
        let head = if chunked {
            format!(
                "POST /trigger/task HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
        } else {
            format!(
                "POST /trigger/task HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
            )
        };
        c.write_all(head.as_bytes()).expect("head");
        let block = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < size {
            let piece = if chunked {
                let mut p = format!("{:x}\r\n", block.len()).into_bytes();
                p.extend_from_slice(&block);
                p.extend_from_slice(b"\r\n");
                p
            } else {
                block.clone()
            };
            c.write_all(&piece)
                .expect("the server keeps reading until the body is sent");
            sent += block.len();
        }
        if chunked {
            c.write_all(b"0\r\n\r\n").expect("last chunk");
        }
        let got = read_all(&mut c);
        assert!(got.starts_with("HTTP/1.1 413"), "chunked={chunked}: {got}");
        assert!(got.contains("larger than 65536 bytes"), "{got}");
    }
    assert!(!s.dir.path().join("logs/tasks.json").exists());
}

#[test]
fn an_oversized_head_gets_431() {
    let s = Server::with_token();
    let mut c = connect(&s);
    let big = "x".repeat(limits::MAX_HEAD_BYTES * 2);
    let req = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    // The server may answer and close before it read everything: the write may fail.
    let _ = c.write_all(req.as_bytes());
    let got = read_all(&mut c);
    assert!(got.starts_with("HTTP/1.1 431"), "{got}");
}

#[test]
fn a_thousand_clients_at_once_are_all_served() {
    let s = Server::with_token();
    let port = s.port;
    let clients: Vec<_> = (0..1000)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                c.set_read_timeout(Some(Duration::from_secs(60)))
                    .expect("timeout");
                c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .expect("request");
                read_all(&mut c)
            })
        })
        .collect();
    let mut ok = 0;
    for t in clients {
        let got = t.join().expect("client thread");
        if got.starts_with("HTTP/1.1 200") {
            ok += 1;
        }
    }
    assert_eq!(ok, 1000);
}

#[test]
fn a_task_title_with_an_escape_sequence_is_refused_with_422() {
    let s = Server::with_token();
    let (code, v) = s.post(
        "/trigger/task",
        Some(TOKEN),
        r#"{"title": "\u001b]0;pwned\u0007\u001b[2Jhello"}"#,
    );
    assert_eq!(code, 422, "{v}");
    assert!(
        common::http::error_of(&v).contains("an escape character (ESC) at character 1"),
        "{v}"
    );
    assert!(!s.dir.path().join("logs/tasks.json").exists());
}
