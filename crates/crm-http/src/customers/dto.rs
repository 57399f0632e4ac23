//! Request and response bodies of customers.

use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::contact_points::{Phone, PhoneRegion};
use crm_domain::customers::{
    Customer, CustomerFields, CustomerKind, LifecycleStatus, EXTERNAL_ID_MAX,
};
use crm_domain::identity::{check_name, Email};
use crm_domain::ports::CustomerEvent;
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::contacts::dto::{ContactBody, ContactDto};
use crate::responses::{nullable, optional_text, patch_text};
use crate::ApiError;

/// Company (B2B) or person (B2C).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KindDto {
    /// A business.
    Company,
    /// A private person.
    Individual,
}

/// Where the customer is in its lifecycle.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StatusDto {
    /// Just came in.
    Lead,
    /// Qualified, being worked.
    Prospect,
    /// Has bought.
    Customer,
    /// No longer active.
    Inactive,
}

impl From<KindDto> for CustomerKind {
    fn from(k: KindDto) -> Self {
        match k {
            KindDto::Company => CustomerKind::Company,
            KindDto::Individual => CustomerKind::Individual,
        }
    }
}

impl From<StatusDto> for LifecycleStatus {
    fn from(s: StatusDto) -> Self {
        match s {
            StatusDto::Lead => LifecycleStatus::Lead,
            StatusDto::Prospect => LifecycleStatus::Prospect,
            StatusDto::Customer => LifecycleStatus::Customer,
            StatusDto::Inactive => LifecycleStatus::Inactive,
        }
    }
}

/// A customer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "kind": "company",
    "name": "上海星辰科技",
    "legal_name": "上海星辰科技有限公司",
    "industry": "制造业",
    "company_size": "50-200",
    "website": "https://xingchen.example.cn",
    "address": "上海市浦东新区张江路 88 号",
    "tax_id": "91310000MA1FL0000X",
    "gender": null,
    "birthday": null,
    "phone": "138 1234 5678",
    "phone_e164": "+8613812345678",
    "email": "purchasing@xingchen.example.cn",
    "status": "prospect",
    "classification": "A",
    "lead_source": "trade_show",
    "tags": ["key account"],
    "custom_fields": {"budget": 250000.0, "tier": "gold"},
    "owner_id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8b",
    "score": 0,
    "last_activity_at": null,
    "next_follow_up_at": null,
    "created_at": "2026-11-26T09:30:00Z",
    "updated_at": "2026-11-26T09:30:00Z",
    "deleted_at": null
}))]
pub(crate) struct CustomerDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// Company or person.
    pub kind: &'static str,
    /// Display name.
    pub name: String,
    /// Registered company name.
    pub legal_name: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Company size band.
    pub company_size: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Tax id.
    pub tax_id: Option<String>,
    /// A person's gender: `male`, `female`, `other` or `undisclosed`.
    pub gender: Option<String>,
    /// A person's birthday.
    pub birthday: Option<NaiveDate>,
    /// Main phone, as entered.
    pub phone: Option<String>,
    /// Main phone in E.164, as used for duplicate matching.
    pub phone_e164: Option<String>,
    /// Main email, as entered.
    pub email: Option<String>,
    /// Lifecycle status: `lead`, `prospect`, `customer` or `inactive`.
    pub status: &'static str,
    /// Classification, e.g. `A` or `VIP`.
    pub classification: Option<String>,
    /// Where the lead came from: a lead source key.
    pub lead_source: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The customer's id in another system.
    pub external_id: Option<String>,
    /// Values of the customer custom fields, by key; `GET /api/v1/custom-fields/schema/customer`
    /// gives their JSON Schema.
    #[schema(value_type = Object)]
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
    /// The owning user; `null`: in the shared pool.
    #[schema(format = "uuid")]
    pub owner_id: Option<String>,
    /// Behaviour score (read-only).
    pub score: i64,
    /// When an activity was last recorded (read-only).
    pub last_activity_at: Option<DateTime<Utc>>,
    /// The next pending follow-up (read-only).
    pub next_follow_up_at: Option<DateTime<Utc>>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// When deleted; `null` for live customers (only admins listing with `include_deleted`
    /// see deleted ones).
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<Customer> for CustomerDto {
    fn from(c: Customer) -> Self {
        let f = c.fields;
        Self {
            id: c.id,
            kind: f.kind.as_str(),
            name: f.name,
            legal_name: f.legal_name,
            industry: f.industry,
            company_size: f.company_size,
            website: f.website,
            address: f.address,
            tax_id: f.tax_id,
            gender: f.gender,
            birthday: f.birthday,
            phone_e164: f.phone.as_ref().map(|p| p.normalized.clone()),
            phone: f.phone.map(|p| p.display),
            email: f.email.map(|e| e.display),
            status: f.status.as_str(),
            classification: f.classification,
            lead_source: f.lead_source,
            tags: f.tags,
            external_id: f.external_id,
            owner_id: c.owner_id,
            score: c.score,
            last_activity_at: c.last_activity_at,
            next_follow_up_at: c.next_follow_up_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
            deleted_at: c.deleted_at,
            custom_fields: f.custom_fields,
        }
    }
}

