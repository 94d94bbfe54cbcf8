//! SigV4 verification: recompute the signature of a received request with `aws-sigv4` and
//! compare it, in constant time, with the one the client sent.

use std::time::SystemTime;

use aws_sigv4::http_request::{
    PayloadChecksumKind, SessionTokenMode, SignableBody, SignableRequest, SigningSettings, sign,
};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use http::HeaderMap;

use super::credentials::{AccessKey, Credentials};
use super::error::ApiError;

/// The signing name of the CloudTrail Data API.
pub const SERVICE: &str = "cloudtrail-data";
/// How far a request's x-amz-date may be from the endpoint's clock.
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(15);

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const AMZ_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// Who a verified request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key_id: String,
    pub account_id: String,
    /// The region of the request's credential scope.
    pub region: String,
}

/// The parts of a SigV4 Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ApiError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            ApiError::incomplete_signature(format!(
                "Authorization header must use the {ALGORITHM} algorithm"
            ))
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {
                return Err(ApiError::incomplete_signature(format!(
                    "Authorization header has an unexpected part {part:?}"
                )));
            }
        }
    }
    let missing = |name: &str| {
        ApiError::incomplete_signature(format!(
            "Authorization header requires '{name}' parameter. Authorization={value}"
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, "aws4_request"] = scope[..] else {
        return Err(ApiError::incomplete_signature(format!(
            "Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, not {credential:?}"
        )));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the request's x-amz-date against `now` and returns it.
fn check_date(amz_date: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let time = NaiveDateTime::parse_from_str(amz_date, AMZ_DATE_FORMAT)
        .map_err(|_| {
            ApiError::incomplete_signature(format!(
                "x-amz-date {amz_date:?} is not in the form YYYYMMDDTHHMMSSZ"
            ))
        })?
        .and_utc();
    let stamp = |t: DateTime<Utc>| t.format(AMZ_DATE_FORMAT).to_string();
    if time < now - MAX_SKEW {
        return Err(ApiError::invalid_signature(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            stamp(now - MAX_SKEW),
            stamp(now)
        )));
    }
    if time > now + MAX_SKEW {
        return Err(ApiError::invalid_signature(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            stamp(now + MAX_SKEW),
            stamp(now)
        )));
    }
    Ok(time)
}

/// Equality that takes the same time wherever the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies the SigV4 signature of a request (method, URI path and query as received,
/// headers, whole body) and returns the caller it identifies.
pub fn verify(
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
    credentials: &Credentials,
    now: DateTime<Utc>,
) -> Result<Caller, ApiError> {
    check_headers(headers, credentials, now)?.verify(method, uri, body)
}

/// A request whose signing headers passed every check that needs no body: the signature
/// itself covers the body, and [`SignedHeaders::verify`] checks it once the body is read.
pub struct SignedHeaders<'h> {
    auth: Authorization<'h>,
    key: &'h AccessKey,
    time: DateTime<Utc>,
    /// The signed headers' values, in the order the Authorization header names them.
    signed: Vec<(&'h str, &'h str)>,
    token: Option<&'h str>,
}

