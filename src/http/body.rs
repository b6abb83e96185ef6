//! A JSON request body read as `web::Json` reads it (the same size limit,
//! content type and errors), except that a body missing several required
//! fields is refused once, naming each of them (`required`), rather than
//! by the first serde meets.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::openapi::{RefOr, Schema};

use crate::error::{AppError, FieldErrors};
use crate::messages::Rule;

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
                let missing = missing_required::<T>(&value);
                if missing.is_empty() {
                    super::schema_mismatch(&e).into()
                } else {
                    AppError::invalid_fields(missing).into()
                }
            })
        })
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