/// Limits of the text fields, in characters.
mod limits {
    pub const SHORT: usize = 100;
    pub const LONG: usize = 500;
    pub const URL: usize = 2048;
    pub const TAGS: usize = 20;
    pub const TAG: usize = 50;
}

/// The writable fields of a customer; on create, left-out optional fields are empty. Used for
/// both create (`POST`) and change (`PATCH`, JSON merge patch: `null` clears a field).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "company",
    "name": "上海星辰科技",
    "phone": "138 1234 5678",
    "email": "purchasing@xingchen.example.cn",
    "lead_source": "trade_show",
    "tags": ["key account"]
}))]
pub(crate) struct CustomerBody {
    /// `company` or `individual` (required on create).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = KindDto)]
    pub kind: Option<Option<KindDto>>,
    /// Display name, 1 to 200 characters (required on create).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<Option<String>>,
    /// Registered company name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub legal_name: Option<Option<String>>,
    /// Industry.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub industry: Option<Option<String>>,
    /// Company size band, e.g. `50-200`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub company_size: Option<Option<String>>,
    /// Website, an `http` or `https` URL.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2048, format = "uri")]
    pub website: Option<Option<String>>,
    /// Postal address.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub address: Option<Option<String>>,
    /// Tax id.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub tax_id: Option<Option<String>>,
    /// A person's gender.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<GenderDto>)]
    pub gender: Option<Option<GenderDto>>,
    /// A person's birthday (`YYYY-MM-DD`, not in the future).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub birthday: Option<Option<NaiveDate>>,
    /// Main phone in any common format; numbers without a country code are read in the
    /// server's default region (CN unless configured).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 40, example = "138 1234 5678")]
    pub phone: Option<Option<String>>,
    /// Main email.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 254, format = Email)]
    pub email: Option<Option<String>>,
    /// Lifecycle status (default `lead`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = StatusDto)]
    pub status: Option<Option<StatusDto>>,
    /// Classification, e.g. `A` or `VIP`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub classification: Option<Option<String>>,
    /// Where the lead came from: the key of an active lead source (`GET /api/v1/lead-sources`).
    /// A customer keeps a source that is archived later.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 50, pattern = "^[a-z][a-z0-9_]{0,49}$")]
    pub lead_source: Option<Option<String>>,
    /// Up to 20 tags of 1 to 50 characters (duplicates are dropped).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>, max_items = 20)]
    pub tags: Option<Option<Vec<String>>>,
    /// The customer's id in another system: 1 to 100 characters, unique among customers (a
    /// customer with the same external id is a duplicate, like one with the same phone).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = r"^\S(.*\S)?$")]
    pub external_id: Option<Option<String>>,
    /// Create only: the owner; left out, the caller (a person) or the pool (an API key); `null`
    /// puts the customer in the pool. A rep may only name themselves.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub owner_id: Option<Option<String>>,
    /// Create only: create even when a customer with the same phone or email exists (also
    /// when `contact` has them).
    #[serde(default)]
    pub allow_duplicate: bool,
    /// Create only: the first contact (a contact create body), added as the primary contact
    /// in the same step and answered as `contact`. It is reached on the customer's phone and
    /// email unless it has its own, and its phones and email are checked for duplicates like
    /// the customer's. `allow_duplicate` belongs to the customer, and `primary` may only be
    /// `true`.
    #[serde(default)]
    pub contact: Option<ContactBody>,
    /// Custom field values by key, checked against the definitions
    /// (`GET /api/v1/custom-fields/schema/customer`). On change, keys given replace their
    /// values and `null` removes one; `"custom_fields": null` removes them all.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

/// A new customer as stored, with its first contact when the create gave one.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedCustomer {
    #[serde(flatten)]
    pub customer: CustomerDto,
    /// The first contact, when the request gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ContactDto, required = false)]
    pub contact: Option<ContactDto>,
}

