//! Zero-copy strings for translating Anthropic JSON: [`Str`] borrows from the input when the
//! JSON text has no escapes, and [`Text`] keeps a JSON string literal still escaped.
//!
//! Claude Code's text (system prompt, messages, tool descriptions, tool results) is full of
//! `\n` and `\"`. A translation only copies most of it, so [`Text`] keeps a JSON string
//! literal as the input wrote it: serde_json checks it without allocating, the output gets the
//! same bytes, and characters are decoded only where a check needs them
//! ([`Text::trimmed_starts_with`]). Texts are joined on their escaped forms ([`join`],
//! [`prefixed`]).
//!
//! Errors must stay those of a plain string field, and serde_json gives those (with their
//! positions) only while decoding. So [`parse`] reads in [`Mode::Raw`] first and, when that
//! fails, reads again in [`Mode::Decoded`], where [`Text`] is a plain decoded string again.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, Visitor};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A string that borrows from the input buffer when the JSON text has no escapes.
///
/// `Cow<str>` only borrows as a direct `#[serde(borrow)]` field; inside `Option` or `Vec` it
/// always allocates. This wrapper borrows wherever it appears.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str<'a>(pub Cow<'a, str>);

impl<'a> Str<'a> {
    /// The string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Str<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// How [`Text`] (and the request's content fields) read JSON strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// String literals stay escaped; arrays of blocks that may hold escaped text are captured
    /// raw and parsed from that capture ([`Mode::Nested`]).
    Raw,
    /// Inside such a second-level parse: content that nests further is refused, which sends
    /// the request to [`Mode::Decoded`]. A second-level parse counts serde_json's depth limit
    /// from zero again; kept this shallow, it can never accept what one parse would refuse
    /// (nor recurse without bound).
    Nested,
    /// Strings decoded as serde_json does for `String` fields, with its exact errors.
    Decoded,
}

thread_local! {
    static MODE: Cell<Mode> = const { Cell::new(Mode::Raw) };
}

/// The current read mode.
pub fn mode() -> Mode {
    MODE.with(Cell::get)
}

/// Runs `f` in `mode`, then restores the previous mode (also if `f` panics).
pub fn in_mode<T>(mode: Mode, f: impl FnOnce() -> T) -> T {
    struct Restore(Mode);
    impl Drop for Restore {
        fn drop(&mut self) {
            MODE.with(|m| m.set(self.0));
        }
    }
    let _restore = Restore(MODE.with(|m| m.replace(mode)));
    f()
}

/// Reads `body` in [`Mode::Raw`]; on failure runs `decoded` in [`Mode::Decoded`], which
/// either succeeds the same way or gives the errors a plain decoding parse gives.
pub fn parse<'a, T: Deserialize<'a>, E>(
    body: &'a [u8],
    decoded: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    match in_mode(Mode::Raw, || serde_json::from_slice(body)) {
        Ok(v) => Ok(v),
        Err(_) => in_mode(Mode::Decoded, decoded),
    }
}

/// The error [`Mode::Raw`] reports for anything it leaves to [`Mode::Decoded`] (the caller
/// never shows it).
pub fn retry_decoded<E: de::Error>() -> E {
    E::custom("not readable without decoding")
}

