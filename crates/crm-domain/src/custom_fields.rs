//! Typed custom fields: definitions an admin adds per entity, and the values records carry under
//! `custom_fields`. One validator serves create, update, batch and import; the same definitions
//! produce the JSON Schema a frontend validates forms with.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::contact_points::{Phone, PhoneRegion};
use crate::identity::Email;
use crate::FieldError;

/// The records that carry custom fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldEntity {
    /// Customers.
    Customer,
    /// Contacts.
    Contact,
    /// Activities.
    Activity,
    /// Opportunities.
    Opportunity,
}

impl FieldEntity {
    /// Every entity.
    pub const ALL: [FieldEntity; 4] = [
        FieldEntity::Customer,
        FieldEntity::Contact,
        FieldEntity::Activity,
        FieldEntity::Opportunity,
    ];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldEntity::Customer => "customer",
            FieldEntity::Contact => "contact",
            FieldEntity::Activity => "activity",
            FieldEntity::Opportunity => "opportunity",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == raw)
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// One line of text.
    Text,
    /// Several lines of text.
    LongText,
    /// A whole number.
    Integer,
    /// A decimal number with a fixed number of decimal places.
    Decimal,
    /// True or false.
    Boolean,
    /// A calendar date.
    Date,
    /// An instant.
    DateTime,
    /// One of the options.
    SingleSelect,
    /// Some of the options.
    MultiSelect,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// An http(s) URL.
    Url,
    /// An amount of money in minor units of a currency.
    Money,
    /// A user of the CRM.
    User,
}

impl FieldType {
    /// Every type.
    pub const ALL: [FieldType; 14] = [
        FieldType::Text,
        FieldType::LongText,
        FieldType::Integer,
        FieldType::Decimal,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::SingleSelect,
        FieldType::MultiSelect,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
        FieldType::Money,
        FieldType::User,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::LongText => "long_text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::SingleSelect => "single_select",
            FieldType::MultiSelect => "multi_select",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Money => "money",
            FieldType::User => "user",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// Whether values are numbers in storage (compared numerically) rather than text.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Decimal | FieldType::Boolean | FieldType::Money
        )
    }
}

/// An option of a select field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SelectOption {
    /// Stable key, what values hold.
    pub key: String,
    /// What people read.
    pub label: String,
    /// Archived options stay on the records that have them but are refused for new values.
    #[serde(default)]
    pub archived: bool,
}

/// The per-type rules of a field; members that do not apply to its type are `None` or empty.
/// Stored as JSON in this shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FieldRules {
    /// Text: fewest characters.
    pub min_length: Option<u32>,
    /// Text: most characters.
    pub max_length: Option<u32>,
    /// Text: a regular expression the whole value must match.
    pub pattern: Option<String>,
    /// Integer, decimal, money: smallest value, in the stored unit (decimal: scaled by its
    /// places; money: minor units).
    pub min: Option<i64>,
    /// Largest value, in the stored unit.
    pub max: Option<i64>,
    /// Decimal: digits after the point (0 to 6).
    pub decimal_places: Option<u32>,
    /// Selects: the options, in display order.
    pub options: Vec<SelectOption>,
    /// Money: the ISO 4217 currency every value is in.
    pub currency: Option<String>,
}

/// A field definition as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDefinition {
    /// UUIDv7.
    pub id: String,
    /// The entity it belongs to.
    pub entity: FieldEntity,
    /// Immutable snake_case key, unique per entity.
    pub key: String,
    /// What people read.
    pub label: String,
    /// Help text for forms.
    pub help_text: Option<String>,
    /// The type; changing it is refused while values exist.
    pub field_type: FieldType,
    /// New records must have a value.
    pub required: bool,
    /// The value new records get when they give none.
    pub default: Option<Value>,
    /// Display order.
    pub position: i64,
    /// Per-type rules.
    pub rules: FieldRules,
    /// No two records of the entity share a value.
    pub unique: bool,
    /// Archived fields are hidden and accept no values; their data is kept and comes back when
    /// the field is restored.
    pub archived: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// The longest text value.
pub const TEXT_MAX: u32 = 1_000;
/// The longest long-text value.
pub const LONG_TEXT_MAX: u32 = 20_000;
/// The most options a select field may have.
pub const OPTIONS_MAX: usize = 200;
/// The most decimal places.
pub const DECIMAL_PLACES_MAX: u32 = 6;

/// A value ready to store: its canonical JSON (what reads return) and the keys the index holds
/// for filtering, sorting and uniqueness (one per selected option for multi-selects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    /// Canonical JSON.
    pub json: Value,
    /// Index entries.
    pub keys: Vec<IndexKey>,
}

/// One index entry of a value: numeric types compare as numbers, the rest as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexKey {
    /// Integers, scaled decimals, minor units, booleans as 0/1.
    Number(i64),
    /// Text (dates and instants in a form that sorts as text).
    Text(String),
}

fn error(pointer: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(pointer, code, message)
}

/// An exact decimal `raw` (digits with an optional sign and point) scaled by `places`; `None`
/// when it has more places, is not a decimal, or does not fit in 64 bits.
pub fn scale_decimal(raw: &str, places: u32) -> Option<i64> {
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > places as usize {
        return None;
    }
    let mut scaled: i64 = whole.parse().ok()?;
    for _ in 0..places {
        scaled = scaled.checked_mul(10)?;
    }
    let padded = format!("{fraction:0<width$}", width = places as usize);
    let fraction_value: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    let magnitude = scaled.checked_add(fraction_value)?;
    Some(if negative { -magnitude } else { magnitude })
}

