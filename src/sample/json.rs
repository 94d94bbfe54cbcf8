//! A minimal JSON writer for one event line, into a reused buffer, escaping every string value.

use std::fmt;
use std::io::Write as _;

/// Writes one JSON value incrementally. Keys are trusted literals; string values are escaped.
/// `comma` says whether the next member or element needs a separating comma.
pub(crate) struct JsonLine {
    pub(crate) buf: Vec<u8>,
    comma: bool,
}

impl JsonLine {
    pub(crate) fn new() -> Self {
        JsonLine {
            buf: Vec::with_capacity(8 * 1024),
            comma: false,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.comma = false;
    }

    #[inline]
    fn sep(&mut self) {
        if self.comma {
            self.buf.push(b',');
        }
    }

    /// `"k":`; the value written next needs no comma.
    pub(crate) fn key(&mut self, k: &str) {
        self.sep();
        self.buf.push(b'"');
        self.buf.extend_from_slice(k.as_bytes());
        self.buf.extend_from_slice(b"\":");
        self.comma = false;
    }

    /// Opens an object as the next value (top level or array element).
    pub(crate) fn begin(&mut self) {
        self.sep();
        self.buf.push(b'{');
        self.comma = false;
    }

    pub(crate) fn end(&mut self) {
        self.buf.push(b'}');
        self.comma = true;
    }

    /// `"k":{`
    pub(crate) fn obj(&mut self, k: &str) {
        self.key(k);
        self.begin();
    }

    /// `"k":[`
    pub(crate) fn arr(&mut self, k: &str) {
        self.key(k);
        self.buf.push(b'[');
        self.comma = false;
    }

    pub(crate) fn end_arr(&mut self) {
        self.buf.push(b']');
        self.comma = true;
    }

    /// A string value (object member value or array element).
    pub(crate) fn val(&mut self, v: impl AsRef<str>) {
        self.sep();
        escape_into(&mut self.buf, v.as_ref().as_bytes());
        self.comma = true;
    }

    pub(crate) fn str(&mut self, k: &str, v: impl AsRef<str>) {
        self.key(k);
        self.val(v);
    }

    /// A formatted string value, escaped like any other.
    pub(crate) fn valf(&mut self, args: fmt::Arguments<'_>) {
        self.sep();
        let start = self.buf.len();
        // Writing to a Vec cannot fail.
        let _ = self.buf.write_fmt(args);
        if any_needs_escape(&self.buf[start..]) {
            let raw = self.buf.split_off(start);
            escape_into(&mut self.buf, &raw);
        } else {
            self.buf.insert(start, b'"');
            self.buf.push(b'"');
        }
        self.comma = true;
    }

    pub(crate) fn strf(&mut self, k: &str, args: fmt::Arguments<'_>) {
        self.key(k);
        self.valf(args);
    }

    /// A string value whose bytes `f` writes directly; only for ids and other text that
    /// cannot hold a quote, a backslash or a control character.
    pub(crate) fn str_with(&mut self, k: &str, f: impl FnOnce(&mut Vec<u8>)) {
        self.key(k);
        self.buf.push(b'"');
        f(&mut self.buf);
        self.buf.push(b'"');
        self.comma = true;
    }

    /// A number, boolean or `null` as an array element or member value.
    pub(crate) fn valnum(&mut self, v: impl Bare) {
        self.sep();
        v.write(&mut self.buf);
        self.comma = true;
    }

    pub(crate) fn num(&mut self, k: &str, v: impl Bare) {
        self.key(k);
        self.valnum(v);
    }

    pub(crate) fn bool(&mut self, k: &str, v: bool) {
        self.num(k, v);
    }

    pub(crate) fn null(&mut self, k: &str) {
        self.num(k, Null);
    }

    /// `"k":["a","b"]`
    pub(crate) fn strs(&mut self, k: &str, items: &[&str]) {
        self.arr(k);
        for item in items {
            self.val(item);
        }
        self.end_arr();
    }
}

/// A JSON value written bare: numbers, booleans, `null`.
pub(crate) trait Bare {
    fn write(self, buf: &mut Vec<u8>);
}

impl Bare for u64 {
    fn write(self, buf: &mut Vec<u8>) {
        // Integers are most of the numbers written; skip the formatting machinery.
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = self;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        buf.extend_from_slice(&digits[i..]);
    }
}

impl Bare for u32 {
    fn write(self, buf: &mut Vec<u8>) {
        u64::from(self).write(buf);
    }
}

impl Bare for i64 {
    fn write(self, buf: &mut Vec<u8>) {
        if self < 0 {
            buf.push(b'-');
        }
        self.unsigned_abs().write(buf);
    }
}

impl Bare for i32 {
    fn write(self, buf: &mut Vec<u8>) {
        i64::from(self).write(buf);
    }
}

impl Bare for f64 {
    fn write(self, buf: &mut Vec<u8>) {
        let _ = write!(buf, "{self}");
    }
}

impl Bare for bool {
    fn write(self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(if self { b"true" } else { b"false" });
    }
}

/// `null`
pub(crate) struct Null;

impl Bare for Null {
    fn write(self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(b"null");
    }
}

fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// Whether any of the 8 bytes in `chunk` needs escaping (the has-less-than and has-zero
/// bit tricks: exact as a yes/no answer).
fn chunk_needs_escape(chunk: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = chunk.wrapping_sub(ONES * 0x20) & !chunk & HIGH;
    let quote = chunk ^ (ONES * u64::from(b'"'));
    let backslash = chunk ^ (ONES * u64::from(b'\\'));
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    control | zero(quote) | zero(backslash) != 0
}

fn any_needs_escape(s: &[u8]) -> bool {
    let mut chunks = s.chunks_exact(8);
    let found = chunks
        .by_ref()
        .any(|c| chunk_needs_escape(u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))));
    found || chunks.remainder().iter().any(|&b| needs_escape(b))
}

