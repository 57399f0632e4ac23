//! Customers: companies (B2B) and individuals (B2C), owned by a rep or sitting in the shared pool.

use chrono::{DateTime, NaiveDate, Utc};

use crate::contact_points::Phone;
use crate::identity::Email;

/// Company or person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomerKind {
    /// A business (B2B).
    Company,
    /// A private person (B2C).
    Individual,
}

impl CustomerKind {
    /// Every kind.
    pub const ALL: [CustomerKind; 2] = [CustomerKind::Company, CustomerKind::Individual];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerKind::Company => "company",
            CustomerKind::Individual => "individual",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// Where the customer is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LifecycleStatus {
    /// Just came in.
    Lead,
    /// Qualified, being worked.
    Prospect,
    /// Has bought.
    Customer,
    /// No longer active.
    Inactive,
}

impl LifecycleStatus {
    /// Every status.
    pub const ALL: [LifecycleStatus; 4] = [
        LifecycleStatus::Lead,
        LifecycleStatus::Prospect,
        LifecycleStatus::Customer,
        LifecycleStatus::Inactive,
    ];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStatus::Lead => "lead",
            LifecycleStatus::Prospect => "prospect",
            LifecycleStatus::Customer => "customer",
            LifecycleStatus::Inactive => "inactive",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// The fields a caller writes (everything but identity, ownership and derived values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerFields {
    /// Company or person.
    pub kind: CustomerKind,
    /// Display name.
    pub name: String,
    /// Registered company name.
    pub legal_name: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Company size band, e.g. `50-200`.
    pub company_size: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Tax id.
    pub tax_id: Option<String>,
    /// Gender of a person.
    pub gender: Option<String>,
    /// Birthday of a person.
    pub birthday: Option<NaiveDate>,
    /// Main phone.
    pub phone: Option<Phone>,
    /// Main email.
    pub email: Option<Email>,
    /// Lifecycle status.
    pub status: LifecycleStatus,
    /// Free classification, e.g. `A` / `VIP`.
    pub classification: Option<String>,
    /// Where the lead came from.
    pub lead_source: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
}

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// UUIDv7.
    pub id: String,
    /// What callers write.
    pub fields: CustomerFields,
    /// The owning rep; `None`: in the shared pool.
    pub owner_id: Option<String>,
    /// Behaviour score.
    pub score: i64,
    /// When someone last recorded an activity.
    pub last_activity_at: Option<DateTime<Utc>>,
    /// The next pending follow-up.
    pub next_follow_up_at: Option<DateTime<Utc>>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// When soft-deleted; `None` for live customers.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// One changed field: its name, old and new value (as JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// Before.
    pub old: serde_json::Value,
    /// After.
    pub new: serde_json::Value,
}

impl CustomerFields {
    /// Each field as JSON, in a fixed order, for audit diffs.
    pub fn audit_values(&self) -> Vec<(&'static str, serde_json::Value)> {
        use serde_json::json;
        vec![
            ("kind", json!(self.kind.as_str())),
            ("name", json!(self.name)),
            ("legal_name", json!(self.legal_name)),
            ("industry", json!(self.industry)),
            ("company_size", json!(self.company_size)),
            ("website", json!(self.website)),
            ("address", json!(self.address)),
            ("tax_id", json!(self.tax_id)),
            ("gender", json!(self.gender)),
            ("birthday", json!(self.birthday.map(|d| d.to_string()))),
            ("phone", json!(self.phone.as_ref().map(|p| &p.display))),
            ("email", json!(self.email.as_ref().map(|e| &e.display))),
            ("status", json!(self.status.as_str())),
            ("classification", json!(self.classification)),
            ("lead_source", json!(self.lead_source)),
            ("tags", json!(self.tags)),
        ]
    }

