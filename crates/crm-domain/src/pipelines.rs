//! Sales pipelines: the company's own ordered stages an opportunity moves through, each with a
//! win probability, a kind (`open`, `won`, `lost`), guidance for the rep and checklist items.
//! Every pipeline keeps at least one stage of each kind, so a deal can always be worked, won
//! and lost.

use chrono::{DateTime, Utc};

use crate::FieldError;

/// The longest pipeline or stage name.
pub const NAME_MAX: usize = 100;
/// The longest guidance text (markdown).
pub const GUIDANCE_MAX: usize = 10_000;
/// The longest checklist item label.
pub const ITEM_LABEL_MAX: usize = 200;
/// The most checklist items of one stage.
pub const ITEMS_MAX: usize = 30;
/// The most stages of one pipeline.
pub const STAGES_MAX: usize = 30;

/// What reaching a stage means for the deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StageKind {
    /// Being worked.
    Open,
    /// Closed, won (probability 100).
    Won,
    /// Closed, lost (probability 0).
    Lost,
}

impl StageKind {
    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        }
    }

    /// From its stored form.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "open" => Some(StageKind::Open),
            "won" => Some(StageKind::Won),
            "lost" => Some(StageKind::Lost),
            _ => None,
        }
    }
}

/// A checklist item of a stage.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChecklistItem {
    /// Stable id (UUID), what an opportunity's ticks name.
    pub id: String,
    /// What to check, e.g. "Budget confirmed".
    pub label: String,
    /// Moving past the stage needs it ticked (unless a manager overrides).
    pub required: bool,
}

/// A stage's writable fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageFields {
    /// Name.
    pub name: String,
    /// Win probability in percent.
    pub probability: i64,
    /// Open, won or lost.
    pub kind: StageKind,
    /// Guidance for reps (markdown).
    pub guidance: Option<String>,
    /// Checklist items.
    pub checklist: Vec<ChecklistItem>,
}

/// A stage as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// UUIDv7.
    pub id: String,
    /// Order in the pipeline, from 0.
    pub position: i64,
    /// What people write.
    pub fields: StageFields,
}

/// A pipeline with its stages in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    /// UUIDv7.
    pub id: String,
    /// Name, unique.
    pub name: String,
    /// New opportunities go here unless they name another.
    pub is_default: bool,
    /// Stages by position.
    pub stages: Vec<Stage>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When it or a stage last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`; any stage change moves it.
    pub version: i64,
}

/// A trimmed name of 1 to [`NAME_MAX`] characters.
pub fn check_name(raw: &str, pointer: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || raw.chars().count() > NAME_MAX {
        return Err(FieldError::new(
            pointer,
            "invalid_name",
            format!("1 to {NAME_MAX} characters, not only spaces"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Every problem with a stage's fields (pointers under `prefix`): the probability must be 0 to
/// 100, 100 for a won stage and 0 for a lost one; checklist labels 1 to
/// [`ITEM_LABEL_MAX`] characters, at most [`ITEMS_MAX`] items.
pub fn check_stage(stage: &StageFields, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let probability = format!("{prefix}/probability");
    match stage.kind {
        StageKind::Open if !(0..=100).contains(&stage.probability) => errors.push(FieldError::new(
            &probability,
            "out_of_range",
            "0 to 100 percent",
        )),
        StageKind::Won if stage.probability != 100 => errors.push(FieldError::new(
            &probability,
            "won_is_100",
            "a won stage has probability 100",
        )),
        StageKind::Lost if stage.probability != 0 => errors.push(FieldError::new(
            &probability,
            "lost_is_0",
            "a lost stage has probability 0",
        )),
        _ => {}
    }
    if stage.checklist.len() > ITEMS_MAX {
        errors.push(FieldError::new(
            format!("{prefix}/checklist"),
            "too_many",
            format!("at most {ITEMS_MAX} items"),
        ));
    }
    for (i, item) in stage.checklist.iter().enumerate() {
        let label = item.label.trim();
        if label.is_empty() || item.label.chars().count() > ITEM_LABEL_MAX {
            errors.push(FieldError::new(
                format!("{prefix}/checklist/{i}/label"),
                "invalid_label",
                format!("1 to {ITEM_LABEL_MAX} characters, not only spaces"),
            ));
        }
    }
    errors
}

/// `Some(error)` at `pointer` unless `stages` hold an open, a won and a lost stage, and at most
/// [`STAGES_MAX`] stages.
pub fn check_kinds<'a>(
    stages: impl IntoIterator<Item = &'a StageFields>,
    pointer: &str,
) -> Option<FieldError> {
    let kinds: Vec<StageKind> = stages.into_iter().map(|s| s.kind).collect();
    if kinds.len() > STAGES_MAX {
        return Some(FieldError::new(
            pointer,
            "too_many",
            format!("at most {STAGES_MAX} stages"),
        ));
    }
    let missing: Vec<&str> = [StageKind::Open, StageKind::Won, StageKind::Lost]
        .into_iter()
        .filter(|k| !kinds.contains(k))
        .map(StageKind::as_str)
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(FieldError::new(
        pointer,
        "stage_kinds",
        format!(
            "a pipeline needs open, won and lost stages; missing: {}",
            missing.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(kind: StageKind, probability: i64) -> StageFields {
        StageFields {
            name: "S".into(),
            probability,
            kind,
            guidance: None,
            checklist: vec![],
        }
    }

    #[test]
    fn probabilities_follow_the_kind() {
        assert!(check_stage(&stage(StageKind::Open, 40), "/s").is_empty());
        assert!(check_stage(&stage(StageKind::Won, 100), "/s").is_empty());
        assert!(check_stage(&stage(StageKind::Lost, 0), "/s").is_empty());
        let codes = |s: StageFields| -> Vec<String> {
            check_stage(&s, "/s").into_iter().map(|e| e.code).collect()
        };
        assert_eq!(codes(stage(StageKind::Open, 101)), ["out_of_range"]);
        assert_eq!(codes(stage(StageKind::Open, -1)), ["out_of_range"]);
        assert_eq!(codes(stage(StageKind::Won, 90)), ["won_is_100"]);
        assert_eq!(codes(stage(StageKind::Lost, 5)), ["lost_is_0"]);
    }

    #[test]
    fn checklist_labels_are_checked_each() {
        let mut s = stage(StageKind::Open, 10);
        s.checklist = vec![
            ChecklistItem {
                id: "a".into(),
                label: "Budget confirmed".into(),
                required: true,
            },
            ChecklistItem {
                id: "b".into(),
                label: "  ".into(),
                required: false,
            },
        ];
        let errors = check_stage(&s, "/stages/2");
        assert_eq!(
            errors
                .iter()
                .map(|e| e.pointer.as_str())
                .collect::<Vec<_>>(),
            ["/stages/2/checklist/1/label"]
        );
    }

    #[test]
    fn a_pipeline_can_be_worked_won_and_lost() {
        let full = [
            stage(StageKind::Open, 10),
            stage(StageKind::Won, 100),
            stage(StageKind::Lost, 0),
        ];
        assert_eq!(check_kinds(&full, "/stages"), None);
        let error = check_kinds(&full[..2], "/stages");
        assert_eq!(
            error.map(|e| (e.code, e.message)),
            Some((
                "stage_kinds".to_string(),
                "a pipeline needs open, won and lost stages; missing: lost".to_string()
            ))
        );
        assert_eq!(
            check_kinds(&[], "/stages").map(|e| e.code),
            Some("stage_kinds".into())
        );
        assert_eq!(StageKind::parse("won"), Some(StageKind::Won));
        assert_eq!(StageKind::parse("closed"), None);
    }
}
