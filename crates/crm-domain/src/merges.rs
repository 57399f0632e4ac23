//! Merging duplicate customers into one survivor: which value each field keeps, and the record
//! that lets a merge be undone for 30 days.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::customers::{Customer, CustomerFields};
use crate::FieldError;

/// How long a merge can be undone.
pub const UNDO_DAYS: i64 = 30;
/// Most duplicates merged into one survivor at once.
pub const DUPLICATES_MAX: usize = 10;
/// Most tags a customer keeps (the union of the merged customers' tags is cut there).
const TAGS_MAX: usize = 20;

/// The customer fields a choice may name (besides `custom_fields.<key>`).
pub const FIELDS: [&str; 17] = [
    "external_id",
    "kind",
    "name",
    "legal_name",
    "industry",
    "company_size",
    "website",
    "address",
    "tax_id",
    "gender",
    "birthday",
    "phone",
    "email",
    "status",
    "classification",
    "lead_source",
    "tags",
];

/// Copies `field` (a name of [`FIELDS`] or `custom_fields.<key>`) from `source` into `target`;
/// `false` for a name that is neither.
fn take(target: &mut CustomerFields, source: &CustomerFields, field: &str) -> bool {
    if let Some(key) = field.strip_prefix("custom_fields.") {
        match source.custom_fields.get(key) {
            Some(value) => {
                target.custom_fields.insert(key.to_string(), value.clone());
            }
            None => {
                target.custom_fields.remove(key);
            }
        }
        return !key.is_empty();
    }
    match field {
        "kind" => target.kind = source.kind,
        "name" => target.name = source.name.clone(),
        "legal_name" => target.legal_name = source.legal_name.clone(),
        "industry" => target.industry = source.industry.clone(),
        "company_size" => target.company_size = source.company_size.clone(),
        "website" => target.website = source.website.clone(),
        "address" => target.address = source.address.clone(),
        "tax_id" => target.tax_id = source.tax_id.clone(),
        "gender" => target.gender = source.gender.clone(),
        "birthday" => target.birthday = source.birthday,
        "phone" => target.phone = source.phone.clone(),
        "email" => target.email = source.email.clone(),
        "status" => target.status = source.status,
        "classification" => target.classification = source.classification.clone(),
        "lead_source" => target.lead_source = source.lead_source.clone(),
        "tags" => target.tags = source.tags.clone(),
        "external_id" => target.external_id = source.external_id.clone(),
        _ => return false,
    }
    true
}

/// The survivor's fields after the merge: its own values, its empty fields filled from the
/// duplicates in the order given, tags and custom values combined, then each `choices` entry
/// (field → the id of the customer whose value it keeps, empty included) applied. Every bad
/// choice is listed (`/fields/<field>`).
pub fn merged_fields(
    survivor: &Customer,
    duplicates: &[Customer],
    choices: &BTreeMap<String, String>,
) -> Result<CustomerFields, Vec<FieldError>> {
    let mut merged = survivor.fields.clone();
    for duplicate in duplicates {
        let theirs = &duplicate.fields;
        let fill = |mine: &mut Option<String>, theirs: &Option<String>| {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        };
        fill(&mut merged.legal_name, &theirs.legal_name);
        fill(&mut merged.industry, &theirs.industry);
        fill(&mut merged.company_size, &theirs.company_size);
        fill(&mut merged.website, &theirs.website);
        fill(&mut merged.address, &theirs.address);
        fill(&mut merged.tax_id, &theirs.tax_id);
        fill(&mut merged.gender, &theirs.gender);
        fill(&mut merged.classification, &theirs.classification);
        fill(&mut merged.lead_source, &theirs.lead_source);
        fill(&mut merged.external_id, &theirs.external_id);
        if merged.birthday.is_none() {
            merged.birthday = theirs.birthday;
        }
        if merged.phone.is_none() {
            merged.phone.clone_from(&theirs.phone);
        }
        if merged.email.is_none() {
            merged.email.clone_from(&theirs.email);
        }
        for tag in &theirs.tags {
            if merged.tags.len() < TAGS_MAX && !merged.tags.contains(tag) {
                merged.tags.push(tag.clone());
            }
        }
        for (key, value) in &theirs.custom_fields {
            merged
                .custom_fields
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
    }
    let mut errors = Vec::new();
    for (field, from) in choices {
        let pointer = format!("/fields/{}", crate::imports::pointer_token(field));
        let source = std::iter::once(survivor)
            .chain(duplicates)
            .find(|c| &c.id == from);
        let Some(source) = source else {
            errors.push(FieldError::new(
                &pointer,
                "not_merged",
                "not the survivor or one of the duplicates",
            ));
            continue;
        };
        if !take(&mut merged, &source.fields, field) {
            errors.push(FieldError::new(
                &pointer,
                "unknown_field",
                "not a customer field or custom_fields.<key>",
            ));
        }
    }
    if errors.is_empty() {
        Ok(merged)
    } else {
        Err(errors)
    }
}

/// What a merge moved to the survivor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    /// Contacts.
    pub contacts: Vec<String>,
    /// Activities (follow-ups included).
    pub activities: Vec<String>,
    /// Opportunities.
    pub opportunities: Vec<String>,
    /// Follow-ups still pending among the activities.
    pub follow_ups: i64,
}

