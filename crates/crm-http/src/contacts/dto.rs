//! Request and response bodies of contacts.

use chrono::{DateTime, Utc};
use crm_domain::contact_points::{Phone, PhoneRegion};
use crm_domain::customers::{Contact, ContactFields};
use crm_domain::identity::{check_name, Email};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::responses::{nullable, patch_text};

/// Most phone numbers one contact may have.
const PHONES_MAX: usize = 5;

/// A phone number as entered and in E.164.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PhoneDto {
    /// As entered.
    pub number: String,
    /// E.164, as used for matching.
    pub e164: String,
}

/// A person at a customer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-9c2d-7e3f-8a4b-5c6d7e8f9a0b",
    "customer_id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "name": "李娜",
    "title": "采购经理",
    "phones": [{"number": "138 1234 5678", "e164": "+8613812345678"}],
    "email": "li.na@xingchen.example.cn",
    "wechat_id": "lina_xc",
    "primary": true,
    "notes": "Prefers calls after 14:00.",
    "created_at": "2026-11-26T09:30:00Z",
    "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct ContactDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// The customer.
    #[schema(format = "uuid")]
    pub customer_id: String,
    /// Full name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Phone numbers, the first being the main one.
    pub phones: Vec<PhoneDto>,
    /// Email.
    pub email: Option<String>,
    /// WeChat ID.
    pub wechat_id: Option<String>,
    /// The customer's main contact; exactly one contact of a customer is.
    pub primary: bool,
    /// Notes.
    pub notes: Option<String>,
    /// Values of the contact custom fields, by key; `GET /api/v1/custom-fields/schema/contact`
    /// gives their JSON Schema.
    #[schema(value_type = Object)]
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Contact> for ContactDto {
    fn from(c: Contact) -> Self {
        Self {
            id: c.id,
            customer_id: c.customer_id,
            name: c.fields.name,
            title: c.fields.title,
            phones: c
                .fields
                .phones
                .into_iter()
                .map(|p| PhoneDto {
                    number: p.display,
                    e164: p.normalized,
                })
                .collect(),
            email: c.fields.email.map(|e| e.display),
            wechat_id: c.fields.wechat_id,
            primary: c.primary,
            notes: c.fields.notes,
            custom_fields: c.fields.custom_fields,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A contact's writable fields: on create, `name` is required; on change (JSON merge patch),
/// members left out stay and `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "李娜", "title": "采购经理", "phones": ["138 1234 5678"], "wechat_id": "lina_xc"}))]
pub(crate) struct ContactBody {
    /// Full name, 1 to 200 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<Option<String>>,
    /// Job title.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub title: Option<Option<String>>,
    /// Up to 5 phone numbers in any common format.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>, max_items = 5)]
    pub phones: Option<Option<Vec<String>>>,
    /// Email.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 254, format = Email)]
    pub email: Option<Option<String>>,
    /// WeChat ID.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub wechat_id: Option<Option<String>>,
    /// Notes.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<Option<String>>,
    /// `true` makes this the customer's primary contact (the first contact always is). A
    /// primary contact stays primary until another one is made primary.
    pub primary: Option<bool>,
    /// Create only: add the contact even when another customer has the same phone or email.
    #[serde(default)]
    pub allow_duplicate: bool,
    /// Custom field values by key, checked against the definitions
    /// (`GET /api/v1/custom-fields/schema/contact`). On change, keys given replace their values
    /// and `null` removes one; `"custom_fields": null` removes them all.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl ContactBody {
    /// What a first contact given with its customer may not say (pointers under `/contact`):
    /// it is always the primary one, and the customer's `allow_duplicate` covers it.
    pub(crate) fn first_contact_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.primary == Some(false) {
            errors.push(FieldError::new(
                "/contact/primary",
                "invalid",
                "the first contact is the primary one",
            ));
        }
        if self.allow_duplicate {
            errors.push(FieldError::new(
                "/contact/allow_duplicate",
                "invalid",
                "set allow_duplicate on the customer",
            ));
        }
        errors
    }
}

/// A validated contact body.
pub(crate) struct ContactPatch {
    name: Option<String>,
    title: Option<Option<String>>,
    phones: Option<Vec<Phone>>,
    email: Option<Option<Email>>,
    wechat_id: Option<Option<String>>,
    notes: Option<Option<String>>,
    pub primary: Option<bool>,
    pub allow_duplicate: bool,
}

impl ContactBody {
    pub(crate) fn validate(
        self,
        creating: bool,
        region: PhoneRegion,
    ) -> Result<ContactPatch, DomainError> {
        let mut errors = Vec::new();
        if !creating && self.allow_duplicate {
            errors.push(FieldError::new(
                "/allow_duplicate",
                "read_only",
                "only for create",
            ));
        }
        let name = match self.name {
            Some(Some(n)) => check_name(&n, "/name").map_err(|e| errors.push(e)).ok(),
            Some(None) => {
                errors.push(FieldError::new("/name", "required", "must not be null"));
                None
            }
            None => {
                if creating {
                    errors.push(FieldError::new("/name", "required", "required"));
                }
                None
            }
        };
        let title = patch_text(self.title, "/title", 100, &mut errors);
        let wechat_id = patch_text(self.wechat_id, "/wechat_id", 100, &mut errors);
        let notes = patch_text(self.notes, "/notes", 2000, &mut errors);
        if matches!(&self.email, Some(Some(e)) if e.trim().is_empty()) {
            errors.push(FieldError::new(
                "/email",
                "required",
                "empty: send null to clear",
            ));
        }
        let email = self.email.map(|e| {
            e.filter(|e| !e.trim().is_empty()).and_then(|e| {
                Email::parse(&e, "/email")
                    .map_err(|err| errors.push(err))
                    .ok()
            })
        });
        let phones = self.phones.map(|phones| {
            let phones = phones.unwrap_or_default();
            if phones.len() > PHONES_MAX {
                errors.push(FieldError::new(
                    "/phones",
                    "too_long",
                    format!("at most {PHONES_MAX} numbers"),
                ));
            }
            let mut parsed: Vec<Phone> = Vec::new();
            for (i, raw) in phones.iter().enumerate() {
                match Phone::parse(raw, region, &format!("/phones/{i}")) {
                    Ok(p) if !parsed.iter().any(|q| q.normalized == p.normalized) => parsed.push(p),
                    Ok(_) => {}
                    Err(e) => errors.push(e),
                }
            }
            parsed
        });
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(ContactPatch {
            name,
            title,
            phones,
            email,
            wechat_id,
            notes,
            primary: self.primary,
            allow_duplicate: self.allow_duplicate,
        })
    }
}

impl ContactPatch {
    /// The contact's fields after the patch (`None`: a new contact, whose name validation checked).
    pub(crate) fn apply(&self, current: Option<&ContactFields>) -> ContactFields {
        fn pick<T: Clone>(new: &Option<Option<T>>, old: Option<&Option<T>>) -> Option<T> {
            match new {
                Some(v) => v.clone(),
                None => old.cloned().flatten(),
            }
        }
        ContactFields {
            name: self
                .name
                .clone()
                .or(current.map(|c| c.name.clone()))
                .unwrap_or_default(),
            title: pick(&self.title, current.map(|c| &c.title)),
            phones: self
                .phones
                .clone()
                .or(current.map(|c| c.phones.clone()))
                .unwrap_or_default(),
            email: pick(&self.email, current.map(|c| &c.email)),
            wechat_id: pick(&self.wechat_id, current.map(|c| &c.wechat_id)),
            notes: pick(&self.notes, current.map(|c| &c.notes)),
            // Checked and merged separately, against the field definitions.
            custom_fields: current.map(|c| c.custom_fields.clone()).unwrap_or_default(),
        }
    }
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContactList {
    /// Contacts in creation order.
    pub items: Vec<ContactDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the flat contact list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ContactQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 512, pattern = "^([0-9a-f]{2})+$")]
    pub cursor: Option<String>,
    /// Only contacts of this customer.
    #[param(value_type = Option<String>, format = "uuid")]
    pub customer_id: Option<uuid::Uuid>,
    /// Part of the name, case-insensitive.
    #[param(max_length = 200, pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
    /// Only contacts with this email (matched lower-cased).
    #[param(max_length = 254, pattern = r"^[^\u0000]*$")]
    pub email: Option<String>,
    /// Only contacts with this phone, in any common format (matched in E.164).
    #[param(max_length = 40, pattern = r"^[^\u0000]*$")]
    pub phone: Option<String>,
}
