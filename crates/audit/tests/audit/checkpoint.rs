//! Checkpoints: signature, file line format.

use audit::{AuditKey, ChainWriter, Checkpoint, Error};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{at, key};

const HASH: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

#[test]
fn signature_covers_the_documented_message() {
    let checkpoint = Checkpoint::sign(&key(), "gw-1", 42, HASH, at(0));
    let mut mac = Hmac::<Sha256>::new_from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap();
    mac.update(format!("stanchion-checkpoint-v1\ngw-1\n42\n{HASH}\n2026-11-26T10:31:02.123Z").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(checkpoint.signature, expected);
    assert!(checkpoint.verify_signature(&key()));
}

#[test]
fn signature_fails_on_any_change_or_another_key() {
    let checkpoint = Checkpoint::sign(&key(), "gw-1", 42, HASH, at(0));
    let other_key = AuditKey::from_bytes(&[7; 32]).unwrap();
    assert!(!checkpoint.verify_signature(&other_key));
    let changes = [
        Checkpoint { seq: 41, ..checkpoint.clone() },
        Checkpoint { chain_id: "gw-2".into(), ..checkpoint.clone() },
        Checkpoint { hash: HASH.replace('a', "b"), ..checkpoint.clone() },
        Checkpoint { time: at(1), ..checkpoint.clone() },
        Checkpoint { signature: "zz".into(), ..checkpoint.clone() },
    ];
    for changed in changes {
        assert!(!changed.verify_signature(&key()), "{changed:?}");
    }
}

#[test]
fn line_is_compact_json_in_field_order_and_parses_back() {
    let checkpoint = Checkpoint::sign(&key(), "gw-1", 42, HASH, at(0));
    let line = checkpoint.to_line();
    assert_eq!(
        line,
        format!(
            "{{\"chain_id\":\"gw-1\",\"seq\":42,\"hash\":\"{HASH}\",\
             \"time\":\"2026-11-26T10:31:02.123Z\",\"signature\":\"{}\"}}",
            checkpoint.signature
        )
    );
    assert_eq!(Checkpoint::parse_line(&line).unwrap(), checkpoint);
    assert_eq!(Checkpoint::parse_line(&format!("{line}\n")).unwrap(), checkpoint);
}

#[test]
fn parse_line_refuses_bad_lines() {
    let good = Checkpoint::sign(&key(), "gw-1", 42, HASH, at(0));
    assert!(matches!(Checkpoint::parse_line(""), Err(Error::CheckpointLine(_))));
    assert!(matches!(Checkpoint::parse_line("{\"chain_id\":\"gw-1\"}"), Err(Error::CheckpointLine(_))));
    let extra = good.to_line().replace("{\"chain_id\"", "{\"extra\":1,\"chain_id\"");
    assert!(matches!(Checkpoint::parse_line(&extra), Err(Error::CheckpointLine(_))));
    let short = Checkpoint { hash: "abc".into(), ..good.clone() };
    assert_eq!(Checkpoint::parse_line(&short.to_line()), Err(Error::Hex { field: "hash" }));
    let upper = Checkpoint { signature: good.signature.to_uppercase(), ..good };
    assert_eq!(Checkpoint::parse_line(&upper.to_line()), Err(Error::Hex { field: "signature" }));
}

#[test]
fn writer_checkpoints_its_head() {
    let key = key();
    let mut writer = ChainWriter::new(&key, "gw-1");
    assert_eq!(writer.checkpoint(&key, at(0)), None);
    let records = super::chain::build("gw-1", 3);
    writer = ChainWriter::resume("gw-1", 3, &records[2].hash).unwrap();
    let checkpoint = writer.checkpoint(&key, at(5)).unwrap();
    assert_eq!((checkpoint.seq, checkpoint.hash.as_str()), (3, records[2].hash.as_str()));
    assert!(checkpoint.verify_signature(&key));
}