/// A person's gender.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum GenderDto {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other.
    Other,
    /// Not disclosed.
    Undisclosed,
}

impl GenderDto {
    fn as_str(self) -> &'static str {
        match self {
            GenderDto::Male => "male",
            GenderDto::Female => "female",
            GenderDto::Other => "other",
            GenderDto::Undisclosed => "undisclosed",
        }
    }
}

/// A field that must have a value: `null` is refused, and so is leaving it out on create.
fn required<T>(
    value: Option<Option<T>>,
    pointer: &str,
    creating: bool,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match value {
        Some(Some(v)) => Some(v),
        Some(None) => {
            errors.push(FieldError::new(pointer, "required", "must not be null"));
            None
        }
        None => {
            if creating {
                errors.push(FieldError::new(pointer, "required", "required"));
            }
            None
        }
    }
}

/// A validated customer body: for each field, `None` leaves it, `Some(None)` clears it,
/// `Some(Some(v))` sets it.
#[derive(Debug, Default)]
pub(crate) struct CustomerPatch {
    kind: Option<CustomerKind>,
    name: Option<String>,
    status: Option<LifecycleStatus>,
    legal_name: Option<Option<String>>,
    industry: Option<Option<String>>,
    company_size: Option<Option<String>>,
    website: Option<Option<String>>,
    address: Option<Option<String>>,
    tax_id: Option<Option<String>>,
    gender: Option<Option<String>>,
    birthday: Option<Option<NaiveDate>>,
    phone: Option<Option<Phone>>,
    email: Option<Option<Email>>,
    classification: Option<Option<String>>,
    lead_source: Option<Option<String>>,
    tags: Option<Vec<String>>,
    external_id: Option<Option<String>>,
}

