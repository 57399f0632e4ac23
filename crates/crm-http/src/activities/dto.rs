//! Request and response bodies of activities.

use chrono::{DateTime, Utc};
use crm_domain::activities::{
    check_attachments, check_due_at, check_occurred_at, Activity, ActivityFields, ActivityKind,
    Attachment, FollowUpChange, FollowUpPlan, FollowUpState, CONTENT_MAX, NOTE_MAX, OUTCOME_MAX,
    SUBJECT_MAX,
};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::responses::{non_null, nullable, patch_text};

/// What kind of contact it was.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ActivityKindDto {
    /// A phone call.
    Call,
    /// A visit to the customer.
    Visit,
    /// A meeting.
    Meeting,
    /// An email.
    Email,
    /// A chat message (WeChat, SMS …).
    Message,
    /// A note without contact.
    Note,
    /// Anything else.
    Other,
}

impl From<ActivityKindDto> for ActivityKind {
    fn from(k: ActivityKindDto) -> Self {
        match k {
            ActivityKindDto::Call => Self::Call,
            ActivityKindDto::Visit => Self::Visit,
            ActivityKindDto::Meeting => Self::Meeting,
            ActivityKindDto::Email => Self::Email,
            ActivityKindDto::Message => Self::Message,
            ActivityKindDto::Note => Self::Note,
            ActivityKindDto::Other => Self::Other,
        }
    }
}

/// A state a caller may give a follow-up (`overdue` is derived from the time).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SettableStateDto {
    /// Still to do (reopens a closed follow-up).
    Pending,
    /// Done.
    Done,
    /// Called off.
    Cancelled,
}

impl From<SettableStateDto> for FollowUpState {
    fn from(s: SettableStateDto) -> Self {
        match s {
            SettableStateDto::Pending => Self::Pending,
            SettableStateDto::Done => Self::Done,
            SettableStateDto::Cancelled => Self::Cancelled,
        }
    }
}

/// A link attached to an activity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttachmentDto {
    /// An http or https URL.
    #[schema(max_length = 2000, pattern = r"^https?://\S+$")]
    pub url: String,
    /// What to show instead of the URL.
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

/// The follow-up an activity scheduled.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FollowUpDto {
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// What to do.
    pub note: Option<String>,
    /// `pending`, `overdue` (pending and past due), `done` or `cancelled`.
    #[schema(value_type = String, pattern = "^(pending|overdue|done|cancelled)$")]
    pub state: &'static str,
    /// When it was done or cancelled.
    pub closed_at: Option<DateTime<Utc>>,
    /// The activity that answered it, or the user who closed it.
    pub closed_by: Option<String>,
}