/// A merge as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// UUIDv7 (`None` in a dry run).
    pub id: Option<String>,
    /// The customer that remains.
    pub survivor: Customer,
    /// The merged customers (soft-deleted unless a dry run).
    pub duplicate_ids: Vec<String>,
    /// What moved to the survivor.
    pub moved: Moved,
    /// Who merged.
    pub merged_by: String,
    /// When.
    pub merged_at: DateTime<Utc>,
    /// When it was undone.
    pub undone_at: Option<DateTime<Utc>>,
}

impl Merge {
    /// Until when it can be undone.
    pub fn undo_until(&self) -> DateTime<Utc> {
        self.merged_at + Duration::days(UNDO_DAYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::CustomerKind;

    fn customer(id: &str, name: &str) -> Customer {
        Customer {
            id: id.into(),
            fields: CustomerFields::new(CustomerKind::Company, name),
            owner_id: None,
            score: 0,
            last_activity_at: None,
            next_follow_up_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            deleted_at: None,
            version: 1,
        }
    }

    #[test]
    fn the_survivor_keeps_its_values_fills_gaps_and_takes_choices() {
        let mut survivor = customer("s", "Acme");
        survivor.fields.industry = Some("Retail".into());
        survivor.fields.tags = vec!["vip".into()];
        survivor
            .fields
            .custom_fields
            .insert("budget".into(), serde_json::json!(5));
        let mut dup = customer("d", "ACME Ltd");
        dup.fields.industry = Some("Mining".into());
        dup.fields.website = Some("https://acme.example".into());
        dup.fields.tags = vec!["vip".into(), "expo".into()];
        dup.fields
            .custom_fields
            .insert("budget".into(), serde_json::json!(9));
        dup.fields
            .custom_fields
            .insert("region".into(), serde_json::json!("north"));
        let merged = merged_fields(&survivor, std::slice::from_ref(&dup), &BTreeMap::new())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(merged.name, "Acme");
        assert_eq!(merged.industry.as_deref(), Some("Retail"));
        assert_eq!(merged.website.as_deref(), Some("https://acme.example"));
        assert_eq!(merged.tags, ["vip", "expo"]);
        assert_eq!(merged.custom_fields["budget"], 5);
        assert_eq!(merged.custom_fields["region"], "north");
        let choices: BTreeMap<String, String> = [
            ("name", "d"),
            ("industry", "d"),
            ("custom_fields.budget", "d"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let merged = merged_fields(&survivor, std::slice::from_ref(&dup), &choices)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(merged.name, "ACME Ltd");
        assert_eq!(merged.industry.as_deref(), Some("Mining"));
        assert_eq!(merged.custom_fields["budget"], 9);
        let bad: BTreeMap<String, String> = [("nonsense", "d"), ("name", "x")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let pointers: Vec<String> = merged_fields(&survivor, &[dup], &bad)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.pointer)
            .collect();
        assert_eq!(pointers, ["/fields/name", "/fields/nonsense"]);
    }
}
