//! Conditional requests (RFC 9110 §13), in one place: `If-Match` compared
//! strongly against a record's version (a weak tag never matches; a list
//! and `*` are honoured; a malformed header is `400`), and
//! `If-None-Match` compared weakly against an `ETag`.

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderName};
use actix_web::{FromRequest, HttpRequest};

use crate::domain::version::ExpectedVersion;
use crate::error::AppError;
use crate::messages::Detail;

/// One entity tag of a header's list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    opaque: &'a str,
}

/// A header's value: `*`, or a list of entity tags. `None` when malformed.
fn parse_tags(value: &str) -> Option<Option<Vec<EntityTag<'_>>>> {
    let value = value.trim();
    if value == "*" {
        return Some(None);
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start();
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let body = quoted.strip_prefix('"')?;
        let end = body.find('"')?;
        let opaque = &body[..end];
        // etagc: visible ASCII but the double quote, and obs-text.
        if opaque.bytes().any(|b| b == b'"' || b < 0x21 || b == 0x7f) {
            return None;
        }
        tags.push(EntityTag { weak, opaque });
        rest = body[end + 1..].trim_start();
        if rest.is_empty() {
            break;
        }
        rest = rest.strip_prefix(',')?;
    }
    Some(Some(tags))
}

fn header_text<'a>(req: &'a HttpRequest, name: &HeaderName) -> Result<Option<&'a str>, ()> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| ()),
    }
}

/// The versions an `If-Match` header admits; `None` without the header.
/// Our tags are strong (`"<version>"`): a weak or non-numeric tag is
/// well-formed but matches no version.
pub fn expected_version(req: &HttpRequest) -> Result<Option<ExpectedVersion>, AppError> {
    let malformed = || AppError::bad_request(Detail::IfMatchMalformed.with("header", "If-Match"));
    let Some(value) = header_text(req, &header::IF_MATCH).map_err(|_| malformed())? else {
        return Ok(None);
    };
    match parse_tags(value).ok_or_else(malformed)? {
        None => Ok(Some(ExpectedVersion::Any)),
        Some(tags) => Ok(Some(ExpectedVersion::OneOf(
            tags.iter()
                .filter(|t| !t.weak)
                .filter_map(|t| t.opaque.parse().ok())
                .collect(),
        ))),
    }
}

/// `If-Match`, read before the body so a malformed header is answered
/// `400` before anything else.
pub struct IfMatch(pub Option<ExpectedVersion>);

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<Result<IfMatch, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(expected_version(req).map(IfMatch))
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison) or is `*`: the
/// client holds the current representation. A malformed header matches
/// nothing.
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    let Ok(Some(value)) = header_text(req, &header::IF_NONE_MATCH) else {
        return false;
    };
    // What a polling client nearly always sends: the very tag it was given
    // (ours are well-formed), which needs no parsing.
    if value == etag {
        return true;
    }
    let Some(current) = parse_tags(etag).and_then(|tags| tags?.into_iter().next()) else {
        return false;
    };
    match parse_tags(value) {
        Some(None) => true,
        Some(Some(tags)) => tags.iter().any(|t| t.opaque == current.opaque),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn if_match(value: &str) -> Result<Option<ExpectedVersion>, AppError> {
        expected_version(
            &TestRequest::default()
                .insert_header(("If-Match", value))
                .to_http_request(),
        )
    }

    #[test]
    fn if_match_is_compared_strongly_and_lists_are_honoured() {
        assert_eq!(
            if_match("\"3\"").unwrap(),
            Some(ExpectedVersion::OneOf(vec![3]))
        );
        assert_eq!(
            if_match("\"2\", \"3\"").unwrap(),
            Some(ExpectedVersion::OneOf(vec![2, 3]))
        );
        assert_eq!(
            if_match("W/\"3\"").unwrap(),
            Some(ExpectedVersion::OneOf(vec![]))
        );
        assert_eq!(if_match("*").unwrap(), Some(ExpectedVersion::Any));
        assert_eq!(
            if_match("\"abc\"").unwrap(),
            Some(ExpectedVersion::OneOf(vec![]))
        );
        for malformed in ["", "3", "\"3", "\"3\" \"4\"", "\"3\",", "W/3"] {
            assert!(if_match(malformed).is_err(), "{malformed:?}");
        }
        let none = TestRequest::default().to_http_request();
        assert_eq!(expected_version(&none).unwrap(), None);
    }

    #[test]
    fn if_none_match_is_compared_weakly() {
        let req = |value: &str| {
            TestRequest::default()
                .insert_header(("If-None-Match", value))
                .to_http_request()
        };
        assert!(none_match(&req("\"a\""), "\"a\""));
        assert!(none_match(&req("W/\"a\""), "\"a\""));
        assert!(none_match(&req("\"b\", W/\"a\""), "\"a\""));
        assert!(none_match(&req("*"), "\"a\""));
        assert!(!none_match(&req("\"b\""), "\"a\""));
        assert!(!none_match(&req("a"), "\"a\""));
        assert!(!none_match(
            &TestRequest::default().to_http_request(),
            "\"a\""
        ));
    }
}