fn escape_into(buf: &mut Vec<u8>, s: &[u8]) {
    buf.push(b'"');
    if !any_needs_escape(s) {
        buf.extend_from_slice(s);
        buf.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        buf.extend_from_slice(&s[start..i]);
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            _ => {
                let _ = write!(buf, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    buf.extend_from_slice(&s[start..]);
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_detection_agrees_with_the_byte_rule() {
        let mut text: Vec<u8> = (0u8..=255).collect();
        text.extend_from_slice("héllo wörld ✓".as_bytes());
        for start in 0..text.len() {
            for len in 0..20.min(text.len() - start) {
                let s = &text[start..start + len];
                assert_eq!(
                    any_needs_escape(s),
                    s.iter().any(|&b| needs_escape(b)),
                    "{s:?}"
                );
            }
        }
    }

    #[test]
    fn nested_values_round_trip_through_serde_json() {
        let mut j = JsonLine::new();
        j.begin();
        j.str("a", "say \"hi\"\\\n\u{1}");
        j.obj("o");
        j.num("n", 1.5);
        j.num("i", -42_i64);
        j.bool("b", false);
        j.null("z");
        j.strs("s", &["x", "y"]);
        j.end();
        j.arr("list");
        j.begin();
        j.strf("f", format_args!("{}-{}", "q\"", 7));
        j.end();
        j.valnum(3);
        j.end_arr();
        j.str_with("id", |b| b.extend_from_slice(b"abc"));
        j.end();
        let v: serde_json::Value = serde_json::from_slice(&j.buf).unwrap();
        assert_eq!(v["a"], "say \"hi\"\\\n\u{1}");
        assert_eq!(v["o"]["n"], 1.5);
        assert_eq!(v["o"]["i"], -42);
        assert_eq!(v["o"]["b"], false);
        assert!(v["o"]["z"].is_null());
        assert_eq!(v["o"]["s"][1], "y");
        assert_eq!(v["list"][0]["f"], "q\"-7");
        assert_eq!(v["list"][1], 3);
        assert_eq!(v["id"], "abc");
    }
}