impl CustomerBody {
    /// Every problem of the body at once (create: `kind` and `name` required; update: the
    /// owner, `allow_duplicate` and `contact` are not writable), or the validated changes.
    pub(crate) fn validate(
        self,
        creating: bool,
        region: PhoneRegion,
        today: NaiveDate,
        lead_sources: &[String],
    ) -> Result<CustomerPatch, DomainError> {
        let mut errors = Vec::new();
        if !creating {
            if self.owner_id.is_some() {
                errors.push(FieldError::new(
                    "/owner_id",
                    "read_only",
                    "change the owner with /claim, /release or /assign",
                ));
            }
            if self.allow_duplicate {
                errors.push(FieldError::new(
                    "/allow_duplicate",
                    "read_only",
                    "only for create",
                ));
            }
            if self.contact.is_some() {
                errors.push(FieldError::new(
                    "/contact",
                    "read_only",
                    "add contacts with POST /api/v1/customers/{id}/contacts",
                ));
            }
        }
        let kind = required(self.kind, "/kind", creating, &mut errors).map(CustomerKind::from);
        let name = required(self.name, "/name", creating, &mut errors)
            .and_then(|n| check_name(&n, "/name").map_err(|e| errors.push(e)).ok());
        let status = match self.status {
            Some(Some(s)) => Some(LifecycleStatus::from(s)),
            Some(None) => {
                errors.push(FieldError::new("/status", "required", "must not be null"));
                None
            }
            None => None,
        };
        let legal_name = patch_text(self.legal_name, "/legal_name", 200, &mut errors);
        let industry = patch_text(self.industry, "/industry", limits::SHORT, &mut errors);
        let company_size = patch_text(
            self.company_size,
            "/company_size",
            limits::SHORT,
            &mut errors,
        );
        let address = patch_text(self.address, "/address", limits::LONG, &mut errors);
        let tax_id = patch_text(self.tax_id, "/tax_id", limits::SHORT, &mut errors);
        let classification = patch_text(
            self.classification,
            "/classification",
            limits::SHORT,
            &mut errors,
        );
        if matches!(&self.lead_source, Some(Some(v)) if v.trim().is_empty()) {
            errors.push(FieldError::new(
                "/lead_source",
                "unknown_lead_source",
                "empty: send null to clear",
            ));
        }
        let lead_source = patch_text(self.lead_source, "/lead_source", limits::SHORT, &mut errors);
        if let Some(Some(source)) = &lead_source {
            if !lead_sources.contains(source) {
                errors.push(FieldError::new(
                    "/lead_source",
                    "unknown_lead_source",
                    "not the key of an active lead source (see GET /api/v1/lead-sources)",
                ));
            }
        }
        // Email and website have a format: an empty string is not one (send `null` to clear).
        for (value, pointer) in [(&self.website, "/website"), (&self.email, "/email")] {
            if matches!(value, Some(Some(v)) if v.trim().is_empty()) {
                errors.push(FieldError::new(
                    pointer,
                    "required",
                    "empty: send null to clear",
                ));
            }
        }
        let website = patch_text(self.website, "/website", limits::URL, &mut errors);
        if let Some(Some(url)) = &website {
            use validator::ValidateUrl;
            let web = url.starts_with("http://") || url.starts_with("https://");
            if !web || !url.validate_url() {
                errors.push(FieldError::new(
                    "/website",
                    "url",
                    "not an http or https URL",
                ));
            }
        }
        let gender = self.gender.map(|g| g.map(|g| g.as_str().to_string()));
        let birthday = self.birthday;
        if let Some(Some(day)) = birthday {
            if day > today {
                errors.push(FieldError::new(
                    "/birthday",
                    "in_future",
                    "a birthday cannot be in the future",
                ));
            }
        }
        let phone = self.phone.map(|raw| {
            raw.filter(|r| !r.trim().is_empty()).and_then(|r| {
                Phone::parse(&r, region, "/phone")
                    .map_err(|e| errors.push(e))
                    .ok()
            })
        });
        let email = self.email.map(|raw| {
            raw.filter(|r| !r.trim().is_empty())
                .and_then(|r| Email::parse(&r, "/email").map_err(|e| errors.push(e)).ok())
        });
        let external_id = self.external_id.map(|id| {
            id.and_then(|id| {
                let fits = !id.is_empty()
                    && id.trim() == id
                    && id.chars().count() <= EXTERNAL_ID_MAX
                    && !id.chars().any(char::is_control);
                if !fits {
                    errors.push(FieldError::new(
                        "/external_id",
                        "invalid",
                        format!(
                            "1 to {EXTERNAL_ID_MAX} characters, no surrounding spaces or \
                             control characters (null clears it)"
                        ),
                    ));
                }
                fits.then_some(id)
            })
        });
        let tags = self.tags.map(|tags| {
            let tags = tags.unwrap_or_default();
            if tags.len() > limits::TAGS {
                errors.push(FieldError::new(
                    "/tags",
                    "too_long",
                    format!("at most {} tags", limits::TAGS),
                ));
            }
            let mut clean: Vec<String> = Vec::new();
            for (i, tag) in tags.iter().enumerate() {
                let pointer = format!("/tags/{i}");
                if tag.trim().is_empty() {
                    errors.push(FieldError::new(
                        pointer,
                        "required",
                        "a tag cannot be blank",
                    ));
                } else if let Some(t) =
                    optional_text(Some(tag.clone()), &pointer, limits::TAG, &mut errors)
                {
                    if !clean.contains(&t) {
                        clean.push(t);
                    }
                }
            }
            clean
        });
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(CustomerPatch {
            kind,
            name,
            status,
            legal_name,
            industry,
            company_size,
            website,
            address,
            tax_id,
            gender,
            birthday,
            phone,
            email,
            classification,
            lead_source,
            tags,
            external_id,
        })
    }
}

