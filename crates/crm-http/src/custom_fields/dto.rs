//! Request and response bodies of custom field definitions.

use chrono::{DateTime, Utc};
use crm_domain::custom_fields::{
    scale_decimal, FieldDefinition, FieldDraft, FieldEntity, FieldRules, FieldType, SelectOption,
};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::responses::{non_null, nullable, nullable_whole, optional_whole, whole};

/// The records that carry custom fields.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EntityDto {
    /// Customers.
    Customer,
    /// Contacts.
    Contact,
    /// Activities.
    Activity,
    /// Opportunities.
    Opportunity,
}

impl From<EntityDto> for FieldEntity {
    fn from(e: EntityDto) -> Self {
        match e {
            EntityDto::Customer => FieldEntity::Customer,
            EntityDto::Contact => FieldEntity::Contact,
            EntityDto::Activity => FieldEntity::Activity,
            EntityDto::Opportunity => FieldEntity::Opportunity,
        }
    }
}

impl From<FieldEntity> for EntityDto {
    fn from(e: FieldEntity) -> Self {
        match e {
            FieldEntity::Customer => EntityDto::Customer,
            FieldEntity::Contact => EntityDto::Contact,
            FieldEntity::Activity => EntityDto::Activity,
            FieldEntity::Opportunity => EntityDto::Opportunity,
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FieldTypeDto {
    /// One line of text (at most 1,000 characters).
    Text,
    /// Several lines of text (at most 20,000 characters).
    LongText,
    /// A whole number.
    Integer,
    /// A decimal number with `decimal_places` digits after the point (default 2).
    Decimal,
    /// `true` or `false`.
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// An RFC 3339 instant.
    #[serde(rename = "datetime")]
    DateTime,
    /// One option key.
    SingleSelect,
    /// An array of option keys.
    MultiSelect,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// An http(s) URL.
    Url,
    /// `{"amount_minor": integer, "currency": code}` in the field's currency (default CNY).
    Money,
    /// The id of an active user.
    User,
}

impl From<FieldTypeDto> for FieldType {
    fn from(t: FieldTypeDto) -> Self {
        match t {
            FieldTypeDto::Text => FieldType::Text,
            FieldTypeDto::LongText => FieldType::LongText,
            FieldTypeDto::Integer => FieldType::Integer,
            FieldTypeDto::Decimal => FieldType::Decimal,
            FieldTypeDto::Boolean => FieldType::Boolean,
            FieldTypeDto::Date => FieldType::Date,
            FieldTypeDto::DateTime => FieldType::DateTime,
            FieldTypeDto::SingleSelect => FieldType::SingleSelect,
            FieldTypeDto::MultiSelect => FieldType::MultiSelect,
            FieldTypeDto::Email => FieldType::Email,
            FieldTypeDto::Phone => FieldType::Phone,
            FieldTypeDto::Url => FieldType::Url,
            FieldTypeDto::Money => FieldType::Money,
            FieldTypeDto::User => FieldType::User,
        }
    }
}

impl From<FieldType> for FieldTypeDto {
    fn from(t: FieldType) -> Self {
        match t {
            FieldType::Text => FieldTypeDto::Text,
            FieldType::LongText => FieldTypeDto::LongText,
            FieldType::Integer => FieldTypeDto::Integer,
            FieldType::Decimal => FieldTypeDto::Decimal,
            FieldType::Boolean => FieldTypeDto::Boolean,
            FieldType::Date => FieldTypeDto::Date,
            FieldType::DateTime => FieldTypeDto::DateTime,
            FieldType::SingleSelect => FieldTypeDto::SingleSelect,
            FieldType::MultiSelect => FieldTypeDto::MultiSelect,
            FieldType::Email => FieldTypeDto::Email,
            FieldType::Phone => FieldTypeDto::Phone,
            FieldType::Url => FieldTypeDto::Url,
            FieldType::Money => FieldTypeDto::Money,
            FieldType::User => FieldTypeDto::User,
        }
    }
}

/// An option of a select field.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OptionDto {
    /// Stable key: what values hold.
    #[schema(min_length = 1, max_length = 50, pattern = "^[a-z][a-z0-9_]{0,49}$")]
    pub key: String,
    /// What people read, 1 to 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub label: String,
    /// Archived options stay on records that have them and are refused for new values.
    #[serde(default)]
    pub archived: bool,
}

/// The rules of a field; only those of its type may be given.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesDto {
    /// Text: fewest characters.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_whole"
    )]
    #[schema(minimum = 0, maximum = 20000)]
    pub min_length: Option<u32>,
    /// Text: most characters.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_whole"
    )]
    #[schema(minimum = 0, maximum = 20000)]
    pub max_length: Option<u32>,
    /// Text: a regular expression the whole value must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub pattern: Option<String>,
    /// Integer, decimal and money (minor units): smallest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub min: Option<serde_json::Number>,
    /// Largest value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub max: Option<serde_json::Number>,
    /// Decimal: digits after the point, 0 to 6 (default 2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_whole"
    )]
    #[schema(minimum = 0, maximum = 6)]
    pub decimal_places: Option<u32>,
    /// Selects: 1 to 200 options, in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 200)]
    pub options: Vec<OptionDto>,
    /// Money: the ISO 4217 currency (default CNY).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

