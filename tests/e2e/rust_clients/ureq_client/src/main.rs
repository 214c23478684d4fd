//! Sends N HTTPS requests with a Bearer token, on one connection.
//! usage: tt-ureq-client ureq|vectored CA_PEM HOST PORT N
//! The token comes from TT_TOKEN (never argv); TT_DELAY_MS: wait first.
//! ureq: ureq's agent (rustls::StreamOwned, Writer::write).
//! vectored: rustls directly, the header block handed over as several
//! slices to Writer::write_vectored.
use std::io::{BufReader, IoSlice, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

fn tls_config(ca: &str) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    let mut rd = BufReader::new(std::fs::File::open(ca).expect("CA file"));
    for der in rustls_pemfile::certs(&mut rd).expect("CA PEM") {
        roots.add(&rustls::Certificate(der)).expect("CA certificate");
    }
    rustls::ClientConfig::builder()
        .with_safe_defaults()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

fn via_ureq(cfg: rustls::ClientConfig, host: &str, port: &str, token: &str, n: u32) {
    let agent = ureq::AgentBuilder::new().tls_config(Arc::new(cfg)).build();
    let url = format!("https://{}:{}/v1/items", host, port);
    for _ in 0..n {
        let resp = agent
            .get(&url)
            .set("Authorization", &format!("Bearer {}", token))
            .call()
            .expect("request");
        let _ = resp.into_string();
    }
}

/* Reads one response with a Content-Length, so the connection can be reused. */
fn read_response<S: Read>(s: &mut S) {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        let k = s.read(&mut b).expect("read");
        assert!(k > 0, "connection closed");
        got.extend_from_slice(&b[..k]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return;
            }
        }
    }
}

fn via_write_vectored(cfg: rustls::ClientConfig, host: &str, port: &str, token: &str, n: u32) {
    let name = host.try_into().expect("server name");
    let mut conn = rustls::ClientConnection::new(Arc::new(cfg), name).expect("connection");
    let mut sock = TcpStream::connect(format!("{}:{}", host, port)).expect("connect");
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).expect("handshake");
    }
    let auth = format!("Authorization: Bearer {}\r\n", token);
    let host_line = format!("Host: {}:{}\r\n", host, port);
    for _ in 0..n {
        let parts = [
            IoSlice::new(b"GET /v1/items HTTP/1.1\r\n"),
            IoSlice::new(host_line.as_bytes()),
            IoSlice::new(auth.as_bytes()),
            IoSlice::new(b"\r\n"),
        ];
        conn.writer().write_vectored(&parts).expect("write_vectored");
        while conn.wants_write() {
            conn.complete_io(&mut sock).expect("send");
        }
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        read_response(&mut tls);
    }
}

/* lets the sensor attach to this new program before its first request */
fn delay() {
    let ms: u64 = std::env::var("TT_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 6 {
        eprintln!("usage: tt-ureq-client ureq|vectored CA_PEM HOST PORT N");
        std::process::exit(2);
    }
    let n: u32 = a[5].parse().expect("N");
    let token = std::env::var("TT_TOKEN").expect("TT_TOKEN");
    delay();
    let cfg = tls_config(&a[2]);
    match a[1].as_str() {
        "ureq" => via_ureq(cfg, &a[3], &a[4], &token, n),
        "vectored" => via_write_vectored(cfg, &a[3], &a[4], &token, n),
        _ => std::process::exit(2),
    }
    println!("sent {}", n);
}
