//! The domain's vocabularies and row ids as typed columns. Each
//! vocabulary enum is stored as its snake_case text (the same text as on
//! the wire) and every id as a UUID's hyphenated text; both are read back
//! into their types here, at the storage boundary, so no code above `db/`
//! compares a state as a string or parses an id. A stored text that names
//! no member, or is not a UUID, is a deserialisation error, never a silent
//! default.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Date, Nullable, Text, Timestamp};
use diesel::sqlite::{Sqlite, SqliteValue};
use uuid::Uuid;

use super::{MultiBackend, MultiRawValue};

use crate::domain::access::Role;
use crate::domain::check_task::{CheckOutcome, TaskKind};
use crate::domain::checklist::ItemOutcome;
use crate::domain::delivery::DeliveryState;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::evidence::EvidencePhase;
use crate::domain::grading::Grade;
use crate::domain::hazard::listing::{AssessorKind, AuthorityLevel, StopScope};
use crate::domain::hazard::{CheckSource, ExtensionState, HazardLevel, HazardState};
use crate::domain::major_source::{DrillKind, PersonKind, SourceUnitKind};
use crate::domain::risk::{ControlMode, ObjectKind, RiskLevel};

/// A type read from a `TEXT` column by parsing the stored text where it
/// lies, without copying it into a `String` first (a page of hazards
/// reads a few hundred ids and vocabulary words).
trait ParseText: Sized {
    fn parse_text(text: &str) -> deserialize::Result<Self>;
}

/// `FromSql<Text, _>` for a [`ParseText`] type on each backend and on the
/// multi-backend connection, which hands the value to the one in use.
macro_rules! read_text_in_place {
    ($type:ty) => {
        impl FromSql<Text, Pg> for $type {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                <$type>::parse_text(std::str::from_utf8(value.as_bytes())?)
            }
        }

        impl FromSql<Text, Sqlite> for $type {
            fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                <$type>::parse_text(value.read_text())
            }
        }

        impl FromSql<Text, MultiBackend> for $type {
            fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
                value.from_sql::<Self, Text>()
            }
        }
    };
}

/// A long text read with one UTF-8 check: diesel's SQLite reader checks a
/// text twice before handing it out, an eighth of reading a page of hazards'
/// renderings (a kilobyte each, mostly Chinese). Read as SQLite's bytes and
/// checked once, with SIMD; on PostgreSQL as its bytes, likewise.
#[derive(Debug, Clone, PartialEq, Eq, diesel::FromSqlRow)]
pub struct LongText(pub String);

impl LongText {
    fn checked(bytes: &[u8]) -> deserialize::Result<LongText> {
        let text = simdutf8::basic::from_utf8(bytes).map_err(|_| "stored text is not UTF-8")?;
        Ok(LongText(text.to_owned()))
    }
}

impl FromSql<Text, Sqlite> for LongText {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        LongText::checked(value.read_blob())
    }
}

impl FromSql<Text, Pg> for LongText {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        LongText::checked(value.as_bytes())
    }
}

impl FromSql<Text, MultiBackend> for LongText {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}

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

                impl ParseText for $vocabulary {
                    fn parse_text(text: &str) -> deserialize::Result<Self> {
                        text.parse().map_err(|e| {
                            format!("stored {} {e}", stringify!($vocabulary)).into()
                        })
                    }
                }
                read_text_in_place!($vocabulary);

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
    ObjectKind,
    ControlMode,
    RiskLevel,
    TaskKind,
    CheckOutcome,
    PersonKind,
    SourceUnitKind,
    DrillKind,
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

impl ParseText for Id {
    fn parse_text(text: &str) -> deserialize::Result<Self> {
        Uuid::parse_str(text)
            .map(Id::from)
            .map_err(|_| format!("a stored id {text:?} is not a UUID").into())
    }
}
read_text_in_place!(Id);

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

/// A date or timestamp column read for a hot path: SQLite keeps them as
/// text, which diesel parses by trying chrono formats one after another
/// (a tenth of the time spent reading a page of hazards). The text this
/// service writes, `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS[.fraction]`, is
/// read directly; anything else falls back to diesel's parser, so rows
/// written by hand or by an older version read as before. PostgreSQL's
/// binary values go straight to diesel. Used as a field's
/// `#[diesel(deserialize_as = …)]`; the field keeps its chrono type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::FromSqlRow)]
pub struct Parsed<T>(pub T);

impl From<Parsed<NaiveDateTime>> for NaiveDateTime {
    fn from(value: Parsed<NaiveDateTime>) -> Self {
        value.0
    }
}

impl From<Parsed<Option<NaiveDateTime>>> for Option<NaiveDateTime> {
    fn from(value: Parsed<Option<NaiveDateTime>>) -> Self {
        value.0
    }
}

impl From<Parsed<NaiveDate>> for NaiveDate {
    fn from(value: Parsed<NaiveDate>) -> Self {
        value.0
    }
}

impl From<Parsed<Option<NaiveDate>>> for Option<NaiveDate> {
    fn from(value: Parsed<Option<NaiveDate>>) -> Self {
        value.0
    }
}

