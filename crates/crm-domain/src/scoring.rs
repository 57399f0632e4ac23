//! Behaviour-based customer scoring. Admins keep a catalogue of behaviours (`requested_quote`
//! +20, `no_answer_3x` -10, …); reps record them on activities, each with its catalogue points at
//! the time. A recorded behaviour is worth its points when it happened, halving every half-life
//! since; a customer's score is the sum, rounded.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::FieldError;

pub use crate::keys::{check_key as check_code, KEY_MAX as CODE_MAX};

/// The shortest half-life, in days.
pub const HALF_LIFE_MIN_DAYS: u32 = 1;
/// The longest half-life, in days (ten years).
pub const HALF_LIFE_MAX_DAYS: u32 = 3_650;
/// The most behaviours one activity records.
pub const BEHAVIORS_PER_ACTIVITY_MAX: usize = 20;
/// The longest behaviour description.
pub const DESCRIPTION_MAX: usize = 500;

/// A behaviour of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behavior {
    /// Immutable code, what activities record.
    pub code: String,
    /// What people read.
    pub label: String,
    /// When it counts, in the rep's words.
    pub description: Option<String>,
    /// Points a new recording is worth (positive or negative, not zero).
    pub points: i64,
    /// Archived behaviours are not recorded any more; recorded ones keep counting.
    pub archived: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// A new behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BehaviorDraft {
    /// Code, checked by [`check_code`].
    pub code: String,
    /// Label.
    pub label: String,
    /// Description.
    pub description: Option<String>,
    /// Points, checked by [`check_points`].
    pub points: i64,
}

/// Changes to a behaviour; `None` leaves a member as it is. New points count for recordings
/// from then on; behaviours already recorded keep the points they were recorded with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BehaviorChanges {
    /// New label.
    pub label: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New points.
    pub points: Option<i64>,
    /// Archive or bring back.
    pub archived: Option<bool>,
}

/// How scores decay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringSettings {
    /// Days after which a behaviour's points are halved.
    pub half_life_days: u32,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// A behaviour as recorded on an activity: code and points then.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recording {
    /// Catalogue code.
    pub code: String,
    /// Points when recorded.
    pub points: i64,
}

/// `Some(error)` when `days` is not a half-life.
pub fn check_half_life(days: i64, pointer: &str) -> Option<FieldError> {
    if !(i64::from(HALF_LIFE_MIN_DAYS)..=i64::from(HALF_LIFE_MAX_DAYS)).contains(&days) {
        return Some(FieldError::new(
            pointer,
            "out_of_range",
            format!("from {HALF_LIFE_MIN_DAYS} to {HALF_LIFE_MAX_DAYS} days"),
        ));
    }
    None
}

/// Every problem with the behaviour `codes` an activity records (pointers `/behaviors/<i>`):
/// not a code, given twice, not in `catalogue`, or archived and not `already` recorded on the
/// activity. At most [`BEHAVIORS_PER_ACTIVITY_MAX`].
pub fn check_recorded(
    codes: &[String],
    catalogue: &[Behavior],
    already: &[String],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if codes.len() > BEHAVIORS_PER_ACTIVITY_MAX {
        errors.push(FieldError::new(
            "/behaviors",
            "too_many",
            format!("at most {BEHAVIORS_PER_ACTIVITY_MAX} behaviours"),
        ));
        return errors;
    }
    let mut seen = HashSet::new();
    for (i, code) in codes.iter().enumerate() {
        let pointer = format!("/behaviors/{i}");
        if let Err(e) = check_code(code, &pointer) {
            errors.push(e);
            continue;
        }
        if !seen.insert(code.as_str()) {
            errors.push(FieldError::new(&pointer, "duplicate", "given twice"));
            continue;
        }
        match catalogue.iter().find(|b| &b.code == code) {
            None => errors.push(FieldError::new(
                &pointer,
                "unknown_behavior",
                "not a behaviour of the catalogue (GET /api/v1/behaviors)",
            )),
            Some(b) if b.archived && !already.contains(code) => errors.push(FieldError::new(
                &pointer,
                "archived_behavior",
                "this behaviour is archived and no longer recorded",
            )),
            Some(_) => {}
        }
    }
    errors
}

