//! Free text as people type it: trimmed, blank is absent, and bounded.

use crate::error::{AppError, FieldError};
use crate::messages::Rule;

/// The longest one-line text (a title, a location, a name).
pub const MAX_LINE: usize = 200;
/// The longest free text (a description, measures, a reason).
pub const MAX_TEXT: usize = 10_000;

/// No stored text holds U+0000: PostgreSQL cannot, so neither backend does.
pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// A one-line text holds no line break.
pub const LINE_BREAK_MESSAGE: &str = "must be one line, without line breaks";

/// Trims a required text field; blank is a validation error. A text
/// bounded as a line (`max_chars` up to [`MAX_LINE`]: a title, a name, a
/// place) is one line: a line break in it is refused.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> Result<String, AppError> {
    // The length counted is the length sent, as the document's `maxLength`.
    let too_long = value.chars().count() > max_chars;
    if value.contains('\0') {
        return Err(AppError::invalid(field, Rule::NulCharacter));
    }
    if max_chars <= MAX_LINE && value.contains(['\r', '\n']) {
        return Err(AppError::invalid(field, Rule::LineBreak));
    }
    // Nothing at all is a value not given; spaces only, a blank one.
    if value.is_empty() {
        return Err(AppError::invalid(field, Rule::Required));
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, Rule::Blank));
    }
    if too_long {
        return Err(AppError::invalid(
            field,
            FieldError::new(Rule::TooLong).with("max", max_chars),
        ));
    }
    Ok(value.to_owned())
}

/// Trims an optional text field; blank becomes absent.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, AppError> {
    match value.filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => required_text(field, v, max_chars).map(Some),
    }
}

/// Text made safe inside HTML elements and quoted attributes.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_refused_or_absent_and_length_is_bounded() {
        assert_eq!(required_text("f", "  a  ", 5).unwrap(), "a");
        assert!(required_text("f", "   ", 5).is_err());
        assert!(required_text("f", "东西南北中六", 5).is_err());
        assert_eq!(optional_text("f", Some("  "), 5).unwrap(), None);
        assert_eq!(optional_text("f", None, 5).unwrap(), None);
    }

    #[test]
    fn a_line_holds_no_line_break_but_free_text_may() {
        assert!(required_text("f", "a\nb", MAX_LINE).is_err());
        assert!(required_text("f", "a\r", MAX_LINE).is_err());
        assert!(optional_text("f", Some("a\nb"), MAX_LINE).is_err());
        assert_eq!(required_text("f", "a\nb", MAX_TEXT).unwrap(), "a\nb");
    }
}
