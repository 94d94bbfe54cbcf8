//! Advanced event selectors in the AWS JSON shape, their validation, and the event category they give a store.

use serde::{Deserialize, Serialize};

use super::CatalogError;

/// The kind of events an event data store holds, from its `eventCategory` selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventCategory {
    /// Events from channels (integrations): the PutAuditEvents record schema.
    ActivityAuditLog,
    /// CloudTrail management events (imported trail logs).
    Management,
    /// CloudTrail data events (imported trail logs; same schema as management events).
    Data,
}

impl EventCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            EventCategory::ActivityAuditLog => "ActivityAuditLog",
            EventCategory::Management => "Management",
            EventCategory::Data => "Data",
        }
    }

    pub fn parse(s: &str) -> Option<EventCategory> {
        match s {
            "ActivityAuditLog" => Some(EventCategory::ActivityAuditLog),
            "Management" => Some(EventCategory::Management),
            "Data" => Some(EventCategory::Data),
            _ => None,
        }
    }

    /// True for the categories of imported trail logs (Management and Data).
    pub fn is_trail(self) -> bool {
        self != EventCategory::ActivityAuditLog
    }
}

/// One advanced event selector: `{"Name": ..., "FieldSelectors": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AdvancedEventSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

/// One condition of a selector: a field and the operators applied to it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_ends_with: Option<Vec<String>>,
}

impl FieldSelector {
    fn operators(&self) -> [(&'static str, &Option<Vec<String>>); 6] {
        [
            ("Equals", &self.equals),
            ("StartsWith", &self.starts_with),
            ("EndsWith", &self.ends_with),
            ("NotEquals", &self.not_equals),
            ("NotStartsWith", &self.not_starts_with),
            ("NotEndsWith", &self.not_ends_with),
        ]
    }
}

/// The selectors a store gets when none are given: all ActivityAuditLog (integration) events.
pub fn default_selectors() -> Vec<AdvancedEventSelector> {
    vec![selector_for(EventCategory::ActivityAuditLog)]
}

/// A single selector that picks every event of `category`.
pub fn selector_for(category: EventCategory) -> AdvancedEventSelector {
    let name = match category {
        EventCategory::ActivityAuditLog => "Integration events",
        EventCategory::Management => "Management events",
        EventCategory::Data => "Data events",
    };
    AdvancedEventSelector {
        name: Some(name.to_string()),
        field_selectors: vec![FieldSelector {
            field: "eventCategory".to_string(),
            equals: Some(vec![category.as_str().to_string()]),
            ..FieldSelector::default()
        }],
    }
}

/// Parses selectors from the AWS JSON text (`[{"Name": ..., "FieldSelectors": [...]}]`).
pub fn parse_selectors(json: &str) -> Result<Vec<AdvancedEventSelector>, CatalogError> {
    serde_json::from_str(json).map_err(|e| {
        CatalogError::InvalidEventSelectors(format!(
            "advanced event selectors are not in the expected JSON shape \
             [{{\"Name\": ..., \"FieldSelectors\": [{{\"Field\": ..., \"Equals\": [...]}}]}}]: {e}"
        ))
    })
}

/// Validates selectors and returns the category of the store they describe. Every selector
/// needs an `eventCategory` field selector with `Equals` only, naming `ActivityAuditLog`,
/// `Management` or `Data`; ActivityAuditLog cannot be mixed with the trail categories. When
/// Management and Data are mixed the store's category is Management (they share a schema).
/// Other field selectors are kept as given; only their shape is checked.
pub fn validate_selectors(
    selectors: &[AdvancedEventSelector],
) -> Result<EventCategory, CatalogError> {
    let invalid = |m: String| Err(CatalogError::InvalidEventSelectors(m));
    if selectors.is_empty() {
        return invalid("at least one advanced event selector is required.".into());
    }
    let mut categories = Vec::new();
    for (i, sel) in selectors.iter().enumerate() {
        let which = sel
            .name
            .clone()
            .unwrap_or_else(|| format!("number {}", i + 1));
        if sel.name.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            return invalid(format!(
                "selector {which}: Name is longer than 1000 characters."
            ));
        }
        if sel.field_selectors.is_empty() {
            return invalid(format!("selector {which} has no FieldSelectors."));
        }
        let mut category_fields = 0;
        for fs in &sel.field_selectors {
            check_field_shape(&which, fs)?;
            if fs.field != "eventCategory" {
                continue;
            }
            category_fields += 1;
            let only_equals = fs.operators().iter().skip(1).all(|(_, v)| v.is_none());
            let Some(values) = fs.equals.as_ref().filter(|_| only_equals) else {
                return invalid(format!(
                    "selector {which}: the eventCategory field selector must use Equals only."
                ));
            };
            for v in values {
                match EventCategory::parse(v) {
                    Some(c) => categories.push(c),
                    None => {
                        return invalid(format!(
                            "selector {which}: eventCategory {v:?} is not supported; use \
                             ActivityAuditLog (integrations), Management or Data (imported trail logs)."
                        ));
                    }
                }
            }
        }
        if category_fields != 1 {
            return invalid(format!(
                "selector {which} must have exactly one eventCategory field selector (it has {category_fields})."
            ));
        }
    }
    let activity = categories.contains(&EventCategory::ActivityAuditLog);
    if activity && categories.iter().any(|c| c.is_trail()) {
        return invalid(
            "ActivityAuditLog cannot be combined with Management or Data in one event data store."
                .into(),
        );
    }
    Ok(if activity {
        EventCategory::ActivityAuditLog
    } else if categories.contains(&EventCategory::Management) {
        EventCategory::Management
    } else {
        EventCategory::Data
    })
}

