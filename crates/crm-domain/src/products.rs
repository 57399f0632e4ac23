//! The product catalogue opportunities quote from: a unique SKU, a name, a unit price in minor
//! units of a currency, and an active flag (inactive products stay on the deals that quote
//! them but are not offered for new lines).

use chrono::{DateTime, Utc};

use crate::FieldError;

/// The longest SKU.
pub const SKU_MAX: usize = 64;
/// The longest product name.
pub const NAME_MAX: usize = 200;
/// The longest description.
pub const DESCRIPTION_MAX: usize = 2_000;
/// The pattern of a SKU: letters, digits, `.`, `_` and `-`, starting with a letter or digit.
pub const SKU_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/// A product as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// UUIDv7.
    pub id: String,
    /// What people read and write.
    pub fields: ProductFields,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// A product's writable fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFields {
    /// Stock-keeping unit, unique regardless of case.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Price of one unit, in minor units of `currency`.
    pub unit_price: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Offered for new opportunity lines.
    pub active: bool,
}

/// A SKU matching [`SKU_PATTERN`], trimmed.
pub fn check_sku(raw: &str, pointer: &str) -> Result<String, FieldError> {
    let sku = raw.trim();
    let mut chars = sku.chars();
    let valid = sku.len() <= SKU_MAX
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(sku.to_string())
    } else {
        Err(FieldError::new(
            pointer,
            "invalid_sku",
            format!(
                "1 to {SKU_MAX} letters, digits, '.', '_' or '-', starting with a letter or digit"
            ),
        ))
    }
}

/// The key SKUs are unique by: lower case.
pub fn sku_key(sku: &str) -> String {
    sku.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_codes() {
        for good in ["A-100", "sku.2026_x", "9", &"S".repeat(SKU_MAX)] {
            assert_eq!(check_sku(good, "/sku"), Ok(good.to_string()));
        }
        assert_eq!(check_sku(" A-1 ", "/sku"), Ok("A-1".into()));
        for bad in ["", "-A", "A 1", "货号", &"S".repeat(SKU_MAX + 1)] {
            assert!(check_sku(bad, "/sku").is_err(), "{bad}");
        }
        assert_eq!(sku_key("Ab-1"), "ab-1");
    }
}
