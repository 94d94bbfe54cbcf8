//! Channel resource policy documents: parsing and validation.

use serde_json::Value;

use super::CatalogError;
use super::arn;

/// The one action a channel resource policy grants.
pub const PUT_AUDIT_EVENTS_ACTION: &str = "cloudtrail-data:PutAuditEvents";
/// The condition key that carries the external ID a caller must present.
pub const EXTERNAL_ID_KEY: &str = "cloudtrail:ExternalId";
/// CloudTrail's limit on the length of a resource policy.
pub const MAX_POLICY_LEN: usize = 8192;

/// One statement, reduced to what the access check needs.
pub(super) struct Statement {
    pub(super) allow: bool,
    /// Account IDs the statement names; `None` for the wildcard principal `*`.
    pub(super) accounts: Option<Vec<String>>,
    /// The external IDs its `StringEquals` condition accepts; `None` without a condition.
    pub(super) external_ids: Option<Vec<String>>,
}

impl Statement {
    pub(super) fn names(&self, account: &str) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == account))
    }

    pub(super) fn condition_holds(&self, external_id: Option<&str>) -> bool {
        match (&self.external_ids, external_id) {
            (None, _) => true,
            (Some(ids), Some(given)) => ids.iter().any(|id| id == given),
            (Some(_), None) => false,
        }
    }
}

/// Checks a resource policy for the channel `channel_arn`: JSON with `Version` (2012-10-17),
/// and a `Statement` list whose statements have `Effect` Allow or Deny, `Principal`
/// `{"AWS": ...}` naming accounts (ID, `arn:aws:iam::ID:root`, an IAM ARN, or `*`), `Action`
/// `cloudtrail-data:PutAuditEvents`, `Resource` equal to the channel ARN, and optionally
/// `Condition: {"StringEquals": {"cloudtrail:ExternalId": ...}}`.
pub fn validate_policy(policy: &str, channel_arn: &str) -> Result<(), CatalogError> {
    parse_policy(policy, channel_arn)
        .map(|_| ())
        .map_err(CatalogError::ResourcePolicyNotValid)
}

pub(super) fn parse_policy(policy: &str, channel_arn: &str) -> Result<Vec<Statement>, String> {
    if policy.len() > MAX_POLICY_LEN {
        return Err(format!(
            "the policy is {} characters; the limit is {MAX_POLICY_LEN}.",
            policy.len()
        ));
    }
    let doc: Value =
        serde_json::from_str(policy).map_err(|e| format!("the policy is not valid JSON: {e}."))?;
    let Some(doc) = doc.as_object() else {
        return Err("the policy must be a JSON object.".into());
    };
    match doc.get("Version").and_then(Value::as_str) {
        Some("2012-10-17" | "2008-10-17") => {}
        Some(v) => return Err(format!("Version {v:?} is not 2012-10-17.")),
        None => return Err("the policy has no Version (use \"2012-10-17\").".into()),
    }
    let statements = match doc.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err("the policy needs a Statement list with at least one statement.".into()),
    };
    statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            parse_statement(s, channel_arn).map_err(|m| format!("statement {}: {m}", i + 1))
        })
        .collect()
}

fn parse_statement(s: &Value, channel_arn: &str) -> Result<Statement, String> {
    let Some(s) = s.as_object() else {
        return Err("a statement must be a JSON object.".into());
    };
    if let Some(k) = s.keys().find(|k| {
        !matches!(
            k.as_str(),
            "Sid" | "Effect" | "Principal" | "Action" | "Resource" | "Condition"
        )
    }) {
        return Err(format!(
            "{k} is not supported in channel resource policies."
        ));
    }
    let allow = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => true,
        Some("Deny") => false,
        _ => return Err("Effect must be \"Allow\" or \"Deny\".".into()),
    };
    let principals = match s.get("Principal") {
        Some(Value::String(star)) if star == "*" => vec!["*".to_string()],
        Some(Value::Object(p)) if p.len() == 1 && p.contains_key("AWS") => {
            string_list(&p["AWS"]).ok_or("Principal AWS must be a string or a list of strings.")?
        }
        _ => return Err("Principal must be {\"AWS\": ACCOUNTS}.".into()),
    };
    let mut accounts = Some(Vec::new());
    for p in &principals {
        match principal_account(p) {
            Some("*") => accounts = None,
            Some(a) => accounts.iter_mut().for_each(|v| v.push(a.to_string())),
            None => {
                return Err(format!(
                    "principal {p:?} is not an account ID, an account root ARN or an IAM ARN."
                ));
            }
        }
    }
    let actions = s
        .get("Action")
        .and_then(string_list)
        .ok_or("Action must be a string or a list of strings.")?;
    if let Some(a) = actions
        .iter()
        .find(|a| !a.eq_ignore_ascii_case(PUT_AUDIT_EVENTS_ACTION))
    {
        return Err(format!(
            "action {a:?} is not allowed; a channel policy can only grant {PUT_AUDIT_EVENTS_ACTION}."
        ));
    }
    let resources = s
        .get("Resource")
        .and_then(string_list)
        .ok_or("Resource must be the channel ARN.")?;
    if let Some(r) = resources.iter().find(|r| *r != channel_arn) {
        return Err(format!(
            "Resource {r:?} is not this channel's ARN {channel_arn}."
        ));
    }
    let external_ids = match s.get("Condition") {
        None => None,
        Some(c) => Some(parse_condition(c)?),
    };
    Ok(Statement {
        allow,
        accounts,
        external_ids,
    })
}

