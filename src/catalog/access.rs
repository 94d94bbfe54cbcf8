//! Who may call PutAuditEvents on a channel, and the put/get/delete-resource-policy operations.

use super::arn::{self, ResourceKind};
use super::policy::{EXTERNAL_ID_KEY, Statement, parse_policy, validate_policy};
use super::{Catalog, CatalogError, Channel};

/// Why a PutAuditEvents caller was refused (the data plane answers ChannelInsufficientPermission).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AccessDenied(pub String);

/// May `caller_account` call PutAuditEvents on `channel`? The owner account always may. Anyone
/// else needs an Allow statement naming their account whose external-ID condition (if any) the
/// given `external_id` satisfies, and no Deny statement that applies to them.
pub fn check_put_access(
    channel: &Channel,
    owner_account: &str,
    caller_account: &str,
    external_id: Option<&str>,
) -> Result<(), AccessDenied> {
    if caller_account == owner_account {
        return Ok(());
    }
    let arn = &channel.arn;
    let Some(policy) = &channel.resource_policy else {
        return Err(AccessDenied(format!(
            "account {caller_account} is not the owner of channel {arn}, and the channel has no resource policy allowing other accounts."
        )));
    };
    let statements = parse_policy(policy, arn).map_err(|m| {
        AccessDenied(format!(
            "the resource policy of channel {arn} is not valid: {m}"
        ))
    })?;
    let applies = |s: &&Statement| s.names(caller_account) && s.condition_holds(external_id);
    if statements.iter().filter(|s| !s.allow).any(|s| applies(&s)) {
        return Err(AccessDenied(format!(
            "the resource policy of channel {arn} denies account {caller_account}."
        )));
    }
    let naming: Vec<&Statement> = statements
        .iter()
        .filter(|s| s.allow && s.names(caller_account))
        .collect();
    if naming.is_empty() {
        return Err(AccessDenied(format!(
            "no Allow statement in the resource policy of channel {arn} names account {caller_account}."
        )));
    }
    if naming.iter().any(applies) {
        return Ok(());
    }
    Err(AccessDenied(match external_id {
        None => format!(
            "the resource policy of channel {arn} requires an external ID ({EXTERNAL_ID_KEY}) from account {caller_account}, and none was given."
        ),
        Some(_) => format!(
            "the external ID given by account {caller_account} does not match the one the resource policy of channel {arn} requires."
        ),
    }))
}

impl Catalog {
    fn policy_channel_index(&self, resource_arn: &str) -> Result<usize, CatalogError> {
        match arn::parse(resource_arn) {
            None => Err(CatalogError::ResourceArnNotValid(format!(
                "{resource_arn} is not a valid CloudTrail channel ARN."
            ))),
            Some(p) if p.kind != ResourceKind::Channel => {
                Err(CatalogError::ResourceTypeNotSupported(format!(
                    "{resource_arn} is not a channel; auditlake keeps resource policies on channels only."
                )))
            }
            Some(_) => self
                .channels
                .iter()
                .position(|c| c.arn.eq_ignore_ascii_case(resource_arn))
                .ok_or_else(|| {
                    CatalogError::ResourceNotFound(format!(
                        "no channel has the ARN {resource_arn}."
                    ))
                }),
        }
    }

    /// put-resource-policy: validates `policy` for the channel and attaches it (replacing any).
    pub fn put_resource_policy(
        &mut self,
        resource_arn: &str,
        policy: &str,
    ) -> Result<&Channel, CatalogError> {
        let i = self.policy_channel_index(resource_arn)?;
        validate_policy(policy, &self.channels[i].arn)?;
        self.channels[i].resource_policy = Some(policy.to_string());
        Ok(&self.channels[i])
    }

    /// get-resource-policy: the channel and its policy text.
    pub fn get_resource_policy(
        &self,
        resource_arn: &str,
    ) -> Result<(&Channel, &str), CatalogError> {
        let c = &self.channels[self.policy_channel_index(resource_arn)?];
        match &c.resource_policy {
            Some(p) => Ok((c, p)),
            None => Err(CatalogError::ResourcePolicyNotFound(format!(
                "channel {} has no resource policy.",
                c.arn
            ))),
        }
    }

