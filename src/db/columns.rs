//! The domain's vocabularies and row ids as typed columns. Each
//! vocabulary enum is stored as its snake_case text (the same text as on
//! the wire) and every id as a UUID's hyphenated text; both are read back
//! into their types here, at the storage boundary, so no code above `db/`
//! compares a state as a string or parses an id. A stored text that names
//! no member, or is not a UUID, is a deserialisation error, never a silent
//! default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use uuid::Uuid;

use crate::domain::access::Role;
use crate::domain::checklist::ItemOutcome;
use crate::domain::delivery::DeliveryState;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::evidence::EvidencePhase;
use crate::domain::grading::Grade;
use crate::domain::hazard::listing::{AssessorKind, AuthorityLevel, StopScope};
use crate::domain::hazard::{CheckSource, ExtensionState, HazardLevel, HazardState};

/// Maps each vocabulary enum onto a `TEXT` column of either backend.
macro_rules! text_columns {
    ($($vocabulary:ident),+ $(,)?) => {
        $(
            const _: () = {
                /// Carries diesel's derives onto the enum itself.
                #[derive(diesel::AsExpression, diesel::FromSqlRow)]
                #[diesel(foreign_derive, sql_type = Text)]
                #[allow(dead_code)]
                struct Column($vocabulary);

                impl<DB> FromSql<Text, DB> for $vocabulary
                where
                    DB: Backend,
                    String: FromSql<Text, DB>,
                {
                    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                        let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
                        text.parse().map_err(|e| {
                            format!("stored {} {e}", stringify!($vocabulary)).into()
                        })
                    }
                }

                // Every backend's, the multi-backend connection's and each
                // inner one's (the bulk inserts and raw groupings use those).
                impl<DB> ToSql<Text, DB> for $vocabulary
                where
                    DB: Backend,
                    str: ToSql<Text, DB>,
                {
                    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                        <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
                    }
                }
            };
        )+
    };
}

text_columns!(
    HazardState,
    HazardLevel,
    CheckSource,
    Role,
    ExtensionState,
    EvidencePhase,
    DeliveryState,
    EnterpriseStatus,
    Grade,
    AuthorityLevel,
    AssessorKind,
    StopScope,
    ItemOutcome,
);

/// A row's id: a UUID stored as its hyphenated text (portable across both
/// backends). Reading a text that is not a UUID is a deserialisation error,
/// never a made-up (nil) id. The text is kept beside the UUID so that
/// writing it borrows instead of formatting on every bind.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = Text)]
pub struct Id {
    uuid: Uuid,
    text: [u8; uuid::fmt::Hyphenated::LENGTH],
}

impl Id {
    pub fn uuid(self) -> Uuid {
        self.uuid
    }

    pub fn as_str(&self) -> &str {
        // Written by `Hyphenated::encode_lower`: always ASCII.
        std::str::from_utf8(&self.text).expect("a hyphenated UUID is ASCII")
    }
}

impl From<Uuid> for Id {
    fn from(uuid: Uuid) -> Self {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        uuid.hyphenated().encode_lower(&mut text);
        Id { uuid, text }
    }
}

impl From<Id> for Uuid {
    fn from(id: Id) -> Self {
        id.uuid
    }
}

impl PartialEq<Uuid> for Id {
    fn eq(&self, other: &Uuid) -> bool {
        self.uuid == *other
    }
}

impl std::fmt::Debug for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.uuid, f)
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<DB> FromSql<Text, DB> for Id
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        Uuid::parse_str(&text)
            .map(Id::from)
            .map_err(|_| format!("a stored id {text:?} is not a UUID").into())
    }
}

impl<DB> ToSql<Text, DB> for Id
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
    }
}

impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
