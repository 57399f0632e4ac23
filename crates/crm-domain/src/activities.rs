//! Activities: when a rep contacted which customer, what the customer said, and the follow-up
//! promised. A follow-up lives on the activity that scheduled it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::FieldError;

/// How far ahead of now an activity may be dated: clocks of phones and laptops drift, but an
/// activity is something that happened.
pub const OCCURRED_AHEAD_MAX: Duration = Duration::hours(1);
/// The longest subject.
pub const SUBJECT_MAX: usize = 200;
/// The longest content (the customer's feedback).
pub const CONTENT_MAX: usize = 20_000;
/// The longest outcome.
pub const OUTCOME_MAX: usize = 2_000;
/// The longest follow-up note.
pub const NOTE_MAX: usize = 2_000;
/// Most attachments per activity.
pub const ATTACHMENTS_MAX: usize = 20;
/// The longest attachment URL.
pub const URL_MAX: usize = 2_000;

/// What kind of contact it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
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

impl ActivityKind {
    /// Every kind, in display order.
    pub const ALL: [ActivityKind; 7] = [
        Self::Call,
        Self::Visit,
        Self::Meeting,
        Self::Email,
        Self::Message,
        Self::Note,
        Self::Other,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Visit => "visit",
            Self::Meeting => "meeting",
            Self::Email => "email",
            Self::Message => "message",
            Self::Note => "note",
            Self::Other => "other",
        }
    }

    /// The kind named `raw`.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// A link attached to an activity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// An http or https URL.
    pub url: String,
    /// What to show instead of the URL.
    pub name: Option<String>,
}

/// Where a follow-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpState {
    /// Still to do, not yet due.
    Pending,
    /// Still to do and past due (derived from the time: stored as pending).
    Overdue,
    /// Done.
    Done,
    /// Called off.
    Cancelled,
}

impl FollowUpState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Overdue => "overdue",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// A state a caller may set (`overdue` is derived, never set).
    pub fn parse_settable(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "done" => Some(Self::Done),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }

    /// The stored state: overdue is stored as pending.
    pub fn stored(self) -> &'static str {
        match self {
            Self::Overdue => Self::Pending.as_str(),
            other => other.as_str(),
        }
    }

    /// The state as shown at `now` of a follow-up stored as `stored`, due at `due_at`.
    pub fn at(stored: &str, due_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<Self> {
        match stored {
            "pending" if due_at <= now => Some(Self::Overdue),
            "pending" => Some(Self::Pending),
            "done" => Some(Self::Done),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }

    /// Still to do (pending or overdue).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Overdue)
    }
}

/// A follow-up as stored on its activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// What to do.
    pub note: Option<String>,
    /// Stored state: `pending`, `done` or `cancelled`.
    pub state: String,
    /// When it was done or cancelled.
    pub closed_at: Option<DateTime<Utc>>,
    /// The activity that answered it, or the user who closed it by hand.
    pub closed_by: Option<String>,
    /// When its `follow_up.due` event was emitted for the current due time.
    pub reminded_at: Option<DateTime<Utc>>,
}

impl FollowUp {
    /// The state shown at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> FollowUpState {
        FollowUpState::at(&self.state, self.due_at, now).unwrap_or(FollowUpState::Pending)
    }
}

/// What callers write about an activity.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityFields {
    /// The customer's contact it was with (must be the customer's).
    pub contact_id: Option<String>,
    /// The customer's opportunity it was about (must be the customer's).
    pub opportunity_id: Option<String>,
    /// The kind.
    pub kind: ActivityKind,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// One line.
    pub subject: String,
    /// What the customer said.
    pub content: Option<String>,
    /// What came of it.
    pub outcome: Option<String>,
    /// Links.
    pub attachments: Vec<Attachment>,
    /// Custom field values, canonical.
    pub custom_fields: BTreeMap<String, Value>,
    /// Codes of the behaviours it records (see [`crate::scoring`]), in the order given.
    pub behaviors: Vec<String>,
}

/// A follow-up to schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpPlan {
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// What to do.
    pub note: Option<String>,
}

/// What a change does to an activity's follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FollowUpChange {
    /// Nothing.
    #[default]
    Keep,
    /// Removes it.
    Remove,
    /// Sets what is given: a new due time or note (a new due time reopens it), a new state.
    Set {
        /// New due time.
        due_at: Option<DateTime<Utc>>,
        /// New note (`Some(None)` clears it).
        note: Option<Option<String>>,
        /// New state.
        state: Option<FollowUpState>,
    },
}