/// What `codes` record: a code already recorded keeps its points, a new one takes the
/// catalogue's. Codes not in the catalogue are left out (checked before).
pub fn recordings(
    codes: &[String],
    catalogue: &[Behavior],
    already: &[Recording],
) -> Vec<Recording> {
    codes
        .iter()
        .filter_map(|code| {
            already
                .iter()
                .find(|r| &r.code == code)
                .cloned()
                .or_else(|| {
                    catalogue
                        .iter()
                        .find(|b| &b.code == code)
                        .map(|b| Recording {
                            code: b.code.clone(),
                            points: b.points,
                        })
                })
        })
        .collect()
}

/// The default half-life of a behaviour's points, in days.
pub const DEFAULT_HALF_LIFE_DAYS: u32 = 90;
/// The most points one behaviour may be worth, either way.
pub const POINTS_MAX: i64 = 1_000;

/// A behaviour as recorded on an activity: its code, its points then, and when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedBehavior {
    /// The activity that recorded it.
    pub activity_id: String,
    /// Catalogue code, e.g. `requested_quote`.
    pub code: String,
    /// Points when recorded (positive or negative).
    pub points: i64,
    /// When the activity happened.
    pub occurred_at: DateTime<Utc>,
}

/// One behaviour's part of a score at a given time.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreItem {
    /// The behaviour.
    pub behavior: RecordedBehavior,
    /// Its points at the time asked, after decay.
    pub points_now: f64,
}

/// A score with what makes it up.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The sum of the items' points now, rounded half away from zero.
    pub total: i64,
    /// Each behaviour, newest first.
    pub items: Vec<ScoreItem>,
}

/// `points` recorded at `occurred_at`, as worth at `now`: halved every `half_life_days`. A
/// behaviour dated after `now` (clock drift) counts in full.
pub fn decayed(
    points: i64,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
    half_life_days: u32,
) -> f64 {
    let age_days = (now - occurred_at).num_seconds().max(0) as f64 / 86_400.0;
    let half_life = f64::from(half_life_days.max(1));
    points as f64 * 0.5_f64.powf(age_days / half_life)
}

/// The score of `behaviors` at `now`.
pub fn score(behaviors: &[RecordedBehavior], now: DateTime<Utc>, half_life_days: u32) -> Score {
    let mut items: Vec<ScoreItem> = behaviors
        .iter()
        .map(|b| ScoreItem {
            points_now: decayed(b.points, b.occurred_at, now, half_life_days),
            behavior: b.clone(),
        })
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(i.behavior.occurred_at));
    let sum: f64 = items.iter().map(|i| i.points_now).sum();
    Score {
        total: sum.round() as i64,
        items,
    }
}

