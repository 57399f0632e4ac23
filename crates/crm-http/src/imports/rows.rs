//! One row of an import file as a lead: its cells turned into a customer body (plus `contact`)
//! and checked by exactly the code that checks `POST /customers` and `POST …/contacts`, so a row
//! is refused for the same reasons, with the same codes, as a single create.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use crm_domain::contact_points::PhoneRegion;
use crm_domain::custom_fields::{check_values, FieldDefinition, FieldType};
use crm_domain::imports::{kind_word, lead_source_key, Lead, RowError, Target};
use crm_domain::{DomainError, FieldError};
use serde_json::{Map, Value};

use crate::contacts::dto::ContactBody;
use crate::customers::dto::CustomerBody;

/// What every row of a job is checked against, read once per job.
pub(crate) struct RowRules {
    pub(crate) region: PhoneRegion,
    pub(crate) today: NaiveDate,
    /// Active lead sources: key and label.
    pub(crate) sources: Vec<(String, String)>,
    /// Live customer custom fields.
    pub(crate) definitions: Vec<FieldDefinition>,
    /// Active users, for `user` custom fields.
    pub(crate) active_users: HashSet<String>,
}

impl RowRules {
    fn source_keys(&self) -> Vec<String> {
        self.sources.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// The columns of a CSV file: each header and the field it fills.
pub(crate) struct Columns {
    pub(crate) headers: Vec<String>,
    pub(crate) targets: Vec<Option<Target>>,
}

impl Columns {
    /// The header of the column that fills the field at `pointer`.
    fn column_of(&self, pointer: &str) -> Option<String> {
        self.targets
            .iter()
            .zip(&self.headers)
            .find(|(t, _)| {
                t.as_ref().is_some_and(|t| {
                    let own = t.pointer();
                    pointer == own || pointer.starts_with(&format!("{own}/"))
                })
            })
            .map(|(_, h)| h.trim().to_string())
    }
}

fn row_error(column: Option<String>, e: FieldError) -> RowError {
    RowError {
        column,
        pointer: e.pointer,
        code: e.code,
        message: e.message,
    }
}

/// The custom field value a cell writes, in the field's JSON form; cells that cannot be read
/// as the type go through as text, for the field's check to refuse with its usual message.
fn custom_value(definition: &FieldDefinition, cell: &str) -> Value {
    let text = || Value::String(cell.to_string());
    match definition.field_type {
        FieldType::Integer => cell
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| text()),
        FieldType::Decimal => cell
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(text),
        FieldType::Boolean => match cell.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" | "对" => Value::Bool(true),
            "false" | "no" | "n" | "0" | "否" | "不" => Value::Bool(false),
            _ => text(),
        },
        FieldType::MultiSelect => Value::Array(split_list(cell).map(Value::from).collect()),
        FieldType::Money => {
            let currency = definition.rules.currency.as_deref().unwrap_or("CNY");
            match crm_domain::money::minor_units(cell, currency) {
                Some(amount) => serde_json::json!({"amount_minor": amount, "currency": currency}),
                None => text(),
            }
        }
        _ => text(),
    }
}

