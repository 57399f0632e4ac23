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
    /// The customer's id in another system (unique among live customers), for imports and
    /// integrations to match on.
    pub external_id: Option<String>,
    /// Custom field values by key, canonical (see [`crate::custom_fields`]).
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
}

/// The longest external id.
pub const EXTERNAL_ID_MAX: usize = 100;

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
    /// A new lead of `kind` called `name`, with nothing else known yet.
    pub fn new(kind: CustomerKind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
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
            tags: Vec::new(),
            external_id: None,
            custom_fields: Default::default(),
        }
    }

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
            ("external_id", json!(self.external_id)),
        ]
    }

    /// The fields that differ from `before`, with old and new values; custom fields as
    /// `custom_fields.<key>`.
    pub fn changes_from(&self, before: &CustomerFields) -> Vec<FieldChange> {
        let mut changes: Vec<FieldChange> = before
            .audit_values()
            .into_iter()
            .zip(self.audit_values())
            .filter(|((_, old), (_, new))| old != new)
            .map(|((field, old), (_, new))| FieldChange {
                field: field.to_string(),
                old,
                new,
            })
            .collect();
        changes.extend(custom_changes(&before.custom_fields, &self.custom_fields));
        changes
    }

    /// Every field with a value, as changes from nothing: the history entry of a new customer.
    pub fn as_created(&self) -> Vec<FieldChange> {
        let mut changes: Vec<FieldChange> = self
            .audit_values()
            .into_iter()
            .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
            .map(|(field, new)| FieldChange {
                field: field.to_string(),
                old: serde_json::Value::Null,
                new,
            })
            .collect();
        changes.extend(custom_changes(&Default::default(), &self.custom_fields));
        changes
    }
}

/// The custom field values that differ, as `custom_fields.<key>` changes in key order.
pub fn custom_changes(
    before: &std::collections::BTreeMap<String, serde_json::Value>,
    after: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Vec<FieldChange> {
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let old = before.get(key).cloned().unwrap_or(serde_json::Value::Null);
            let new = after.get(key).cloned().unwrap_or(serde_json::Value::Null);
            (old != new).then(|| FieldChange {
                field: format!("custom_fields.{key}"),
                old,
                new,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> CustomerFields {
        CustomerFields::new(CustomerKind::Company, "Acme")
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

    fn customer() -> Customer {
        let at = DateTime::parse_from_rfc3339("2026-03-04T05:06:07.123456Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        Customer {
            id: "0193a5c2-0000-7000-8000-000000000001".into(),
            fields: CustomerFields {
                name: "Zeta \u{1f} Co".into(),
                ..fields()
            },
            owner_id: None,
            score: -15,
            last_activity_at: None,
            next_follow_up_at: None,
            created_at: at,
            updated_at: at,
            deleted_at: None,
            version: 1,
        }
    }

    #[test]
    fn sorts_parse_their_names_in_both_directions() {
        for name in CustomerSort::NAMES {
            let up = CustomerSort::parse(name).map(CustomerSort::as_str);
            assert_eq!(up, Some(name));
            let down = format!("-{name}");
            assert_eq!(
                CustomerSort::parse(&down).map(CustomerSort::as_str),
                Some(down.as_str())
            );
        }
        assert_eq!(CustomerSort::parse("id"), None);
        assert_eq!(CustomerSort::parse("--name"), None);
        assert_eq!(CustomerSort::parse("Name"), None);
    }

    #[test]
    fn positions_round_trip_for_their_own_sort_only() {
        let c = customer();
        for name in CustomerSort::NAMES {
            for raw in [name.to_string(), format!("-{name}")] {
                let sort = CustomerSort::parse(&raw).unwrap_or_default();
                let encoded = sort.encode_position(&c);
                assert_eq!(
                    sort.decode_position(&encoded),
                    Some(SortPosition {
                        value: sort.value_of(&c),
                        id: c.id.clone()
                    }),
                    "{raw}"
                );
            }
        }
        let by_name = CustomerSort::parse("name").unwrap_or_default();
        let by_score = CustomerSort::parse("score").unwrap_or_default();
        let by_score_down = CustomerSort::parse("-score").unwrap_or_default();
        assert_eq!(by_score.value_of(&c), SortValue::Int(-15));
        assert_eq!(by_score.decode_position(&by_name.encode_position(&c)), None);
        assert_eq!(
            by_score_down.decode_position(&by_score.encode_position(&c)),
            None
        );
        assert_eq!(by_score.decode_position("score\u{1f}ten\u{1f}x"), None);
        assert_eq!(by_score.decode_position("score\u{1f}10\u{1f}"), None);
        assert_eq!(by_score.decode_position("garbage"), None);
        let follow_up = CustomerSort::parse("next_follow_up_at").unwrap_or_default();
        assert_eq!(
            follow_up
                .decode_position(&follow_up.encode_position(&c))
                .map(|p| p.value),
            Some(SortValue::Null)
        );
        let by_id = CustomerSort::default();
        assert_eq!(by_id.encode_position(&c), c.id);
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
    /// Custom field values by key, canonical (see [`crate::custom_fields`]).
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
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
    /// A customer's first contact is reached on the customer's phone and email unless it has
    /// its own.
    pub fn reached_through(mut self, customer: &CustomerFields) -> Self {
        if self.phones.is_empty() {
            self.phones.extend(customer.phone.clone());
        }
        if self.email.is_none() {
            self.email.clone_from(&customer.email);
        }
        self
    }

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
        let mut changes: Vec<FieldChange> = self
            .audit_values()
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
            .collect();
        let empty = std::collections::BTreeMap::new();
        let before_custom = before.map_or(&empty, |b| &b.custom_fields);
        changes.extend(
            custom_changes(before_custom, &self.custom_fields)
                .into_iter()
                .map(|c| FieldChange {
                    field: format!("contact.{}", c.field),
                    ..c
                }),
        );
        changes
    }
}

/// What a customer list is ordered by. Every order ends with the id, so it is total and a
/// keyset position (the last row's key and id) says exactly where the next page starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CustomerSortKey {
    /// The id: UUIDv7, so creation order. The default.
    #[default]
    Id,
    /// The name, case-insensitively.
    Name,
    /// When created.
    CreatedAt,
    /// When last changed.
    UpdatedAt,
    /// The behaviour score.
    Score,
    /// The next pending follow-up; customers without one come last in either direction.
    NextFollowUpAt,
}

/// A sort key and its direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CustomerSort {
    /// The key.
    pub key: CustomerSortKey,
    /// Largest first.
    pub descending: bool,
}

/// A customer's value of the sort key, as a keyset position holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    /// Names.
    Text(String),
    /// Instants.
    Time(DateTime<Utc>),
    /// Scores.
    Int(i64),
    /// No value (a customer without a next follow-up).
    Null,
}

/// Where a sorted page ends: the last customer's sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortPosition {
    /// The sort value.
    pub value: SortValue,
    /// The id, which breaks ties.
    pub id: String,
}