fn check_field_shape(which: &str, fs: &FieldSelector) -> Result<(), CatalogError> {
    let invalid = |m: String| Err(CatalogError::InvalidEventSelectors(m));
    let field_ok = (1..=1000).contains(&fs.field.len())
        && fs
            .field
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if !field_ok {
        return invalid(format!(
            "selector {which}: field {:?} is not a valid field name.",
            fs.field
        ));
    }
    let mut any = false;
    for (op, values) in fs.operators() {
        let Some(values) = values else { continue };
        any = true;
        if values.is_empty() {
            return invalid(format!(
                "selector {which}: {} {op} has an empty list.",
                fs.field
            ));
        }
        if let Some(v) = values
            .iter()
            .find(|v| v.is_empty() || v.chars().count() > 2048)
        {
            return invalid(format!(
                "selector {which}: {} {op} value {v:?} must be 1 to 2048 characters.",
                fs.field
            ));
        }
    }
    if !any {
        return invalid(format!(
            "selector {which}: field selector {} has no operator (Equals, StartsWith, ...).",
            fs.field
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(json: &str) -> Result<EventCategory, &'static str> {
        parse_selectors(json)
            .and_then(|s| validate_selectors(&s))
            .map_err(|e| e.aws_code())
    }

    #[test]
    fn default_is_activity_audit_log() {
        assert_eq!(
            validate_selectors(&default_selectors()).unwrap(),
            EventCategory::ActivityAuditLog
        );
    }

    #[test]
    fn management_and_data_make_trail_stores() {
        let m = r#"[{"Name":"m","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]"#;
        assert_eq!(category(m), Ok(EventCategory::Management));
        let d = r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},
                                        {"Field":"resources.type","Equals":["AWS::S3::Object"]}]}]"#;
        assert_eq!(category(d), Ok(EventCategory::Data));
        let both = r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]}]},
                       {"FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]"#;
        assert_eq!(category(both), Ok(EventCategory::Management));
    }

    #[test]
    fn unknown_category_values_are_refused() {
        let j = r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Insight"]}]}]"#;
        assert_eq!(category(j), Err("InvalidEventSelectorsException"));
    }

    #[test]
    fn activity_cannot_mix_with_trail_categories() {
        let j = r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["ActivityAuditLog","Management"]}]}]"#;
        assert_eq!(category(j), Err("InvalidEventSelectorsException"));
    }

    #[test]
    fn each_selector_needs_one_equals_category() {
        for j in [
            r#"[]"#,
            r#"[{"FieldSelectors":[]}]"#,
            r#"[{"FieldSelectors":[{"Field":"eventName","Equals":["X"]}]}]"#,
            r#"[{"FieldSelectors":[{"Field":"eventCategory","StartsWith":["Act"]}]}]"#,
            r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"],"NotEquals":["x"]}]}]"#,
            r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"eventCategory","Equals":["Data"]}]}]"#,
        ] {
            assert_eq!(category(j), Err("InvalidEventSelectorsException"), "{j}");
        }
    }

    #[test]
    fn bad_shapes_are_refused() {
        for j in [
            r#"{"FieldSelectors":[]}"#,
            r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"eventName"}]}]"#,
            r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"eventName","Equals":[]}]}]"#,
            r#"[{"FieldSelectors":[{"Field":"event Name","Equals":["a"]},{"Field":"eventCategory","Equals":["Data"]}]}]"#,
            r#"[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"],"Equal":["x"]}]}]"#,
        ] {
            assert_eq!(category(j), Err("InvalidEventSelectorsException"), "{j}");
        }
    }

    #[test]
    fn other_field_selectors_are_kept_as_given() {
        let j = r#"[{"Name":"writes","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"readOnly","Equals":["false"]},{"Field":"eventSource","NotEquals":["kms.amazonaws.com"]}]}]"#;
        let parsed = parse_selectors(j).unwrap();
        assert_eq!(
            validate_selectors(&parsed).unwrap(),
            EventCategory::Management
        );
        let back = serde_json::to_string(&parsed).unwrap();
        assert_eq!(back, j);
    }
}
