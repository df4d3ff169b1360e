//! The audit key and its file format.

use audit::{AuditKey, Error};

const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#[test]
fn from_bytes_requires_exactly_32_bytes() {
    assert_eq!(super::key().to_hex(), HEX);
    assert_eq!(AuditKey::from_bytes(&[0; 31]).unwrap_err(), Error::KeyLength(31));
    assert_eq!(AuditKey::from_bytes(&[0; 33]).unwrap_err(), Error::KeyLength(33));
    assert_eq!(AuditKey::from_bytes(&[]).unwrap_err(), Error::KeyLength(0));
}

#[test]
fn from_hex_reads_the_key_file_format() {
    assert_eq!(AuditKey::from_hex(HEX).unwrap().to_hex(), HEX);
    assert_eq!(AuditKey::from_hex(&format!("{HEX}\n")).unwrap().to_hex(), HEX);
    assert_eq!(AuditKey::from_hex(&format!("{HEX}\r\n")).unwrap().to_hex(), HEX);
    assert_eq!(AuditKey::from_hex(&HEX.to_uppercase()).unwrap().to_hex(), HEX);
}

#[test]
fn from_hex_refuses_anything_else() {
    for text in [
        "",
        "\n",
        &HEX[..62],
        &format!("{HEX}00"),
        &format!("{HEX}\n\n"),
        &format!(" {HEX}"),
        &format!("{HEX} "),
        &format!("{}zz", &HEX[..62]),
        &format!("{}é", &HEX[..63]),
    ] {
        assert_eq!(AuditKey::from_hex(text).unwrap_err(), Error::KeyHex, "{text:?}");
    }
}

#[test]
fn debug_does_not_print_the_key() {
    let shown = format!("{:?}", super::key());
    assert_eq!(shown, "AuditKey(<redacted>)");
    assert!(!shown.contains("0001"));
}