/// A scaled decimal back as a JSON number with `places` digits after the point.
fn decimal_json(scaled: i64, places: u32) -> Value {
    if places == 0 {
        return json!(scaled);
    }
    let divisor = 10_i64.pow(places);
    let text = format!(
        "{}{}.{:0width$}",
        if scaled < 0 { "-" } else { "" },
        (scaled / divisor).unsigned_abs(),
        (scaled % divisor).unsigned_abs(),
        width = places as usize
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A JSON number that is whole (`5` or `5.0`, as JSON Schema's `integer` allows).
pub fn whole(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

/// The text of a JSON number as written (serde_json keeps integers exact and prints floats in
/// their shortest form).
fn number_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl FieldDefinition {
    /// Checks one value against the type and rules and gives its stored form. `user_exists`
    /// answers whether a user id names an active user (for `user` fields).
    pub fn check_value(
        &self,
        value: &Value,
        pointer: &str,
        region: PhoneRegion,
        user_exists: &dyn Fn(&str) -> bool,
    ) -> Result<StoredValue, FieldError> {
        let rules = &self.rules;
        let text_of = |value: &Value| -> Result<String, FieldError> {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| error(pointer, "type", "must be a string"))
        };
        let bounded = |n: i64, shown: &dyn Fn(i64) -> String| -> Result<(), FieldError> {
            if let Some(min) = rules.min.filter(|min| n < *min) {
                return Err(error(
                    pointer,
                    "too_small",
                    format!("at least {}", shown(min)),
                ));
            }
            if let Some(max) = rules.max.filter(|max| n > *max) {
                return Err(error(
                    pointer,
                    "too_large",
                    format!("at most {}", shown(max)),
                ));
            }
            Ok(())
        };
        let stored = |json: Value, key: IndexKey| StoredValue {
            json,
            keys: vec![key],
        };
        match self.field_type {
            FieldType::Text | FieldType::LongText => {
                let text = text_of(value)?;
                let count = text.chars().count() as u32;
                let ceiling = if self.field_type == FieldType::Text {
                    TEXT_MAX
                } else {
                    LONG_TEXT_MAX
                };
                let max = rules.max_length.unwrap_or(ceiling).min(ceiling);
                if count > max {
                    return Err(error(
                        pointer,
                        "too_long",
                        format!("at most {max} characters"),
                    ));
                }
                if let Some(min) = rules.min_length.filter(|min| count < *min) {
                    return Err(error(
                        pointer,
                        "too_short",
                        format!("at least {min} characters"),
                    ));
                }
                if text.contains('\0') {
                    return Err(error(pointer, "invalid", "must not contain NUL"));
                }
                if let Some(pattern) = &rules.pattern {
                    let matches = compile_pattern(pattern).is_some_and(|re| re.is_match(&text));
                    if !matches {
                        return Err(error(pointer, "pattern", format!("must match {pattern}")));
                    }
                }
                let key = IndexKey::Text(text.to_lowercase());
                Ok(stored(Value::String(text), key))
            }
            FieldType::Integer => {
                let n =
                    whole(value).ok_or_else(|| error(pointer, "type", "must be a whole number"))?;
                bounded(n, &|n| n.to_string())?;
                Ok(stored(json!(n), IndexKey::Number(n)))
            }
            FieldType::Decimal => {
                let places = rules.decimal_places.unwrap_or(2);
                let scaled = number_text(value)
                    .and_then(|raw| scale_decimal(&raw, places))
                    .ok_or_else(|| {
                        error(
                            pointer,
                            "type",
                            format!("must be a number with at most {places} decimal places"),
                        )
                    })?;
                bounded(scaled, &|n| decimal_json(n, places).to_string())?;
                Ok(stored(
                    decimal_json(scaled, places),
                    IndexKey::Number(scaled),
                ))
            }
            FieldType::Boolean => {
                let b = value
                    .as_bool()
                    .ok_or_else(|| error(pointer, "type", "must be true or false"))?;
                Ok(stored(json!(b), IndexKey::Number(i64::from(b))))
            }
            FieldType::Date => {
                let text = text_of(value)?;
                let date = NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map_err(|_| error(pointer, "date", "must be a date, YYYY-MM-DD"))?;
                let canonical = date.format("%Y-%m-%d").to_string();
                Ok(stored(json!(canonical), IndexKey::Text(canonical)))
            }
            FieldType::DateTime => {
                let text = text_of(value)?;
                let at = DateTime::parse_from_rfc3339(&text)
                    .map_err(|_| error(pointer, "datetime", "must be an RFC 3339 date-time"))?
                    .with_timezone(&Utc);
                let canonical = at.to_rfc3339_opts(SecondsFormat::Micros, true);
                Ok(stored(json!(canonical), IndexKey::Text(canonical)))
            }
            FieldType::SingleSelect => {
                let key = text_of(value)?;
                self.check_option(&key, pointer)?;
                Ok(stored(json!(key), IndexKey::Text(key)))
            }
            FieldType::MultiSelect => {
                let items = value
                    .as_array()
                    .ok_or_else(|| error(pointer, "type", "must be an array of option keys"))?;
                let mut keys: Vec<String> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let item_pointer = format!("{pointer}/{i}");
                    let key = item
                        .as_str()
                        .ok_or_else(|| error(&item_pointer, "type", "must be a string"))?;
                    self.check_option(key, &item_pointer)?;
                    if !keys.iter().any(|k| k == key) {
                        keys.push(key.to_string());
                    }
                }
                Ok(StoredValue {
                    json: json!(keys),
                    keys: keys.into_iter().map(IndexKey::Text).collect(),
                })
            }
            FieldType::Email => {
                let text = text_of(value)?;
                let email = Email::parse(&text, pointer)?;
                // RFC 5322 dot-atoms: no leading, trailing or doubled dot in the local part.
                let local = email.normalized.split('@').next().unwrap_or_default();
                if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
                    return Err(error(pointer, "email", "not an email address"));
                }
                let key = IndexKey::Text(email.normalized);
                Ok(stored(json!(email.display), key))
            }
            FieldType::Phone => {
                let text = text_of(value)?;
                // Stored in E.164, so the value reads the same whatever the default region.
                let phone = Phone::parse(&text, region, pointer)?;
                Ok(stored(
                    json!(phone.normalized),
                    IndexKey::Text(phone.normalized),
                ))
            }
            FieldType::Url => {
                let text = text_of(value)?;
                let trimmed = text.trim();
                let web = trimmed.starts_with("http://") || trimmed.starts_with("https://");
                if !web || trimmed.chars().count() > 2_000 || !is_url(trimmed) {
                    return Err(error(pointer, "url", "must be an http or https URL"));
                }
                Ok(stored(json!(trimmed), IndexKey::Text(trimmed.to_string())))
            }
            FieldType::Money => {
                let currency = rules.currency.clone().unwrap_or_else(|| "CNY".into());
                let object = value.as_object().ok_or_else(|| {
                    error(
                        pointer,
                        "type",
                        "must be {\"amount_minor\": integer, \"currency\": code}",
                    )
                })?;
                let unknown = object
                    .keys()
                    .find(|k| k.as_str() != "amount_minor" && k.as_str() != "currency");
                if let Some(k) = unknown {
                    return Err(error(
                        &format!("{pointer}/{k}"),
                        "unknown_field",
                        "not a member",
                    ));
                }
                let amount = object.get("amount_minor").and_then(whole).ok_or_else(|| {
                    error(
                        &format!("{pointer}/amount_minor"),
                        "type",
                        "must be a whole number of minor units",
                    )
                })?;
                let given = object.get("currency").and_then(Value::as_str);
                if given != Some(currency.as_str()) {
                    return Err(error(
                        &format!("{pointer}/currency"),
                        "currency",
                        format!("must be {currency}"),
                    ));
                }
                bounded(amount, &|n| n.to_string())?;
                Ok(stored(
                    json!({"amount_minor": amount, "currency": currency}),
                    IndexKey::Number(amount),
                ))
            }
            FieldType::User => {
                let text = text_of(value)?;
                let id = uuid::Uuid::parse_str(&text)
                    .map(|u| u.to_string())
                    .map_err(|_| error(pointer, "type", "must be a user id"))?;
                if !user_exists(&id) {
                    return Err(error(pointer, "unknown_user", "no active user has this id"));
                }
                Ok(stored(json!(id), IndexKey::Text(id)))
            }
        }
    }

    fn check_option(&self, key: &str, pointer: &str) -> Result<(), FieldError> {
        match self.rules.options.iter().find(|o| o.key == key) {
            Some(option) if !option.archived => Ok(()),
            Some(_) => Err(error(pointer, "archived_option", "this option is archived")),
            None => Err(error(
                pointer,
                "unknown_option",
                "not one of the field's options",
            )),
        }
    }

    /// The JSON Schema of one value of this field, as forms should validate it.
    pub fn value_schema(&self) -> Value {
        let rules = &self.rules;
        let mut schema = match self.field_type {
            FieldType::Text | FieldType::LongText => {
                let ceiling = if self.field_type == FieldType::Text {
                    TEXT_MAX
                } else {
                    LONG_TEXT_MAX
                };
                let mut s = json!({
                    "type": "string",
                    "maxLength": rules.max_length.unwrap_or(ceiling).min(ceiling),
                });
                if let Some(min) = rules.min_length {
                    s["minLength"] = json!(min);
                }
                if let Some(pattern) = &rules.pattern {
                    s["pattern"] = json!(anchored(pattern));
                }
                s
            }
            FieldType::Integer => {
                let mut s = json!({"type": "integer"});
                if let Some(min) = rules.min {
                    s["minimum"] = json!(min);
                }
                if let Some(max) = rules.max {
                    s["maximum"] = json!(max);
                }
                s
            }
            FieldType::Decimal => {
                let places = rules.decimal_places.unwrap_or(2);
                let mut s = json!({"type": "number"});
                if places > 0 {
                    s["multipleOf"] = decimal_json(1, places);
                } else {
                    s["type"] = json!("integer");
                }
                if let Some(min) = rules.min {
                    s["minimum"] = decimal_json(min, places);
                }
                if let Some(max) = rules.max {
                    s["maximum"] = decimal_json(max, places);
                }
                s
            }
            FieldType::Boolean => json!({"type": "boolean"}),
            FieldType::Date => json!({"type": "string", "format": "date"}),
            FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
            FieldType::SingleSelect => json!({"type": "string", "enum": self.active_options()}),
            // Repeated keys are accepted and stored once.
            FieldType::MultiSelect => json!({
                "type": "array",
                "items": {"type": "string", "enum": self.active_options()},
            }),
            FieldType::Email => json!({"type": "string", "format": "email", "maxLength": 254}),
            FieldType::Phone => json!({"type": "string", "maxLength": 40}),
            FieldType::Url => json!({
                "type": "string", "format": "uri", "maxLength": 2000, "pattern": "^https?://",
            }),
            FieldType::Money => {
                let mut amount = json!({"type": "integer"});
                if let Some(min) = rules.min {
                    amount["minimum"] = json!(min);
                }
                if let Some(max) = rules.max {
                    amount["maximum"] = json!(max);
                }
                json!({
                    "type": "object",
                    "required": ["amount_minor", "currency"],
                    "additionalProperties": false,
                    "properties": {
                        "amount_minor": amount,
                        "currency": {"const": rules.currency.clone().unwrap_or_else(|| "CNY".into())},
                    },
                })
            }
            FieldType::User => json!({"type": "string", "format": "uuid"}),
        };
        schema["title"] = json!(self.label);
        if let Some(help) = &self.help_text {
            schema["description"] = json!(help);
        }
        if let Some(default) = &self.default {
            schema["default"] = default.clone();
        }
        schema["x-field-type"] = json!(self.field_type.as_str());
        schema["x-position"] = json!(self.position);
        if self.unique {
            schema["x-unique"] = json!(true);
        }
        schema
    }

    fn active_options(&self) -> Vec<&str> {
        self.rules
            .options
            .iter()
            .filter(|o| !o.archived)
            .map(|o| o.key.as_str())
            .collect()
    }
}

/// `pattern` anchored at both ends, as values must match it whole.
fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// The compiled, whole-value form of a rule's pattern; `None` when it is not a valid expression
/// (definitions are checked on write, so stored ones compile).
pub fn compile_pattern(pattern: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(&anchored(pattern))
        .size_limit(1 << 20)
        .build()
        .ok()
}

fn is_url(text: &str) -> bool {
    use validator::ValidateUrl;
    text.validate_url()
}

/// The JSON Schema of an entity's `custom_fields` object under the given (live) definitions:
/// known keys only, required ones listed.
pub fn object_schema(entity: FieldEntity, definitions: &[FieldDefinition]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for definition in definitions.iter().filter(|d| !d.archived) {
        properties.insert(definition.key.clone(), definition.value_schema());
        if definition.required {
            required.push(definition.key.clone());
        }
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("custom_fields of a {}", entity.as_str()),
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "required": required,
    })
}

