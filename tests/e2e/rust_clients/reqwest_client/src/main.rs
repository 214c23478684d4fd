//! Sends N HTTPS requests with a Bearer token through reqwest (hyper over
//! tokio-rustls), on one pooled connection.
//! usage: tt-reqwest-client CA_PEM URL N
//! The token comes from TT_TOKEN (never argv); TT_DELAY_MS: wait first.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 4 {
        eprintln!("usage: tt-reqwest-client CA_PEM URL N");
        std::process::exit(2);
    }
    let token = std::env::var("TT_TOKEN").expect("TT_TOKEN");
    let ms: u64 = std::env::var("TT_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    let pem = std::fs::read(&a[1]).expect("CA file");
    let ca = reqwest::Certificate::from_pem(&pem).expect("CA PEM");
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let n: u32 = a[3].parse().expect("N");
    for _ in 0..n {
        let resp = client
            .get(&a[2])
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        let _ = resp.bytes().await;
    }
    println!("sent {}", n);
}
