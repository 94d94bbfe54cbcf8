//! JSON objects flattened to `map<string,string>` as Lake stores them: strings stay as they
//! are, every other value becomes compact JSON text.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

/// The entries of one JSON object, in document order, keys unique (the last one wins).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JsonMap<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

struct RawEntries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for RawEntries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawEntries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((k, v)) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    entries.push((k, v));
                }
                Ok(RawEntries(entries))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON value as map value text: strings unescaped, anything else compact JSON.
pub fn value_text(raw: &RawValue) -> Result<Cow<'_, str>, serde_json::Error> {
    let text = raw.get();
    if let Some(quoted) = text.strip_prefix('"') {
        // Raw text is valid JSON: a string without escapes is its content as written.
        if !quoted.contains('\\') {
            return Ok(Cow::Borrowed(&quoted[..quoted.len() - 1]));
        }
        return serde_json::from_str::<Cow<'_, str>>(text);
    }
    if is_compact(text) {
        return Ok(Cow::Borrowed(text));
    }
    let value: serde_json::Value = serde_json::from_str(text)?;
    Ok(Cow::Owned(value.to_string()))
}

/// Whether valid JSON `text` has no whitespace outside its strings (spaces inside them are
/// content, and need no rewriting).
fn is_compact(text: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b' ' | b'\n' | b'\r' | b'\t' => return false,
                _ => {}
            }
        }
    }
    true
}

impl<'a> JsonMap<'a> {
    /// Reads a JSON object (`null` gives `None`); anything else is an error.
    pub fn parse(raw: &'a RawValue) -> Result<Option<JsonMap<'a>>, String> {
        let text = raw.get();
        if text == "null" {
            return Ok(None);
        }
        if !text.starts_with('{') {
            return Err("must be a JSON object".to_string());
        }
        let RawEntries(raw_entries) =
            serde_json::from_str(text).map_err(|e| format!("not a valid JSON object: {e}"))?;
        let mut entries: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::with_capacity(raw_entries.len());
        for (key, value) in raw_entries {
            let value = value_text(value).map_err(|e| format!("key {key:?}: {e}"))?;
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => entries.push((key, value)),
            }
        }
        Ok(Some(JsonMap(entries)))
    }

    pub fn entries(&self) -> &[(Cow<'a, str>, Cow<'a, str>)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Vec<(String, String)> {
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        JsonMap::parse(raw)
            .unwrap()
            .unwrap()
            .entries()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_become_strings_or_compact_json() {
        let got = map(
            r#"{"s":"a\"b","p":"plain","e":"","n":1.5,"b":true,"o":{ "x" : [1, 2] },"z":null}"#,
        );
        let want = [
            ("s", "a\"b"),
            ("p", "plain"),
            ("e", ""),
            ("n", "1.5"),
            ("b", "true"),
            ("o", r#"{"x":[1,2]}"#),
            ("z", "null"),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn compact_values_are_kept_as_written_and_spaces_in_strings_are_content() {
        let got = map(r#"{"o":{"t":"a \" b","u":"x\\"},"p":[ "a b" , 1 ]}"#);
        assert_eq!(got[0].1, r#"{"t":"a \" b","u":"x\\"}"#);
        assert_eq!(got[1].1, r#"["a b",1]"#);
        assert!(is_compact(r#"{"k":"a\\"}"#));
        assert!(!is_compact(r#"{"k":"a\\" }"#));
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        assert_eq!(
            map(r#"{"k":"1","k":"2"}"#),
            vec![("k".to_string(), "2".to_string())]
        );
    }

    #[test]
    fn non_objects_are_refused() {
        let raw: &RawValue = serde_json::from_str("[1]").unwrap();
        assert!(JsonMap::parse(raw).is_err());
    }
}