fn parse_condition(c: &Value) -> Result<Vec<String>, String> {
    let unsupported = || {
        format!("only Condition {{\"StringEquals\": {{\"{EXTERNAL_ID_KEY}\": ...}}}} is supported.")
    };
    let ops = c
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(unsupported)?;
    let keys = ops
        .get("StringEquals")
        .and_then(Value::as_object)
        .filter(|o| o.len() == 1)
        .ok_or_else(unsupported)?;
    let (key, value) = keys.iter().next().ok_or_else(unsupported)?;
    if !key.eq_ignore_ascii_case(EXTERNAL_ID_KEY) {
        return Err(unsupported());
    }
    string_list(value)
        .ok_or_else(|| format!("{EXTERNAL_ID_KEY} must be a string or a list of strings."))
}

/// A string or a non-empty list of strings.
fn string_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) if !a.is_empty() => {
            a.iter().map(|x| x.as_str().map(str::to_string)).collect()
        }
        _ => None,
    }
}

/// The account a principal names: `123456789012`, `arn:aws:iam::123456789012:root` or
/// `arn:aws:iam::123456789012:role/x` give the account ID; `*` gives `*`.
fn principal_account(p: &str) -> Option<&str> {
    if p == "*" || arn::is_account_id(p) {
        return Some(p);
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", part, "iam" | "sts", "", account, rest]
            if part.starts_with("aws") && arn::is_account_id(account) && !rest.is_empty() =>
        {
            Some(account)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:cloudtrail:us-east-1:123456789012:channel/c0ffee00-0000-4000-8000-000000000001";

    fn policy(principal: &str, condition: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"s","Effect":"Allow","Principal":{{"AWS":{principal}}},
               "Action":"cloudtrail-data:PutAuditEvents","Resource":"{ARN}"{condition}}}]}}"#
        )
    }

    fn invalid(p: &str) -> String {
        match validate_policy(p, ARN) {
            Err(e @ CatalogError::ResourcePolicyNotValid(_)) => e.to_string(),
            other => panic!("{p} gave {other:?}"),
        }
    }

    #[test]
    fn a_well_formed_policy_validates() {
        validate_policy(&policy(r#""111122223333""#, ""), ARN).unwrap();
        let ext = r#","Condition":{"StringEquals":{"cloudtrail:ExternalId":["a","b"]}}"#;
        validate_policy(
            &policy(r#"["111122223333","arn:aws:iam::444455556666:root"]"#, ext),
            ARN,
        )
        .unwrap();
    }

    #[test]
    fn each_malformed_part_is_named() {
        let good = policy(r#""111122223333""#, "");
        for (bad, says) in [
            ("{".to_string(), "not valid JSON"),
            (good.replace(r#""Version":"2012-10-17","#, ""), "no Version"),
            (good.replace("2012-10-17", "2020-01-01"), "Version"),
            (
                r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
                "Statement",
            ),
            (good.replace("Allow", "Permit"), "Effect"),
            (good.replace("111122223333", "bob"), "principal"),
            (
                good.replace(r#"{"AWS":"111122223333"}"#, r#"{"Service":"x"}"#),
                "Principal",
            ),
            (
                good.replace("cloudtrail-data:PutAuditEvents", "s3:GetObject"),
                "action",
            ),
            (
                good.replace(
                    ARN,
                    "arn:aws:cloudtrail:us-east-1:123456789012:channel/other",
                ),
                "Resource",
            ),
            (
                good.replace(r#""Sid":"s""#, r#""NotAction":"x""#),
                "NotAction",
            ),
            (
                policy(
                    r#""111122223333""#,
                    r#","Condition":{"StringLike":{"cloudtrail:ExternalId":"x"}}"#,
                ),
                "Condition",
            ),
            (
                format!(
                    "{{\"Version\":\"2012-10-17\",\"Statement\":[],\"x\":\"{}\"}}",
                    "a".repeat(9000)
                ),
                "limit",
            ),
        ] {
            let msg = invalid(&bad);
            assert!(
                msg.starts_with("ResourcePolicyNotValidException: ") && msg.contains(says),
                "{msg}"
            );
        }
    }
}
