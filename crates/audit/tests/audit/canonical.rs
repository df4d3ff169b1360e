//! RFC 8785 canonical JSON.

use audit::{Error, canonical_json};
use serde_json::json;

#[test]
fn sorts_keys_by_utf16_code_units_rfc8785_example() {
    // RFC 8785 section 3.2.3: UTF-16 order puts the emoji (a surrogate pair,
    // 0xD83D...) before U+FB33, although UTF-8 byte order would not.
    let value: serde_json::Value = serde_json::from_str(
        r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#,
    )
    .unwrap();
    assert_eq!(
        canonical_json(&value).unwrap(),
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
         \"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\
         \"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    );
}

#[test]
fn escapes_strings_minimally_rfc8785_example() {
    // RFC 8785 section 3.2.2.2, the "string" member.
    let value: serde_json::Value = serde_json::from_str(
        r#"{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#,
    )
    .unwrap();
    assert_eq!(canonical_json(&value).unwrap(), r#"{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"#);
}

#[test]
fn escapes_every_control_character_and_nothing_else() {
    let value = json!("\u{0}\u{8}\t\n\u{b}\u{c}\r\u{1f} \u{7f}\u{2028}é/");
    assert_eq!(canonical_json(&value).unwrap(), "\"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f \u{7f}\u{2028}é/\"");
}

#[test]
fn nests_without_whitespace_and_prints_integers_plainly() {
    let value = json!({
        "b": [1, -2, {"z": 0, "a": u64::MAX}],
        "a": {"y": null, "x": "s"},
        "": true
    });
    assert_eq!(
        canonical_json(&value).unwrap(),
        r#"{"":true,"a":{"x":"s","y":null},"b":[1,-2,{"a":18446744073709551615,"z":0}]}"#
    );
}

#[test]
fn refuses_floats() {
    assert_eq!(canonical_json(&json!({"a": [1.5]})), Err(Error::NonInteger("1.5".into())));
    assert!(canonical_json(&json!(1.0)).is_err());
}
