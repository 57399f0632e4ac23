//! Behaviour-based customer scoring: each recorded behaviour is worth its points when it
//! happened, halving every half-life since; a customer's score is the sum, rounded.

use chrono::{DateTime, Utc};

use crate::FieldError;

/// The default half-life of a behaviour's points, in days.
pub const DEFAULT_HALF_LIFE_DAYS: u32 = 90;
/// The most points one behaviour may be worth, either way.
pub const POINTS_MAX: i64 = 1_000;

/// A behaviour as recorded on an activity: its code, its points then, and when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedBehavior {
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