/// A record's custom field values after a write: the canonical JSON of every live field with a
/// value, and the stored form of each (for the index).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckedValues {
    /// `key -> canonical value`, what the record stores and returns.
    pub values: BTreeMap<String, Value>,
    /// `field id -> index keys`.
    pub index: Vec<(String, Vec<IndexKey>)>,
}

/// Checks the `custom_fields` member of a create (`current` is `None`) or a merge patch: unknown
/// and archived keys are refused, `null` removes a value, required fields must end up with a
/// value on new records, defaults fill missing ones on new records. Every problem is listed.
/// Values of archived fields already on the record are kept untouched.
pub fn check_values(
    definitions: &[FieldDefinition],
    given: Option<&Map<String, Value>>,
    current: Option<&BTreeMap<String, Value>>,
    region: PhoneRegion,
    user_exists: &dyn Fn(&str) -> bool,
) -> Result<CheckedValues, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut values: BTreeMap<String, Value> = current.cloned().unwrap_or_default();
    if let Some(given) = given {
        for (key, value) in given {
            let pointer = format!("/custom_fields/{key}");
            let Some(definition) = definitions.iter().find(|d| &d.key == key && !d.archived) else {
                errors.push(error(&pointer, "unknown_field", "no such custom field"));
                continue;
            };
            if value.is_null() {
                values.remove(key);
                continue;
            }
            match definition.check_value(value, &pointer, region, user_exists) {
                Ok(stored) => {
                    values.insert(key.clone(), stored.json);
                }
                Err(e) => {
                    errors.push(e);
                    // Reported once: a bad value is not also a missing one.
                    values.insert(key.clone(), Value::Null);
                }
            }
        }
    }
    let creating = current.is_none();
    for definition in definitions.iter().filter(|d| !d.archived) {
        if values.contains_key(&definition.key) {
            continue;
        }
        let pointer = format!("/custom_fields/{}", definition.key);
        if creating {
            if let Some(default) = &definition.default {
                values.insert(definition.key.clone(), default.clone());
                continue;
            }
            if definition.required {
                errors.push(error(&pointer, "required", "required"));
            }
        } else if definition.required && given.is_some_and(|g| g.contains_key(&definition.key)) {
            errors.push(error(
                &pointer,
                "required",
                "a required field cannot be cleared",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // The index entries of every live field with a value (stored values re-checked give their
    // keys; a stored value that no longer passes keeps no index entry rather than failing).
    let mut index = Vec::new();
    for definition in definitions.iter().filter(|d| !d.archived) {
        if let Some(value) = values.get(&definition.key) {
            let lenient_user = |_: &str| true;
            let mut lenient = definition.clone();
            for option in &mut lenient.rules.options {
                option.archived = false;
            }
            if let Ok(stored) = lenient.check_value(value, "", region, &lenient_user) {
                index.push((definition.id.clone(), stored.keys));
            }
        }
    }
    Ok(CheckedValues { values, index })
}

/// How a list filters by a custom field: `cf.<key>=v`, `cf.<key>[gte]=v`, `[lte]`,
/// `[in]=a,b` and, for multi-selects, `[contains]=option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomFilterOp {
    /// Equal (for a multi-select: has the option).
    Eq,
    /// At least.
    Gte,
    /// At most.
    Lte,
    /// One of.
    In,
    /// A multi-select that has the option.
    Contains,
}

impl CustomFilterOp {
    /// Parses the bracketed operator (`None`: no brackets, equality).
    pub fn parse(raw: Option<&str>) -> Option<Self> {
        match raw {
            None => Some(Self::Eq),
            Some("gte") => Some(Self::Gte),
            Some("lte") => Some(Self::Lte),
            Some("in") => Some(Self::In),
            Some("contains") => Some(Self::Contains),
            Some(_) => None,
        }
    }
}

/// A custom field filter resolved against its definition: the index keys to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFilter {
    /// The field.
    pub field_id: String,
    /// The comparison.
    pub op: CustomFilterOp,
    /// One key (`In`: one or more), all numbers or all text.
    pub keys: Vec<IndexKey>,
}

impl FieldDefinition {
    /// The filter `op` with the query text `raw` asks for, or why it cannot be one.
    pub fn filter(
        &self,
        op: CustomFilterOp,
        raw: &str,
        region: PhoneRegion,
    ) -> Result<CustomFilter, String> {
        let t = self.field_type;
        let ordered =
            t.is_numeric() || matches!(t, FieldType::Date | FieldType::DateTime | FieldType::Text);
        match op {
            CustomFilterOp::Gte | CustomFilterOp::Lte if !ordered || t == FieldType::Boolean => {
                return Err(format!("{} fields have no order", t.as_str()));
            }
            CustomFilterOp::Contains if t != FieldType::MultiSelect => {
                return Err("contains is for multi_select fields".into());
            }
            _ => {}
        }
        // Filters may name archived options, and any user id.
        let mut lenient = self.clone();
        for option in &mut lenient.rules.options {
            option.archived = false;
        }
        let key_of = |text: &str| -> Result<IndexKey, String> {
            let value = match t {
                FieldType::Integer | FieldType::Decimal => serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(Value::is_number)
                    .ok_or_else(|| "not a number".to_string())?,
                FieldType::Money => {
                    let amount = serde_json::from_str::<Value>(text)
                        .ok()
                        .filter(Value::is_number)
                        .ok_or_else(|| "not an amount in minor units".to_string())?;
                    json!({
                        "amount_minor": amount,
                        "currency": self.rules.currency.clone().unwrap_or_else(|| "CNY".into()),
                    })
                }
                FieldType::Boolean => match text {
                    "true" => json!(true),
                    "false" => json!(false),
                    _ => return Err("true or false".into()),
                },
                FieldType::MultiSelect => json!([text]),
                _ => json!(text),
            };
            lenient
                .check_value(&value, "", region, &|_| true)
                .map_err(|e| e.message)?
                .keys
                .into_iter()
                .next()
                .ok_or_else(|| "no value".to_string())
        };
        let keys = if op == CustomFilterOp::In {
            raw.split(',').map(key_of).collect::<Result<Vec<_>, _>>()?
        } else {
            vec![key_of(raw)?]
        };
        Ok(CustomFilter {
            field_id: self.id.clone(),
            op,
            keys,
        })
    }
}

/// A list ordered by a custom field (`sort=cf.<key>`, `-cf.<key>` for descending): by its
/// value, ties by id; records without a value come last in either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomSort {
    /// The field.
    pub field_id: String,
    /// Its key, as the sort names it.
    pub key: String,
    /// Values compare as numbers (else as text).
    pub numeric: bool,
    /// Largest first.
    pub descending: bool,
}

