//! The 统一社会信用代码 (unified social credit code, GB 32100-2015) that
//! identifies an enterprise: parsing, normalisation and check-character
//! validation. A [`CreditCode`] value is always a valid, upper-case code.

use std::fmt;

use crate::error::FieldError;
use crate::messages::Rule;
use std::str::FromStr;

/// The 31 characters a code may contain, in value order; the standard leaves
/// out I, O, S, V and Z because they are easily mistaken for 1, 0, 5, U and 2.
const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Position 1: the kind of authority that registered the entity.
const REGISTRATION_AUTHORITIES: &str = "123456789ANY";

/// Weights for positions 1..=17, i.e. 3^(i-1) mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

const CODE_LENGTH: usize = 18;
const MODULUS: u32 = 31;

/// A validated unified social credit code, upper-case, exactly 18 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CreditCode(String);

/// Why a string is not a unified social credit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditCodeError {
    /// Not 18 characters after trimming; `len` counts characters, not bytes.
    WrongLength { len: usize },
    /// A character outside the code charset; `position` is 1-based.
    InvalidCharacter { position: usize, character: char },
    /// The first character is not a registration authority code.
    InvalidRegistrationAuthority,
    /// Characters 3 to 8 are not all digits.
    InvalidDivisionCode,
    /// The 18th character does not match the one computed from the first 17.
    CheckDigitMismatch { expected: char, found: char },
}

impl fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength { len } => write!(
                f,
                "a unified social credit code has exactly 18 characters, but {len} were given"
            ),
            Self::InvalidCharacter {
                position,
                character,
            } => write!(
                f,
                "character {position} ('{character}') cannot appear in a unified social credit \
                 code, which uses only digits and the letters A-Y except I, O, S, V and Z"
            ),
            Self::InvalidRegistrationAuthority => f.write_str(
                "the first character of a unified social credit code (registration authority) \
                 must be a digit 1-9 or one of A, N, Y",
            ),
            Self::InvalidDivisionCode => f.write_str(
                "characters 3 to 8 of a unified social credit code (administrative division \
                 code) must all be digits",
            ),
            Self::CheckDigitMismatch { expected, found } => write!(
                f,
                "the unified social credit code fails its check: the 18th character is \
                 '{found}' but the first 17 require '{expected}'; the code is probably mistyped"
            ),
        }
    }
}

impl std::error::Error for CreditCodeError {}

/// A credit code's fault as the catalogue names it, with its parameters.
impl From<CreditCodeError> for FieldError {
    fn from(error: CreditCodeError) -> FieldError {
        use CreditCodeError as E;
        match error {
            E::WrongLength { len } => FieldError::new(Rule::CreditCodeLength).with("len", len),
            E::InvalidCharacter {
                position,
                character,
            } => FieldError::new(Rule::CreditCodeCharacter)
                .with("position", position)
                .with("character", character.to_string())
                .with("excluded", "I, O, S, V, Z"),
            E::InvalidRegistrationAuthority => {
                FieldError::new(Rule::CreditCodeAuthority).with("letters", "A, N, Y")
            }
            E::InvalidDivisionCode => FieldError::new(Rule::CreditCodeDivision),
            E::CheckDigitMismatch { expected, found } => FieldError::new(Rule::CreditCodeCheck)
                .with("expected", expected.to_string())
                .with("found", found.to_string()),
        }
    }
}

impl CreditCode {
    /// Validates and normalises `input`: surrounding whitespace is dropped
    /// and ASCII letters are upper-cased, since codes are often copied from
    /// documents or typed in lower case.
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let normalised = input.trim().to_ascii_uppercase();
        let characters: Vec<char> = normalised.chars().collect();
        if characters.len() != CODE_LENGTH {
            return Err(CreditCodeError::WrongLength {
                len: characters.len(),
            });
        }
        let mut values = [0u32; CODE_LENGTH];
        for (index, character) in characters.iter().enumerate() {
            values[index] = char_value(*character).ok_or(CreditCodeError::InvalidCharacter {
                position: index + 1,
                character: *character,
            })?;
        }
        if !REGISTRATION_AUTHORITIES.contains(characters[0]) {
            return Err(CreditCodeError::InvalidRegistrationAuthority);
        }
        if !characters[2..8].iter().all(char::is_ascii_digit) {
            return Err(CreditCodeError::InvalidDivisionCode);
        }
        let expected = check_char_for_values(&values[..17]);
        let found = characters[17];
        if expected != found {
            return Err(CreditCodeError::CheckDigitMismatch { expected, found });
        }
        Ok(CreditCode(normalised))
    }

    /// The normalised code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check character for the first 17 characters of a code, or `None`
