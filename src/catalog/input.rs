//! Request arguments in the forms the AWS CLI accepts: shorthand lists (`Key=k,Value=v`), JSON, and `file://PATH`.

use serde::de::DeserializeOwned;

use super::{AdvancedEventSelector, CatalogError, Destination, Tag, parse_selectors};

/// A JSON argument given inline or as `file://PATH`.
pub fn file_or_text(arg: &str) -> Result<String, CatalogError> {
    match arg.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CatalogError::InvalidParameter(format!("cannot read {arg}: {e}"))),
        None => Ok(arg.to_string()),
    }
}

/// `--advanced-event-selectors`: JSON inline or `file://PATH`.
pub fn parse_selectors_arg(arg: &str) -> Result<Vec<AdvancedEventSelector>, CatalogError> {
    parse_selectors(&file_or_text(arg)?)
}

/// `--tags-list` / `--tags`: items `Key=k,Value=v` (Value may be empty or left out), or one
/// JSON list `[{"Key":"k","Value":"v"}]` inline or as `file://PATH`.
pub fn parse_tags(values: &[String]) -> Result<Vec<Tag>, CatalogError> {
    let tag = |p: &[(&str, &str)]| {
        let known = p.iter().all(|(k, _)| matches!(*k, "Key" | "Value"));
        let key = field(p, "Key").filter(|_| known)?;
        Some(Tag::new(key, field(p, "Value").unwrap_or("")))
    };
    list_arg(
        values,
        "tag (expected Key=k,Value=v)",
        tag,
        CatalogError::InvalidTagParameter,
    )
}

/// `--destinations`: items `Type=EVENT_DATA_STORE,Location=STORE`, or one JSON list
/// `[{"Type":"EVENT_DATA_STORE","Location":"..."}]` inline or as `file://PATH`.
pub fn parse_destinations(values: &[String]) -> Result<Vec<Destination>, CatalogError> {
    let destination = |p: &[(&str, &str)]| {
        let known = p.iter().all(|(k, _)| matches!(*k, "Type" | "Location"));
        let r#type = field(p, "Type").filter(|_| known)?.to_string();
        let location = field(p, "Location")?.to_string();
        Some(Destination { r#type, location })
    };
    let what = "destination (expected Type=EVENT_DATA_STORE,Location=ARN)";
    list_arg(values, what, destination, CatalogError::InvalidParameter)
}

/// AWS CLI shorthand `A=x,B=y` as (name, value) pairs; `None` when a part has no `=`.
fn shorthand(item: &str) -> Option<Vec<(&str, &str)>> {
    item.split(',')
        .map(|pair| pair.split_once('=').map(|(k, v)| (k.trim(), v)))
        .collect()
}

fn field<'a>(pairs: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

/// One JSON list (inline or file://), or shorthand items each mapped by `item`.
fn list_arg<T: DeserializeOwned>(
    values: &[String],
    what: &str,
    item: impl Fn(&[(&str, &str)]) -> Option<T>,
    err: fn(String) -> CatalogError,
) -> Result<Vec<T>, CatalogError> {
    if let [one] = values {
        let text = file_or_text(one)?;
        if text.trim_start().starts_with('[') {
            return serde_json::from_str(&text)
                .map_err(|e| err(format!("{what}: the JSON list is not valid: {e}")));
        }
    }
    values
        .iter()
        .map(|v| {
            shorthand(v)
                .as_deref()
                .and_then(&item)
                .ok_or_else(|| err(format!("{what}: {v:?} is not in that form.")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tags_shorthand_and_json_parse_alike() {
        let short = parse_tags(&strings(&["Key=a,Value=1", "Key=b", "Key=c,Value="])).unwrap();
        let json = r#"[{"Key":"a","Value":"1"},{"Key":"b"},{"Key":"c","Value":""}]"#;
        assert_eq!(short, parse_tags(&strings(&[json])).unwrap());
        assert_eq!(short[1], Tag::new("b", ""));
    }

    #[test]
    fn malformed_tags_are_tag_parameter_errors() {
        for bad in ["Value=1", "Key=a,Colour=b", "a", "[{\"Key\":1}]"] {
            let e = parse_tags(&strings(&[bad])).unwrap_err();
            assert_eq!(e.aws_code(), "InvalidTagParameterException", "{bad}");
        }
    }

    #[test]
    fn destinations_keep_arn_colons_and_slashes() {
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/x-1";
        let d = parse_destinations(&strings(&[&format!(
            "Type=EVENT_DATA_STORE,Location={arn}"
        )]));
        assert_eq!(d.unwrap(), vec![Destination::event_data_store(arn)]);
        for bad in ["Location", "Type=EVENT_DATA_STORE", "[oops"] {
            let e = parse_destinations(&strings(&[bad])).unwrap_err();
            assert_eq!(e.aws_code(), "InvalidParameterException", "{bad}");
        }
    }

    #[test]
    fn file_references_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tags.json");
        std::fs::write(&path, r#"[{"Key":"k","Value":"v"}]"#).unwrap();
        let tags = parse_tags(&[format!("file://{}", path.display())]).unwrap();
        assert_eq!(tags, vec![Tag::new("k", "v")]);
        let e = file_or_text("file:///nonexistent/x.json").unwrap_err();
        assert_eq!(e.aws_code(), "InvalidParameterException");
        assert!(e.to_string().contains("/nonexistent/x.json"), "{e}");
        assert_eq!(file_or_text("[1]").unwrap(), "[1]");
    }
}