/// What a rep did with a customer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-9c2d-7e3f-8a4b-5c6d7e8f9a0b",
    "customer_id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "contact_id": null,
    "opportunity_id": null,
    "author_id": "01936f0e-7b6a-7c5d-8e4f-3a2b1c0d9e8f",
    "kind": "call",
    "occurred_at": "2026-11-26T09:30:00Z",
    "subject": "Discussed the Q1 order",
    "content": "Wants a quote for 200 units by Friday.",
    "outcome": "Quote requested",
    "attachments": [],
    "follow_up": {"due_at": "2026-11-28T02:00:00Z", "note": "Send the quote", "state": "pending",
        "closed_at": null, "closed_by": null},
    "custom_fields": {},
    "behaviors": ["requested_quote"],
    "created_at": "2026-11-26T09:35:00Z",
    "updated_at": "2026-11-26T09:35:00Z"
}))]
pub(crate) struct ActivityDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// The customer.
    #[schema(format = "uuid")]
    pub customer_id: String,
    /// The customer's contact it was with.
    #[schema(format = "uuid")]
    pub contact_id: Option<String>,
    /// The customer's opportunity it was about.
    #[schema(format = "uuid")]
    pub opportunity_id: Option<String>,
    /// Who logged it (a user or an API key).
    #[schema(format = "uuid")]
    pub author_id: String,
    /// The kind.
    pub kind: ActivityKindDto,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// One line.
    pub subject: String,
    /// What the customer said.
    pub content: Option<String>,
    /// What came of it.
    pub outcome: Option<String>,
    /// Links.
    pub attachments: Vec<AttachmentDto>,
    /// The follow-up it scheduled; `null` when none.
    pub follow_up: Option<FollowUpDto>,
    /// Values of the activity custom fields, by key; `GET /api/v1/custom-fields/schema/activity`
    /// gives their JSON Schema.
    #[schema(value_type = Object)]
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
    /// Codes of the behaviours it records (`GET /api/v1/behaviors`); they score the customer.
    #[schema(inline, value_type = Vec<String>, max_items = 20)]
    pub behaviors: Vec<String>,
    /// When logged.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl ActivityDto {
    /// The activity as shown at `now` (which makes a pending follow-up past due `overdue`).
    pub(crate) fn at(a: Activity, now: DateTime<Utc>) -> Self {
        let kind = match a.fields.kind {
            ActivityKind::Call => ActivityKindDto::Call,
            ActivityKind::Visit => ActivityKindDto::Visit,
            ActivityKind::Meeting => ActivityKindDto::Meeting,
            ActivityKind::Email => ActivityKindDto::Email,
            ActivityKind::Message => ActivityKindDto::Message,
            ActivityKind::Note => ActivityKindDto::Note,
            ActivityKind::Other => ActivityKindDto::Other,
        };
        Self {
            id: a.id,
            customer_id: a.customer_id,
            contact_id: a.fields.contact_id,
            opportunity_id: a.fields.opportunity_id,
            author_id: a.author_id,
            kind,
            occurred_at: a.fields.occurred_at,
            subject: a.fields.subject,
            content: a.fields.content,
            outcome: a.fields.outcome,
            attachments: a
                .fields
                .attachments
                .into_iter()
                .map(|l| AttachmentDto {
                    url: l.url,
                    name: l.name,
                })
                .collect(),
            follow_up: a.follow_up.map(|f| FollowUpDto {
                state: f.state_at(now).as_str(),
                due_at: f.due_at,
                note: f.note,
                closed_at: f.closed_at,
                closed_by: f.closed_by,
            }),
            custom_fields: a.fields.custom_fields,
            behaviors: a.fields.behaviors,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// The follow-up to schedule (on create) or its changes (on change: members left out stay; a
/// new `due_at` reopens a closed follow-up unless `state` says otherwise).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FollowUpBody {
    /// When it is due; in the future when set (required on create).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = DateTime<Utc>)]
    pub due_at: Option<Option<DateTime<Utc>>>,
    /// What to do.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub note: Option<Option<String>>,
    /// Change only: close it (`done`, `cancelled`) or reopen it (`pending`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = SettableStateDto)]
    pub state: Option<Option<SettableStateDto>>,
}

/// An activity's writable fields: on create `customer_id`, `kind`, `occurred_at` and `subject`
/// are required; on change (JSON merge patch) members left out stay and `null` clears an optional
/// one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "customer_id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "kind": "call",
    "occurred_at": "2026-11-26T09:30:00Z",
    "subject": "Discussed the Q1 order",
    "content": "Wants a quote for 200 units by Friday.",
    "behaviors": ["requested_quote"],
    "follow_up": {"due_at": "2026-11-28T02:00:00Z", "note": "Send the quote"}
}))]
pub(crate) struct ActivityBody {
    /// Create only: the customer, one you may see.
    #[serde(default)]
    #[schema(value_type = String, format = "uuid")]
    pub customer_id: Option<uuid::Uuid>,
    /// The customer's contact it was with.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub contact_id: Option<Option<uuid::Uuid>>,
    /// The customer's opportunity it was about.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub opportunity_id: Option<Option<uuid::Uuid>>,
    /// The kind (required on create).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = ActivityKindDto)]
    pub kind: Option<Option<ActivityKindDto>>,
    /// When it happened: at most an hour ahead, from the year 2000 (required on create).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = DateTime<Utc>)]
    pub occurred_at: Option<Option<DateTime<Utc>>>,
    /// One line, 1 to 200 characters (required on create).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub subject: Option<Option<String>>,
    /// What the customer said, up to 20,000 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub content: Option<Option<String>>,
    /// What came of it, up to 2,000 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub outcome: Option<Option<String>>,
    /// Up to 20 links.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<AttachmentDto>>, max_items = 20)]
    pub attachments: Option<Option<Vec<AttachmentDto>>>,
    /// The follow-up: on create, one to schedule; on change, its changes, or `null` to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<FollowUpBody>)]
    pub follow_up: Option<Option<FollowUpBody>>,
    /// Create only: an activity of the same customer whose open follow-up this one completes.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub answers: Option<uuid::Uuid>,
    /// Custom field values by key (`GET /api/v1/custom-fields/schema/activity`). On change, keys
    /// given replace their values and `null` removes one; `"custom_fields": null` removes them all.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    /// Codes of the behaviours it records, each once, up to 20, from the live catalogue
    /// (`GET /api/v1/behaviors`; an archived one may stay on an activity that records it). On
    /// change the list replaces the recorded one (`null` or `[]` records none); a behaviour
    /// kept keeps the points it was recorded with.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>, max_items = 20)]
    pub behaviors: Option<Option<Vec<String>>>,
}

