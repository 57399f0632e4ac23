//! Lead sources: where customers come from (website, referral, trade show, …), a list the admin
//! maintains. Customers name their source by its immutable `key`; the label can change and a
//! source can be archived (no new customers take it; existing ones keep it).

use chrono::{DateTime, Utc};

use crate::FieldError;

pub use crate::keys::{check_key, KEY_MAX, KEY_PATTERN};

/// The longest label.
pub const LABEL_MAX: usize = 100;

/// A lead source as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadSource {
    /// Immutable key, what customers store.
    pub key: String,
    /// What people read.
    pub label: String,
    /// Display order, smallest first.
    pub position: i64,
    /// Archived sources are not offered for new customers.
    pub archived: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// A new lead source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadSourceDraft {
    /// Key, checked by [`check_key`].
    pub key: String,
    /// Label, checked by [`check_label`].
    pub label: String,
    /// Display order.
    pub position: i64,
}

/// Changes to a lead source; `None` leaves a member as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadSourceChanges {
    /// New label.
    pub label: Option<String>,
    /// New position.
    pub position: Option<i64>,
    /// Archive or bring back.
    pub archived: Option<bool>,
}

/// A label: trimmed, 1 to [`LABEL_MAX`] characters.
pub fn check_label(raw: &str, pointer: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || raw.chars().count() > LABEL_MAX {
        return Err(FieldError::new(
            pointer,
            "invalid_label",
            format!("1 to {LABEL_MAX} characters, not only spaces"),
        ));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_snake_case_identifiers() {
        for good in ["website", "trade_show", "a", "x2", &"k".repeat(KEY_MAX)] {
            assert_eq!(check_key(good, "/key"), Ok(good.to_string()));
        }
        for bad in [
            "",
            "Website",
            "2x",
            "_x",
            "trade show",
            "贸易",
            &"k".repeat(KEY_MAX + 1),
        ] {
            assert!(check_key(bad, "/key").is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(
            check_label(" Trade show ", "/label"),
            Ok("Trade show".into())
        );
        assert!(check_label("  ", "/label").is_err());
        assert!(check_label(&"x".repeat(LABEL_MAX + 1), "/label").is_err());
    }
}
