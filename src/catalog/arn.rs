//! CloudTrail ARNs (`arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID`, `...:channel/ID`): building and parsing.

/// The kind of CloudTrail resource an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    EventDataStore,
    Channel,
}

impl ResourceKind {
    /// The resource-type part of the ARN (`eventdatastore`, `channel`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::EventDataStore => "eventdatastore",
            ResourceKind::Channel => "channel",
        }
    }
}

/// The parts of a well-formed CloudTrail ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudTrailArn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub kind: ResourceKind,
    pub id: &'a str,
}

/// The AWS partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Builds the ARN of a resource in `region` and `account`.
pub fn build(region: &str, account: &str, kind: ResourceKind, id: &str) -> String {
    format!(
        "arn:{}:cloudtrail:{region}:{account}:{}/{id}",
        partition(region),
        kind.as_str()
    )
}

/// Parses a CloudTrail ARN of any kind. Returns `None` when it is not one: wrong prefix or
/// service, region missing, account not 12 digits, unknown resource type, or an ID that is
/// empty or holds characters other than letters, digits and `-`.
pub fn parse(arn: &str) -> Option<CloudTrailArn<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(part), Some("cloudtrail"), Some(region), Some(account), Some(res)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if !part.starts_with("aws") || region.is_empty() || !is_account_id(account) {
        return None;
    }
    let (kind, id) = res.split_once('/')?;
    let kind = match kind {
        "eventdatastore" => ResourceKind::EventDataStore,
        "channel" => ResourceKind::Channel,
        _ => return None,
    };
    if id.is_empty() || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    Some(CloudTrailArn {
        region,
        account,
        kind,
        id,
    })
}

/// The last part of an ARN (after the final `/`), or the whole string.
pub fn last_part(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// True for a 12-digit AWS account ID.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// True for a region name shaped like `us-east-1` or `us-gov-west-1`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_round_trip() {
        let arn = build(
            "eu-west-1",
            "111122223333",
            ResourceKind::Channel,
            "abc-123",
        );
        assert_eq!(
            arn,
            "arn:aws:cloudtrail:eu-west-1:111122223333:channel/abc-123"
        );
        let p = parse(&arn).unwrap();
        assert_eq!(
            (p.region, p.account, p.kind, p.id),
            (
                "eu-west-1",
                "111122223333",
                ResourceKind::Channel,
                "abc-123"
            )
        );
    }

    #[test]
    fn china_and_govcloud_regions_use_their_partition() {
        assert!(
            build(
                "cn-north-1",
                "111122223333",
                ResourceKind::EventDataStore,
                "x"
            )
            .starts_with("arn:aws-cn:cloudtrail:")
        );
        assert!(
            build(
                "us-gov-west-1",
                "111122223333",
                ResourceKind::EventDataStore,
                "x"
            )
            .starts_with("arn:aws-us-gov:cloudtrail:")
        );
    }

    #[test]
    fn malformed_arns_are_rejected() {
        for bad in [
            "arn:aws:cloudtrail:us-east-1:1234:channel/x",
            "arn:aws:s3:us-east-1:111122223333:channel/x",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/x",
            "arn:aws:cloudtrail:us-east-1:111122223333:channel/",
            "arn:aws:cloudtrail:us-east-1:111122223333:channel",
            "arn:aws:cloudtrail::111122223333:channel/x",
            "arn:aws:cloudtrail:us-east-1:111122223333:channel/a b",
            "channel/x",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn account_and_region_shapes() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901a"));
        assert!(is_region("us-east-1") && is_region("us-gov-west-1"));
        assert!(!is_region("useast1") && !is_region("US-east-1") && !is_region("us-east-x"));
    }

    #[test]
    fn last_part_is_the_id() {
        assert_eq!(last_part("arn:aws:cloudtrail:r:1:channel/id-1"), "id-1");
        assert_eq!(last_part("plain"), "plain");
    }
}