/// A validated activity body.
pub(crate) struct ActivityPatch {
    pub customer_id: Option<String>,
    contact_id: Option<Option<String>>,
    opportunity_id: Option<Option<String>>,
    kind: Option<ActivityKind>,
    occurred_at: Option<DateTime<Utc>>,
    subject: Option<String>,
    content: Option<Option<String>>,
    outcome: Option<Option<String>>,
    attachments: Option<Vec<Attachment>>,
    pub follow_up: FollowUpChange,
    pub answers: Option<String>,
    behaviors: Option<Vec<String>>,
}

impl ActivityBody {
    /// Checks the body at `now`: every problem listed, with its pointer.
    pub(crate) fn validate(
        self,
        creating: bool,
        now: DateTime<Utc>,
    ) -> Result<ActivityPatch, DomainError> {
        let mut errors = Vec::new();
        let required = |present: bool, pointer: &str, errors: &mut Vec<FieldError>| {
            if creating && !present {
                errors.push(FieldError::new(pointer, "required", "required"));
            }
        };
        if creating {
            required(self.customer_id.is_some(), "/customer_id", &mut errors);
        } else {
            for (given, pointer) in [
                (self.customer_id.is_some(), "/customer_id"),
                (self.answers.is_some(), "/answers"),
            ] {
                if given {
                    errors.push(FieldError::new(pointer, "read_only", "only for create"));
                }
            }
        }
        required(self.kind.is_some(), "/kind", &mut errors);
        required(self.occurred_at.is_some(), "/occurred_at", &mut errors);
        required(self.subject.is_some(), "/subject", &mut errors);
        let kind = non_null(self.kind, "/kind", &mut errors).map(ActivityKind::from);
        let occurred_at = non_null(self.occurred_at, "/occurred_at", &mut errors);
        if let Some(error) = occurred_at.and_then(|at| check_occurred_at(at, now)) {
            errors.push(error);
        }
        let subject = non_null(self.subject, "/subject", &mut errors).and_then(|s| {
            let trimmed = s.trim();
            if trimmed.is_empty() {
                errors.push(FieldError::new("/subject", "required", "must not be blank"));
                None
            } else if s.chars().count() > SUBJECT_MAX {
                errors.push(FieldError::new(
                    "/subject",
                    "too_long",
                    format!("at most {SUBJECT_MAX} characters"),
                ));
                None
            } else {
                Some(trimmed.to_string())
            }
        });
        let content = patch_text(self.content, "/content", CONTENT_MAX, &mut errors);
        let outcome = patch_text(self.outcome, "/outcome", OUTCOME_MAX, &mut errors);
        let attachments = self.attachments.map(|links| {
            let links: Vec<Attachment> = links
                .unwrap_or_default()
                .into_iter()
                .map(|l| Attachment {
                    url: l.url.trim().to_string(),
                    name: l
                        .name
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty()),
                })
                .collect();
            errors.extend(check_attachments(&links));
            links
        });
        let follow_up = match self.follow_up {
            None => FollowUpChange::Keep,
            Some(None) => FollowUpChange::Remove,
            Some(Some(body)) => {
                let due_at = non_null(body.due_at, "/follow_up/due_at", &mut errors);
                if creating && due_at.is_none() {
                    errors.push(FieldError::new("/follow_up/due_at", "required", "required"));
                }
                if let Some(error) = due_at.and_then(|d| check_due_at(d, now, "/follow_up/due_at"))
                {
                    errors.push(error);
                }
                let note = patch_text(body.note, "/follow_up/note", NOTE_MAX, &mut errors);
                let state = non_null(body.state, "/follow_up/state", &mut errors);
                if creating && state.is_some() {
                    errors.push(FieldError::new(
                        "/follow_up/state",
                        "read_only",
                        "a new follow-up is pending",
                    ));
                }
                FollowUpChange::Set {
                    due_at,
                    note,
                    state: state.map(Into::into),
                }
            }
        };
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(ActivityPatch {
            customer_id: self.customer_id.map(|id| id.to_string()),
            contact_id: self.contact_id.map(|c| c.map(|id| id.to_string())),
            opportunity_id: self.opportunity_id.map(|c| c.map(|id| id.to_string())),
            kind,
            occurred_at,
            subject,
            content,
            outcome,
            attachments,
            follow_up,
            answers: self.answers.map(|id| id.to_string()),
            behaviors: self.behaviors.map(Option::unwrap_or_default),
        })
    }
}

