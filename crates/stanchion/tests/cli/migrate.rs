//! `stanchion migrate [--check]`: a new store has every migration pending, `migrate` applies
//! them, and `--check` reports without changing anything (exit 1 while any is pending).

use crate::harness::cli;

#[test]
fn migrate_check_then_apply() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (code, out) = cli(data, &["migrate", "--check", "--json"]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let total = v["migrations"].as_array().unwrap().len();
    assert!(total >= 3, "{v}");
    assert_eq!(v["pending"].as_u64(), Some(total as u64));
    assert!(!data.join("stanchion.sqlite").exists(), "--check created nothing");

    let (code, out) = cli(data, &["migrate"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with(&format!("Applied {total} migration(s).\n")), "{out}");
    assert!(out.contains("0003 agent limits"), "{out}");
    let (code, out) = cli(data, &["migrate", "--check"]);
    assert_eq!((code, out.lines().last()), (0, Some("The store is up to date.")));
    let (code, out) = cli(data, &["migrate"]);
    assert_eq!((code, out.lines().last()), (0, Some("The store is up to date.")));
}
