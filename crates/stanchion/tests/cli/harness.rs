//! Starting the binary on port 0 and reading its first `listening …` line.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stanchion"))
}

pub struct Running {
    pub child: Child,
    pub agents_url: String,
    pub emulator_url: String,
    pub json: Option<serde_json::Value>,
    pub stderr_path: std::path::PathBuf,
}

/// Starts `stanchion ARGS` with every listener on port 0 and waits for its `listening` line.
pub fn start(data_dir: &Path, args: &[&str], json_line: bool) -> Running {
    let stderr_path = data_dir.join(format!("stderr-{}.log", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(data_dir).unwrap();
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut child = bin()
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("STANCHION_LISTEN_AGENTS", "127.0.0.1:0")
        .env("STANCHION_LISTEN_EMULATOR", "127.0.0.1:0")
        .env("STANCHION_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("listening "),
        "first line: {line:?}; stderr: {}",
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    let field =
        |name: &str| line.split_whitespace().find_map(|p| p.strip_prefix(&format!("{name}="))).unwrap_or("").to_owned();
    let json = json_line.then(|| {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        serde_json::from_str(&l).unwrap()
    });
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    Running { agents_url: field("agents"), emulator_url: field("emulator"), child, json, stderr_path }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a CLI command to completion; returns exit code and stdout.
pub fn cli(data_dir: &Path, args: &[&str]) -> (i32, String) {
    let out = bin().args(args).arg("--data-dir").arg(data_dir).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}
