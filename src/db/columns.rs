//! The domain's vocabularies as typed columns: each is stored as its
//! snake_case text (the same text as on the wire) and read back into its
//! enum here, at the storage boundary, so no code above `db/` compares a
//! state as a string. A stored text that names no member is a
//! deserialisation error, never a silent default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::access::Role;
use crate::domain::evidence::EvidencePhase;
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
);
