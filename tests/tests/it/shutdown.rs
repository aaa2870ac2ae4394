use std::time::Duration;

use petbridge_tests::spawn_app;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn read_until(stream: &mut tokio::net::TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n =
            tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.expect("an answer").unwrap();
        assert!(n > 0, "connection closed before {needle:?}: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_graceful_shutdown_finishes_the_request_in_flight() {
    let mut app = spawn_app().await;
    app.practice("maple-vets").await;
    let body = r#"{"practice":"maple-vets","username":"admin","password":"correct horse battery staple"}"#;

    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /api/dashboard/v1/auth/login HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\r\n",
        app.address,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server answers 100 Continue once the handler starts reading the body:
    // from here the request is in flight.
    read_until(&mut stream, "100 Continue").await;

    app.begin_shutdown();
    stream.write_all(body.as_bytes()).await.unwrap();
    let response = read_until(&mut stream, "\"token\"").await;
    assert!(response.contains("HTTP/1.1 200 OK"), "{response}");

    tokio::time::timeout(Duration::from_secs(15), app.stopped()).await.expect("the server stops").unwrap();
    assert!(tokio::net::TcpStream::connect(app.address).await.is_err(), "no new connections after shutdown");
}