    /// delete-resource-policy: only the owner can call PutAuditEvents on the channel afterwards.
    pub fn delete_resource_policy(&mut self, resource_arn: &str) -> Result<(), CatalogError> {
        let i = self.policy_channel_index(resource_arn)?;
        let c = &mut self.channels[i];
        match c.resource_policy.take() {
            Some(_) => Ok(()),
            None => Err(CatalogError::ResourcePolicyNotFound(format!(
                "channel {} has no resource policy.",
                c.arn
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Destination, NewChannel, NewEventDataStore};

    const ARN: &str =
        "arn:aws:cloudtrail:us-east-1:123456789012:channel/c0ffee00-0000-4000-8000-000000000001";

    fn policy(principal: &str, condition: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"s","Effect":"Allow","Principal":{{"AWS":{principal}}},
               "Action":"cloudtrail-data:PutAuditEvents","Resource":"{ARN}"{condition}}}]}}"#
        )
    }

    fn channel(policy: Option<String>) -> Channel {
        Channel {
            arn: ARN.into(),
            name: "c".into(),
            source: "Custom".into(),
            destinations: vec![],
            tags: vec![],
            resource_policy: policy,
        }
    }

    #[test]
    fn the_owner_is_always_allowed() {
        assert!(check_put_access(&channel(None), "123456789012", "123456789012", None).is_ok());
        let deny = policy(r#""123456789012""#, "").replace("Allow", "Deny");
        assert!(
            check_put_access(&channel(Some(deny)), "123456789012", "123456789012", None).is_ok()
        );
    }

    #[test]
    fn others_need_a_policy_that_names_their_account() {
        let e = check_put_access(&channel(None), "123456789012", "111122223333", None).unwrap_err();
        assert!(e.0.contains("no resource policy"), "{e}");
        for principal in [
            r#""111122223333""#,
            r#""arn:aws:iam::111122223333:root""#,
            r#"["999999999999","arn:aws:iam::111122223333:role/partner"]"#,
            r#""*""#,
        ] {
            let c = channel(Some(policy(principal, "")));
            assert!(
                check_put_access(&c, "123456789012", "111122223333", None).is_ok(),
                "{principal}"
            );
        }
        let c = channel(Some(policy(r#""999999999999""#, "")));
        let e = check_put_access(&c, "123456789012", "111122223333", None).unwrap_err();
        assert!(e.0.contains("names account 111122223333"), "{e}");
    }

    #[test]
    fn external_id_condition_is_enforced() {
        let cond = r#","Condition":{"StringEquals":{"cloudtrail:ExternalId":"secret"}}"#;
        let c = channel(Some(policy(r#""111122223333""#, cond)));
        let missing = check_put_access(&c, "123456789012", "111122223333", None).unwrap_err();
        assert!(missing.0.contains("none was given"), "{missing}");
        let wrong =
            check_put_access(&c, "123456789012", "111122223333", Some("guess")).unwrap_err();
        assert!(wrong.0.contains("does not match"), "{wrong}");
        assert!(check_put_access(&c, "123456789012", "111122223333", Some("secret")).is_ok());
    }

    #[test]
    fn a_deny_statement_wins_over_an_allow() {
        let allow = policy(r#""111122223333""#, "");
        let both = allow.replace("}]}", r#"},{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"cloudtrail-data:PutAuditEvents","Resource":"RES"}]}"#).replace("RES", ARN);
        let e = check_put_access(&channel(Some(both)), "123456789012", "111122223333", None)
            .unwrap_err();
        assert!(e.0.contains("denies"), "{e}");
    }

    #[test]
    fn catalog_policy_operations_check_the_resource_arn() {
        let mut c = Catalog::default();
        c.create_event_data_store(NewEventDataStore::named("audit"), chrono::Utc::now())
            .unwrap();
        let eds = c.event_data_stores[0].arn.clone();
        let req = NewChannel {
            name: "app".into(),
            source: "Custom".into(),
            destinations: vec![Destination::event_data_store("audit")],
            tags: vec![],
        };
        let arn = c.create_channel(req).unwrap().arn.clone();
        let p = policy(r#""111122223333""#, "").replace(ARN, &arn);
        let code = |r: Result<(), CatalogError>| r.map_err(|e| e.aws_code());
        assert_eq!(
            code(c.get_resource_policy(&arn).map(|_| ())),
            Err("ResourcePolicyNotFoundException")
        );
        assert_eq!(
            code(c.put_resource_policy("channel/x", &p).map(|_| ())),
            Err("ResourceARNNotValidException")
        );
        assert_eq!(
            code(c.put_resource_policy(&eds, &p).map(|_| ())),
            Err("ResourceTypeNotSupportedException")
        );
        assert_eq!(
            code(c.put_resource_policy(ARN, &p).map(|_| ())),
            Err("ResourceNotFoundException")
        );
        assert_eq!(
            code(c.put_resource_policy(&arn, "{}").map(|_| ())),
            Err("ResourcePolicyNotValidException")
        );
        assert!(c.channels[0].resource_policy.is_none());
        c.put_resource_policy(&arn, &p).unwrap();
        assert_eq!(c.get_resource_policy(&arn).unwrap().1, p);
        c.delete_resource_policy(&arn).unwrap();
        assert_eq!(
            code(c.delete_resource_policy(&arn)),
            Err("ResourcePolicyNotFoundException")
        );
    }
}
