//! A client generated from each API document by a real generator
//! (openapi-python-client) builds without a warning, and a few calls through
//! it work against the server: what a mobile or integration developer does
//! first with a document.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use petbridge_tests::services::require;

/// openapi-python-client on PATH, with the Python of its environment beside
/// it (which has the generated code's dependencies).
fn generator() -> Option<(PathBuf, PathBuf)> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path).map(|dir| dir.join("openapi-python-client")).find(|p| p.is_file())?;
    let python = found.with_file_name("python3");
    python.is_file().then_some((found, python))
}

/// What the generator printed that says something was left out.
fn warnings(printed: &str) -> Vec<&str> {
    printed
        .lines()
        .filter(|line| {
            ["WARNING", "Warning", "Unable", "Cannot", "Could not", "Unsupported"].iter().any(|w| line.contains(w))
        })
        .collect()
}

fn generate(generator: &Path, document: &Path, into: &Path) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/config.yml");
    let output = Command::new(generator)
        .arg("generate")
        .arg("--path")
        .arg(document)
        .arg("--output-path")
        .arg(into)
        .args(["--meta", "none", "--config"])
        .arg(&config)
        .output()
        .expect("openapi-python-client runs");
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "generating from {}:\n{printed}", document.display());
    assert_eq!(warnings(&printed), Vec::<&str>::new(), "generating from {}:\n{printed}", document.display());
}

#[tokio::test]
async fn clients_generated_from_the_documents_build_cleanly_and_call_the_server() {
    petbridge_tests::init();
    let found = require(
        "openapi-python-client",
        generator().map(|(generator, _)| generator.display().to_string()),
        "pip install openapi-python-client in a virtual environment whose bin is on PATH",
    );
    if found.is_none() {
        return;
    }
    let (generator, python) = generator().expect("found above");
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("pyclinic").await;
    let staff_token = app.login("pyclinic", &fixture.admin).await;
    let owner_token = app.verified_owner("pyclinic", "py.owner@example.com").await;
    let sync_key = app.sync_key(&fixture.practice).await;

    let generated = tempfile::tempdir().expect("a directory for the clients");
    for api in ["app", "dashboard", "sync"] {
        let document = app.client.get(app.url(&format!("/api/{api}/v1/openapi.json"))).send().await.unwrap();
        assert_eq!(document.status(), 200);
        let path = generated.path().join(format!("{api}.json"));
        std::fs::write(&path, document.bytes().await.unwrap()).unwrap();
        generate(&generator, &path, &generated.path().join(format!("{api}_client")));
    }

    let calls = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/calls.py");
    let base = app.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(calls)
            .arg(generated.path())
            .args([&base, &staff_token, &fixture.admin, &owner_token, "py.owner@example.com", &sync_key, "pyclinic"])
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the calls through the generated clients:\n{printed}");
    assert!(printed.contains("7 calls answered as documented"), "{printed}");
}