/// Text read from or written to JSON.
#[derive(Debug, Clone)]
pub enum Text<'a> {
    /// A JSON string literal, quotes and escapes included, written out verbatim.
    Json(Cow<'a, RawValue>),
    /// Decoded text, escaped when written out.
    Plain(Cow<'a, str>),
}

impl<'a> Text<'a> {
    /// Plain text.
    pub fn plain(s: impl Into<Cow<'a, str>>) -> Self {
        Text::Plain(s.into())
    }

    /// A borrowed copy (no allocation, whatever `self` holds).
    pub fn borrowed(&self) -> Text<'_> {
        match self {
            Text::Json(raw) => Text::Json(Cow::Borrowed(raw)),
            Text::Plain(s) => Text::Plain(Cow::Borrowed(s)),
        }
    }

    /// Takes a JSON value read in [`Mode::Raw`]: only a string literal whose `\u` escapes
    /// decode (serde_json skips them without checking surrogate pairs) is kept.
    pub fn from_raw<E: de::Error>(raw: &'a RawValue) -> Result<Self, E> {
        let s = raw.get();
        if !s.starts_with('"') {
            return Err(retry_decoded());
        }
        if may_have_unicode_escape(s.as_bytes()) {
            let mut de = serde_json::Deserializer::from_str(s);
            de::Deserializer::deserialize_str(&mut de, IgnoredAny).map_err(|_| retry_decoded())?;
        }
        Ok(Text::Json(Cow::Borrowed(raw)))
    }

    /// The decoded text: borrowed when plain, unescaped (one allocation) when still JSON.
    pub fn to_plain(&self) -> Cow<'_, str> {
        match self {
            Text::Json(raw) => Cow::Owned(Unescape(contents(raw).chars()).collect()),
            Text::Plain(s) => Cow::Borrowed(s),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        match self {
            Text::Json(raw) => raw.get().len() == 2,
            Text::Plain(s) => s.is_empty(),
        }
    }

    /// `self.trim_start().starts_with(prefix)` on the decoded text, decoding no more of it
    /// than that needs.
    pub fn trimmed_starts_with(&self, prefix: &str) -> bool {
        match self {
            Text::Json(raw) => {
                let mut chars = Unescape(contents(raw).chars()).skip_while(|c| c.is_whitespace());
                prefix.chars().all(|p| chars.next() == Some(p))
            }
            Text::Plain(s) => s.trim_start().starts_with(prefix),
        }
    }

    /// Appends the escaped contents (no quotes).
    fn push_escaped(&self, out: &mut String) {
        match self {
            Text::Json(raw) => out.push_str(contents(raw)),
            Text::Plain(s) => push_escaped_str(s, out),
        }
    }

    /// The escaped contents' length (at least, for plain text), to size joins.
    fn escaped_len_hint(&self) -> usize {
        match self {
            Text::Json(raw) => raw.get().len() - 2,
            Text::Plain(s) => s.len(),
        }
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Text::Json(raw) => raw.serialize(s),
            Text::Plain(text) => s.serialize_str(text),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if mode() == Mode::Decoded {
            let Str(s) = Deserialize::deserialize(d)?;
            return Ok(Text::Plain(s));
        }
        Text::from_raw(<&RawValue>::deserialize(d)?)
    }
}

/// Joins texts with `sep` (plain text). `None` when there is nothing to join; a single text
/// is returned as it is.
pub fn join<'a>(mut texts: Vec<Text<'a>>, sep: &str) -> Option<Text<'a>> {
    if texts.len() <= 1 {
        return texts.pop();
    }
    Some(concat(&texts, sep))
}

/// `prefix` (plain text) followed by `text`.
pub fn prefixed<'a>(prefix: &str, text: Text<'a>) -> Text<'a> {
    concat(&[Text::plain(prefix), text], "")
}

/// Concatenates on the escaped forms: escaped contents joined by the escaped separator are
/// the escaped join, so nothing is decoded.
fn concat<'a>(texts: &[Text<'_>], sep: &str) -> Text<'a> {
    let mut sep_escaped = String::with_capacity(sep.len() + 2);
    push_escaped_str(sep, &mut sep_escaped);
    let len = texts.iter().map(Text::escaped_len_hint).sum::<usize>()
        + sep_escaped.len() * texts.len().saturating_sub(1)
        + 2;
    let mut out = String::with_capacity(len);
    out.push('"');
    for (n, t) in texts.iter().enumerate() {
        if n > 0 {
            out.push_str(&sep_escaped);
        }
        t.push_escaped(&mut out);
    }
    out.push('"');
    let raw = RawValue::from_string(out).expect("escaped contents in quotes are a JSON string");
    Text::Json(Cow::Owned(raw))
}

