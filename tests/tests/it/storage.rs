use std::{
    process::{Command, Stdio},
    time::Duration,
};

use bytes::Bytes;
use petbridge_domain::{
    DomainError,
    ports::{Storage, storage::S3Location},
};
use petbridge_tests::services::require;

/// A local S3-compatible server (moto's), killed when dropped.
struct FakeS3 {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for FakeS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_installed() -> Option<String> {
    let ok = Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| "python3 -m moto.server".to_owned())
}

async fn start_fake_s3() -> Option<FakeS3> {
    require("an S3-compatible server", moto_installed(), "pip install 'moto[server]'")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new("python3")
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts");
    let fake = FakeS3 { child, endpoint: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(&fake.endpoint).send().await.is_ok() {
            return Some(fake);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the fake S3 server did not start");
}

#[tokio::test]
async fn s3_storage_round_trips_files() {
    petbridge_tests::init();
    let Some(fake) = start_fake_s3().await else { return };
    let bucket = format!("petbridge-{}", uuid::Uuid::new_v4().simple());
    let created = reqwest::Client::new().put(format!("{}/{bucket}", fake.endpoint)).send().await.unwrap();
    assert!(created.status().is_success(), "{}", created.status());

    let storage = Storage::s3(&S3Location {
        bucket,
        region: "us-east-1".into(),
        endpoint: Some(fake.endpoint.clone()),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    })
    .unwrap();
    let key = "practices/a/selfies/b.jpg";
    storage.put(key, Bytes::from_static(b"\xff\xd8 a jpeg")).await.unwrap();
    assert_eq!(storage.get(key).await.unwrap(), Bytes::from_static(b"\xff\xd8 a jpeg"));
    storage.delete(key).await.unwrap();
    assert!(matches!(storage.get(key).await, Err(DomainError::NotFound)));
    assert!(storage.put("../escape", Bytes::new()).await.is_err());
}