const POSITION_SEPARATOR: char = '\u{1f}';

impl CustomerSort {
    /// The documented names, ascending then descending (`-` prefix).
    pub const NAMES: [&'static str; 5] = [
        "name",
        "created_at",
        "updated_at",
        "score",
        "next_follow_up_at",
    ];

    /// Parses `name`, `-name`, `created_at`, … ; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        let key = match name {
            "name" => CustomerSortKey::Name,
            "created_at" => CustomerSortKey::CreatedAt,
            "updated_at" => CustomerSortKey::UpdatedAt,
            "score" => CustomerSortKey::Score,
            "next_follow_up_at" => CustomerSortKey::NextFollowUpAt,
            _ => return None,
        };
        Some(Self { key, descending })
    }

    /// The name [`CustomerSort::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match (self.key, self.descending) {
            (CustomerSortKey::Id, false) => "id",
            (CustomerSortKey::Id, true) => "-id",
            (CustomerSortKey::Name, false) => "name",
            (CustomerSortKey::Name, true) => "-name",
            (CustomerSortKey::CreatedAt, false) => "created_at",
            (CustomerSortKey::CreatedAt, true) => "-created_at",
            (CustomerSortKey::UpdatedAt, false) => "updated_at",
            (CustomerSortKey::UpdatedAt, true) => "-updated_at",
            (CustomerSortKey::Score, false) => "score",
            (CustomerSortKey::Score, true) => "-score",
            (CustomerSortKey::NextFollowUpAt, false) => "next_follow_up_at",
            (CustomerSortKey::NextFollowUpAt, true) => "-next_follow_up_at",
        }
    }

    /// The customer's sort value.
    pub fn value_of(self, customer: &Customer) -> SortValue {
        match self.key {
            CustomerSortKey::Id => SortValue::Text(customer.id.clone()),
            CustomerSortKey::Name => SortValue::Text(customer.fields.name.clone()),
            CustomerSortKey::CreatedAt => SortValue::Time(customer.created_at),
            CustomerSortKey::UpdatedAt => SortValue::Time(customer.updated_at),
            CustomerSortKey::Score => SortValue::Int(customer.score),
            CustomerSortKey::NextFollowUpAt => customer
                .next_follow_up_at
                .map_or(SortValue::Null, SortValue::Time),
        }
    }

    /// The position after `customer`, encoded for a cursor: the sort's name, its value and
    /// the id. Ordered by id, the position is the id alone.
    pub fn encode_position(self, customer: &Customer) -> String {
        if self.key == CustomerSortKey::Id {
            return customer.id.clone();
        }
        let value = match self.value_of(customer) {
            SortValue::Text(text) => text,
            SortValue::Time(at) => at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            SortValue::Int(n) => n.to_string(),
            SortValue::Null => String::new(),
        };
        format!(
            "{}{POSITION_SEPARATOR}{value}{POSITION_SEPARATOR}{}",
            self.as_str(),
            customer.id
        )
    }

    /// Reads a position [`CustomerSort::encode_position`] wrote for this same sort; `None` when
    /// it was written for another sort or is not a position at all.
    pub fn decode_position(self, raw: &str) -> Option<SortPosition> {
        if self.key == CustomerSortKey::Id {
            return Some(SortPosition {
                value: SortValue::Text(raw.to_string()),
                id: raw.to_string(),
            });
        }
        let rest = raw
            .strip_prefix(self.as_str())?
            .strip_prefix(POSITION_SEPARATOR)?;
        let (value, id) = rest.rsplit_once(POSITION_SEPARATOR)?;
        if id.is_empty() {
            return None;
        }
        let value = match self.key {
            CustomerSortKey::Id | CustomerSortKey::Name => SortValue::Text(value.to_string()),
            CustomerSortKey::CreatedAt | CustomerSortKey::UpdatedAt => SortValue::Time(
                DateTime::parse_from_rfc3339(value)
                    .ok()?
                    .with_timezone(&Utc),
            ),
            CustomerSortKey::Score => SortValue::Int(value.parse().ok()?),
            CustomerSortKey::NextFollowUpAt if value.is_empty() => SortValue::Null,
            CustomerSortKey::NextFollowUpAt => SortValue::Time(
                DateTime::parse_from_rfc3339(value)
                    .ok()?
                    .with_timezone(&Utc),
            ),
        };
        Some(SortPosition {
            value,
            id: id.to_string(),
        })
    }
}
