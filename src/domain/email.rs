//! An email address as the service accepts it: trimmed, lower-cased, and
//! plausible enough to deliver to.

use std::fmt;

use crate::error::FieldError;
use crate::messages::Rule;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, FieldError> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(Rule::EmailEmpty.into());
        }
        if email.chars().any(char::is_control) {
            return Err(Rule::ControlCharacters.into());
        }
        if email.len() > 254 {
            return Err(FieldError::new(Rule::TooLong).with("max", 254));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(Rule::EmailNoAt.into());
        };
        if local.is_empty() || local.contains('@') {
            return Err(Rule::EmailOneAt.into());
        }
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if !domain_ok {
            return Err(Rule::EmailDomain.into());
        }
        if email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        {
            return Err(Rule::EmailSpaces.into());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            Email::parse("  Zhang.San@Park.example.CN ")
                .unwrap()
                .as_str(),
            "zhang.san@park.example.cn"
        );
    }

    #[test]
    fn refuses_implausible_addresses() {
        for bad in [
            "",
            "a",
            "a@b",
            "@b.cn",
            "a@.cn",
            "a@b.",
            "a b@c.cn",
            "a@b..cn",
            "a@b@c.cn",
            "x<y>@c.cn",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
