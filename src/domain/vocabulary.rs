//! The closed vocabularies' common shape: one list per enum gives its serde
//! names, `as_str`, `FromStr` and `Display`, so the wire name, the database
//! text and the parser never drift apart.

use std::fmt;

/// A string that names no member of the vocabulary it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown value \"{}\"", self.0)
    }
}

impl std::error::Error for UnknownValue {}

/// Declares a fieldless enum whose serde names, `as_str`, `FromStr` and
/// `Display` all come from one list, so the wire name, the database text and
/// the parser can never drift apart.
macro_rules! vocabulary {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: [Self; <[&str]>::len(&[$($text),+])] = [$(Self::$variant),+];

            /// The snake_case name used on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::vocabulary::UnknownValue;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                match input {
                    $( $text => Ok(Self::$variant), )+
                    _ => Err($crate::domain::vocabulary::UnknownValue(input.to_owned())),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use vocabulary;