/// True when `s` has a backslash followed by `u` (an escaped backslash before a `u` counts
/// too, which only costs a needless check). Eight bytes at a time with plain integer ops: the
/// plugin runs as wasm without SIMD, and backslashes (every `\n`) are too frequent for a
/// `memchr` per backslash to pay off.
fn may_have_unicode_escape(s: &[u8]) -> bool {
    const LO: u64 = u64::from_le_bytes([1; 8]);
    const HI: u64 = LO << 7;
    const BACKSLASHES: u64 = LO * b'\\' as u64;
    const US: u64 = LO * b'u' as u64;
    // The high bit of every zero byte of `x`, exactly (no carry crosses bytes).
    let zero_bytes = |x: u64| !(((x & !HI) + !HI) | x) & HI;
    // The high bit of the previous word's last byte when it was a backslash, moved to byte 0.
    let mut carry = 0;
    let mut words = s.chunks_exact(8);
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let b = x ^ BACKSLASHES;
        // Most words hold no backslash; this cheaper test is exact about whether one does.
        if carry == 0 && b.wrapping_sub(LO) & !b & HI == 0 {
            continue;
        }
        let backslash = zero_bytes(b);
        if ((backslash << 8) | carry) & zero_bytes(x ^ US) != 0 {
            return true;
        }
        carry = backslash >> 56;
    }
    let mut after_backslash = carry != 0;
    words.remainder().iter().any(|&b| {
        let hit = after_backslash && b == b'u';
        after_backslash = b == b'\\';
        hit
    })
}

/// The contents of a JSON string literal, without its quotes.
fn contents(raw: &RawValue) -> &str {
    let s = raw.get();
    &s[1..s.len() - 1]
}

/// Appends `s` JSON-escaped, without quotes (serde_json's escaping, so plain and verbatim
/// texts are written the same way).
fn push_escaped_str(s: &str, out: &mut String) {
    let quoted = serde_json::to_string(s).expect("a string always serializes");
    out.push_str(&quoted[1..quoted.len() - 1]);
}

/// The characters of a valid JSON string literal's contents, decoded one at a time.
struct Unescape<'a>(std::str::Chars<'a>);

impl Unescape<'_> {
    fn hex4(&mut self) -> u32 {
        (0..4).fold(0, |n, _| {
            n * 16 + self.0.next().and_then(|c| c.to_digit(16)).unwrap_or(0)
        })
    }
}