/// if `first17` is not 17 characters from the code charset. Lower-case
/// letters are accepted. Only the charset is checked, not the authority or
/// division rules, so pair it with [`CreditCode::parse`] when generating.
pub fn check_char(first17: &str) -> Option<char> {
    let values = first17
        .chars()
        .map(|character| char_value(character.to_ascii_uppercase()))
        .collect::<Option<Vec<u32>>>()?;
    if values.len() != CODE_LENGTH - 1 {
        return None;
    }
    Some(check_char_for_values(&values))
}

/// Index of `character` in [`CHARSET`].
fn char_value(character: char) -> Option<u32> {
    CHARSET
        .chars()
        .position(|candidate| candidate == character)
        .and_then(|index| u32::try_from(index).ok())
}

/// `values` must be the 17 charset values of positions 1..=17.
fn check_char_for_values(values: &[u32]) -> char {
    let weighted_sum: u32 = values
        .iter()
        .zip(WEIGHTS)
        .map(|(value, weight)| value * weight)
        .sum();
    // 31 - (sum mod 31) lies in 1..=31; the standard maps 31 to 0, which is
    // exactly what a further mod 31 does.
    let check_value = (MODULUS - weighted_sum % MODULUS) % MODULUS;
    // check_value < 31 == CHARSET length, and CHARSET is ASCII.
    char::from(CHARSET.as_bytes()[check_value as usize])
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<CreditCode> for String {
    fn from(code: CreditCode) -> String {
        code.0
    }
}

/// Deserialising validates, so a request body can hold a `CreditCode`
/// directly and an invalid code becomes a validation message.
impl<'de> serde::Deserialize<'de> for CreditCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CreditCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid code from a 17-character body.
    fn valid_from_body(body: &str) -> String {
        let check = check_char(body).expect("body is 17 charset characters");
        format!("{body}{check}")
    }

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        let mut power = 1;
        for weight in WEIGHTS {
            assert_eq!(weight, power);
            power = power * 3 % MODULUS;
        }
        assert_eq!(CHARSET.chars().count(), 31);
        for forbidden in ['I', 'O', 'S', 'V', 'Z'] {
            assert!(!CHARSET.contains(forbidden));
        }
    }

    #[test]
    fn known_public_codes_are_valid() {
        for code in [
            "91350100M000100Y43",
            "914403001922038216", // Huawei Technologies Co., Ltd.
            "91440300708461136T", // Shenzhen Tencent Computer Systems Co., Ltd.
        ] {
            let parsed = CreditCode::parse(code);
            assert_eq!(parsed.as_ref().map(CreditCode::as_str), Ok(code), "{code}");
        }
    }

    #[test]
    fn check_char_worked_example() {
        // 9 1 3 5 0 1 0 0 M(21) 0 0 0 1 0 0 Y(30) 4
        // weighted: 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0
        //           + 8 + 0 + 0 + 900 + 112 = 1640; 1640 mod 31 = 28;
        // 31 - 28 = 3 -> '3'.
        assert_eq!(check_char("91350100M000100Y4"), Some('3'));
    }

    #[test]
    fn check_value_31_maps_to_zero() {
        // Weighted sums divisible by 31 give 31 - 0 = 31, which the standard
        // maps to '0': sum 0, and 1*1 + 1*30 = 31.
        assert_eq!(check_char("00000000000000000"), Some('0'));
        assert_eq!(check_char("10000000000000010"), Some('0'));
        // 1*1 = 1 -> 31 - 1 = 30 -> 'Y', the last charset character.
        assert_eq!(check_char("10000000000000000"), Some('Y'));
    }

    #[test]
    fn constructed_codes_are_valid() {
        for body in [
            "91110108MA01ABCDE",
            "12100000400000009",
            "Y1320582000000000",
            "N2440300000000001",
            "51310000MJ5055XXX",
            "A1110000000000000",
        ] {
            let code = valid_from_body(body);
            let parsed = CreditCode::parse(&code).expect("constructed code is valid");
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
            assert_eq!(parsed.as_ref(), code.as_str());
        }
    }

    #[test]
    fn lower_case_and_surrounding_whitespace_are_normalised() {
        let parsed = CreditCode::parse("  91350100m000100y43\t\n").expect("valid");
        assert_eq!(parsed.as_str(), "91350100M000100Y43");
        assert_eq!(
            "91440300708461136t".parse::<CreditCode>().map(String::from),
            Ok("91440300708461136T".to_owned())
        );
    }

    #[test]
    fn every_single_character_substitution_is_rejected() {
        let valid = "91350100M000100Y43";
        let original: Vec<char> = valid.chars().collect();
        let replacements: Vec<char> = CHARSET
            .chars()
            .chain("IOSVZ-* a".chars())
            .chain(['０', '中'])
            .collect();
        let mut tried = 0;
        for position in 0..original.len() {
            for replacement in &replacements {
                if replacement.to_ascii_uppercase() == original[position] {
                    continue;
                }
                let mut corrupted = original.clone();
                corrupted[position] = *replacement;
                let corrupted: String = corrupted.into_iter().collect();
                assert!(
                    CreditCode::parse(&corrupted).is_err(),
                    "{corrupted} was accepted"
                );
                tried += 1;
            }
        }
        assert!(tried > 18 * 30);
    }

    #[test]
    fn adjacent_transpositions_of_distinct_characters_are_rejected() {
        let valid: Vec<char> = "91440300708461136T".chars().collect();
        for i in 0..17 {
            if valid[i] == valid[i + 1] {
                continue;
            }
            let mut swapped = valid.clone();
            swapped.swap(i, i + 1);
            let swapped: String = swapped.into_iter().collect();
            assert!(CreditCode::parse(&swapped).is_err(), "{swapped}");
        }
    }

    #[test]
    fn wrong_length_is_reported_in_characters() {
        assert_eq!(
            CreditCode::parse(""),
            Err(CreditCodeError::WrongLength { len: 0 })
        );
        assert_eq!(
            CreditCode::parse("   "),
            Err(CreditCodeError::WrongLength { len: 0 })
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y4"),
            Err(CreditCodeError::WrongLength { len: 17 })
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y433"),
            Err(CreditCodeError::WrongLength { len: 19 })
        );
        // Full-width characters are one character each, not three bytes.
        assert_eq!(
            CreditCode::parse("９1350100M000100Y43"),
            Err(CreditCodeError::InvalidCharacter {
                position: 1,
                character: '９'
            })
        );
        assert_eq!(
            CreditCode::parse("91350100 M000100Y43"),
            Err(CreditCodeError::WrongLength { len: 19 })
        );
    }

    #[test]
    fn forbidden_letters_are_invalid_characters() {
        for letter in ['I', 'O', 'S', 'V', 'Z', 'i', 'o', 's', 'v', 'z'] {
            let code = format!("91350100M000100{letter}43");
            assert_eq!(
                CreditCode::parse(&code),
                Err(CreditCodeError::InvalidCharacter {
                    position: 16,
                    character: letter.to_ascii_uppercase()
                }),
                "{code}"
            );
        }
    }

    #[test]
    fn registration_authority_must_be_known() {
        for first in ['0', 'B', 'M', 'X'] {
            let body = format!("{first}1350100M000100Y4");
            let code = valid_from_body(&body);
            assert_eq!(
                CreditCode::parse(&code),
                Err(CreditCodeError::InvalidRegistrationAuthority),
                "{code}"
            );
        }
    }

    #[test]
    fn division_code_must_be_digits() {
        let code = valid_from_body("9135A100M000100Y4");
        assert_eq!(
            CreditCode::parse(&code),
            Err(CreditCodeError::InvalidDivisionCode)
        );
    }

    #[test]
    fn check_mismatch_reports_both_characters() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::CheckDigitMismatch {
                expected: '3',
                found: '4'
            })
        );
    }

    #[test]
    fn check_char_rejects_bad_bodies() {
        assert_eq!(check_char(""), None);
        assert_eq!(check_char("91350100M000100Y"), None);
        assert_eq!(check_char("91350100M000100Y43"), None);
        assert_eq!(check_char("91350100M000100I4"), None);
        assert_eq!(check_char("91350100m000100y4"), Some('3'));
    }

    #[test]
    fn error_messages_are_sentences() {
        let errors = [
            CreditCodeError::WrongLength { len: 5 },
            CreditCodeError::InvalidCharacter {
                position: 3,
                character: 'O',
            },
            CreditCodeError::InvalidRegistrationAuthority,
            CreditCodeError::InvalidDivisionCode,
            CreditCodeError::CheckDigitMismatch {
                expected: '3',
                found: '4',
            },
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.contains("unified social credit code"), "{message}");
        }
        assert_eq!(
            CreditCodeError::WrongLength { len: 5 }.to_string(),
            "a unified social credit code has exactly 18 characters, but 5 were given"
        );
    }

    #[test]
    fn serde_is_a_plain_validated_string() {
        let code = CreditCode::parse("91350100M000100Y43").expect("valid");
        assert_eq!(
            serde_json::to_string(&code).expect("serialises"),
            "\"91350100M000100Y43\""
        );
        let back: CreditCode =
            serde_json::from_str("\" 91350100m000100y43 \"").expect("deserialises");
        assert_eq!(back, code);
        let error = serde_json::from_str::<CreditCode>("\"91350100M000100Y44\"")
            .expect_err("bad check character");
        assert!(error.to_string().contains("'3'"), "{error}");
    }
}