impl CustomerPatch {
    /// The customer's fields with this patch applied to `current` (`None`: a new customer,
    /// whose `kind` and `name` the validation made sure of).
    pub(crate) fn apply(self, current: Option<&CustomerFields>) -> CustomerFields {
        fn pick<T: Clone>(new: Option<Option<T>>, old: Option<&Option<T>>) -> Option<T> {
            match new {
                Some(v) => v,
                None => old.cloned().flatten(),
            }
        }
        CustomerFields {
            kind: self
                .kind
                .or(current.map(|c| c.kind))
                .unwrap_or(CustomerKind::Company),
            name: self
                .name
                .or(current.map(|c| c.name.clone()))
                .unwrap_or_default(),
            status: self
                .status
                .or(current.map(|c| c.status))
                .unwrap_or(LifecycleStatus::Lead),
            legal_name: pick(self.legal_name, current.map(|c| &c.legal_name)),
            industry: pick(self.industry, current.map(|c| &c.industry)),
            company_size: pick(self.company_size, current.map(|c| &c.company_size)),
            website: pick(self.website, current.map(|c| &c.website)),
            address: pick(self.address, current.map(|c| &c.address)),
            tax_id: pick(self.tax_id, current.map(|c| &c.tax_id)),
            gender: pick(self.gender, current.map(|c| &c.gender)),
            birthday: pick(self.birthday, current.map(|c| &c.birthday)),
            phone: pick(self.phone, current.map(|c| &c.phone)),
            email: pick(self.email, current.map(|c| &c.email)),
            classification: pick(self.classification, current.map(|c| &c.classification)),
            lead_source: pick(self.lead_source, current.map(|c| &c.lead_source)),
            tags: self
                .tags
                .or(current.map(|c| c.tags.clone()))
                .unwrap_or_default(),
            external_id: pick(self.external_id, current.map(|c| &c.external_id)),
            // Checked and merged separately, against the field definitions.
            custom_fields: current.map(|c| c.custom_fields.clone()).unwrap_or_default(),
        }
    }
}

/// Filters and paging of the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CustomerQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 512, pattern = "^([0-9a-f]{2})+$")]
    pub cursor: Option<String>,
    /// Only customers owned by this user.
    #[param(value_type = Option<String>, format = "uuid")]
    pub owner_id: Option<uuid::Uuid>,
    /// Only this kind.
    pub kind: Option<KindDto>,
    /// Only this status.
    pub status: Option<StatusDto>,
    /// `true`: only the shared pool; `false`: only owned customers.
    pub pool: Option<bool>,
    /// `true`: include deleted customers (admins only; others get 403).
    pub include_deleted: Option<bool>,
    /// Search: part of the name, email, phone (3+ digits) or a contact's name; case-insensitive.
    #[param(max_length = 200, pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
    /// Only this lead source.
    #[param(max_length = 100, pattern = r"^[^\u0000]*$")]
    pub lead_source: Option<String>,
    /// Only customers with this tag (case-insensitive).
    #[param(max_length = 50, pattern = r"^[^\u0000]*$")]
    pub tag: Option<String>,
    /// Created at or after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Changed at or after this instant.
    pub updated_after: Option<DateTime<Utc>>,
    /// Changed before this instant.
    pub updated_before: Option<DateTime<Utc>>,
    /// The order: `name`, `created_at`, `updated_at`, `score`, `next_follow_up_at` or
    /// `cf.<key>` (a custom field), ascending, or with `-` in front, descending. Ties are broken
    /// by id; customers without a next follow-up or without a value of the custom field come
    /// last in either direction. Default: by id, which is creation order. A cursor continues
    /// only the order it was issued for.
    #[param(
        max_length = 60,
        pattern = "^-?(name|created_at|updated_at|score|next_follow_up_at|cf\\.[a-z][a-z0-9_]{0,49})$",
        example = "-score"
    )]
    pub sort: Option<String>,
}

