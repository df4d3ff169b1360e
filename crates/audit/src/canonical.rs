//! RFC 8785 (JCS) canonical JSON for an integer-only value model.
//!
//! Audit records hold only strings, integers, bools, nulls, arrays and
//! objects, so the number rules of JCS (ECMAScript float printing) reduce to
//! printing integers plainly, and floats are refused. Integers beyond ±(2^53 − 1)
//! would print differently from a JCS implementation that goes through
//! doubles; audit records never come near that.

use serde_json::Value;

use crate::Error;

/// Serializes `value` as RFC 8785 canonical JSON: object members sorted by the
/// UTF-16 code units of their names, no whitespace, strings escaped minimally
/// (`"`, `\` and control characters below U+0020 only), integers printed
/// plainly.
///
/// Fails with [`Error::NonInteger`] on any number that is not an integer.
pub fn canonical_json(value: &Value) -> Result<String, Error> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut String) -> Result<(), Error> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            if let Some(n) = number.as_u64() {
                out.push_str(&n.to_string());
            } else if let Some(n) = number.as_i64() {
                out.push_str(&n.to_string());
            } else {
                return Err(Error::NonInteger(number.to_string()));
            }
        }
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (index, (name, member)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_value(member, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}
