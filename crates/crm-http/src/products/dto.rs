//! Request and response bodies of products.

use chrono::{DateTime, Utc};
use crm_domain::money::{check_amount, check_currency};
use crm_domain::products::{check_sku, Product, ProductFields, DESCRIPTION_MAX, NAME_MAX};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::responses::{non_null, nullable, nullable_whole, patch_text};

/// A product of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-9c2d-7e3f-8a4b-5c6d7e8f9a0b", "sku": "CRM-PRO-1Y",
    "name": "CRM Pro, one year", "description": null, "unit_price": 129900, "currency": "CNY",
    "active": true, "created_at": "2026-11-26T09:30:00Z", "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct ProductDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// Stock-keeping unit, unique regardless of case.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Price of one unit in minor units of `currency` (fen for CNY).
    pub unit_price: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Offered for new opportunity lines.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Product> for ProductDto {
    fn from(p: Product) -> Self {
        Self {
            id: p.id,
            sku: p.fields.sku,
            name: p.fields.name,
            description: p.fields.description,
            unit_price: p.fields.unit_price,
            currency: p.fields.currency,
            active: p.fields.active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A page of products, by SKU.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProductList {
    /// Products, by SKU regardless of case.
    pub items: Vec<ProductDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the product list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProductQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 512, pattern = "^([0-9a-f]{2})+$")]
    pub cursor: Option<String>,
    /// Only active (`true`) or inactive (`false`) products.
    pub active: Option<bool>,
    /// Only prices in this ISO 4217 currency.
    #[param(pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// SKU or name containing this text, regardless of case.
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
}

/// A product's writable fields: on create `sku`, `name`, `unit_price` and `currency` are
/// required; on change (JSON merge patch) members left out stay and `null` clears the
/// description.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "CRM-PRO-1Y", "name": "CRM Pro, one year",
    "unit_price": 129900, "currency": "CNY"}))]
pub(crate) struct ProductBody {
    /// 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit; unique
    /// regardless of case.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, pattern = r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{0,63}\s*$")]
    pub sku: Option<Option<String>>,
    /// 1 to 200 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<Option<String>>,
    /// Up to 2,000 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    /// Price of one unit in minor units of `currency`, 0 to 10^15.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = i64, minimum = 0, maximum = 1000000000000000_i64)]
    pub unit_price: Option<Option<i64>>,
    /// ISO 4217 code of a currency in use, e.g. `CNY`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<Option<String>>,
    /// Offered for new opportunity lines (default `true`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool)]
    pub active: Option<Option<bool>>,
}

impl ProductBody {
    /// The product's fields after this body (`current` is `None` on create), or every problem.
    pub(crate) fn validate(
        self,
        current: Option<&ProductFields>,
    ) -> Result<ProductFields, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        if current.is_none() {
            for (given, pointer) in [
                (self.sku.is_some(), "/sku"),
                (self.name.is_some(), "/name"),
                (self.unit_price.is_some(), "/unit_price"),
                (self.currency.is_some(), "/currency"),
            ] {
                if !given {
                    errors.push(FieldError::new(pointer, "required", "required"));
                }
            }
        }
        let sku = non_null(self.sku, "/sku", &mut errors)
            .and_then(|s| check_sku(&s, "/sku").map_err(|e| errors.push(e)).ok());
        let name = non_null(self.name, "/name", &mut errors).and_then(|n| {
            let trimmed = n.trim();
            if trimmed.is_empty() || n.chars().count() > NAME_MAX {
                errors.push(FieldError::new(
                    "/name",
                    "invalid_name",
                    format!("1 to {NAME_MAX} characters, not only spaces"),
                ));
                None
            } else {
                Some(trimmed.to_string())
            }
        });
        let description = patch_text(
            self.description,
            "/description",
            DESCRIPTION_MAX,
            &mut errors,
        );
        let unit_price = non_null(self.unit_price, "/unit_price", &mut errors);
        if let Some(error) = unit_price.and_then(|p| check_amount(p, "/unit_price")) {
            errors.push(error);
        }
        let currency = non_null(self.currency, "/currency", &mut errors).and_then(|c| {
            check_currency(&c, "/currency")
                .map_err(|e| errors.push(e))
                .ok()
        });
        let active = non_null(self.active, "/active", &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        let keep = |pick: fn(&ProductFields) -> String| current.map(pick).unwrap_or_default();
        Ok(ProductFields {
            sku: sku.unwrap_or_else(|| keep(|c| c.sku.clone())),
            name: name.unwrap_or_else(|| keep(|c| c.name.clone())),
            description: match description {
                Some(d) => d,
                None => current.and_then(|c| c.description.clone()),
            },
            unit_price: unit_price
                .or(current.map(|c| c.unit_price))
                .unwrap_or_default(),
            currency: currency.unwrap_or_else(|| keep(|c| c.currency.clone())),
            active: active.or(current.map(|c| c.active)).unwrap_or(true),
        })
    }
}