    /// The fields that differ from `before`, with old and new values.
    pub fn changes_from(&self, before: &CustomerFields) -> Vec<FieldChange> {
        before
            .audit_values()
            .into_iter()
            .zip(self.audit_values())
            .filter(|((_, old), (_, new))| old != new)
            .map(|((field, old), (_, new))| FieldChange {
                field: field.to_string(),
                old,
                new,
            })
            .collect()
    }

    /// Every field with a value, as changes from nothing: the history entry of a new customer.
    pub fn as_created(&self) -> Vec<FieldChange> {
        self.audit_values()
            .into_iter()
            .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
            .map(|(field, new)| FieldChange {
                field: field.to_string(),
                old: serde_json::Value::Null,
                new,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> CustomerFields {
        CustomerFields {
            kind: CustomerKind::Company,
            name: "Acme".into(),
            legal_name: None,
            industry: None,
            company_size: None,
            website: None,
            address: None,
            tax_id: None,
            gender: None,
            birthday: None,
            phone: None,
            email: None,
            status: LifecycleStatus::Lead,
            classification: None,
            lead_source: None,
            tags: vec![],
        }
    }

    #[test]
    fn changes_list_each_changed_field_with_old_and_new() {
        let before = fields();
        let after = CustomerFields {
            name: "Acme Ltd".into(),
            status: LifecycleStatus::Prospect,
            ..fields()
        };
        let changes = after.changes_from(&before);
        assert_eq!(
            changes,
            vec![
                FieldChange {
                    field: "name".into(),
                    old: "Acme".into(),
                    new: "Acme Ltd".into()
                },
                FieldChange {
                    field: "status".into(),
                    old: "lead".into(),
                    new: "prospect".into()
                },
            ]
        );
        assert!(before.changes_from(&before).is_empty());
        let created: Vec<String> = before.as_created().into_iter().map(|c| c.field).collect();
        assert_eq!(created, ["kind", "name", "status"]);
    }

    #[test]
    fn enums_round_trip() {
        for k in CustomerKind::ALL {
            assert_eq!(CustomerKind::parse(k.as_str()), Some(k));
        }
        for s in LifecycleStatus::ALL {
            assert_eq!(LifecycleStatus::parse(s.as_str()), Some(s));
        }
    }
}

/// The fields a caller writes on a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFields {
    /// Full name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Phone numbers, the first being the main one.
    pub phones: Vec<Phone>,
    /// Email.
    pub email: Option<Email>,
    /// WeChat ID.
    pub wechat_id: Option<String>,
    /// Notes.
    pub notes: Option<String>,
}

/// A person at a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// UUIDv7.
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// What callers write.
    pub fields: ContactFields,
    /// The customer's main contact (exactly one when any exist).
    pub primary: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

impl ContactFields {
    /// Each field as JSON, for audit diffs (prefixed `contact.`).
    pub fn audit_values(&self) -> Vec<(&'static str, serde_json::Value)> {
        use serde_json::json;
        vec![
            ("contact.name", json!(self.name)),
            ("contact.title", json!(self.title)),
            (
                "contact.phones",
                json!(self.phones.iter().map(|p| &p.display).collect::<Vec<_>>()),
            ),
            (
                "contact.email",
                json!(self.email.as_ref().map(|e| &e.display)),
            ),
            ("contact.wechat_id", json!(self.wechat_id)),
            ("contact.notes", json!(self.notes)),
        ]
    }

    /// The fields that differ from `before` (`None`: a new contact).
    pub fn changes_from(&self, before: Option<&ContactFields>) -> Vec<FieldChange> {
        let old: Vec<serde_json::Value> = match before {
            Some(b) => b.audit_values().into_iter().map(|(_, v)| v).collect(),
            None => vec![serde_json::Value::Null; 6],
        };
        self.audit_values()
            .into_iter()
            .zip(old)
            .filter(|((_, new), old)| {
                new != old && !(old.is_null() && new.as_array().is_some_and(|a| a.is_empty()))
            })
            .map(|((field, new), old)| FieldChange {
                field: field.to_string(),
                old,
                new,
            })
            .collect()
    }
}
