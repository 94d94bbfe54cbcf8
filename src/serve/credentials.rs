//! Who may call the endpoint: access key IDs with their secrets and the accounts they act for.

use std::collections::HashMap;
use std::path::Path;

use super::ServeError;

/// One access key the endpoint accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The account a request signed with this key comes from.
    pub account_id: String,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// The access keys the endpoint knows, by access key ID.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    keys: HashMap<String, AccessKey>,
}

impl Credentials {
    /// Reads a credentials file: one key per line, `ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID`
    /// separated by blanks; empty lines and lines starting with `#` are skipped.
    pub fn load(path: &Path) -> Result<Credentials, ServeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ServeError::Io {
            what: format!("cannot read credentials file {}", path.display()),
            source,
        })?;
        Credentials::parse(&text)
            .map_err(|message| ServeError::Credentials(format!("{}: {message}", path.display())))
    }

    /// Parses the credentials file format (see [`Credentials::load`]).
    pub fn parse(text: &str) -> Result<Credentials, String> {
        let mut credentials = Credentials::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [id, secret, account] = fields[..] else {
                return Err(format!(
                    "line {}: expected ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID, found {} fields",
                    n + 1,
                    fields.len()
                ));
            };
            if !crate::catalog::arn::is_account_id(account) {
                return Err(format!(
                    "line {}: {account:?} is not a 12-digit account ID",
                    n + 1
                ));
            }
            credentials.insert(id, secret, account);
        }
        if credentials.keys.is_empty() {
            return Err("no access keys in the file".to_string());
        }
        Ok(credentials)
    }

    /// The key in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of `env`, acting for `account_id`.
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
        account_id: &str,
    ) -> Result<Credentials, ServeError> {
        let id = env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty());
        let secret = env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty());
        match (id, secret) {
            (Some(id), Some(secret)) => {
                let mut credentials = Credentials::default();
                credentials.insert(&id, &secret, account_id);
                Ok(credentials)
            }
            _ => Err(ServeError::Credentials(
                "no credentials: give --credentials FILE or set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY (they then act for the store's account)"
                    .to_string(),
            )),
        }
    }

    fn insert(&mut self, id: &str, secret: &str, account: &str) {
        self.keys.insert(
            id.to_string(),
            AccessKey {
                access_key_id: id.to_string(),
                secret_access_key: secret.to_string(),
                account_id: account.to_string(),
            },
        );
    }

    pub fn get(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.keys.get(access_key_id)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_skips_comments() {
        let c =
            Credentials::parse("# keys\n\nAKIA1 s3cret 111122223333\n AKIA2\tx 444455556666 \n")
                .unwrap();
        assert_eq!(c.keys.len(), 2);
        assert_eq!(c.get("AKIA2").unwrap().account_id, "444455556666");
        assert!(c.get("AKIA3").is_none());
    }

    #[test]
    fn bad_lines_are_named() {
        let err = Credentials::parse("AKIA1 s3cret\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        let err = Credentials::parse("AKIA1 s3cret 12\n").unwrap_err();
        assert!(err.contains("account ID"), "{err}");
        assert!(Credentials::parse("# nothing\n").is_err());
    }

    #[test]
    fn environment_keys_act_for_the_store_account() {
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIA9".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("sec".to_string()),
            _ => None,
        };
        let c = Credentials::from_env(env, "123456789012").unwrap();
        assert_eq!(c.get("AKIA9").unwrap().account_id, "123456789012");
        assert!(Credentials::from_env(|_| None, "123456789012").is_err());
        let debug = format!("{:?}", c.get("AKIA9").unwrap());
        assert!(!debug.contains("sec\""), "{debug}");
    }
}