/// The digits of `text[range]` as a number; `None` if any is not a digit.
fn digits(text: &[u8], range: std::ops::Range<usize>) -> Option<u32> {
    text.get(range)?.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// `YYYY-MM-DD`, as diesel writes a `NaiveDate` into SQLite.
fn parse_day(text: &[u8]) -> Option<NaiveDate> {
    if text.len() != 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(text, 0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(text, 5..7)?, digits(text, 8..10)?)
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1–9 digits of fraction,
/// as diesel writes a `NaiveDateTime` into SQLite. A leap second (`:60`)
/// is left to chrono.
fn parse_timestamp(text: &[u8]) -> Option<NaiveDateTime> {
    if text.len() < 19 || text[10] != b' ' || text[13] != b':' || text[16] != b':' {
        return None;
    }
    let day = parse_day(&text[..10])?;
    let nanos = match &text[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction, 0..fraction.len())? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    day.and_hms_nano_opt(
        digits(text, 11..13)?,
        digits(text, 14..16)?,
        digits(text, 17..19)?,
        nanos,
    )
}

/// `Parsed<T>` for a non-null SQL type `$sql` on each backend, reading
/// SQLite's text with `$parse` first.
macro_rules! parsed_column {
    ($sql:ty, $chrono:ty, $parse:ident) => {
        impl FromSql<$sql, Sqlite> for Parsed<$chrono> {
            fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                if let Some(parsed) = $parse(value.read_text().as_bytes()) {
                    return Ok(Parsed(parsed));
                }
                <$chrono as FromSql<$sql, Sqlite>>::from_sql(value).map(Parsed)
            }
        }

        impl FromSql<$sql, Pg> for Parsed<$chrono> {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                <$chrono as FromSql<$sql, Pg>>::from_sql(value).map(Parsed)
            }
        }

        impl FromSql<$sql, MultiBackend> for Parsed<$chrono> {
            fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
                value.from_sql::<Self, $sql>()
            }
        }

        parsed_nullable!($sql, $chrono, Sqlite, SqliteValue<'_, '_, '_>);
        parsed_nullable!($sql, $chrono, Pg, PgValue<'_>);
        parsed_nullable!($sql, $chrono, MultiBackend, MultiRawValue<'_>);
    };
}

/// `Parsed<Option<T>>` for the nullable SQL type on one backend: `NULL`
/// is `None`, anything else is read as `Parsed<T>`.
macro_rules! parsed_nullable {
    ($sql:ty, $chrono:ty, $backend:ty, $raw:ty) => {
        impl FromSql<Nullable<$sql>, $backend> for Parsed<Option<$chrono>> {
            fn from_sql(value: $raw) -> deserialize::Result<Self> {
                <Self as FromSql<Nullable<$sql>, $backend>>::from_nullable_sql(Some(value))
            }

            fn from_nullable_sql(value: Option<$raw>) -> deserialize::Result<Self> {
                match value {
                    None => Ok(Parsed(None)),
                    Some(value) => {
                        let Parsed(parsed) =
                            <Parsed<$chrono> as FromSql<$sql, $backend>>::from_sql(value)?;
                        Ok(Parsed(Some(parsed)))
                    }
                }
            }
        }
    };
}

parsed_column!(Timestamp, NaiveDateTime, parse_timestamp);
parsed_column!(Date, NaiveDate, parse_day);

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<NaiveDateTime> {
        parse_timestamp(text.as_bytes())
    }

    #[test]
    fn timestamps_as_diesel_writes_them_read_like_chrono_reads_them() {
        for text in [
            "2024-02-29 23:59:59",
            "2024-01-02 03:04:05.1",
            "2024-01-02 03:04:05.123",
            "2024-01-02 03:04:05.123456",
            "2024-01-02 03:04:05.123456789",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999999",
        ] {
            let chrono = NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap();
            assert_eq!(at(text), Some(chrono), "{text}");
            // And back: what diesel writes is what is read.
            let written = chrono.format("%F %T%.f").to_string();
            assert_eq!(at(&written), Some(chrono), "{written}");
        }
    }

    #[test]
    fn other_texts_are_left_to_diesels_parser() {
        for text in [
            "2024-02-30 00:00:00",
            "2023-02-29 00:00:00",
            "2024-01-02 24:00:00",
            "2024-01-02 03:60:00",
            "2024-01-02 03:04:60",
            "2024-01-02T03:04:05",
            "2024-01-02 03:04:05Z",
            "2024-01-02 03:04:05+08:00",
            "2024-01-02 03:04:05.",
            "2024-01-02 03:04:05.1234567890",
            "2024-01-02 03:04",
            "2024-1-02 03:04:05",
            "+2024-01-02 03:04:05",
            "2460676.5",
            "",
        ] {
            assert_eq!(at(text), None, "{text}");
        }
        assert_eq!(
            parse_day(b"2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for text in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-0a",
            "2024-01-01 ",
            "24-01-01",
        ] {
            assert_eq!(parse_day(text.as_bytes()), None, "{text}");
        }
    }
}
