//! Tests for `dataverse::json`: every error kind with its offset, order and
//! number-text preservation, escapes, a no-panic fuzz loop and a round-trip
//! property (both driven by a small deterministic xorshift generator).

use dataverse::json::JsonErrorKind::*;
use dataverse::json::{JsonError, JsonErrorKind, Limits, Number, Object, Value, parse, parse_with, write_string};

fn err_with(input: &[u8], limits: &Limits) -> (JsonErrorKind, usize) {
    match parse_with(input, limits) {
        Ok(v) => panic!("{:?} parsed as {v:?}", String::from_utf8_lossy(input)),
        Err(JsonError { offset, kind }) => (kind, offset),
    }
}

fn err(input: &[u8]) -> (JsonErrorKind, usize) {
    err_with(input, &Limits::default())
}

fn ok(input: &str) -> Value {
    parse(input.as_bytes()).unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

/// `refused! { input => kind, offset; ... }`: each input (`&str` or byte
/// string) is refused with that kind at that byte offset.
macro_rules! refused {
    ($($input:expr => $kind:expr, $offset:expr;)+) => {
        $(
            let input: &[u8] = AsRef::<[u8]>::as_ref($input);
            assert_eq!(err(input), ($kind, $offset), "{:?}", String::from_utf8_lossy(input));
        )+
    };
}

#[test]
fn invalid_utf8() {
    refused! {
        b"[\"a\xff\"]" => InvalidUtf8, 3;
        b"\xc3" => InvalidUtf8, 0;
        b"\"\xc0\xaf\"" => InvalidUtf8, 1;          // overlong '/'
        b"[\"\xed\xa0\x80\"]" => InvalidUtf8, 2;    // encoded surrogate
        b"\"\xf4\x90\x80\x80\"" => InvalidUtf8, 1;  // above U+10FFFF
    }
}

#[test]
fn byte_order_mark_is_refused() {
    refused! {
        b"\xEF\xBB\xBF{}" => UnexpectedCharacter('\u{feff}'), 0;
        b" \xEF\xBB\xBF{}" => UnexpectedCharacter('\u{feff}'), 1;
    }
}

#[test]
fn unexpected_end() {
    refused! {
        "" => UnexpectedEnd, 0;          "   " => UnexpectedEnd, 3;
        "[" => UnexpectedEnd, 1;         "[1," => UnexpectedEnd, 3;
        "{" => UnexpectedEnd, 1;         "{\"a\"" => UnexpectedEnd, 4;
        "{\"a\":" => UnexpectedEnd, 5;   "{\"a\":1" => UnexpectedEnd, 6;
        "\"abc" => UnexpectedEnd, 4;     "\"ab\\" => UnexpectedEnd, 4;
        "\"\\u12" => UnexpectedEnd, 5;   "\"\\ud800" => UnexpectedEnd, 7;
        "tr" => UnexpectedEnd, 2;        "nul" => UnexpectedEnd, 3;
    }
}

#[test]
fn unexpected_character() {
    refused! {
        "[1 2]" => UnexpectedCharacter('2'), 3;
        "{\"a\" 1}" => UnexpectedCharacter('1'), 5;
        "{\"a\":1 \"b\":2}" => UnexpectedCharacter('"'), 7;
        "{,}" => UnexpectedCharacter(','), 1;
        "{a:1}" => UnexpectedCharacter('a'), 1;
        "[1,]" => UnexpectedCharacter(']'), 3;
        "{\"a\":1,}" => UnexpectedCharacter('}'), 7;
        "[,1]" => UnexpectedCharacter(','), 1;
        "]" => UnexpectedCharacter(']'), 0;
        "'a'" => UnexpectedCharacter('\''), 0;
        "+1" => UnexpectedCharacter('+'), 0;
        ".5" => UnexpectedCharacter('.'), 0;
        "NaN" => UnexpectedCharacter('N'), 0;
        "Infinity" => UnexpectedCharacter('I'), 0;
        "trUe" => UnexpectedCharacter('U'), 2;
        "[nulL]" => UnexpectedCharacter('L'), 4;
        "\u{a0}1" => UnexpectedCharacter('\u{a0}'), 0;  // only 4 whitespace chars
        "\u{c}1" => UnexpectedCharacter('\u{c}'), 0;
        "\u{b}1" => UnexpectedCharacter('\u{b}'), 0;
        "[1x]" => UnexpectedCharacter('x'), 2;
        "[é]" => UnexpectedCharacter('é'), 1;
    }
}

#[test]
fn invalid_number() {
    refused! {
        "01" => InvalidNumber, 0;     "-01" => InvalidNumber, 0;   "00" => InvalidNumber, 0;
        "1." => InvalidNumber, 0;     "1.e5" => InvalidNumber, 0;  "1e" => InvalidNumber, 0;
        "1e+" => InvalidNumber, 0;    "1E-" => InvalidNumber, 0;   "-" => InvalidNumber, 0;
        "--1" => InvalidNumber, 0;    "-a" => InvalidNumber, 0;    "-Infinity" => InvalidNumber, 0;
        "1.5.2" => InvalidNumber, 0;  "1e5e5" => InvalidNumber, 0; "1-2" => InvalidNumber, 0;
        "1+2" => InvalidNumber, 0;    "[1.]" => InvalidNumber, 1;  "[-]" => InvalidNumber, 1;
        "{\"a\":0123}" => InvalidNumber, 5;
    }
    let longest = "9".repeat(Number::MAX_LEN);
    let parsed = ok(&longest);
    assert_eq!(parsed.as_number().map(Number::as_str), Some(&*longest));
    let too_long = format!("[{}]", "9".repeat(Number::MAX_LEN + 1));
    assert_eq!(err(too_long.as_bytes()), (InvalidNumber, 1));
}

#[test]
fn invalid_escape() {
    refused! {
        "\"\\x\"" => InvalidEscape, 1;       "\"ab\\'\"" => InvalidEscape, 3;
        "\"\\U0041\"" => InvalidEscape, 1;   "\"\\u12G4\"" => InvalidEscape, 1;
        "\"\\u 123\"" => InvalidEscape, 1;   "\"\\u12\"" => InvalidEscape, 1;
        "\"\\0\"" => InvalidEscape, 1;       "[\"\\ud800\\u12\"]" => InvalidEscape, 8;
    }
}

#[test]
fn lone_surrogate() {
    refused! {
        "\"\\ud800\"" => LoneSurrogate, 1;          "\"\\udbff\"" => LoneSurrogate, 1;
        "\"\\udc00\"" => LoneSurrogate, 1;          "\"\\udfff\\ud800\"" => LoneSurrogate, 1;
        "\"a\\ud800\\u0041\"" => LoneSurrogate, 2;  "\"\\ud800\\ud800\"" => LoneSurrogate, 1;
        "\"\\ud800\\n\"" => LoneSurrogate, 1;       "\"\\ud800x\"" => LoneSurrogate, 1;
        "{\"k\\uDC00\":1}" => LoneSurrogate, 3;
    }
}

#[test]
fn control_character_in_string() {
    refused! {
        "\"a\nb\"" => ControlCharacterInString, 2;
        "\"\u{0}\"" => ControlCharacterInString, 1;
        "[\"\t\"]" => ControlCharacterInString, 2;
        "{\"\u{1f}\":1}" => ControlCharacterInString, 2;
    }
    // DEL and C1 controls are not below U+0020: allowed raw.
    assert_eq!(ok("\"\u{7f}\u{85}\"").as_str(), Some("\u{7f}\u{85}"));
}

#[test]
fn duplicate_member() {
    refused! {
        r#"{"a":1,"a":2}"# => DuplicateMember("a".into()), 7;
        r#"{"a":1, "\u0061":2}"# => DuplicateMember("a".into()), 8;  // after unescaping
        r#"{"":1,"":2}"# => DuplicateMember(String::new()), 6;
        r#"[{"x":{"y":1,"y":1}}]"# => DuplicateMember("y".into()), 13;
    }
    // Exact comparison: case and normalization differ, so these are distinct.
    let v = ok(r#"{"a":1,"A":2,"é":3,"e\u0301":4}"#);
    assert_eq!(v.as_object().map(Object::len), Some(4));
    // Same name in sibling objects is fine.
    ok(r#"[{"a":1},{"a":2}]"#);
    // Large objects (hash-set path): the duplicate is still found, at its offset.
    let mut text = String::from("{");
    for i in 0..200 {
        text.push_str(&format!("\"k{i}\":{i},"));
    }
    let offset = text.len();
    text.push_str("\"k150\":0}");
    let kind = DuplicateMember("k150".into());
    assert_eq!(err(text.as_bytes()), (kind, offset));
    text.truncate(offset);
    text.push_str("\"k200\":0}");
    assert_eq!(ok(&text).as_object().map(Object::len), Some(201));
}

#[test]
fn too_deep() {
    let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    ok(&nest(64));
    assert_eq!(err(nest(65).as_bytes()), (TooDeep, 64));
    assert_eq!(err(nest(100_000).as_bytes()), (TooDeep, 64));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(65), "}".repeat(65));
    assert_eq!(err(objects.as_bytes()), (TooDeep, 5 * 64));
    let depth = |max_depth| Limits { max_depth, ..Limits::default() };
    assert!(parse_with(b"\"scalar\"", &depth(0)).is_ok());
    assert_eq!(err_with(b" []", &depth(0)), (TooDeep, 1));
    assert!(parse_with(br#"{"a":[1],"b":{}}"#, &depth(2)).is_ok());
    assert_eq!(err_with(br#"{"a":[[1]]}"#, &depth(2)), (TooDeep, 6));
}

#[test]
fn too_large() {
    let small = Limits { max_bytes: 4, ..Limits::default() };
    assert!(parse_with(b"[12]", &small).is_ok());
    assert_eq!(err_with(b"[1,2]", &small), (TooLarge, 4));
    // Checked before UTF-8 or syntax.
    assert_eq!(err_with(b"\xff\xff\xff\xff\xff", &small), (TooLarge, 4));
    let mut big = vec![b' '; Limits::DEFAULT_MAX_BYTES + 1];
    big[0] = b'1';
    assert_eq!(err(&big), (TooLarge, 4 * 1024 * 1024));
    big.pop();
    assert_eq!(ok(std::str::from_utf8(&big).unwrap()), Value::from(1));
}

#[test]
fn trailing_characters() {
    refused! {
        "1 2" => TrailingCharacters, 2;      "{} x" => TrailingCharacters, 3;
        "nulll" => TrailingCharacters, 4;    "\"a\"\"b\"" => TrailingCharacters, 3;
        "[]]" => TrailingCharacters, 2;      "1x" => TrailingCharacters, 1;
        "0x10" => TrailingCharacters, 1;     "true false" => TrailingCharacters, 5;
        "{}\u{0}" => TrailingCharacters, 2;
    }
    assert_eq!(ok(" \t\r\n[ 1 , 2 ] \n\t\r "), ok("[1,2]"));
}

#[test]
fn error_display() {
    let shown = |input: &[u8]| parse(input).unwrap_err().to_string();
    assert_eq!(shown(b"[1,"), "unexpected end of input at byte 3");
    assert_eq!(shown(b"[1 x]"), "unexpected character 'x' at byte 3");
    assert_eq!(shown(br#"{"a\n":1,"a\n":2}"#), r#"duplicate member name "a\n" at byte 9"#);
    let long = "x".repeat(500);
    let message = shown(format!("{{\"{long}\":1,\"{long}\":2}}").as_bytes());
    assert!(message.len() < 120, "{message}");
    let e = JsonError { offset: 7, kind: TooDeep };
    assert_eq!(e.to_string(), "nesting too deep at byte 7");
}

#[test]
fn member_order_is_preserved() {
    let text = r#"{"z":1,"a":{"y":[3,2,1],"b":null},"m":true,"":"e"}"#;
    let v = ok(text);
    let keys: Vec<&str> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["z", "a", "m", ""]);
    assert_eq!(v.to_json(), text);
    assert_eq!(v.to_string(), text);
}

#[test]
fn number_text_is_preserved() {
    let text = r#"{"a":1.50,"b":1e3,"c":-0}"#;
    assert_eq!(ok(text).to_json(), text);
    let spaced = "{ \"a\" : 1.50 ,\n \"b\" : 1e3 , \"c\" : -0 }";
    assert_eq!(ok(spaced).to_json(), text);
    for n in "0 -0 0.0 1E+2 1e-2 -1.25E-007 12345678901234567890123".split(' ') {
        assert_eq!(ok(n).to_json(), n);
    }
    // Equality is text equality.
    assert_ne!(ok("1.0"), ok("1"));
    assert_ne!(ok("0"), ok("-0"));
}

#[test]
fn number_api() {
    let n = |s: &str| Number::parse(s).unwrap_or_else(|| panic!("{s:?}"));
    for bad in ["", " 1", "1 ", "+1", "01", "1.", ".1", "NaN", "Infinity", "-", "1e", "0x1", "1_000"] {
        assert_eq!(Number::parse(bad), None, "{bad:?}");
    }
    assert_eq!(Number::parse(&"1".repeat(Number::MAX_LEN + 1)), None);
    assert_eq!(n("1.50").as_str(), "1.50");
    assert_eq!(n("1.50").to_string(), "1.50");
    assert!(n("-12").is_integer());
    assert!(!n("1.0").is_integer());
    assert!(!n("1e3").is_integer());
    assert_eq!(n("-12").as_i64(), Some(-12));
    assert_eq!(n("-0").as_i64(), Some(0));
    assert_eq!(n("9223372036854775807").as_i64(), Some(i64::MAX));
    assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
    assert_eq!(n("9223372036854775808").as_i64(), None);
    assert_eq!(n("1.0").as_i64(), None);
    assert_eq!(n("1e3").as_i64(), None);
    assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
    assert_eq!(n("-1").as_u64(), None);
    assert_eq!(n("-0").as_u64(), Some(0));
    assert_eq!(n("1.5").as_f64(), Some(1.5));
    assert_eq!(n("-2e3").as_f64(), Some(-2000.0));
    assert_eq!(n("1e400").as_f64(), None);
    assert_eq!(n("1e-400").as_f64(), Some(0.0));
    assert_eq!(Number::from_i64(i64::MIN).as_str(), "-9223372036854775808");
    assert_eq!(Number::from_u64(u64::MAX).as_str(), "18446744073709551615");
    assert_eq!(Number::from_f64(1.5).map(|n| n.to_string()).as_deref(), Some("1.5"));
    assert_eq!(Number::from_f64(f64::NAN), None);
    assert_eq!(Number::from_f64(f64::INFINITY), None);
    for f in [0.0, -0.0, 1.0, 1e300, 1e-7, f64::MAX, f64::MIN_POSITIVE, 5e-324] {
        let num = Number::from_f64(f).unwrap();
        assert_eq!(num.as_f64(), Some(f), "{num}");
    }
}

#[test]
fn unicode_escapes() {
    assert_eq!(ok(r#""\u00e9\u4E2D\ud83d\ude00\u0000""#).as_str(), Some("é中😀\0"));
    assert_eq!(ok(r#""\"\\\/\b\f\n\r\t""#).as_str(), Some("\"\\/\u{8}\u{c}\n\r\t"));
    assert_eq!(ok(r#""\uDBFF\uDFFF""#).as_str(), Some("\u{10FFFF}"));
    assert_eq!(ok("\"raw é 😀\"").as_str(), Some("raw é 😀"));
    // Output: only `"`, `\` and controls are escaped; `/` and non-ASCII as is.
    let v = Value::from("q\"b\\s/é😀\u{1}\u{1f}\u{8}\u{c}\n\r\t\u{7f}");
    assert_eq!(v.to_json(), r#""q\"b\\s/é😀\u0001\u001f\b\f\n\r\t"#.to_owned() + "\u{7f}\"");
    let mut out = String::from(">");
    write_string(&mut out, "");
    assert_eq!(out, ">\"\"");
    assert_eq!(parse(v.to_json().as_bytes()), Ok(v));
}

#[test]
fn object_api() {
    let mut o = Object::new();
    assert!(o.is_empty());
    assert_eq!(o.insert("b", Value::from(1)), None);
    assert_eq!(o.insert("a", Value::from(2)), None);
    assert_eq!(o.insert("c", Value::Null), None);
    assert_eq!(o.insert("b", Value::from(3)), Some(Value::from(1)));
    assert_eq!(o.len(), 3);
    assert_eq!(o.keys().collect::<Vec<_>>(), ["b", "a", "c"]);
    assert_eq!(o.get("b"), Some(&Value::from(3)));
    assert_eq!(o.get("B"), None);
    assert!(o.contains_key("c"));
    assert_eq!(o.remove("a"), Some(Value::from(2)));
    assert_eq!(o.remove("a"), None);
    assert_eq!(o.to_string(), r#"{"b":3,"c":null}"#);
    if let Some(v) = o.get_mut("c") {
        *v = Value::from(true);
    }
    for (_, v) in o.iter_mut() {
        if v.is_null() {
            unreachable!();
        }
    }
    let pairs: Vec<(&str, &Value)> = (&o).into_iter().collect();
    assert_eq!(pairs, [("b", &Value::from(3)), ("c", &Value::from(true))]);
    assert_eq!(o.iter().len(), 2);
    assert_eq!(o.iter().next_back().map(|(k, _)| k), Some("c"));
    let owned: Vec<(String, Value)> = o.clone().into_iter().collect();
    assert_eq!(owned[0].0, "b");
    let rebuilt: Object = owned.into_iter().collect();
    assert_eq!(rebuilt, o);
    let with_dup: Object =
        [("x", 1), ("y", 2), ("x", 3)].into_iter().map(|(k, v)| (k.to_owned(), Value::from(v))).collect();
    assert_eq!(Value::Object(with_dup).to_json(), r#"{"x":3,"y":2}"#);
    // Order matters for equality.
    assert_ne!(ok(r#"{"a":1,"b":2}"#), ok(r#"{"b":2,"a":1}"#));
}

#[test]
fn value_api() {
    let mut v = ok(r#"{"s":"x","n":2,"b":false,"z":null,"a":[1],"o":{}}"#);
    let o = v.as_object().unwrap();
    let kinds: Vec<&str> = o.values().map(Value::kind_name).collect();
    assert_eq!(kinds, ["string", "number", "boolean", "null", "array", "object"]);
    assert_eq!(o.get("s").and_then(Value::as_str), Some("x"));
    assert_eq!(o.get("n").and_then(Value::as_number).and_then(Number::as_i64), Some(2));
    assert_eq!(o.get("b").and_then(Value::as_bool), Some(false));
    assert!(o.get("z").is_some_and(Value::is_null));
    assert_eq!(o.get("a").and_then(Value::as_array).map(<[_]>::len), Some(1));
    assert!(o.get("o").and_then(Value::as_object).is_some());
    assert_eq!(o.get("s").and_then(Value::as_object), None);
    let obj = v.as_object_mut().unwrap();
    obj.get_mut("a").and_then(Value::as_array_mut).unwrap().push(Value::from("two"));
    obj.insert("new", Value::from(-1));
    assert_eq!(v.to_string(), r#"{"s":"x","n":2,"b":false,"z":null,"a":[1,"two"],"o":{},"new":-1}"#);
    assert_eq!("[true]".parse::<Value>(), Ok(Value::from(vec![Value::from(true)])));
    assert_eq!(Value::default(), Value::Null);
    let mut out = String::from("x=");
    Value::Null.write_json(&mut out);
    assert_eq!(out, "x=null");
}

/// Tiny deterministic xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Either parses, or fails; never panics. Whatever parses must re-parse from
/// its own output to the same tree, and that output must be a fixed point.
fn check_no_panic(input: &[u8], limits: &Limits) {
    if let Ok(v) = parse_with(input, limits) {
        let text = v.to_json();
        assert_eq!(parse(text.as_bytes()).as_ref(), Ok(&v), "{text}");
        assert_eq!(parse(text.as_bytes()).map(|w| w.to_json()), Ok(text));
    }
}

#[test]
fn fuzz_random_bytes_never_panic() {
    // Tokens and fragments, `|`-separated: structure, escapes, number parts,
    // literals, whitespace, a BOM, raw controls; the last two are invalid
    // UTF-8 and are only drawn from in a quarter of the inputs (otherwise
    // they would make nearly every input fail the UTF-8 check).
    const ALPHABET: &[u8] = b"{|}|[|]|,|:|\"|\\|u|d8|dc|00|0|1|9|-|+|.|e|E| |\n|\t|true|false|null\
        |\"a\"|\\u|\xc3\xa9|\xef\xbb\xbf|\x00|\x1f|x|\xff|\xf0\x9f";
    let alphabet: Vec<&[u8]> = ALPHABET.split(|&b| b == b'|').collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let limits =
        [Limits::default(), Limits { max_bytes: 16, max_depth: 3 }, Limits { max_bytes: 1 << 20, max_depth: 0 }];
    for i in 0..20_000 {
        let len = rng.below(24);
        let input: Vec<u8> = if i % 4 == 0 {
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            let tokens = &alphabet[..alphabet.len() - if i % 4 == 1 { 0 } else { 2 }];
            (0..len).flat_map(|_| rng.pick(tokens).iter().copied()).collect()
        };
        check_no_panic(&input, rng.pick(&limits));
    }
}

#[test]
fn fuzz_mutated_documents_never_panic() {
    let seeds =
        [r#"{"a":[1,2.5,-3e+4,{"b":null}],"c":"\u00e9\ud83d\ude00\n","d":true}"#, r#"[[[[{"x":[[]]}]]],"",{},0,-0.0]"#];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..20_000 {
        let mut input = rng.pick(&seeds).as_bytes().to_vec();
        for _ in 0..=rng.below(3) {
            let at = rng.below(input.len() + 1);
            match rng.below(3) {
                0 if at < input.len() => input[at] = rng.next() as u8,
                1 if at < input.len() => {
                    input.remove(at);
                }
                _ => input.insert(at, *rng.pick(b"{}[],:\"\\0-.eE \x01")),
            }
        }
        check_no_panic(&input, &Limits::default());
    }
}

fn gen_string(rng: &mut Rng) -> String {
    const PIECES: &str = "a|Z|0| |\"|\\|/|\n|\t|\u{0}|\u{1f}|\u{7f}|é|中|😀|\u{feff}|\u{2028}|\u{10ffff}";
    let pieces: Vec<&str> = PIECES.split('|').collect();
    (0..rng.below(6)).map(|_| *rng.pick(&pieces)).collect()
}

fn gen_number(rng: &mut Rng) -> Number {
    const TEXTS: &str = "0 -0 1 -17 1.50 0.0001 1e3 1E+3 -2.5e-10 123456789012345678901234567890";
    let texts: Vec<&str> = TEXTS.split(' ').collect();
    match rng.below(3) {
        0 => Number::from_i64(rng.next() as i64),
        1 => Number::from_f64(f64::from_bits(rng.next())).unwrap_or(Number::from_u64(7)),
        _ => {
            let text: &&str = rng.pick(&texts);
            Number::parse(text).unwrap()
        }
    }
}

fn gen_value(rng: &mut Rng, depth: usize) -> Value {
    let max_kind = if depth >= 5 { 4 } else { 6 };
    match rng.below(max_kind) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Number(gen_number(rng)),
        3 => Value::String(gen_string(rng)),
        4 => Value::Array((0..rng.below(5)).map(|_| gen_value(rng, depth + 1)).collect()),
        _ => {
            let mut object = Object::new();
            for _ in 0..rng.below(5) {
                object.insert(gen_string(rng), gen_value(rng, depth + 1));
            }
            Value::Object(object)
        }
    }
}

#[test]
fn round_trip_property() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..5_000 {
        let v = gen_value(&mut rng, 0);
        let text = v.to_json();
        assert_eq!(parse(text.as_bytes()).as_ref(), Ok(&v), "{text}");
        assert_eq!(v.to_string(), text);
    }
}