/// `Some(error)` when `points` is not a behaviour's worth (at most [`POINTS_MAX`] either way,
/// and not zero).
pub fn check_points(points: i64, pointer: &str) -> Option<FieldError> {
    if points == 0 || points.abs() > POINTS_MAX {
        return Some(FieldError::new(
            pointer,
            "out_of_range",
            format!("from -{POINTS_MAX} to {POINTS_MAX}, not 0"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn recorded(code: &str, points: i64, occurred_at: &str) -> RecordedBehavior {
        RecordedBehavior {
            activity_id: format!("a-{code}"),
            code: code.into(),
            points,
            occurred_at: at(occurred_at),
        }
    }

    #[test]
    fn points_halve_every_half_life() {
        let then = at("2026-01-01T00:00:00Z");
        assert!((decayed(20, then, then, 90) - 20.0).abs() < 1e-9);
        assert!((decayed(20, then, then + Duration::days(90), 90) - 10.0).abs() < 1e-9);
        assert!((decayed(20, then, then + Duration::days(180), 90) - 5.0).abs() < 1e-9);
        assert!((decayed(-10, then, then + Duration::days(45), 90) + 7.0710678).abs() < 1e-6);
        assert!((decayed(20, then, then + Duration::days(30), 30) - 10.0).abs() < 1e-9);
        // Dated ahead of now: in full, never more.
        assert!((decayed(20, then + Duration::days(1), then, 90) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_score_sums_decayed_points_newest_first() {
        let now = at("2026-04-01T00:00:00Z");
        let behaviors = [
            recorded("requested_quote", 20, "2026-01-01T00:00:00Z"), // 90 days: 10
            recorded("no_answer_3x", -10, "2026-04-01T00:00:00Z"),   // today: -10
            recorded("visited_showroom", 15, "2026-03-02T00:00:00Z"), // 30 days: 11.9
        ];
        let score = score(&behaviors, now, 90);
        assert_eq!(score.total, 12);
        let codes: Vec<&str> = score
            .items
            .iter()
            .map(|i| i.behavior.code.as_str())
            .collect();
        assert_eq!(
            codes,
            ["no_answer_3x", "visited_showroom", "requested_quote"]
        );
        assert!((score.items[1].points_now - 15.0 * 0.5_f64.powf(30.0 / 90.0)).abs() < 1e-9);
        assert_eq!(super::score(&[], now, 90).total, 0);
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let now = at("2026-04-01T00:00:00Z");
        let half =
            |points: i64| super::score(&[recorded("x", points, "2026-01-01T00:00:00Z")], now, 90);
        assert_eq!(half(5).total, 3, "2.5 rounds up");
        assert_eq!(half(-5).total, -3, "-2.5 rounds down");
    }

    fn behavior(code: &str, points: i64, archived: bool) -> Behavior {
        Behavior {
            code: code.into(),
            label: code.into(),
            description: None,
            points,
            archived,
            created_at: DateTime::default(),
            updated_at: DateTime::default(),
            version: 1,
        }
    }

    #[test]
    fn recorded_codes_are_known_live_and_given_once() {
        let catalogue = [
            behavior("requested_quote", 20, false),
            behavior("old_habit", 5, true),
        ];
        let codes = |raw: &[&str]| raw.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert!(check_recorded(&codes(&["requested_quote"]), &catalogue, &[]).is_empty());
        let errors = check_recorded(
            &codes(&[
                "requested_quote",
                "Bad Code",
                "requested_quote",
                "nope",
                "old_habit",
            ]),
            &catalogue,
            &[],
        );
        let found: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.pointer.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("/behaviors/1", "invalid_key"),
                ("/behaviors/2", "duplicate"),
                ("/behaviors/3", "unknown_behavior"),
                ("/behaviors/4", "archived_behavior"),
            ]
        );
        // An archived behaviour the activity already records may stay.
        assert!(
            check_recorded(&codes(&["old_habit"]), &catalogue, &codes(&["old_habit"])).is_empty()
        );
        let many: Vec<String> = (0..=BEHAVIORS_PER_ACTIVITY_MAX)
            .map(|i| format!("b{i}"))
            .collect();
        assert_eq!(
            check_recorded(&many, &catalogue, &[])
                .iter()
                .map(|e| (e.pointer.as_str(), e.code.as_str()))
                .collect::<Vec<_>>(),
            [("/behaviors", "too_many")]
        );
    }

    #[test]
    fn a_recording_keeps_its_points_and_a_new_one_takes_the_catalogues() {
        let catalogue = [
            behavior("requested_quote", 25, false),
            behavior("demo", 10, false),
        ];
        let already = [Recording {
            code: "requested_quote".into(),
            points: 20,
        }];
        let codes = ["demo".to_string(), "requested_quote".to_string()];
        assert_eq!(
            recordings(&codes, &catalogue, &already),
            [
                Recording {
                    code: "demo".into(),
                    points: 10
                },
                Recording {
                    code: "requested_quote".into(),
                    points: 20
                },
            ]
        );
    }

    #[test]
    fn half_lives_are_bounded() {
        assert_eq!(check_half_life(90, "/half_life_days"), None);
        assert_eq!(check_half_life(1, "/half_life_days"), None);
        assert_eq!(check_half_life(3650, "/half_life_days"), None);
        for bad in [0, -5, 3651] {
            assert!(check_half_life(bad, "/half_life_days").is_some(), "{bad}");
        }
    }

    #[test]
    fn points_are_bounded_and_not_zero() {
        assert_eq!(check_points(20, "/points"), None);
        assert_eq!(check_points(-1000, "/points"), None);
        for bad in [0, 1001, -1001] {
            assert_eq!(
                check_points(bad, "/points").map(|e| e.code),
                Some("out_of_range".to_string())
            );
        }
    }
}
