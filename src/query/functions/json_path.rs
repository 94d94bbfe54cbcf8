//! Trino's JSON path for the json_* functions (`$`, `.key`, `["key"]`, `[0]`), evaluated on serde_json values.

use std::str::FromStr;

use serde_json::Value;

/// A parsed path: the keys to follow from the root. On an array, a key that is a
/// non-negative integer is an index counting from 0, as in Trino (`$.a[0]` and `$.a.0`
/// both name an array's first element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    steps: Vec<String>,
}

impl JsonPath {
    /// The value the path names in `root`, if any.
    pub fn find<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.steps.iter().try_fold(root, |value, step| match value {
            Value::Object(map) => map.get(step),
            Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }
}

impl FromStr for JsonPath {
    type Err = String;

    fn from_str(text: &str) -> Result<JsonPath, String> {
        let invalid = |why: &str| format!("Invalid JSON path: '{text}': {why}");
        let mut chars = text.trim().chars().peekable();
        if chars.next() != Some('$') {
            return Err(invalid("a path starts with '$'"));
        }
        let mut steps = Vec::new();
        while let Some(c) = chars.next() {
            match c {
                '.' if chars.peek() == Some(&'"') => {
                    chars.next();
                    steps.push(quoted(&mut chars).ok_or_else(|| invalid("unterminated key"))?);
                }
                '.' => {
                    let key = take_while(&mut chars, |c| c != '.' && c != '[');
                    if key.is_empty() || key == "*" {
                        return Err(invalid("a key follows '.' (wildcards are not supported)"));
                    }
                    steps.push(key);
                }
                '[' => {
                    let key = match chars.peek() {
                        Some('"') => {
                            chars.next();
                            quoted(&mut chars).ok_or_else(|| invalid("unterminated key"))?
                        }
                        _ => take_while(&mut chars, |c| c != ']'),
                    };
                    if key.is_empty() || key == "*" {
                        return Err(invalid("a subscript is an index or a quoted key"));
                    }
                    if chars.next() != Some(']') {
                        return Err(invalid("missing ']'"));
                    }
                    steps.push(key);
                }
                _ => return Err(invalid(&format!("unexpected '{c}'"))),
            }
        }
        Ok(JsonPath { steps })
    }
}

fn take_while(chars: &mut std::iter::Peekable<std::str::Chars>, keep: fn(char) -> bool) -> String {
    let mut out = String::new();
    while let Some(&c) = chars.peek() {
        if !keep(c) {
            break;
        }
        out.push(c);
        chars.next();
    }
    out
}

/// The rest of a double-quoted key, after its opening quote; `\"` and `\\` are escapes.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<String> {
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(path: &str, doc: &Value) -> Option<Value> {
        path.parse::<JsonPath>().unwrap().find(doc).cloned()
    }

    #[test]
    fn dots_brackets_and_indexes_walk_objects_and_arrays() {
        let doc = json!({"a": {"b": [10, {"c": "x"}], "k.y": 1, "0": "zero"}, "s p": true});
        assert_eq!(find("$", &doc), Some(doc.clone()));
        assert_eq!(find("$.a.b[0]", &doc), Some(json!(10)));
        assert_eq!(find("$.a.b[1].c", &doc), Some(json!("x")));
        assert_eq!(find("$.a.b.1.c", &doc), Some(json!("x")));
        assert_eq!(find("$[\"a\"][\"k.y\"]", &doc), Some(json!(1)));
        assert_eq!(find("$.a.\"k.y\"", &doc), Some(json!(1)));
        assert_eq!(find("$.a[0]", &doc), Some(json!("zero")));
        assert_eq!(find("$[\"s p\"]", &doc), Some(json!(true)));
        assert_eq!(find(" $.a.b[2] ", &doc), None);
        assert_eq!(find("$.a.b[-1]", &doc), None);
        assert_eq!(find("$.missing.b", &doc), None);
        assert_eq!(find("$.a.b.c", &doc), None);
    }

    #[test]
    fn escaped_quotes_in_keys() {
        let doc = json!({"say \"hi\"": 1});
        assert_eq!(find(r#"$["say \"hi\""]"#, &doc), Some(json!(1)));
    }

    #[test]
    fn malformed_paths_are_errors_that_quote_the_path() {
        for bad in [
            "", "a.b", "$.", "$.a.", "$[0", "$[\"a]", "$[*]", "$[]", "$a", "$..a",
        ] {
            let err = bad.parse::<JsonPath>().unwrap_err();
            assert!(err.starts_with("Invalid JSON path"), "{bad}: {err}");
        }
    }
}