const SORT_SEPARATOR: char = '\u{1f}';

impl CustomSort {
    /// The sort as the query names it.
    pub fn name(&self) -> String {
        format!("{}cf.{}", if self.descending { "-" } else { "" }, self.key)
    }

    /// The position after a record with `value` (`None`: no value) and `id`, for a cursor.
    pub fn encode_position(&self, value: Option<&IndexKey>, id: &str) -> String {
        let value = match value {
            Some(IndexKey::Number(n)) => format!("n{n}"),
            Some(IndexKey::Text(t)) => format!("t{t}"),
            None => "-".into(),
        };
        format!("{}{SORT_SEPARATOR}{value}{SORT_SEPARATOR}{id}", self.name())
    }

    /// Reads a position [`CustomSort::encode_position`] wrote for this same sort.
    pub fn decode_position(&self, raw: &str) -> Option<(Option<IndexKey>, String)> {
        let rest = raw
            .strip_prefix(&self.name())?
            .strip_prefix(SORT_SEPARATOR)?;
        let (value, id) = rest.rsplit_once(SORT_SEPARATOR)?;
        if id.is_empty() {
            return None;
        }
        let value = if value == "-" {
            None
        } else if let Some(n) = value.strip_prefix('n') {
            Some(IndexKey::Number(n.parse().ok()?))
        } else {
            Some(IndexKey::Text(value.strip_prefix('t')?.to_string()))
        };
        Some((value, id.to_string()))
    }
}

