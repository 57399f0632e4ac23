//! `CustomFieldStore` on the database, and the writing of custom field values with their
//! records: the canonical JSON in the record's `custom_fields` column, one index row per value
//! key in `custom_field_values` (filters and sorts), and a row per unique value in
//! `custom_field_unique` whose primary key enforces uniqueness under concurrency.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, Utc};
use crm_domain::custom_fields::{
    CheckedValues, CustomFilter, FieldDefinition, FieldDraft, FieldEntity, FieldRules, FieldType,
    IndexKey,
};
use crm_domain::ports::CustomFieldStore;
use crm_domain::{DomainError, FieldError};
use diesel::prelude::*;
use serde_json::Value;

use crate::convert::{corrupt, new_id, stored, utc};
use crate::errors::{check_version, on_unique_violation, TxError};
use crate::live_fields::{self, LiveKeys};
use crate::schema::{custom_field_unique, custom_field_values, custom_fields};
use crate::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = custom_fields)]
struct FieldRow {
    id: String,
    entity: String,
    key: String,
    label: String,
    help_text: Option<String>,
    field_type: String,
    required: bool,
    default_value: Option<String>,
    position: i64,
    rules: String,
    is_unique: bool,
    archived: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn rules_json(rules: &FieldRules) -> Result<String, DomainError> {
    serde_json::to_string(rules).map_err(DomainError::internal)
}

fn rules_of(raw: &str) -> Result<FieldRules, DomainError> {
    serde_json::from_str(raw).map_err(|_| corrupt("custom_fields.rules", raw))
}

impl FieldRow {
    fn into_domain(self) -> Result<FieldDefinition, DomainError> {
        let default = match &self.default_value {
            Some(raw) => Some(
                serde_json::from_str(raw)
                    .map_err(|_| corrupt("custom_fields.default_value", raw))?,
            ),
            None => None,
        };
        Ok(FieldDefinition {
            entity: FieldEntity::parse(&self.entity)
                .ok_or_else(|| corrupt("custom_fields.entity", &self.entity))?,
            field_type: FieldType::parse(&self.field_type)
                .ok_or_else(|| corrupt("custom_fields.field_type", &self.field_type))?,
            rules: rules_of(&self.rules)?,
            id: self.id,
            key: self.key,
            label: self.label,
            help_text: self.help_text,
            required: self.required,
            default,
            position: self.position,
            unique: self.is_unique,
            archived: self.archived,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
        })
    }
}

const FIELD: DomainError = DomainError::NotFound {
    entity: "custom field",
};

fn load(conn: &mut DbConnection, id: &str) -> Result<FieldDefinition, TxError> {
    let row = custom_fields::table
        .find(id)
        .select(FieldRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(FIELD)?;
    Ok(row.into_domain()?)
}

/// The definitions of `entity` (archived ones too), by position then key.
pub(crate) fn definitions_of(
    conn: &mut DbConnection,
    entity: FieldEntity,
) -> Result<Vec<FieldDefinition>, TxError> {
    let rows: Vec<FieldRow> = custom_fields::table
        .filter(custom_fields::entity.eq(entity.as_str()))
        .order((custom_fields::position.asc(), custom_fields::key.asc()))
        .select(FieldRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(FieldRow::into_domain)
        .collect::<Result<Vec<_>, _>>()?)
}

/// The keys of the live (not archived) fields of `entity`, for showing a record's values
/// (remembered for a moment: `live_fields`).
pub(crate) fn live_keys(conn: &mut DbConnection, entity: FieldEntity) -> Result<LiveKeys, TxError> {
    live_fields::cached(entity, || {
        let keys: Vec<String> = custom_fields::table
            .filter(custom_fields::entity.eq(entity.as_str()))
            .filter(custom_fields::archived.eq(false))
            .select(custom_fields::key)
            .load(conn)?;
        Ok(keys.into_iter().collect())
    })
}

/// Puts back into `values` the stored values (`stored_raw`, the record's JSON) of fields that
/// are archived, or no longer defined, so a write does not drop them.
pub(crate) fn keep_archived(
    definitions: &[FieldDefinition],
    stored_raw: &str,
    values: &mut BTreeMap<String, Value>,
) -> Result<(), TxError> {
    let stored: BTreeMap<String, Value> =
        serde_json::from_str(stored_raw).map_err(|_| corrupt("custom_fields", stored_raw))?;
    for (key, value) in stored {
        let live = definitions.iter().any(|d| d.key == key && !d.archived);
        if !live {
            values.insert(key, value);
        }
    }
    Ok(())
}

/// Replaces the index and unique rows of a record's values (canonical, as checked), inside the
/// record's write transaction. A unique value another record holds is a validation error on its
/// field.
pub(crate) fn write_values(
    conn: &mut DbConnection,
    definitions: &[FieldDefinition],
    record_id: &str,
    values: &BTreeMap<String, Value>,
) -> Result<(), TxError> {
    // Rows of archived fields stay, so restoring a field brings its filters back intact.
    let live: Vec<&str> = definitions
        .iter()
        .filter(|d| !d.archived)
        .map(|d| d.id.as_str())
        .collect();
    diesel::delete(
        custom_field_values::table
            .filter(custom_field_values::record_id.eq(record_id))
            .filter(custom_field_values::field_id.eq_any(&live)),
    )
    .execute(conn)?;
    diesel::delete(
        custom_field_unique::table
            .filter(custom_field_unique::record_id.eq(record_id))
            .filter(custom_field_unique::field_id.eq_any(&live)),
    )
    .execute(conn)?;
    insert_values(conn, definitions, record_id, values)
}

/// The index and unique rows of a new record's values, which has none yet: nothing to replace,
/// and no definitions to read when it has no values.
pub(crate) fn write_new_values(
    conn: &mut DbConnection,
    entity: FieldEntity,
    record_id: &str,
    values: &BTreeMap<String, Value>,
) -> Result<(), TxError> {
    if values.is_empty() {
        return Ok(());
    }
    let definitions = definitions_of(conn, entity)?;
    insert_values(conn, &definitions, record_id, values)
}

/// Writes the index and unique rows of a record's values (canonical, as checked) where it has
/// none (of the live fields). A unique value another record holds is a validation error on its
/// field.
pub(crate) fn insert_values(
    conn: &mut DbConnection,
    definitions: &[FieldDefinition],
    record_id: &str,
    values: &BTreeMap<String, Value>,
) -> Result<(), TxError> {
    let checked = index_of(definitions, values);
    let mut conflicts = Vec::new();
    let of_customer = checked.index.iter().any(|(field_id, _)| {
        definitions
            .iter()
            .any(|d| &d.id == field_id && d.entity == FieldEntity::Customer)
    });
    let owner = match of_customer {
        true => holder_of(conn, record_id)?,
        false => None,
    };
    for (field_id, keys) in &checked.index {
        for key in keys {
            let (number, text) = match key {
                IndexKey::Number(n) => (Some(*n), None),
                IndexKey::Text(t) => (None, Some(index_text(t))),
            };
            diesel::insert_into(custom_field_values::table)
                .values((
                    custom_field_values::field_id.eq(field_id),
                    custom_field_values::record_id.eq(record_id),
                    custom_field_values::value_number.eq(number),
                    custom_field_values::value_text.eq(text),
                    custom_field_values::owner_id.eq(owner.as_deref()),
                ))
                .execute(conn)?;
        }
    }
    // Unique values: every conflict found by reading first, so all are listed; the primary key
    // still decides when two writers race (the loser's transaction fails as a whole).
    let mut unique_rows = Vec::new();
    for (field_id, keys) in &checked.index {
        let Some(definition) = definitions.iter().find(|d| &d.id == field_id && d.unique) else {
            continue;
        };
        for key in keys {
            let value_key = unique_key(key);
            let taken: i64 = custom_field_unique::table
                .filter(custom_field_unique::field_id.eq(field_id))
                .filter(custom_field_unique::value_key.eq(&value_key))
                .count()
                .get_result(conn)?;
            if taken > 0 {
                conflicts.push(not_unique(&definition.key));
            } else {
                unique_rows.push((field_id.clone(), value_key, definition.key.clone()));
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(DomainError::Validation(conflicts).into());
    }
    for (field_id, value_key, key) in unique_rows {
        diesel::insert_into(custom_field_unique::table)
            .values((
                custom_field_unique::field_id.eq(&field_id),
                custom_field_unique::value_key.eq(&value_key),
                custom_field_unique::record_id.eq(record_id),
            ))
            .execute(conn)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => TxError::Domain(DomainError::Validation(vec![not_unique(&key)])),
                other => other.into(),
            })?;
    }
    Ok(())
}

/// The owner the index rows of customer `record_id`'s values carry (`None` for the pool), read
/// in the write's transaction after the customer's row was written or locked, so the trigger on
/// the customers' owner follows every later change. The values of other records carry none.
fn holder_of(conn: &mut DbConnection, record_id: &str) -> Result<Option<String>, TxError> {
    Ok(crate::schema::customers::table
        .find(record_id)
        .select(crate::schema::customers::owner_id)
        .get_result(conn)?)
}

fn not_unique(key: &str) -> FieldError {
    FieldError::new(
        format!("/custom_fields/{key}"),
        "not_unique",
        "another record has this value",
    )
}

fn insert_row(
    conn: &mut DbConnection,
    id: &str,
    draft: &FieldDraft,
    now: NaiveDateTime,
) -> Result<(), TxError> {
    diesel::insert_into(custom_fields::table)
        .values((
            custom_fields::id.eq(id),
            custom_fields::entity.eq(draft.entity.as_str()),
            custom_fields::key.eq(&draft.key),
            custom_fields::label.eq(draft.label.trim()),
            custom_fields::help_text.eq(&draft.help_text),
            custom_fields::field_type.eq(draft.field_type.as_str()),
            custom_fields::required.eq(draft.required),
            custom_fields::default_value.eq(draft.default.as_ref().map(Value::to_string)),
            custom_fields::position.eq(draft.position),
            custom_fields::rules.eq(rules_json(&draft.rules)?),
            custom_fields::is_unique.eq(draft.unique),
            custom_fields::archived.eq(false),
            custom_fields::created_at.eq(now),
            custom_fields::updated_at.eq(now),
            custom_fields::version.eq(1_i64),
        ))
        .execute(conn)
        .map_err(|e| {
            on_unique_violation(
                e,
                "custom_field_exists",
                "the entity already has a custom field with this key",
            )
        })?;
    Ok(())
}

impl CustomFieldStore for Database {
    fn field_definitions(
        &self,
        entity: FieldEntity,
        include_archived: bool,
    ) -> Result<Vec<FieldDefinition>, DomainError> {
        self.read(|conn| {
            let mut definitions = definitions_of(conn, entity)?;
            if !include_archived {
                definitions.retain(|d| !d.archived);
            }
            Ok(definitions)
        })
    }

    fn live_definitions(
        &self,
        entities: &[FieldEntity],
    ) -> Result<Vec<FieldDefinition>, DomainError> {
        if entities.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = entities.iter().map(|e| e.as_str()).collect();
        let rows: Vec<FieldRow> = self.read(|conn| {
            Ok(custom_fields::table
                .filter(custom_fields::entity.eq_any(&names))
                .filter(custom_fields::archived.eq(false))
                .order((custom_fields::position.asc(), custom_fields::key.asc()))
                .select(FieldRow::as_select())
                .load(conn)?)
        })?;
        let mut definitions = rows
            .into_iter()
            .map(FieldRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        // Stable: position and key order is kept within each entity.
        definitions.sort_by_key(|d| entities.iter().position(|e| *e == d.entity));
        Ok(definitions)
    }

    fn field_definition(&self, id: &str) -> Result<FieldDefinition, DomainError> {
        self.read(|conn| load(conn, id))
    }

    fn create_field(&self, draft: FieldDraft) -> Result<FieldDefinition, DomainError> {
        let id = new_id();
        let now = stored(Utc::now());
        let created = self.write(|conn| {
            insert_row(conn, &id, &draft, now)?;
            load(conn, &id)
        });
        self.live_fields.forget();
        created
    }

    fn update_field(
        &self,
        id: &str,
        draft: FieldDraft,
        archived: bool,
        expected_version: Option<i64>,
    ) -> Result<FieldDefinition, DomainError> {
        let now = stored(Utc::now());
        let updated = self.write(|conn| {
            let current = load(conn, id)?;
            check_version(expected_version, current.version)?;
            let next = FieldDefinition {
                archived,
                ..draft.definition_probe()
            };
            let next = FieldDefinition {
                id: current.id.clone(),
                ..next
            };
            let violations = count_violations(conn, &current, &next)?;
            if violations > 0 {
                return Err(DomainError::Conflict {
                    code: "values_violate_change",
                    message: format!(
                        "{violations} existing value(s) would not satisfy the changed definition"
                    ),
                }
                .into());
            }
            if next.unique && !current.unique {
                fill_unique(conn, &next)?;
            }
            if current.unique && !next.unique {
                diesel::delete(
                    custom_field_unique::table.filter(custom_field_unique::field_id.eq(id)),
                )
                .execute(conn)?;
            }
            diesel::update(custom_fields::table.find(id))
                .set((
                    custom_fields::label.eq(draft.label.trim()),
                    custom_fields::help_text.eq(&draft.help_text),
                    custom_fields::field_type.eq(draft.field_type.as_str()),
                    custom_fields::required.eq(draft.required),
                    custom_fields::default_value.eq(draft.default.as_ref().map(Value::to_string)),
                    custom_fields::position.eq(draft.position),
                    custom_fields::rules.eq(rules_json(&draft.rules)?),
                    custom_fields::is_unique.eq(draft.unique),
                    custom_fields::archived.eq(archived),
                    custom_fields::updated_at.eq(now),
                    custom_fields::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            load(conn, id)
        });
        self.live_fields.forget();
        updated
    }
}

/// The stored values of a field: `(record id, canonical value)` of every record (live or
/// deleted) that has one.
fn stored_values(
    conn: &mut DbConnection,
    field: &FieldDefinition,
) -> Result<Vec<(String, Value)>, TxError> {
    use crate::schema::{activities, contacts, customers, opportunities};
    let with_value = custom_field_values::table
        .filter(custom_field_values::field_id.eq(&field.id))
        .select(custom_field_values::record_id)
        .distinct();
    let rows: Vec<(String, String)> = match field.entity {
        FieldEntity::Customer => customers::table
            .filter(customers::id.eq_any(with_value))
            .select((customers::id, customers::custom_fields))
            .load(conn)?,
        FieldEntity::Contact => contacts::table
            .filter(contacts::id.eq_any(with_value))
            .select((contacts::id, contacts::custom_fields))
            .load(conn)?,
        FieldEntity::Activity => activities::table
            .filter(activities::id.eq_any(with_value))
            .select((activities::id, activities::custom_fields))
            .load(conn)?,
        FieldEntity::Opportunity => opportunities::table
            .filter(opportunities::id.eq_any(with_value))
            .select((opportunities::id, opportunities::custom_fields))
            .load(conn)?,
    };
    let mut values = Vec::new();
    for (id, raw) in rows {
        let object: Value =
            serde_json::from_str(&raw).map_err(|_| corrupt("custom_fields", &raw))?;
        if let Some(value) = object.get(&field.key) {
            values.push((id, value.clone()));
        }
    }
    Ok(values)
}

/// How many stored values of `current` would not be valid under `next`. A new type or a new
/// number of decimal places counts every stored value; archived options stay valid; a field made
/// unique counts the values another record repeats.
fn count_violations(
    conn: &mut DbConnection,
    current: &FieldDefinition,
    next: &FieldDefinition,
) -> Result<usize, TxError> {
    let reshaped = current.field_type != next.field_type
        || current.rules.decimal_places != next.rules.decimal_places
        || current.rules.currency != next.rules.currency;
    let tightened = reshaped || next.rules != current.rules || (next.unique && !current.unique);
    if !tightened {
        return Ok(0);
    }
    let values = stored_values(conn, current)?;
    if reshaped {
        return Ok(values.len());
    }
    let mut lenient = next.clone();
    for option in &mut lenient.rules.options {
        option.archived = false;
    }
    let region = crm_domain::contact_points::PhoneRegion::default();
    let mut seen = std::collections::HashSet::new();
    let mut violations = 0;
    for (_, value) in &values {
        match lenient.check_value(value, "", region, &|_| true) {
            Ok(stored) => {
                if next.unique && !stored.keys.iter().all(|k| seen.insert(k.clone())) {
                    violations += 1;
                }
            }
            Err(_) => violations += 1,
        }
    }
    Ok(violations)
}

/// Records the unique rows of a field that becomes unique (its values were checked distinct).
fn fill_unique(conn: &mut DbConnection, field: &FieldDefinition) -> Result<(), TxError> {
    let region = crm_domain::contact_points::PhoneRegion::default();
    for (record_id, value) in stored_values(conn, field)? {
        if let Ok(stored) = field.check_value(&value, "", region, &|_| true) {
            for key in stored.keys {
                let value_key = unique_key(&key);
                diesel::insert_into(custom_field_unique::table)
                    .values((
                        custom_field_unique::field_id.eq(&field.id),
                        custom_field_unique::value_key.eq(value_key),
                        custom_field_unique::record_id.eq(&record_id),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// The index entries of stored (canonical) values under the live definitions.
fn index_of(definitions: &[FieldDefinition], values: &BTreeMap<String, Value>) -> CheckedValues {
    let region = crm_domain::contact_points::PhoneRegion::default();
    crm_domain::custom_fields::check_values(definitions, None, Some(values), region, &|_| true)
        .unwrap_or_default()
}

/// How many characters of a text value its index row holds: index entries stay far below the
/// B-tree entry limit (PostgreSQL's is about 2.7 kB) whatever the script. Filters and sorts
/// compare longer values by their first characters; uniqueness compares whole values.
const INDEXED_CHARS: usize = 200;

/// A character no text value is expected to hold, marking a cut value (so it sorts after, and
/// is never equal to, the value that is exactly its first characters).
const CUT: char = '\u{10FFFF}';

/// A text value as its index row holds it: the first [`INDEXED_CHARS`] characters, marked when
/// cut.
pub(crate) fn index_text(text: &str) -> String {
    match text.char_indices().nth(INDEXED_CHARS) {
        Some((at, _)) => format!("{}{CUT}", &text[..at]),
        None => text.to_string(),
    }
}

/// A value's key in the unique table: the value itself, or for long text a digest of it.
fn unique_key(key: &IndexKey) -> String {
    use sha2::Digest;
    match key {
        IndexKey::Number(n) => n.to_string(),
        IndexKey::Text(t) if t.chars().count() <= INDEXED_CHARS => t.clone(),
        IndexKey::Text(t) => format!("{CUT}{}", hex::encode(sha2::Sha256::digest(t.as_bytes()))),
    }
}

/// A list's custom field conditions as the SQL tests them: equality with one of some keys
/// (a multi-select's options each in its own condition, since each is its own row), or a range,
/// the bounds on one field merged so the database reads one index range rather than two
/// half-open ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    /// The field's value is one of these numbers.
    Numbers(String, Vec<i64>),
    /// The field's value is one of these index texts.
    Texts(String, Vec<String>),
    /// The field's value is at least the first bound and at most the second.
    Range(String, Option<IndexKey>, Option<IndexKey>),
}

/// `filters` as [`Condition`]s: the `gte` and `lte` bounds of each field merged into one range
/// (the tighter bound winning), texts cut as the index holds them.
pub(crate) fn conditions(filters: &[CustomFilter]) -> Vec<Condition> {
    use crm_domain::custom_fields::CustomFilterOp as Op;
    let mut merged: Vec<Condition> = Vec::new();
    for filter in filters {
        let key = filter.keys.first().cloned().map(|key| match key {
            IndexKey::Text(t) => IndexKey::Text(index_text(&t)),
            number => number,
        });
        match filter.op {
            Op::Gte | Op::Lte => {
                let at = merged.iter().position(
                    |c| matches!(c, Condition::Range(field, ..) if *field == filter.field_id),
                );
                let at = at.unwrap_or_else(|| {
                    merged.push(Condition::Range(filter.field_id.clone(), None, None));
                    merged.len() - 1
                });
                if let Some(Condition::Range(_, lower, upper)) = merged.get_mut(at) {
                    if filter.op == Op::Gte {
                        *lower = tighter(lower.take(), key, true);
                    } else {
                        *upper = tighter(upper.take(), key, false);
                    }
                }
            }
            Op::Eq | Op::In | Op::Contains => {
                let mut numbers = Vec::new();
                let mut texts = Vec::new();
                for key in &filter.keys {
                    match key {
                        IndexKey::Number(n) => numbers.push(*n),
                        IndexKey::Text(t) => texts.push(index_text(t)),
                    }
                }
                merged.push(if numbers.is_empty() {
                    Condition::Texts(filter.field_id.clone(), texts)
                } else {
                    Condition::Numbers(filter.field_id.clone(), numbers)
                });
            }
        }
    }
    merged
}

/// The tighter of two bounds: the larger lower bound, the smaller upper bound.
fn tighter(current: Option<IndexKey>, new: Option<IndexKey>, lower: bool) -> Option<IndexKey> {
    match (current, new) {
        (Some(IndexKey::Number(a)), Some(IndexKey::Number(b))) => {
            Some(IndexKey::Number(if lower { a.max(b) } else { a.min(b) }))
        }
        (Some(IndexKey::Text(a)), Some(IndexKey::Text(b))) => {
            Some(IndexKey::Text(if lower { a.max(b) } else { a.min(b) }))
        }
        (current, new) => new.or(current),
    }
}

/// Defines `$name(condition)`: the condition `$table.id IN (the ids of the records whose value
/// of a custom field meets condition)` on queries from `$source`, served by the
/// `(field, value, record)` indexes.
macro_rules! custom_condition {
    ($name:ident, $table:ident, $source:ty) => {
        pub(crate) fn $name(
            condition: &$crate::custom_fields::Condition,
        ) -> Box<
            dyn diesel::BoxableExpression<
                $source,
                <DbConnection as Connection>::Backend,
                SqlType = diesel::sql_types::Bool,
            >,
        > {
            use crm_domain::custom_fields::IndexKey;
            use $crate::custom_fields::Condition;
            use $crate::schema::custom_field_values as values;
            let of_field =
                |field_id: &String| values::table.filter(values::field_id.eq(field_id.clone()));
            let ids = values::record_id;
            let id = $table::id;
            let number = values::value_number;
            let text = values::value_text;
            match condition {
                Condition::Numbers(field, keys) => Box::new(
                    id.eq_any(
                        of_field(field)
                            .filter(number.eq_any(keys.clone()))
                            .select(ids),
                    ),
                ),
                Condition::Texts(field, keys) => Box::new(
                    id.eq_any(
                        of_field(field)
                            .filter(text.eq_any(keys.clone()))
                            .select(ids),
                    ),
                ),
                Condition::Range(field, Some(IndexKey::Number(lo)), Some(IndexKey::Number(hi))) => {
                    Box::new(
                        id.eq_any(
                            of_field(field)
                                .filter(number.ge(*lo))
                                .filter(number.le(*hi))
                                .select(ids),
                        ),
                    )
                }
                Condition::Range(field, Some(IndexKey::Number(lo)), _) => {
                    Box::new(id.eq_any(of_field(field).filter(number.ge(*lo)).select(ids)))
                }
                Condition::Range(field, _, Some(IndexKey::Number(hi))) => {
                    Box::new(id.eq_any(of_field(field).filter(number.le(*hi)).select(ids)))
                }
                Condition::Range(field, Some(IndexKey::Text(lo)), Some(IndexKey::Text(hi))) => {
                    Box::new(
                        id.eq_any(
                            of_field(field)
                                .filter(text.ge(lo.clone()))
                                .filter(text.le(hi.clone()))
                                .select(ids),
                        ),
                    )
                }
                Condition::Range(field, Some(IndexKey::Text(lo)), _) => {
                    Box::new(id.eq_any(of_field(field).filter(text.ge(lo.clone())).select(ids)))
                }
                Condition::Range(field, _, Some(IndexKey::Text(hi))) => {
                    Box::new(id.eq_any(of_field(field).filter(text.le(hi.clone())).select(ids)))
                }
                Condition::Range(field, None, None) => {
                    Box::new(id.eq_any(of_field(field).select(ids)))
                }
            }
        }
    };
}
pub(crate) use custom_condition;

#[cfg(test)]
mod tests {
    use super::*;
    use crm_domain::custom_fields::CustomFilterOp;

    fn filter(field: &str, op: CustomFilterOp, keys: Vec<IndexKey>) -> CustomFilter {
        CustomFilter {
            field_id: field.into(),
            op,
            keys,
        }
    }

    #[test]
    fn bounds_on_one_field_become_one_range() {
        let n = IndexKey::Number;
        let merged = conditions(&[
            filter("budget", CustomFilterOp::Gte, vec![n(5)]),
            filter(
                "tier",
                CustomFilterOp::In,
                vec![IndexKey::Text("gold".into())],
            ),
            filter("budget", CustomFilterOp::Lte, vec![n(9)]),
            filter("budget", CustomFilterOp::Gte, vec![n(7)]),
            filter(
                "tags",
                CustomFilterOp::Contains,
                vec![IndexKey::Text("a".into())],
            ),
            filter(
                "tags",
                CustomFilterOp::Contains,
                vec![IndexKey::Text("b".into())],
            ),
            filter("size", CustomFilterOp::Eq, vec![n(3)]),
        ]);
        assert_eq!(
            merged,
            [
                Condition::Range("budget".into(), Some(n(7)), Some(n(9))),
                Condition::Texts("tier".into(), vec!["gold".into()]),
                Condition::Texts("tags".into(), vec!["a".into()]),
                Condition::Texts("tags".into(), vec!["b".into()]),
                Condition::Numbers("size".into(), vec![3]),
            ]
        );
    }

    #[test]
    fn long_text_is_cut_and_marked() {
        let short = "短".repeat(INDEXED_CHARS);
        assert_eq!(index_text(&short), short);
        let long = format!("{short}x");
        assert_eq!(index_text(&long), format!("{short}{CUT}"));
        assert!(index_text(&long) > short);
        assert_eq!(unique_key(&IndexKey::Text(short.clone())), short);
        let digest = unique_key(&IndexKey::Text(long.clone()));
        assert!(digest.starts_with(CUT) && digest.len() == CUT.len_utf8() + 64);
        assert_ne!(digest, unique_key(&IndexKey::Text(format!("{short}y"))));
    }
}