impl Iterator for Unescape<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let c = self.0.next()?;
        if c != '\\' {
            return Some(c);
        }
        Some(match self.0.next()? {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let unit = self.hex4();
                let code = if (0xD800..0xDC00).contains(&unit) {
                    // A checked literal has the low half next, as `\uXXXX`.
                    self.0.nth(1);
                    0x10000 + ((unit - 0xD800) << 10) + (self.hex4().wrapping_sub(0xDC00) & 0x3FF)
                } else {
                    unit
                };
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            // `"`, `\` and `/` stand for themselves.
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Text<'_> {
        let raw: &RawValue = serde_json::from_str(json).unwrap();
        Text::from_raw::<serde_json::Error>(raw).unwrap()
    }

    fn decoded(t: &Text) -> String {
        t.to_plain().into_owned()
    }

    #[test]
    fn str_borrows_without_escapes() {
        let s: Vec<Str> = serde_json::from_str(r#"["plain","with\nescape"]"#).unwrap();
        assert!(matches!(s[0].0, Cow::Borrowed("plain")));
        assert!(matches!(&s[1].0, Cow::Owned(o) if o == "with\nescape"));
        let o: Option<Str> = serde_json::from_str(r#""x""#).unwrap();
        assert!(matches!(o, Some(Str(Cow::Borrowed("x")))));
    }

    #[test]
    fn unescape_matches_serde_json() {
        for json in [
            r#""""#,
            r#""plain""#,
            r#""a\nb\t\r\b\f\"\\\/ é \u00e9 \u2028 \ud83d\ude00 \uD83D\uDE00 \u0000\u001f""#,
        ] {
            let expected: String = serde_json::from_str(json).unwrap();
            assert_eq!(decoded(&raw(json)), expected, "{json}");
        }
    }

    #[test]
    fn raw_text_passes_through_and_checks_surrogates() {
        let t = raw(r#""a\n\"b\" \ud83d\ude00""#);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#""a\n\"b\" \ud83d\ude00""#
        );
        for bad in [
            r#""\ud800""#,
            r#""x\udc00y""#,
            r#""\uD83Dx""#,
            "5",
            "null",
            "[]",
        ] {
            let v: &RawValue = serde_json::from_str(bad).unwrap();
            assert!(Text::from_raw::<serde_json::Error>(v).is_err(), "{bad}");
        }
        // An escaped backslash before `ud` is not an escape.
        assert_eq!(decoded(&raw(r#""\\ud800""#)), r"\ud800");
    }

    #[test]
    fn finds_unicode_escapes_at_every_offset() {
        for len in 0..20 {
            for at in 0..len {
                let mut s = vec![b'a'; len];
                s[at] = b'\\';
                assert!(!may_have_unicode_escape(&s), "{len} {at}");
                if at + 1 < len {
                    s[at + 1] = b'u';
                    assert!(may_have_unicode_escape(&s), "{len} {at}");
                    s[at] = b'n';
                    assert!(!may_have_unicode_escape(&s), "{len} {at}");
                }
            }
        }
        assert!(!may_have_unicode_escape(br#""\n \t \" \\ u""#));
    }

    #[test]
    fn checks_on_escaped_text() {
        assert!(raw(r#""""#).is_empty() && !raw(r#""\n""#).is_empty());
        let p = "x-a:";
        for yes in [
            r#""x-a: 1""#,
            r#"" \n\t\u00a0\u2028x-a:""#,
            r#""\u0078-a:""#,
        ] {
            assert!(raw(yes).trimmed_starts_with(p), "{yes}");
        }
        for no in [r#""x-a""#, r#""\bx-a:""#, r#""""#, r#""y x-a:""#] {
            assert!(!raw(no).trimmed_starts_with(p), "{no}");
        }
        assert!(Text::plain("\n x-a:").trimmed_starts_with(p));
    }

    #[test]
    fn joins_escaped_forms() {
        assert!(join(Vec::new(), "\n").is_none());
        let one = join(vec![raw(r#""a\"""#)], "\n").unwrap();
        assert!(matches!(one, Text::Json(Cow::Borrowed(_))));
        let many = join(
            vec![raw(r#""a\"""#), Text::plain("b\"\n"), raw(r#""""#)],
            "\n\n",
        )
        .unwrap();
        let json = serde_json::to_string(&many).unwrap();
        assert_eq!(json, r#""a\"\n\nb\"\n\n\n""#);
        assert_eq!(decoded(&many), "a\"\n\nb\"\n\n\n");
        let err = prefixed("Error: ", raw(r#""x\ty""#));
        assert_eq!(serde_json::to_string(&err).unwrap(), r#""Error: x\ty""#);
    }

    #[test]
    fn modes_nest_and_restore() {
        assert_eq!(mode(), Mode::Raw);
        in_mode(Mode::Decoded, || {
            assert_eq!(mode(), Mode::Decoded);
            let t: Text = serde_json::from_str(r#""a\nb""#).unwrap();
            assert!(matches!(t, Text::Plain(Cow::Owned(s)) if s == "a\nb"));
            in_mode(Mode::Nested, || assert_eq!(mode(), Mode::Nested));
            assert_eq!(mode(), Mode::Decoded);
        });
        assert_eq!(mode(), Mode::Raw);
        let t: Text = serde_json::from_str(r#""a\nb""#).unwrap();
        assert!(matches!(t, Text::Json(_)));
    }
}