fn unit_of(field_type: FieldType, rules: &RulesDto) -> u32 {
    if field_type == FieldType::Decimal {
        rules.decimal_places.unwrap_or(2)
    } else {
        0
    }
}

impl RulesDto {
    fn into_domain(self, field_type: FieldType, errors: &mut Vec<FieldError>) -> FieldRules {
        let places = unit_of(field_type, &self);
        let mut bound = |n: Option<serde_json::Number>, name: &str| {
            n.and_then(|n| {
                let scaled = scale_decimal(&n.to_string(), places);
                if scaled.is_none() {
                    errors.push(FieldError::new(
                        format!("/rules/{name}"),
                        "invalid",
                        format!("a number with at most {places} decimal places"),
                    ));
                }
                scaled
            })
        };
        let min = bound(self.min, "min");
        let max = bound(self.max, "max");
        FieldRules {
            min_length: self.min_length,
            max_length: self.max_length,
            pattern: self.pattern,
            min,
            max,
            decimal_places: self.decimal_places,
            options: self
                .options
                .into_iter()
                .map(|o| SelectOption {
                    key: o.key,
                    label: o.label.trim().to_string(),
                    archived: o.archived,
                })
                .collect(),
            currency: self.currency,
        }
    }

    fn from_domain(rules: &FieldRules, field_type: FieldType) -> Self {
        let places = if field_type == FieldType::Decimal {
            rules.decimal_places.unwrap_or(2)
        } else {
            0
        };
        let number = |scaled: i64| -> Option<serde_json::Number> {
            let divisor = 10_f64.powi(places as i32);
            if places == 0 {
                Some(scaled.into())
            } else {
                serde_json::Number::from_f64(scaled as f64 / divisor)
            }
        };
        Self {
            min_length: rules.min_length,
            max_length: rules.max_length,
            pattern: rules.pattern.clone(),
            min: rules.min.and_then(number),
            max: rules.max.and_then(number),
            decimal_places: rules.decimal_places,
            options: rules
                .options
                .iter()
                .map(|o| OptionDto {
                    key: o.key.clone(),
                    label: o.label.clone(),
                    archived: o.archived,
                })
                .collect(),
            currency: rules.currency.clone(),
        }
    }
}

/// A custom field definition.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-9b1d-7c2e-8f3a-4d5e6f708192", "entity": "customer", "key": "budget",
    "label": "Budget", "help_text": "Yearly budget in yuan", "type": "decimal", "required": false,
    "default": null, "position": 10, "rules": {"decimal_places": 2, "min": 0},
    "unique": false, "archived": false,
    "created_at": "2026-11-26T09:30:00Z", "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct FieldDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// The entity whose records carry the field.
    pub entity: EntityDto,
    /// Immutable key: the member name under `custom_fields`.
    pub key: String,
    /// What people read.
    pub label: String,
    /// Help text for forms.
    pub help_text: Option<String>,
    /// What the field holds.
    #[serde(rename = "type")]
    pub field_type: FieldTypeDto,
    /// New records must have a value (existing ones are not affected).
    pub required: bool,
    /// The value new records get when they give none.
    #[schema(value_type = Option<Value>)]
    pub default: Option<Value>,
    /// Display order, smallest first.
    pub position: i64,
    /// The rules of the field's type.
    pub rules: RulesDto,
    /// No two records share a value.
    pub unique: bool,
    /// Archived fields accept no values; their data is kept and comes back on restore.
    pub archived: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<FieldDefinition> for FieldDto {
    fn from(d: FieldDefinition) -> Self {
        Self {
            rules: RulesDto::from_domain(&d.rules, d.field_type),
            id: d.id,
            entity: d.entity.into(),
            key: d.key,
            label: d.label,
            help_text: d.help_text,
            field_type: d.field_type.into(),
            required: d.required,
            default: d.default,
            position: d.position,
            unique: d.unique,
            archived: d.archived,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// The definitions of one entity.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FieldList {
    /// Definitions by position then key.
    pub items: Vec<FieldDto>,
}

/// Which definitions to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FieldQuery {
    /// The entity (default `customer`).
    pub entity: Option<EntityDto>,
    /// `true`: archived definitions too.
    pub include_archived: Option<bool>,
}

/// A new custom field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "entity": "customer", "key": "tier", "label": "Tier", "type": "single_select",
    "rules": {"options": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}]}
}))]
pub(crate) struct CreateField {
    /// The entity whose records carry the field.
    pub entity: EntityDto,
    /// Immutable key: lower-case letters, digits and `_`, starting with a letter.
    #[schema(min_length = 1, max_length = 50, pattern = "^[a-z][a-z0-9_]{0,49}$")]
    pub key: String,
    /// 1 to 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub label: String,
    /// Help text, at most 500 characters.
    #[schema(max_length = 500)]
    pub help_text: Option<String>,
    /// What the field holds.
    #[serde(rename = "type")]
    pub field_type: FieldTypeDto,
    /// New records must have a value.
    #[serde(default)]
    pub required: bool,
    /// The value new records get when they give none; must be a valid value.
    #[schema(value_type = Option<Value>)]
    pub default: Option<Value>,
    /// Display order (default 0).
    #[serde(default, deserialize_with = "whole")]
    #[schema(minimum = -1000000, maximum = 1000000)]
    pub position: i64,
    /// The rules of the type.
    #[serde(default)]
    pub rules: RulesDto,
    /// No two records share a value (not for boolean, long text and multi-select).
    #[serde(default)]
    pub unique: bool,
}