/// An activity as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// UUIDv7.
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// Who logged it.
    pub author_id: String,
    /// What callers write.
    pub fields: ActivityFields,
    /// The follow-up it scheduled.
    pub follow_up: Option<FollowUp>,
    /// When logged.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// `Some(error)` when an activity dated `at` is refused at `now`: more than
/// [`OCCURRED_AHEAD_MAX`] ahead, or before 2000.
pub fn check_occurred_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Option<FieldError> {
    if at > now + OCCURRED_AHEAD_MAX {
        return Some(FieldError::new(
            "/occurred_at",
            "in_future",
            "an activity cannot be dated more than an hour ahead",
        ));
    }
    if at.timestamp() < 946_684_800 {
        return Some(FieldError::new(
            "/occurred_at",
            "too_early",
            "must be in the year 2000 or later",
        ));
    }
    None
}

/// `Some(error)` when a follow-up newly set to `due_at` is refused at `now`: due in the past, or
/// more than ten years ahead.
pub fn check_due_at(
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
    pointer: &str,
) -> Option<FieldError> {
    if due_at <= now {
        return Some(FieldError::new(
            pointer,
            "in_past",
            "a follow-up must be due in the future",
        ));
    }
    if due_at > now + Duration::days(3653) {
        return Some(FieldError::new(
            pointer,
            "too_late",
            "at most ten years ahead",
        ));
    }
    None
}

/// Every problem with `attachments`, pointers under `/attachments`.
pub fn check_attachments(attachments: &[Attachment]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if attachments.len() > ATTACHMENTS_MAX {
        errors.push(FieldError::new(
            "/attachments",
            "too_long",
            format!("at most {ATTACHMENTS_MAX} attachments"),
        ));
    }
    for (i, attachment) in attachments.iter().enumerate() {
        let url = attachment.url.trim();
        let web = url.starts_with("http://") || url.starts_with("https://");
        if !web || url.chars().count() > URL_MAX || url.chars().any(char::is_whitespace) {
            errors.push(FieldError::new(
                format!("/attachments/{i}/url"),
                "url",
                "must be an http or https URL",
            ));
        }
        if attachment
            .name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 200 || n.contains('\0'))
        {
            errors.push(FieldError::new(
                format!("/attachments/{i}/name"),
                "too_long",
                "at most 200 characters",
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn kinds_round_trip() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ActivityKind::parse("fax"), None);
    }

    #[test]
    fn follow_ups_are_overdue_from_their_due_time() {
        let due = at("2026-05-01T09:00:00Z");
        assert_eq!(
            FollowUpState::at("pending", due, at("2026-05-01T08:59:59Z")),
            Some(FollowUpState::Pending)
        );
        assert_eq!(
            FollowUpState::at("pending", due, due),
            Some(FollowUpState::Overdue)
        );
        assert_eq!(
            FollowUpState::at("done", due, at("2027-01-01T00:00:00Z")),
            Some(FollowUpState::Done)
        );
        assert_eq!(FollowUpState::parse_settable("overdue"), None);
        assert_eq!(FollowUpState::Overdue.stored(), "pending");
    }

    #[test]
    fn activities_are_not_dated_far_ahead() {
        let now = at("2026-05-01T09:00:00Z");
        assert_eq!(check_occurred_at(now + Duration::minutes(59), now), None);
        assert_eq!(
            check_occurred_at(now + Duration::minutes(61), now).map(|e| e.code),
            Some("in_future".to_string())
        );
        assert_eq!(
            check_occurred_at(at("1999-12-31T23:59:59Z"), now).map(|e| e.code),
            Some("too_early".to_string())
        );
    }

    #[test]
    fn follow_ups_are_due_in_the_future() {
        let now = at("2026-05-01T09:00:00Z");
        assert_eq!(check_due_at(now + Duration::seconds(1), now, "/f"), None);
        assert_eq!(
            check_due_at(now, now, "/f").map(|e| e.code),
            Some("in_past".to_string())
        );
        assert_eq!(
            check_due_at(now + Duration::days(4000), now, "/f").map(|e| e.code),
            Some("too_late".to_string())
        );
    }

    #[test]
    fn attachments_are_web_links() {
        let link = |url: &str| Attachment {
            url: url.into(),
            name: None,
        };
        assert!(check_attachments(&[link("https://files.example/q.pdf")]).is_empty());
        let errors = check_attachments(&[
            link("ftp://x"),
            link("https://ok.example"),
            link("https://a b"),
        ]);
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/attachments/0/url", "/attachments/2/url"]);
        let many = vec![link("https://ok.example"); ATTACHMENTS_MAX + 1];
        assert_eq!(check_attachments(&many).len(), 1);
    }
}