/// A field definition as an admin writes it (create, or the whole definition after a change).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDraft {
    /// The entity.
    pub entity: FieldEntity,
    /// Immutable snake_case key.
    pub key: String,
    /// Label.
    pub label: String,
    /// Help text.
    pub help_text: Option<String>,
    /// Type.
    pub field_type: FieldType,
    /// Required on new records.
    pub required: bool,
    /// Default for new records.
    pub default: Option<Value>,
    /// Display order.
    pub position: i64,
    /// Per-type rules.
    pub rules: FieldRules,
    /// Unique among the entity's records.
    pub unique: bool,
}

fn is_key(raw: &str) -> bool {
    crate::keys::check_key(raw, "").is_ok()
}

impl FieldDraft {
    /// Every problem of the definition: the key, label, rules that do not fit the type or each
    /// other, a pattern that does not compile, option keys, and a default that is not a valid
    /// value.
    pub fn check(&self, region: PhoneRegion) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !is_key(&self.key) {
            errors.push(error(
                "/key",
                "invalid_key",
                "1 to 50 lower-case letters, digits or _, starting with a letter",
            ));
        }
        if self.label.trim().is_empty() || self.label.chars().count() > 100 {
            errors.push(error("/label", "invalid_label", "1 to 100 characters"));
        }
        if self
            .help_text
            .as_ref()
            .is_some_and(|h| h.chars().count() > 500)
        {
            errors.push(error("/help_text", "too_long", "at most 500 characters"));
        }
        let t = self.field_type;
        let r = &self.rules;
        let text = matches!(t, FieldType::Text | FieldType::LongText);
        let numeric = matches!(
            t,
            FieldType::Integer | FieldType::Decimal | FieldType::Money
        );
        let select = matches!(t, FieldType::SingleSelect | FieldType::MultiSelect);
        let misplaced = |present: bool, name: &str, errors: &mut Vec<FieldError>| {
            if present {
                errors.push(error(
                    &format!("/rules/{name}"),
                    "not_applicable",
                    format!("not a rule of {} fields", t.as_str()),
                ));
            }
        };
        misplaced(!text && r.min_length.is_some(), "min_length", &mut errors);
        misplaced(!text && r.max_length.is_some(), "max_length", &mut errors);
        misplaced(!text && r.pattern.is_some(), "pattern", &mut errors);
        misplaced(!numeric && r.min.is_some(), "min", &mut errors);
        misplaced(!numeric && r.max.is_some(), "max", &mut errors);
        misplaced(
            t != FieldType::Decimal && r.decimal_places.is_some(),
            "decimal_places",
            &mut errors,
        );
        misplaced(!select && !r.options.is_empty(), "options", &mut errors);
        misplaced(
            t != FieldType::Money && r.currency.is_some(),
            "currency",
            &mut errors,
        );
        for (name, length) in [("min_length", r.min_length), ("max_length", r.max_length)] {
            if length.is_some_and(|l| l > LONG_TEXT_MAX) {
                errors.push(error(
                    &format!("/rules/{name}"),
                    "out_of_range",
                    format!("0 to {LONG_TEXT_MAX}"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (r.min_length, r.max_length) {
            if min > max {
                errors.push(error(
                    "/rules/min_length",
                    "range",
                    "larger than max_length",
                ));
            }
        }
        if let (Some(min), Some(max)) = (r.min, r.max) {
            if min > max {
                errors.push(error("/rules/min", "range", "larger than max"));
            }
        }
        if let Some(pattern) = &r.pattern {
            if pattern.chars().count() > 500 || compile_pattern(pattern).is_none() {
                errors.push(error(
                    "/rules/pattern",
                    "invalid_pattern",
                    "not a regular expression (at most 500 characters)",
                ));
            }
        }
        if r.decimal_places.is_some_and(|p| p > DECIMAL_PLACES_MAX) {
            errors.push(error(
                "/rules/decimal_places",
                "out_of_range",
                format!("0 to {DECIMAL_PLACES_MAX}"),
            ));
        }
        if let Some(currency) = &r.currency {
            // Stored as given, so it must already be the upper-case code.
            if crate::money::check_currency(currency, "/rules/currency").as_ref() != Ok(currency) {
                errors.push(error(
                    "/rules/currency",
                    "invalid_currency",
                    "an ISO 4217 currency code such as CNY",
                ));
            }
        }
        if select {
            if r.options.is_empty() || r.options.len() > OPTIONS_MAX {
                errors.push(error(
                    "/rules/options",
                    "options",
                    format!("1 to {OPTIONS_MAX} options"),
                ));
            }
            for (i, option) in r.options.iter().enumerate() {
                if !is_key(&option.key) {
                    errors.push(error(
                        &format!("/rules/options/{i}/key"),
                        "invalid_key",
                        "1 to 50 lower-case letters, digits or _, starting with a letter",
                    ));
                }
                if r.options[..i].iter().any(|o| o.key == option.key) {
                    errors.push(error(
                        &format!("/rules/options/{i}/key"),
                        "duplicate",
                        "another option has this key",
                    ));
                }
                if option.label.trim().is_empty() || option.label.chars().count() > 100 {
                    errors.push(error(
                        &format!("/rules/options/{i}/label"),
                        "invalid_label",
                        "1 to 100 characters",
                    ));
                }
            }
        }
        if self.unique
            && matches!(
                t,
                FieldType::Boolean | FieldType::MultiSelect | FieldType::LongText
            )
        {
            errors.push(error(
                "/unique",
                "not_applicable",
                format!("{} fields cannot be unique", t.as_str()),
            ));
        }
        if self.unique && self.default.is_some() {
            errors.push(error(
                "/default",
                "not_applicable",
                "a unique field has no default",
            ));
        }
        if errors.is_empty() {
            if let Some(default) = &self.default {
                let probe = self.definition_probe();
                let any_user = |_: &str| true;
                if let Err(mut e) = probe.check_value(default, "/default", region, &any_user) {
                    e.pointer = "/default".into();
                    errors.push(e);
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The definition this draft describes, for checking values before it is stored.
    pub fn definition_probe(&self) -> FieldDefinition {
        FieldDefinition {
            id: String::new(),
            entity: self.entity,
            key: self.key.clone(),
            label: self.label.clone(),
            help_text: self.help_text.clone(),
            field_type: self.field_type,
            required: self.required,
            default: self.default.clone(),
            position: self.position,
            rules: self.rules.clone(),
            unique: self.unique,
            archived: false,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            version: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field_type: FieldType, rules: FieldRules) -> FieldDefinition {
        FieldDraft {
            entity: FieldEntity::Customer,
            key: "f".into(),
            label: "F".into(),
            help_text: None,
            field_type,
            required: false,
            default: None,
            position: 0,
            rules,
            unique: false,
        }
        .definition_probe()
    }

    fn check(def: &FieldDefinition, value: Value) -> Result<StoredValue, FieldError> {
        def.check_value(&value, "/custom_fields/f", PhoneRegion::default(), &|id| {
            id == "0193a5c2-0000-7000-8000-000000000001"
        })
    }

    fn options(keys: &[&str]) -> Vec<SelectOption> {
        keys.iter()
            .map(|k| SelectOption {
                key: (*k).into(),
                label: k.to_uppercase(),
                archived: *k == "old",
            })
            .collect()
    }

    #[test]
    fn custom_sort_positions_round_trip() {
        let sort = CustomSort {
            field_id: "f".into(),
            key: "budget".into(),
            numeric: true,
            descending: true,
        };
        for value in [
            Some(IndexKey::Number(-15)),
            Some(IndexKey::Text("a\u{1f}b".into())),
            None,
        ] {
            let raw = sort.encode_position(value.as_ref(), "id-1");
            assert_eq!(sort.decode_position(&raw), Some((value, "id-1".into())));
        }
        let other = CustomSort {
            descending: false,
            ..sort.clone()
        };
        assert_eq!(
            other.decode_position(&sort.encode_position(None, "x")),
            None
        );
        assert_eq!(sort.decode_position("-cf.budget\u{1f}nx\u{1f}id"), None);
    }

    #[test]
    fn decimals_are_exact_scaled_integers() {
        assert_eq!(scale_decimal("12.34", 2), Some(1234));
        assert_eq!(scale_decimal("-0.5", 2), Some(-50));
        assert_eq!(scale_decimal("7", 3), Some(7000));
        assert_eq!(
            scale_decimal("1.230", 2),
            Some(123),
            "trailing zeros are fine"
        );
        assert_eq!(scale_decimal("1.234", 2), None, "too many places");
        assert_eq!(scale_decimal("1e3", 2), None);
        assert_eq!(scale_decimal("92233720368547758.08", 2), None, "overflow");
        assert_eq!(decimal_json(-50, 2), json!(-0.5));
        assert_eq!(decimal_json(1234, 2), json!(12.34));
    }

    #[test]
    fn each_type_checks_and_normalises_its_values() {
        let text = field(
            FieldType::Text,
            FieldRules {
                min_length: Some(2),
                max_length: Some(5),
                pattern: Some("[A-Z]+".into()),
                ..FieldRules::default()
            },
        );
        assert_eq!(check(&text, json!("ABC")).map(|s| s.json), Ok(json!("ABC")));
        assert_eq!(
            check(&text, json!("abc")).map_err(|e| e.code),
            Err("pattern".into())
        );
        assert_eq!(
            check(&text, json!("A")).map_err(|e| e.code),
            Err("too_short".into())
        );
        assert_eq!(
            check(&text, json!("ABCDEF")).map_err(|e| e.code),
            Err("too_long".into())
        );
        assert_eq!(
            check(&text, json!(5)).map_err(|e| e.code),
            Err("type".into())
        );

        let amount = field(
            FieldType::Decimal,
            FieldRules {
                decimal_places: Some(2),
                min: Some(0),
                max: Some(100_000),
                ..FieldRules::default()
            },
        );
        let budget = check(&amount, json!(999.5)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (budget.json, budget.keys),
            (json!(999.5), vec![IndexKey::Number(99950)])
        );
        assert_eq!(
            check(&amount, json!(1.001)).map_err(|e| e.code),
            Err("type".into())
        );
        assert_eq!(
            check(&amount, json!(-1)).map_err(|e| e.code),
            Err("too_small".into())
        );
        assert_eq!(
            check(&amount, json!(1000.01)).map_err(|e| e.code),
            Err("too_large".into())
        );

        let pick = field(
            FieldType::MultiSelect,
            FieldRules {
                options: options(&["a", "b", "old"]),
                ..FieldRules::default()
            },
        );
        let picked = check(&pick, json!(["b", "a", "b"])).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(picked.json, json!(["b", "a"]));
        assert_eq!(
            check(&pick, json!(["a", "old"])).map_err(|e| (e.pointer, e.code)),
            Err(("/custom_fields/f/1".into(), "archived_option".into()))
        );
        assert_eq!(
            check(&pick, json!(["zzz"])).map_err(|e| e.code),
            Err("unknown_option".into())
        );

        let money = field(
            FieldType::Money,
            FieldRules {
                currency: Some("CNY".into()),
                ..FieldRules::default()
            },
        );
        assert!(check(&money, json!({"amount_minor": 1500, "currency": "CNY"})).is_ok());
        assert_eq!(
            check(&money, json!({"amount_minor": 1500, "currency": "USD"})).map_err(|e| e.pointer),
            Err("/custom_fields/f/currency".into())
        );
        let when = field(FieldType::DateTime, FieldRules::default());
        assert_eq!(
            check(&when, json!("2026-11-27T10:00:00+08:00")).map(|s| s.json),
            Ok(json!("2026-11-27T02:00:00.000000Z"))
        );
        let day = field(FieldType::Date, FieldRules::default());
        assert!(check(&day, json!("2026-02-30")).is_err());
        let phone = field(FieldType::Phone, FieldRules::default());
        assert_eq!(
            check(&phone, json!("138 1234 5678")).map(|s| s.keys),
            Ok(vec![IndexKey::Text("+8613812345678".into())])
        );
        let owner = field(FieldType::User, FieldRules::default());
        assert!(check(&owner, json!("0193a5c2-0000-7000-8000-000000000001")).is_ok());
        assert_eq!(
            check(&owner, json!("0193a5c2-0000-7000-8000-000000000002")).map_err(|e| e.code),
            Err("unknown_user".into())
        );
        let flag = field(FieldType::Boolean, FieldRules::default());
        assert_eq!(
            check(&flag, json!(true)).map(|s| s.keys),
            Ok(vec![IndexKey::Number(1)])
        );
        let site = field(FieldType::Url, FieldRules::default());
        assert!(check(&site, json!("ftp://example.com")).is_err());
        let mail = field(FieldType::Email, FieldRules::default());
        assert_eq!(
            check(&mail, json!(" Li@Example.com ")).map(|s| s.keys),
            Ok(vec![IndexKey::Text("li@example.com".into())])
        );
    }

    #[test]
    fn drafts_list_every_inconsistency() {
        let draft = FieldDraft {
            entity: FieldEntity::Customer,
            key: "Budget".into(),
            label: " ".into(),
            help_text: None,
            field_type: FieldType::Integer,
            required: false,
            default: Some(json!("x")),
            position: 0,
            rules: FieldRules {
                pattern: Some("(".into()),
                min: Some(5),
                max: Some(1),
                ..FieldRules::default()
            },
            unique: false,
        };
        let pointers: Vec<String> = draft
            .check(PhoneRegion::default())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.pointer)
            .collect();
        assert_eq!(
            pointers,
            [
                "/key",
                "/label",
                "/rules/pattern",
                "/rules/min",
                "/rules/pattern"
            ]
        );
    }

    #[test]
    fn values_of_a_record_are_checked_together() {
        let mut budget = field(FieldType::Integer, FieldRules::default());
        budget.key = "budget".into();
        budget.id = "f1".into();
        budget.required = true;
        let mut tier = field(
            FieldType::SingleSelect,
            FieldRules {
                options: options(&["gold", "silver"]),
                ..FieldRules::default()
            },
        );
        tier.key = "tier".into();
        tier.id = "f2".into();
        tier.default = Some(json!("silver"));
        let definitions = vec![budget, tier];
        let any = |_: &str| true;
        let given = json!({"nope": 1, "tier": "bronze"});
        let errors = check_values(
            &definitions,
            given.as_object(),
            None,
            PhoneRegion::default(),
            &any,
        )
        .err()
        .unwrap_or_default();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/custom_fields/nope",
                "/custom_fields/tier",
                "/custom_fields/budget"
            ]
        );
        let given = json!({"budget": 10});
        let checked = check_values(
            &definitions,
            given.as_object(),
            None,
            PhoneRegion::default(),
            &any,
        )
        .unwrap_or_default();
        assert_eq!(
            json!(checked.values),
            json!({"budget": 10, "tier": "silver"}),
            "defaults fill new records"
        );
        assert_eq!(checked.index.len(), 2);
        let clear = json!({"budget": null});
        let errors = check_values(
            &definitions,
            clear.as_object(),
            Some(&checked.values),
            PhoneRegion::default(),
            &any,
        )
        .err()
        .unwrap_or_default();
        assert_eq!(errors.first().map(|e| e.code.as_str()), Some("required"));
        // A bad value of a required field is reported once, as bad, on create and on change.
        for current in [None, Some(&checked.values)] {
            let bad = json!({"budget": "lots"});
            let errors = check_values(
                &definitions,
                bad.as_object(),
                current,
                PhoneRegion::default(),
                &any,
            )
            .err()
            .unwrap_or_default();
            let codes: Vec<&str> = errors
                .iter()
                .filter(|e| e.pointer == "/custom_fields/budget")
                .map(|e| e.code.as_str())
                .collect();
            assert_eq!(codes, ["type"], "{current:?}");
        }
    }

    #[test]
    fn the_schema_describes_the_live_fields() {
        let mut tier = field(
            FieldType::SingleSelect,
            FieldRules {
                options: options(&["gold", "old"]),
                ..FieldRules::default()
            },
        );
        tier.key = "tier".into();
        tier.required = true;
        let schema = object_schema(FieldEntity::Customer, &[tier]);
        assert_eq!(schema["properties"]["tier"]["enum"], json!(["gold"]));
        assert_eq!(schema["required"], json!(["tier"]));
        assert_eq!(schema["additionalProperties"], json!(false));
    }
}
