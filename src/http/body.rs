//! A JSON request body read as `web::Json` reads it (the same size limit,
//! content type and errors), except that a body of the wrong shape is
//! refused once, naming every field at fault rather than the first serde
//! meets: each required field missing (`required`), each value of the wrong
//! type (`not_a_count`, `not_a_string`, `one_of`, …) and each field the
//! request does not have (`unknown_field`). The rules of the values
//! themselves (lengths, dates, states) are checked once the shape is right.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::openapi::{KnownFormat, RefOr, Schema, SchemaFormat};

use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::{self, Params, Rule};

/// A request body of type `T`, checked against `T`'s schema.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Body<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + utoipa::ToSchema + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Body<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = json.await?;
            T::deserialize(&value).map(Body).map_err(|e| {
                let faults = shape_faults::<T>(value);
                if faults.is_empty() {
                    super::schema_mismatch(&e).into()
                } else {
                    AppError::invalid_fields(faults).into()
                }
            })
        })
    }
}

/// How many values of a body are probed for faults: each probe reads the
/// body again, so a body of many wrong values costs at most this many reads.
const MAX_PROBES: usize = 32;

/// Every field of `value` at fault as `T`: the required ones missing, then
/// each value serde refuses, found by reading the body again without the
/// field refused before (at most [`MAX_PROBES`] times). A field taken out
/// so is not named again as missing.
fn shape_faults<T: DeserializeOwned + utoipa::ToSchema>(value: Value) -> FieldErrors {
    let mut faults = missing_required::<T>(&value);
    let mut removed = Vec::new();
    let mut probe = value;
    for _ in 0..MAX_PROBES {
        let Err(error) = serde_path_to_error::deserialize::<_, T>(&probe) else {
            break;
        };
        let message = error.inner().to_string();
        let mut path = segments(error.path());
        if let Some(field) = named(&message, "missing field `") {
            path.push(Segment::Key(field.to_owned()));
            let name = field_name(&path);
            if !removed.contains(&name) {
                faults.entry(name).or_insert_with(|| Rule::Required.into());
            }
            break;
        }
        let fault = match named(&message, "unknown field `") {
            Some(field) => {
                if path.last() != Some(&Segment::Key(field.to_owned())) {
                    path.push(Segment::Key(field.to_owned()));
                }
                FieldError::new(Rule::UnknownField)
            }
            None => value_fault::<T>(&message, &path),
        };
        let Some(name) = (!path.is_empty()).then(|| field_name(&path)) else {
            break;
        };
        // A required field sent as `null` is named `required` already.
        faults.entry(name).or_insert(fault);
        match remove(&mut probe, &path) {
            Some(gone) => removed.push(gone),
            None => break,
        }
    }
    faults
}

/// A step of the way to a value in a body.
#[derive(Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Segment> {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
            _ => None,
        })
        .collect()
}

/// A field's name as the service's refusals write it: `contact_emails[0]`,
/// `results[2].hazard.title`.
fn field_name(path: &[Segment]) -> String {
    let mut name = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) if name.is_empty() => name.push_str(key),
            Segment::Key(key) => {
                name.push('.');
                name.push_str(key);
            }
            Segment::Index(index) => name.push_str(&format!("[{index}]")),
        }
    }
    name
}

/// The name serde quotes after `prefix` ("missing field `reason`").
fn named<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    let field = &rest[..rest.find('`')?];
    (!field.is_empty()).then_some(field)
}

/// The rule a refused value broke; a top-level field's schema says whether
/// a reader's own complaint was about a date, a time or an identifier.
fn value_fault<T: utoipa::ToSchema>(message: &str, path: &[Segment]) -> FieldError {
    let (rule, params) = messages::json_fault(message).unwrap_or((Rule::Invalid, Params::new()));
    let rule = match (rule, path) {
        (Rule::NotAllowedValue | Rule::NotADate, [Segment::Key(field)]) => {
            match format_of::<T>(field) {
                Some(KnownFormat::Date) => Rule::NotADate,
                Some(KnownFormat::DateTime) => Rule::NotATime,
                Some(KnownFormat::Uuid) => Rule::NotAUuid,
                _ => rule,
            }
        }
        _ => rule,
    };
    FieldError { rule, params }
}

