//! Stable keys: the immutable identifiers admins give lead sources, custom fields and select
//! options, which records store and integrations name.

use crate::FieldError;

/// The longest key.
pub const KEY_MAX: usize = 50;
/// The pattern of a key: lower-case ASCII letters, digits and `_`, starting with a letter.
pub const KEY_PATTERN: &str = "^[a-z][a-z0-9_]{0,49}$";

/// A key matching [`KEY_PATTERN`].
pub fn check_key(raw: &str, pointer: &str) -> Result<String, FieldError> {
    let mut chars = raw.chars();
    let valid = raw.len() <= KEY_MAX
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(raw.to_string())
    } else {
        Err(FieldError::new(
            pointer,
            "invalid_key",
            format!("1 to {KEY_MAX} lower-case letters, digits or _, starting with a letter"),
        ))
    }
}