/// The checks of a request's SigV4 headers that need no body: an Authorization header of
/// the right form, for this service, with a known access key and a time within
/// [`MAX_SKEW`], and every signed header present. A request failing one is refused before
/// its body is read.
pub fn check_headers<'h>(
    headers: &'h HeaderMap,
    credentials: &'h Credentials,
    now: DateTime<Utc>,
) -> Result<SignedHeaders<'h>, ApiError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Err(ApiError::missing_token());
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::incomplete_signature("Authorization header is not ASCII"))?;
    let auth = parse_authorization(value)?;
    let amz_date = header(headers, "x-amz-date").ok_or_else(|| {
        ApiError::incomplete_signature("Authorization header requires existence of x-amz-date")
    })?;
    let time = check_date(amz_date, now)?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(ApiError::invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
            auth.date,
            &amz_date[..8.min(amz_date.len())]
        )));
    }
    if auth.service != SERVICE {
        return Err(ApiError::invalid_signature(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    if !auth.signed_headers.contains(&"host") {
        return Err(ApiError::incomplete_signature(
            "SignedHeaders must include host",
        ));
    }
    let key = credentials
        .get(auth.access_key_id)
        .ok_or_else(ApiError::unrecognized_client)?;

    let mut signed: Vec<(&str, &str)> = Vec::new();
    for name in &auth.signed_headers {
        let values = headers.get_all(*name);
        let mut any = false;
        for v in values {
            let v = v.to_str().map_err(|_| {
                ApiError::invalid_signature(format!("signed header {name} is not ASCII"))
            })?;
            signed.push((name, v));
            any = true;
        }
        if !any {
            return Err(ApiError::invalid_signature(format!(
                "signed header {name} is not in the request"
            )));
        }
    }
    // The body must be covered by the signature: over plain HTTP, an unsigned payload could
    // be replaced on the way (AWS clients of cloudtrail-data always sign it).
    if header(headers, "x-amz-content-sha256") == Some("UNSIGNED-PAYLOAD") {
        return Err(ApiError::invalid_signature(
            "cloudtrail-data requires a signed payload, not UNSIGNED-PAYLOAD",
        ));
    }
    Ok(SignedHeaders {
        auth,
        key,
        time,
        signed,
        token: header(headers, "x-amz-security-token"),
    })
}

/// The signature could not be computed at all (a malformed part the checks let through).
fn cannot_check(e: impl std::fmt::Display) -> ApiError {
    ApiError::incomplete_signature(format!("cannot check the signature: {e}"))
}

impl SignedHeaders<'_> {
    /// Recomputes the signature over the request with its `body` and compares it with the
    /// one sent; returns the caller it identifies.
    pub fn verify(self, method: &str, uri: &str, body: &[u8]) -> Result<Caller, ApiError> {
        let SignedHeaders {
            auth,
            key,
            time,
            signed,
            token,
        } = self;
        let mut settings = SigningSettings::default();
        settings.excluded_headers = Some(Vec::new());
        settings.payload_checksum_kind = if auth.signed_headers.contains(&"x-amz-content-sha256") {
            PayloadChecksumKind::XAmzSha256
        } else {
            PayloadChecksumKind::NoHeader
        };
        settings.session_token_mode = if auth.signed_headers.contains(&"x-amz-security-token") {
            SessionTokenMode::Include
        } else {
            SessionTokenMode::Exclude
        };
        let body = SignableBody::Bytes(body);
        let identity = aws_credential_types::Credentials::new(
            &key.access_key_id,
            &key.secret_access_key,
            token.map(str::to_string),
            None,
            "auditlake-serve",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(auth.region)
            .name(SERVICE)
            .time(SystemTime::from(time))
            .settings(settings)
            .build()
            .map_err(cannot_check)?
            .into();
        let request =
            SignableRequest::new(method, uri, signed.into_iter(), body).map_err(cannot_check)?;
        let expected = sign(request, &params).map_err(cannot_check)?;
        if !constant_time_eq(expected.signature().as_bytes(), auth.signature.as_bytes()) {
            return Err(ApiError::invalid_signature(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details.",
            ));
        }
        Ok(Caller {
            access_key_id: key.access_key_id.clone(),
            account_id: key.account_id.clone(),
            region: auth.region.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "/PutAuditEvents?channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Achannel%2Fabc";

    fn credentials() -> Credentials {
        Credentials::parse("AKIDEXAMPLE secret 123456789012\n").unwrap()
    }

    /// Signs a request the way an AWS SDK does, with `aws-sigv4` as the client.
    fn signed(secret: &str, time: DateTime<Utc>, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:9999".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        let identity =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", secret, None, None, "test")
                .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(SERVICE)
            .time(SystemTime::from(time))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let pairs: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let request = SignableRequest::new(
            "POST",
            URI,
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let (new_headers, _) = instructions.into_parts();
        for h in new_headers {
            headers.insert(
                http::HeaderName::from_bytes(h.name().as_bytes()).unwrap(),
                h.value().parse().unwrap(),
            );
        }
        headers
    }

    #[test]
    fn a_correct_signature_verifies() {
        let now = Utc::now();
        let headers = signed("secret", now, b"{}");
        let caller = verify("POST", URI, &headers, b"{}", &credentials(), now).unwrap();
        assert_eq!(caller.account_id, "123456789012");
        assert_eq!(caller.region, "us-east-1");
    }

    #[test]
    fn the_headers_are_checked_before_the_body_and_the_signature_after() {
        let now = Utc::now();
        let creds = credentials();
        // A wrong secret shows only in the signature, which needs the body.
        let headers = signed("other", now, b"{}");
        let checked = check_headers(&headers, &creds, now).unwrap();
        assert_eq!(
            checked.verify("POST", URI, b"{}").unwrap_err().code,
            "InvalidSignatureException"
        );
        // A stale time needs no body to be refused.
        let later = now + MAX_SKEW + TimeDelta::minutes(1);
        assert!(check_headers(&signed("secret", now, b"{}"), &creds, later).is_err());
    }

    #[test]
    fn a_changed_body_or_secret_does_not() {
        let now = Utc::now();
        let headers = signed("secret", now, b"{}");
        let e = verify("POST", URI, &headers, b"{ }", &credentials(), now).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException");
        let headers = signed("other", now, b"{}");
        let e = verify("POST", URI, &headers, b"{}", &credentials(), now).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException");
    }

    #[test]
    fn an_unsigned_payload_is_refused() {
        let now = Utc::now();
        let mut headers = signed("secret", now, b"{}");
        headers.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
        let e = verify("POST", URI, &headers, b"{}", &credentials(), now).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException");
        assert!(e.message.contains("signed payload"), "{}", e.message);
    }

    #[test]
    fn old_signatures_expire() {
        let now = Utc::now();
        let headers = signed("secret", now - TimeDelta::minutes(20), b"{}");
        let e = verify("POST", URI, &headers, b"{}", &credentials(), now).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException");
        assert!(
            e.message.starts_with("Signature expired: "),
            "{}",
            e.message
        );
    }

    #[test]
    fn missing_and_malformed_authorization() {
        let now = Utc::now();
        let e = verify("POST", URI, &HeaderMap::new(), b"", &credentials(), now).unwrap_err();
        assert_eq!(e.code, "MissingAuthenticationTokenException");
        let mut headers = signed("secret", now, b"{}");
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=x".parse().unwrap(),
        );
        let e = verify("POST", URI, &headers, b"{}", &credentials(), now).unwrap_err();
        assert_eq!(e.code, "IncompleteSignatureException");
    }

    #[test]
    fn parses_the_authorization_header() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/cloudtrail-data/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "AKID");
        assert_eq!(a.region, "eu-west-1");
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(a.signature, "abc");
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