/// The format `T`'s schema gives its property `field`, if any.
fn format_of<T: utoipa::ToSchema>(field: &str) -> Option<KnownFormat> {
    let RefOr::T(Schema::Object(schema)) = T::schema() else {
        return None;
    };
    match schema.properties.get(field)? {
        RefOr::T(Schema::Object(property)) => match &property.format {
            Some(SchemaFormat::KnownFormat(format)) => Some(format.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Takes the field at `path` out of `body` (for a list's item, the whole
/// list: its other items cannot move), so the next read goes past it; the
/// name of what was taken out.
fn remove(body: &mut Value, path: &[Segment]) -> Option<String> {
    let keyed = path.iter().rposition(|s| matches!(s, Segment::Key(_)))?;
    let (parents, last) = (&path[..keyed], &path[keyed]);
    let mut at = body;
    for segment in parents {
        at = match (segment, at) {
            (Segment::Key(key), Value::Object(map)) => map.get_mut(key)?,
            (Segment::Index(index), Value::Array(items)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    match (last, at) {
        (Segment::Key(key), Value::Object(map)) => {
            map.remove(key)?;
            Some(field_name(&path[..=keyed]))
        }
        _ => None,
    }
}

/// Every property `T`'s schema requires that `value` lacks (or sends as
/// `null`), each as `required`.
fn missing_required<T: utoipa::ToSchema>(value: &Value) -> FieldErrors {
    let Value::Object(given) = value else {
        return FieldErrors::new();
    };
    let RefOr::T(Schema::Object(schema)) = T::schema() else {
        return FieldErrors::new();
    };
    schema
        .required
        .iter()
        .filter(|name| given.get(name.as_str()).is_none_or(Value::is_null))
        .map(|name| (name.clone(), Rule::Required.into()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, utoipa::ToSchema)]
    #[expect(dead_code, reason = "only its schema is read")]
    struct Sample {
        name: String,
        size: i32,
        note: Option<String>,
    }

    #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only read to find faults")]
    struct Shaped {
        name: String,
        size: u32,
        on: chrono::NaiveDate,
        at: chrono::DateTime<chrono::Utc>,
        tags: Vec<String>,
        zone: Option<Zone>,
        note: Option<String>,
    }

    #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    enum Zone {
        North,
        South,
    }

    #[test]
    fn every_field_of_the_wrong_shape_is_named_once() {
        let body = serde_json::json!({
            "name": null,
            "size": "big",
            "on": "2026/12/20",
            "at": "yesterday",
            "tags": ["a", 1],
            "zone": "west",
            "extra": 1,
        });
        let faults = shape_faults::<Shaped>(body);
        let named: Vec<(&str, &str)> = faults
            .iter()
            .map(|(field, fault)| (field.as_str(), fault.rule.code()))
            .collect();
        assert_eq!(
            named,
            [
                ("at", "not_a_time"),
                ("extra", "unknown_field"),
                ("name", "required"),
                ("on", "not_a_date"),
                ("size", "not_a_count"),
                ("tags[1]", "not_a_string"),
                ("zone", "one_of"),
            ],
            "{faults:?}"
        );
        assert_eq!(faults["zone"].params["allowed"], "north, south");
        let fine = serde_json::json!({
            "name": "a", "size": 1, "on": "2026-12-20", "at": "2026-12-20T08:00:00Z", "tags": [],
        });
        assert!(shape_faults::<Shaped>(fine).is_empty());
    }

    #[test]
    fn every_missing_required_field_is_named() {
        let missing = missing_required::<Sample>(&serde_json::json!({"note": "x"}));
        assert_eq!(
            missing.keys().collect::<Vec<_>>(),
            ["name", "size"],
            "{missing:?}"
        );
        assert!(missing.values().all(|e| e.rule == Rule::Required));
        let none = missing_required::<Sample>(&serde_json::json!({"name": "a", "size": 1}));
        assert!(none.is_empty());
    }
}
