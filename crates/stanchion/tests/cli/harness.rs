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
    pub admin_url: String,
    pub emulator_url: String,
    pub json: Option<serde_json::Value>,
    pub stderr_path: std::path::PathBuf,
}

/// Starts `stanchion ARGS` with every listener on port 0 and waits for its `listening` line.
pub fn start(data_dir: &Path, args: &[&str], json_line: bool) -> Running {
    start_with_env(data_dir, args, json_line, &[])
}

/// Like [`start`], with these environment variables set too.
pub fn start_with_env(data_dir: &Path, args: &[&str], json_line: bool, env: &[(&str, &str)]) -> Running {
    let stderr_path = data_dir.join(format!("stderr-{}.log", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(data_dir).unwrap();
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut child = bin()
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("STANCHION_LISTEN_AGENTS", "127.0.0.1:0")
        .env("STANCHION_LISTEN_EMULATOR", "127.0.0.1:0")
        .env("STANCHION_LISTEN_ADMIN", "127.0.0.1:0")
        .env("STANCHION_LOG", "debug")
        .envs(env.iter().copied())
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
    Running {
        agents_url: field("agents"),
        admin_url: field("admin"),
        emulator_url: field("emulator"),
        child,
        json,
        stderr_path,
    }
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

/// A token from the emulator's own token endpoint, with the client written to its data dir.
pub async fn emulator_token(data_dir: &Path, emulator_url: &str) -> String {
    let creds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data_dir.join("emulator/emulator-client.json")).unwrap())
            .unwrap();
    let token: serde_json::Value = http()
        .post(format!("{emulator_url}/tenant/oauth2/v2.0/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}%2F.default",
            creds["client_id"].as_str().unwrap(),
            creds["client_secret"].as_str().unwrap(),
            emulator_url.replace(':', "%3A").replace('/', "%2F")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

/// Runs a real-client scenario script in `e2e/` against a target; asserts it passed and
/// returns its output.
pub fn scenario(program: &str, script: &str, base: &str, token: &str, expect: &str) -> String {
    scenario_with_env(program, script, base, token, expect, &[])
}

/// Like [`scenario`], with these environment variables set too.
pub fn scenario_with_env(
    program: &str,
    script: &str,
    base: &str,
    token: &str,
    expect: &str,
    env: &[(&str, &str)],
) -> String {
    let e2e = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
    let out = Command::new(program)
        .arg(script)
        .current_dir(&e2e)
        .env("DV_BASE", base)
        .env("DV_TOKEN", token)
        .env("DV_EXPECT", expect)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} {expect} against {base}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(", 0 failed"), "{stdout}");
    println!("{script} {expect} against {base}:\n{stdout}");
    stdout
}