impl ActivityPatch {
    /// The activity's fields after the patch (`None`: a new activity, whose required members
    /// validation checked).
    pub(crate) fn apply(&self, current: Option<&ActivityFields>) -> ActivityFields {
        fn pick<T: Clone>(new: &Option<Option<T>>, old: Option<&Option<T>>) -> Option<T> {
            match new {
                Some(v) => v.clone(),
                None => old.cloned().flatten(),
            }
        }
        ActivityFields {
            contact_id: pick(&self.contact_id, current.map(|c| &c.contact_id)),
            opportunity_id: pick(&self.opportunity_id, current.map(|c| &c.opportunity_id)),
            kind: self
                .kind
                .or(current.map(|c| c.kind))
                .unwrap_or(ActivityKind::Other),
            occurred_at: self
                .occurred_at
                .or(current.map(|c| c.occurred_at))
                .unwrap_or_default(),
            subject: self
                .subject
                .clone()
                .or(current.map(|c| c.subject.clone()))
                .unwrap_or_default(),
            content: pick(&self.content, current.map(|c| &c.content)),
            outcome: pick(&self.outcome, current.map(|c| &c.outcome)),
            attachments: self
                .attachments
                .clone()
                .or(current.map(|c| c.attachments.clone()))
                .unwrap_or_default(),
            // Checked and merged separately, against the field definitions.
            custom_fields: current.map(|c| c.custom_fields.clone()).unwrap_or_default(),
            // Checked separately, against the behaviour catalogue.
            behaviors: match &self.behaviors {
                Some(codes) => codes.clone(),
                None => current.map(|c| c.behaviors.clone()).unwrap_or_default(),
            },
        }
    }

    /// The follow-up to schedule on create.
    pub(crate) fn plan(&self) -> Option<FollowUpPlan> {
        match &self.follow_up {
            FollowUpChange::Set {
                due_at: Some(due_at),
                note,
                ..
            } => Some(FollowUpPlan {
                due_at: *due_at,
                note: note.clone().flatten(),
            }),
            _ => None,
        }
    }
}

/// Filters and paging of the activity list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActivityQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 512, pattern = "^([0-9a-f]{2})+$")]
    pub cursor: Option<String>,
    /// Only this customer's.
    #[param(value_type = Option<String>, format = "uuid")]
    pub customer_id: Option<uuid::Uuid>,
    /// Only those about this opportunity.
    #[param(value_type = Option<String>, format = "uuid")]
    pub opportunity_id: Option<uuid::Uuid>,
    /// Only by this author: a user or API key id, or `me`.
    #[param(
        pattern = "^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub author_id: Option<String>,
    /// Only of this kind.
    pub kind: Option<ActivityKindDto>,
    /// Only those that happened at or after this instant.
    pub occurred_after: Option<DateTime<Utc>>,
    /// Only those that happened before this instant.
    pub occurred_before: Option<DateTime<Utc>>,
}

/// A page of activities.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActivityList {
    /// Activities, newest first.
    pub items: Vec<ActivityDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Which follow-ups a reminder list shows by due time.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DueDto {
    /// Due now or earlier.
    Overdue,
    /// Due during today in `tz` (earlier today included).
    Today,
    /// Due later than now.
    Upcoming,
}

/// Filters and paging of the reminder list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FollowUpQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 512, pattern = "^([0-9a-f]{2})+$")]
    pub cursor: Option<String>,
    /// `overdue`, `today` or `upcoming`; every open follow-up when left out.
    pub due: Option<DueDto>,
    /// Whose follow-ups: `me` (the default), `all` (every one you may see), or a user or API key
    /// id.
    #[param(
        pattern = "^(me|all|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub owner: Option<String>,
    /// The IANA time zone whose calendar day `due=today` means (default `UTC`), e.g.
    /// `Asia/Shanghai`.
    #[param(max_length = 64, pattern = "^[A-Za-z0-9_+/-]+$")]
    pub tz: Option<String>,
}

/// An open follow-up to remind of.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FollowUpItem {
    /// The activity that scheduled it.
    #[schema(format = "uuid")]
    pub activity_id: String,
    /// The customer.
    #[schema(format = "uuid")]
    pub customer_id: String,
    /// The customer's name.
    pub customer_name: String,
    /// The customer's score.
    pub customer_score: i64,
    /// The activity's subject.
    pub subject: String,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// What to do.
    pub note: Option<String>,
    /// `pending` or `overdue`.
    #[schema(value_type = String, pattern = "^(pending|overdue)$")]
    pub state: &'static str,
    /// Who scheduled it.
    #[schema(format = "uuid")]
    pub owner_id: String,
}

/// A page of follow-ups, soonest first (at the same time, the higher-scoring customer first).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FollowUpList {
    /// Follow-ups.
    pub items: Vec<FollowUpItem>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