impl CustomerQuery {
    /// The documented limits of the text parameters; NUL is never a valid character.
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        for (name, value, max) in [
            ("q", &self.q, 200),
            ("lead_source", &self.lead_source, 100),
            ("tag", &self.tag, 50),
        ] {
            if let Some(v) = value {
                if v.chars().count() > max || v.contains('\0') {
                    return Err(ApiError::bad_request(
                        "invalid_query",
                        "The query string has an invalid parameter.",
                    )
                    .with_errors(vec![crate::ProblemFieldError {
                        pointer: format!("/query/{name}"),
                        code: "invalid".into(),
                        message: format!("at most {max} characters, without NUL"),
                    }]));
                }
            }
        }
        Ok(())
    }
}

/// A page of customers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomerList {
    /// Customers in the requested order.
    pub items: Vec<CustomerDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Who should own the customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"owner_id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8b"}))]
pub(crate) struct AssignBody {
    /// An active user whose customers you may manage.
    #[schema(value_type = String, format = "uuid")]
    pub owner_id: uuid::Uuid,
}

/// One change of a field.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FieldChangeDto {
    /// The field.
    pub field: String,
    /// Its value before (`null`: empty); a string, number, array or `null`.
    #[schema(value_type = Value)]
    pub old: serde_json::Value,
    /// Its value after.
    #[schema(value_type = Value)]
    pub new: serde_json::Value,
}

/// Something that happened to a customer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomerEventDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// `created`, `updated`, `deleted`, `claimed`, `released` or `assigned`.
    pub action: String,
    /// The user or API key that did it.
    #[schema(format = "uuid")]
    pub actor_id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Each changed field.
    pub changes: Vec<FieldChangeDto>,
}

impl From<CustomerEvent> for CustomerEventDto {
    fn from(e: CustomerEvent) -> Self {
        Self {
            id: e.id,
            action: e.action,
            actor_id: e.actor_id,
            at: e.at,
            changes: e
                .changes
                .into_iter()
                .map(|c| FieldChangeDto {
                    field: c.field,
                    old: c.old,
                    new: c.new,
                })
                .collect(),
        }
    }
}

/// A page of a customer's history, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomerHistory {
    /// Events, newest first.
    pub items: Vec<CustomerEventDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A money amount in minor units of an ISO 4217 currency.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MoneyDto {
    /// Amount in minor units (fen for CNY).
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// One entry of a customer's activity timeline.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TimelineEntry {
    /// The activity.
    #[schema(format = "uuid")]
    pub id: String,
    /// `call`, `visit`, `meeting`, `email`, `message`, `note` or `other`.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Subject.
    pub subject: Option<String>,
    /// Who recorded it.
    #[schema(format = "uuid")]
    pub author_id: String,
}

/// An open opportunity of the customer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OpportunitySummary {
    /// The opportunity.
    #[schema(format = "uuid")]
    pub id: String,
    /// Name.
    pub name: String,
    /// Current stage.
    #[schema(format = "uuid")]
    pub stage_id: String,
    /// Its name.
    pub stage_name: String,
    /// Its win probability in percent.
    pub probability: i64,
    /// Amount.
    pub amount: MoneyDto,
    /// When it is expected to close.
    pub expected_close_on: Option<chrono::NaiveDate>,
}

/// A pending follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FollowUpSummary {
    /// The follow-up.
    #[schema(format = "uuid")]
    pub id: String,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// What to do.
    pub note: Option<String>,
    /// Whose it is.
    #[schema(format = "uuid")]
    pub owner_id: String,
}

/// Everything about a customer on one screen.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomerOverview {
    /// The customer.
    pub customer: CustomerDto,
    /// Its contacts, primary first (at most 50).
    pub contacts: Vec<crate::contacts::dto::ContactDto>,
    /// The latest activities, newest first (at most 20; page further with the activities list).
    pub timeline: Vec<TimelineEntry>,
    /// Open opportunities with stage and amount.
    pub open_opportunities: Vec<OpportunitySummary>,
    /// Pending follow-ups, soonest first.
    pub pending_follow_ups: Vec<FollowUpSummary>,
    /// Score with its breakdown, as `GET /customers/{id}/score` gives it.
    pub score: crate::scoring::dto::ScoreDto,
    /// Whole days since the last recorded activity; `null` when there was none.
    pub days_since_last_contact: Option<i64>,
}