/// A list cell split on commas, semicolons and the Chinese enumeration comma.
fn split_list(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split([',', ';', '，', '；', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The lead body a CSV row writes: trimmed, non-empty cells under their fields; kinds and lead
/// sources read as spreadsheets write them.
pub(crate) fn csv_body(
    cells: &csv::StringRecord,
    columns: &Columns,
    rules: &RowRules,
) -> (Map<String, Value>, Vec<RowError>) {
    let mut body = Map::new();
    let mut contact = Map::new();
    let mut custom = Map::new();
    let errors = Vec::new();
    for (i, target) in columns.targets.iter().enumerate() {
        let Some(target) = target else { continue };
        let cell = cells.get(i).unwrap_or_default().trim();
        if cell.is_empty() {
            continue;
        }
        match target {
            Target::Customer("kind") => {
                body.insert("kind".into(), kind_word(cell).into());
            }
            Target::Customer(field @ ("status" | "gender")) => {
                body.insert((*field).into(), cell.to_lowercase().into());
            }
            Target::Customer("lead_source") => {
                let key = lead_source_key(cell, &rules.sources).unwrap_or_else(|| cell.into());
                body.insert("lead_source".into(), key.into());
            }
            Target::Customer("tags") => {
                body.insert("tags".into(), split_list(cell).collect::<Vec<_>>().into());
            }
            Target::Customer(field) => {
                body.insert((*field).into(), cell.into());
            }
            Target::Contact("phone") => {
                contact.insert("phones".into(), vec![cell].into());
            }
            Target::Contact(field) => {
                contact.insert((*field).into(), cell.into());
            }
            Target::Custom(key) => {
                let value = match rules.definitions.iter().find(|d| &d.key == key) {
                    Some(definition) => custom_value(definition, cell),
                    None => cell.into(),
                };
                custom.insert(key.clone(), value);
            }
        }
    }
    body.entry("kind").or_insert_with(|| "company".into());
    if !contact.is_empty() {
        body.insert("contact".into(), Value::Object(contact));
    }
    if !custom.is_empty() {
        body.insert("custom_fields".into(), Value::Object(custom));
    }
    (body, errors)
}

/// The customer fields with a closed list of values: the field, its values, the message.
const CHOICES: &[(&str, &[&str], &str)] = &[
    (
        "kind",
        &["company", "individual"],
        "not a kind: company (企业, B2B) or individual (个人, B2C)",
    ),
    (
        "status",
        &["lead", "prospect", "customer", "inactive"],
        "one of lead, prospect, customer, inactive",
    ),
    (
        "gender",
        &["male", "female", "other", "undisclosed"],
        "one of male, female, other, undisclosed",
    ),
];

/// Checks a lead body (a customer create body plus an optional `contact` create body) and
/// gives the lead, or every problem with its pointer and, through `column_of`, its column.
pub(crate) fn check_lead(
    mut body: Map<String, Value>,
    mut errors: Vec<RowError>,
    rules: &RowRules,
    columns: Option<&Columns>,
) -> Result<Lead, Vec<RowError>> {
    let column_of = |pointer: &str| match columns {
        Some(columns) => columns.column_of(pointer),
        None => Some(pointer.to_string()),
    };
    let contact_body = body.remove("contact");
    let given: Vec<String> = body.keys().cloned().collect();
    let mut failed = |e: FieldError| {
        let column = column_of(&e.pointer);
        errors.push(row_error(column, e));
    };
    // A value outside a closed list is reported like any other bad field, and the rest of the
    // lead is still checked (with the list's first value standing in).
    for (field, allowed, message) in CHOICES {
        if let Some(Value::String(value)) = body.get(*field) {
            if !allowed.contains(&value.as_str()) {
                failed(FieldError::new(
                    format!("/{field}"),
                    format!("invalid_{field}"),
                    *message,
                ));
                body.insert((*field).into(), allowed[0].into());
            }
        }
    }
    let customer = match serde_path_to_error::deserialize::<_, CustomerBody>(Value::Object(body)) {
        Ok(mut customer) => {
            let custom = customer.custom_fields.take().flatten();
            customer.owner_id = None;
            let fields = customer.validate(true, rules.region, rules.today, &rules.source_keys());
            let values = check_values(
                &rules.definitions,
                custom.as_ref(),
                None,
                rules.region,
                &|id| rules.active_users.contains(id),
            )
            .map(|checked| checked.values);
            match crate::custom_values::together(fields, values) {
                Ok((patch, custom)) => {
                    let mut fields = patch.apply(None);
                    fields.custom_fields = custom;
                    Some(fields)
                }
                Err(DomainError::Validation(list)) => {
                    list.into_iter().for_each(&mut failed);
                    None
                }
                Err(other) => {
                    failed(FieldError::new("", "invalid", other.to_string()));
                    None
                }
            }
        }
        Err(e) => {
            failed(shape_error(&e.path().to_string(), ""));
            None
        }
    };
    let contact = match contact_body {
        None | Some(Value::Null) => None,
        Some(value) => match serde_path_to_error::deserialize::<_, ContactBody>(value) {
            Ok(contact) => {
                contact
                    .first_contact_errors()
                    .into_iter()
                    .for_each(&mut failed);
                if contact.custom_fields.as_ref().is_some_and(Option::is_some) {
                    failed(FieldError::new(
                        "/contact/custom_fields",
                        "unsupported",
                        "a lead's contact takes no custom fields; set them with \
                         PATCH /api/v1/customers/{id}/contacts/{contact_id}",
                    ));
                }
                match contact.validate(true, rules.region) {
                    Ok(patch) => Some(patch.apply(None)),
                    Err(DomainError::Validation(list)) => {
                        for e in list {
                            failed(e.under("/contact"));
                        }
                        None
                    }
                    Err(other) => {
                        failed(FieldError::new("/contact", "invalid", other.to_string()));
                        None
                    }
                }
            }
            Err(e) => {
                failed(shape_error(&e.path().to_string(), "/contact"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(customer) = customer else {
        return Err(errors);
    };
    let contact = contact.map(|c| c.reached_through(&customer));
    Ok(Lead {
        customer,
        contact,
        given,
    })
}

/// A member of the wrong JSON type or an unknown member, at its pointer.
fn shape_error(path: &str, prefix: &str) -> FieldError {
    let pointer = if path == "." {
        prefix.to_string()
    } else {
        format!("{prefix}/{}", path.replace('.', "/"))
    };
    FieldError::new(
        pointer,
        "invalid_type",
        "not a value this field takes, or not a field of a lead",
    )
}

/// The lead a JSON Lines line describes.
pub(crate) fn json_line(line: &str, rules: &RowRules) -> Result<Lead, Vec<RowError>> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(mut body)) => {
            let mut errors = Vec::new();
            if body.remove("owner_id").is_some() {
                errors.push(RowError {
                    column: Some("/owner_id".into()),
                    pointer: "/owner_id".into(),
                    code: "read_only".into(),
                    message: "the job's owner_id decides who owns imported customers".into(),
                });
            }
            check_lead(body, errors, rules, None)
        }
        _ => Err(vec![RowError {
            column: None,
            pointer: String::new(),
            code: "invalid_json".into(),
            message: "the line is not a JSON object".into(),
        }]),
    }
}

/// The first value each match value was seen with (dry runs, where the database cannot tell).
pub(crate) type Seen = BTreeMap<String, i64>;
