//! Replays the saved fuzz corpus (`fuzz/corpus/`) through the same harnesses `cargo fuzz` runs,
//! so CI on the stable toolchain checks every input the fuzzer ever kept.

#[path = "../../../../fuzz/src/harness.rs"]
mod harness;

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "empty corpus {}", dir.display());
    out
}

#[test]
fn parse_request_corpus() {
    let schema = dataverse::Schema::standard();
    for (path, bytes) in corpus("parse_request") {
        let result = std::panic::catch_unwind(|| harness::parse_request_harness(&schema, &bytes));
        assert!(result.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn json_corpus() {
    for (path, bytes) in corpus("json") {
        let result = std::panic::catch_unwind(|| harness::json_harness(&bytes));
        assert!(result.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn filter_corpus() {
    let schema = dataverse::Schema::standard();
    for (path, bytes) in corpus("filter") {
        let result = std::panic::catch_unwind(|| harness::filter_harness(&schema, &bytes));
        assert!(result.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn batch_corpus() {
    for (path, bytes) in corpus("batch") {
        let result = std::panic::catch_unwind(|| harness::batch_harness(&bytes));
        assert!(result.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn write_body_corpus() {
    let schema = dataverse::Schema::standard();
    for (path, bytes) in corpus("write_body") {
        let result = std::panic::catch_unwind(|| harness::write_body_harness(&schema, &bytes));
        assert!(result.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn fetchxml_corpus() {
    let schema = dataverse::Schema::standard();
    for (path, bytes) in corpus("fetchxml") {
        let result = std::panic::catch_unwind(|| harness::fetchxml_harness(&schema, &bytes));
        assert!(result.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn sql_corpus() {
    let schema = dataverse::Schema::standard();
    for (path, bytes) in corpus("sql") {
        let result = std::panic::catch_unwind(|| harness::sql_harness(&schema, &bytes));
        assert!(result.is_ok(), "{} panics", path.display());
    }
}