fn position_error(position: i64, errors: &mut Vec<FieldError>) {
    if !(-1_000_000..=1_000_000).contains(&position) {
        errors.push(FieldError::new(
            "/position",
            "out_of_range",
            "between -1000000 and 1000000",
        ));
    }
}

fn finish(
    draft: FieldDraft,
    mut errors: Vec<FieldError>,
    region: crm_domain::contact_points::PhoneRegion,
) -> Result<FieldDraft, DomainError> {
    if let Err(more) = draft.check(region) {
        errors.extend(more);
    }
    if errors.is_empty() {
        // Checked as sent (its length included), stored trimmed.
        let label = draft.label.trim().to_string();
        Ok(FieldDraft { label, ..draft })
    } else {
        Err(DomainError::Validation(errors))
    }
}

impl CreateField {
    /// Every problem of the definition, or the draft.
    pub(crate) fn validate(
        self,
        region: crm_domain::contact_points::PhoneRegion,
    ) -> Result<FieldDraft, DomainError> {
        let mut errors = Vec::new();
        position_error(self.position, &mut errors);
        let field_type = FieldType::from(self.field_type);
        let rules = self.rules.into_domain(field_type, &mut errors);
        let draft = FieldDraft {
            entity: self.entity.into(),
            key: self.key,
            label: self.label,
            help_text: self.help_text.filter(|h| !h.trim().is_empty()),
            field_type,
            required: self.required,
            default: self.default.filter(|d| !d.is_null()),
            position: self.position,
            rules,
            unique: self.unique,
        };
        finish(draft, errors, region)
    }
}

/// Changes to a custom field (JSON merge patch). `rules` given replace the old rules; tightening
/// them or changing the type is refused (409) while stored values would break.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "Annual budget", "rules": {"decimal_places": 2, "min": 0, "max": 10000000}}))]
pub(crate) struct UpdateField {
    /// New label.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub label: Option<Option<String>>,
    /// New help text; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub help_text: Option<Option<String>>,
    /// New type (only while no record has a value).
    #[serde(default, rename = "type", deserialize_with = "nullable")]
    #[schema(value_type = FieldTypeDto)]
    pub field_type: Option<Option<FieldTypeDto>>,
    /// Required on new records.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool)]
    pub required: Option<Option<bool>>,
    /// New default; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Value>)]
    pub default: Option<Option<Value>>,
    /// New position.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = i64, minimum = -1000000, maximum = 1000000)]
    pub position: Option<Option<i64>>,
    /// New rules (replace the old ones; `{}` removes them all).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = RulesDto)]
    pub rules: Option<Option<RulesDto>>,
    /// Unique among the entity's records.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool)]
    pub unique: Option<Option<bool>>,
}

impl UpdateField {
    /// A patch that changes nothing.
    pub(crate) fn keep() -> Self {
        Self {
            label: None,
            help_text: None,
            field_type: None,
            required: None,
            default: None,
            position: None,
            rules: None,
            unique: None,
        }
    }

    /// The whole new definition after the patch, every problem listed.
    pub(crate) fn apply(
        self,
        current: &FieldDefinition,
        region: crm_domain::contact_points::PhoneRegion,
    ) -> Result<FieldDraft, DomainError> {
        let mut errors = Vec::new();
        let label = non_null(self.label, "/label", &mut errors);
        let field_type = non_null(self.field_type, "/type", &mut errors);
        let required = non_null(self.required, "/required", &mut errors);
        let position = non_null(self.position, "/position", &mut errors);
        let unique = non_null(self.unique, "/unique", &mut errors);
        let rules = non_null(self.rules, "/rules", &mut errors);
        let field_type = field_type
            .map(FieldType::from)
            .unwrap_or(current.field_type);
        let rules = match rules {
            Some(rules) => rules.into_domain(field_type, &mut errors),
            None => current.rules.clone(),
        };
        let position = position.unwrap_or(current.position);
        position_error(position, &mut errors);
        let draft = FieldDraft {
            entity: current.entity,
            key: current.key.clone(),
            label: label.unwrap_or_else(|| current.label.clone()),
            help_text: match self.help_text {
                Some(h) => h.filter(|h| !h.trim().is_empty()),
                None => current.help_text.clone(),
            },
            field_type,
            required: required.unwrap_or(current.required),
            default: match self.default {
                Some(d) => d.filter(|d| !d.is_null()),
                None => current.default.clone(),
            },
            position,
            rules,
            unique: unique.unwrap_or(current.unique),
        };
        finish(draft, errors, region)
    }
}
