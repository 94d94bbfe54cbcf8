//! Resource tags (`{"Key": ..., "Value": ...}`) and CloudTrail's limits on them.

use serde::{Deserialize, Serialize};

use super::CatalogError;

/// At most this many tags per event data store or channel.
pub const MAX_TAGS: usize = 50;
/// Tag keys are 1 to this many characters.
pub const MAX_TAG_KEY_LEN: usize = 128;
/// Tag values are 0 to this many characters.
pub const MAX_TAG_VALUE_LEN: usize = 256;

/// One tag, spelled as the AWS API spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Checks a tag list: at most [`MAX_TAGS`], keys 1 to 128 characters, not starting with the
/// reserved `aws:` prefix and not repeated, values up to 256 characters.
pub fn validate_tags(tags: &[Tag]) -> Result<(), CatalogError> {
    if tags.len() > MAX_TAGS {
        return Err(CatalogError::TagsLimitExceeded(format!(
            "{} tags were given; a resource can have at most {MAX_TAGS}.",
            tags.len()
        )));
    }
    for (i, tag) in tags.iter().enumerate() {
        let key_len = tag.key.chars().count();
        if key_len == 0 || key_len > MAX_TAG_KEY_LEN {
            return Err(CatalogError::InvalidTagParameter(format!(
                "tag key {:?} is {key_len} characters long; keys must be 1 to {MAX_TAG_KEY_LEN} characters.",
                tag.key
            )));
        }
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(CatalogError::InvalidTagParameter(format!(
                "tag key {:?} uses the reserved prefix aws:.",
                tag.key
            )));
        }
        let value_len = tag.value.chars().count();
        if value_len > MAX_TAG_VALUE_LEN {
            return Err(CatalogError::InvalidTagParameter(format!(
                "the value of tag {:?} is {value_len} characters long; values can be at most {MAX_TAG_VALUE_LEN}.",
                tag.key
            )));
        }
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(CatalogError::InvalidTagParameter(format!(
                "tag key {:?} is given more than once.",
                tag.key
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(tags: &[Tag]) -> &'static str {
        validate_tags(tags).map_or_else(|e| e.aws_code(), |()| "ok")
    }

    #[test]
    fn fifty_tags_pass_fifty_one_do_not() {
        let tags: Vec<Tag> = (0..50).map(|i| Tag::new(format!("k{i}"), "v")).collect();
        assert_eq!(code(&tags), "ok");
        let mut more = tags;
        more.push(Tag::new("k50", ""));
        assert_eq!(code(&more), "TagsLimitExceededException");
    }

    #[test]
    fn key_length_is_1_to_128() {
        assert_eq!(code(&[Tag::new("", "v")]), "InvalidTagParameterException");
        assert_eq!(code(&[Tag::new("k".repeat(128), "v")]), "ok");
        assert_eq!(
            code(&[Tag::new("k".repeat(129), "v")]),
            "InvalidTagParameterException"
        );
    }

    #[test]
    fn value_length_is_0_to_256() {
        assert_eq!(code(&[Tag::new("k", "")]), "ok");
        assert_eq!(code(&[Tag::new("k", "v".repeat(256))]), "ok");
        assert_eq!(
            code(&[Tag::new("k", "v".repeat(257))]),
            "InvalidTagParameterException"
        );
    }

    #[test]
    fn reserved_prefix_and_duplicates_are_refused() {
        assert_eq!(
            code(&[Tag::new("aws:x", "v")]),
            "InvalidTagParameterException"
        );
        assert_eq!(
            code(&[Tag::new("team", "a"), Tag::new("team", "b")]),
            "InvalidTagParameterException"
        );
    }

    #[test]
    fn serializes_as_aws_spells_it() {
        let json = serde_json::to_string(&Tag::new("k", "v")).unwrap();
        assert_eq!(json, r#"{"Key":"k","Value":"v"}"#);
    }
}
