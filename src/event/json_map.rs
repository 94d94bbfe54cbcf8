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

/// Adds an entry; a key seen before takes the new value, keeping its place.
fn insert<'a>(
    entries: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    key: Cow<'a, str>,
    value: Cow<'a, str>,
) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => entries.push((key, value)),
    }
}

/// A JSON object field of a document, read as a [`JsonMap`] in the same pass as the
/// document (`null` is left to `Option`). Knows its size written compactly, which the size
/// limits of map fields are measured in.
#[derive(Debug)]
pub struct MapField<'a> {
    pub map: JsonMap<'a>,
    pub compact_bytes: usize,
}

/// A key, borrowed from the document unless it holds escapes.
#[derive(Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for MapField<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = MapField<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object, as map fields must be")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                // `{}`, then `"key":value` with a comma before all but the first.
                let mut compact_bytes = 2;
                let mut count = 0;
                while let Some((Key(key), raw)) = map.next_entry::<Key<'a>, &'a RawValue>()? {
                    let value = value_text(raw)
                        .map_err(|e| A::Error::custom(format!("key {key:?}: {e}")))?;
                    compact_bytes +=
                        key.len() + 3 + value_bytes(raw, &value) + usize::from(count > 0);
                    count += 1;
                    insert(&mut entries, key, value);
                }
                Ok(MapField {
                    map: JsonMap(entries),
                    compact_bytes,
                })
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Bytes of a value written compactly: a string as written, anything else as its text.
fn value_bytes(raw: &RawValue, text: &str) -> usize {
    if raw.get().starts_with('"') {
        raw.get().len()
    } else {
        text.len()
    }
}

impl<'a> JsonMap<'a> {
    pub fn entries(&self) -> &[(Cow<'a, str>, Cow<'a, str>)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Vec<(String, String)> {
        let doc = format!(r#"{{"m":{text}}}"#);
        serde_json::from_str::<Doc>(&doc)
            .unwrap()
            .m
            .unwrap()
            .map
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

    #[derive(Deserialize)]
    struct Doc<'a> {
        #[serde(borrow, default)]
        m: Option<MapField<'a>>,
    }

    #[test]
    fn a_map_field_is_read_with_its_document_and_knows_its_compact_size() {
        let compact = r#"{"a":"x","b":{"c":[1,2]},"a":"y","n":1.50}"#;
        let text = format!(r#"{{"m":{compact}}}"#);
        let field = serde_json::from_str::<Doc>(&text).unwrap().m.unwrap();
        let entries: Vec<(&str, &str)> = field
            .map
            .entries()
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        assert_eq!(
            entries,
            [("a", "y"), ("b", r#"{"c":[1,2]}"#), ("n", "1.50")]
        );
        assert!(matches!(field.map.entries()[0].0, Cow::Borrowed(_)));
        assert_eq!(field.compact_bytes, compact.len());
        // Spaces around the JSON's tokens do not count; spaces inside strings do.
        let spaced = r#"{"m": { "a" : "x y" , "b" : { "c" : [1, 2] } } }"#;
        let field = serde_json::from_str::<Doc>(spaced).unwrap().m.unwrap();
        assert_eq!(field.compact_bytes, r#"{"a":"x y","b":{"c":[1,2]}}"#.len());
        assert!(
            serde_json::from_str::<Doc>(r#"{"m":null}"#)
                .unwrap()
                .m
                .is_none()
        );
        let err = serde_json::from_str::<Doc>(r#"{"m":[1]}"#).err().unwrap();
        assert!(err.to_string().contains("as map fields must be"), "{err}");
    }
}
