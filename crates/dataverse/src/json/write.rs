//! Compact JSON output.

use super::{Object, Value};

/// Appends `s` to `out` as a JSON string literal, quotes included.
///
/// Escapes `"` and `\`, and every character below U+0020: as `\b`, `\f`,
/// `\n`, `\r`, `\t` where JSON has a short form, else as `\u00XX` (lowercase
/// hex). Everything else, including `/`, DEL and all non-ASCII characters, is
/// written as is.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    // Most strings need no escape: one branch-free pass over the bytes says so, and the string
    // is copied whole.
    if !s.bytes().fold(false, |any, b| any | (b == b'"') | (b == b'\\') | (b < 0x20)) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut copied = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is the index of an ASCII byte, hence a char boundary, and so is
        // `copied` (0 or one past an earlier ASCII byte): the slice is valid.
        out.push_str(&s[copied..i]);
        copied = i + 1;
        if short.is_empty() {
            out.push_str("\\u00");
            // b < 0x20, so both indices are < 16.
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        } else {
            out.push_str(short);
        }
    }
    out.push_str(&s[copied..]);
    out.push('"');
}

pub(super) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(n.as_str()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(object) => write_object(out, object),
    }
}

pub(super) fn write_object(out: &mut String, object: &Object) {
    out.push('{');
    for (i, (key, value)) in object.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}
