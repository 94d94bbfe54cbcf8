//! The channel sources CloudTrail Lake accepts: `Custom` and its integration partners (a declarative table).

/// The source of a channel for your own applications. Any number of channels may use it.
pub const CUSTOM_SOURCE: &str = "Custom";

/// A CloudTrail Lake integration partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partner {
    /// The partner as the CloudTrail console names it.
    pub display_name: &'static str,
    /// The value of `Source` in CreateChannel.
    pub source: &'static str,
    /// `direct` (the partner calls PutAuditEvents) or `solution` (an application in your account does).
    pub integration_type: &'static str,
}

/// The partners listed in the CloudTrail User Guide ("Additional information about integration
/// partners"). CloudTrail allows at most one channel per partner source.
pub const PARTNERS: &[Partner] = &[
    partner(
        "Cloud Storage Security",
        "CloudStorageSecurityConsole",
        "solution",
    ),
    partner("Clumio", "Clumio", "direct"),
    partner("CrowdStrike", "CrowdStrike", "solution"),
    partner("CyberArk", "CyberArk", "solution"),
    partner("GitHub", "GitHub", "solution"),
    partner("Kong Inc", "KongGatewayEnterprise", "solution"),
    partner("LaunchDarkly", "LaunchDarkly", "direct"),
    partner("Netskope", "NetskopeCloudExchange", "solution"),
    partner("Nordcloud, an IBM Company", "IBMMulticloud", "direct"),
    partner("MontyCloud", "MontyCloud", "direct"),
    partner("Okta", "OktaSystemLogEvents", "solution"),
    partner("One Identity", "OneLogin", "solution"),
    partner("Shoreline.io", "Shoreline", "solution"),
    partner("Snyk.io", "Snyk", "direct"),
    partner("Wiz", "WizAuditLogs", "solution"),
];

const fn partner(
    display_name: &'static str,
    source: &'static str,
    integration_type: &'static str,
) -> Partner {
    Partner {
        display_name,
        source,
        integration_type,
    }
}

/// The partner whose source name is `source` (exact, case-sensitive, as CloudTrail compares it).
pub fn find_partner(source: &str) -> Option<&'static Partner> {
    PARTNERS.iter().find(|p| p.source == source)
}

/// True for `Custom` and every partner source name.
pub fn is_known_source(source: &str) -> bool {
    source == CUSTOM_SOURCE || find_partner(source).is_some()
}

/// All accepted source names, for error messages and help text.
pub fn source_names() -> String {
    std::iter::once(CUSTOM_SOURCE)
        .chain(PARTNERS.iter().map(|p| p.source))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sources() {
        for s in [
            "Custom",
            "OktaSystemLogEvents",
            "GitHub",
            "LaunchDarkly",
            "WizAuditLogs",
        ] {
            assert!(is_known_source(s), "{s}");
        }
        assert!(!is_known_source("custom"));
        assert!(!is_known_source("Okta"));
        assert_eq!(find_partner("Clumio").unwrap().integration_type, "direct");
    }

    #[test]
    fn source_names_are_unique() {
        for (i, p) in PARTNERS.iter().enumerate() {
            assert!(
                PARTNERS[..i].iter().all(|q| q.source != p.source),
                "{}",
                p.source
            );
            assert_ne!(p.source, CUSTOM_SOURCE);
        }
        assert!(source_names().starts_with("Custom, CloudStorageSecurityConsole"));
    }
}
