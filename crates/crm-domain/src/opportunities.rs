//! Opportunities: a deal with a customer, quoted products and a place in a pipeline. The amount
//! is the exact sum of the line items in integer minor units (or a manual amount when there are
//! none), in the opportunity's one currency.

use chrono::{DateTime, NaiveDate, Utc};

use crate::money::{line_amount, total, DISCOUNT_SCALE, QUANTITY_SCALE};
use crate::FieldError;

/// The longest opportunity name.
pub const NAME_MAX: usize = 200;
/// The most line items of one opportunity.
pub const LINES_MAX: usize = 100;
/// The longest line description.
pub const LINE_DESCRIPTION_MAX: usize = 500;
/// The longest lost reason.
pub const LOST_REASON_MAX: usize = 2_000;

/// Where an opportunity stands, from its stage's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpportunityStatus {
    /// Being worked.
    Open,
    /// Closed and won.
    Won,
    /// Closed and lost.
    Lost,
}

/// A quoted line as written: a catalogue product or free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDraft {
    /// The catalogue product, if any.
    pub product_id: Option<String>,
    /// What is sold (required without a product; the product's name otherwise).
    pub description: Option<String>,
    /// Quantity in thousandths (`1500` is 1.5).
    pub quantity: i64,
    /// Price of one unit in minor units (default: the product's price).
    pub unit_price: Option<i64>,
    /// Discount in basis points (`1250` is 12.5 %).
    pub discount: i64,
}

/// A quoted line as stored, with its amount.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// The catalogue product, if any.
    pub product_id: Option<String>,
    /// What is sold.
    pub description: String,
    /// Quantity in thousandths.
    pub quantity: i64,
    /// Price of one unit in minor units.
    pub unit_price: i64,
    /// Discount in basis points.
    pub discount: i64,
    /// `quantity × unit_price × (1 − discount)`, rounded half away from zero.
    pub amount: i64,
}

/// What a line's product offers: its name, price, currency and whether it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The product id.
    pub id: String,
    /// The product name.
    pub name: String,
    /// Unit price in minor units.
    pub unit_price: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Offered for new lines.
    pub active: bool,
}

/// The lines of `drafts` priced in `currency`, with the products they name (`offers`), and the
/// total; or every problem, with pointers `/lines/<i>/…`. A product must exist, be active
/// (unless `kept` already quotes it) and be priced in `currency` when its price is taken.
pub fn price_lines(
    drafts: &[LineDraft],
    offers: &[Offer],
    currency: &str,
    kept: &[String],
) -> Result<(Vec<Line>, i64), Vec<FieldError>> {
    let mut errors = Vec::new();
    if drafts.len() > LINES_MAX {
        errors.push(FieldError::new(
            "/lines",
            "too_many",
            format!("at most {LINES_MAX} lines"),
        ));
        return Err(errors);
    }
    let mut lines = Vec::new();
    for (i, draft) in drafts.iter().enumerate() {
        let at = |member: &str| format!("/lines/{i}/{member}");
        let before = errors.len();
        let offer = match &draft.product_id {
            None => None,
            Some(id) => match offers.iter().find(|o| &o.id == id) {
                None => {
                    errors.push(FieldError::new(
                        at("product_id"),
                        "unknown_product",
                        "no such product",
                    ));
                    None
                }
                Some(o) if !o.active && !kept.contains(id) => {
                    errors.push(FieldError::new(
                        at("product_id"),
                        "inactive_product",
                        "this product is no longer offered",
                    ));
                    None
                }
                Some(o) => Some(o),
            },
        };
        if !(0..=crate::money::QUANTITY_MAX).contains(&draft.quantity) {
            errors.push(FieldError::new(
                at("quantity"),
                "out_of_range",
                "0 to 1,000,000,000 with at most 3 decimals",
            ));
        }
        if !(0..=DISCOUNT_SCALE).contains(&draft.discount) {
            errors.push(FieldError::new(
                at("discount_percent"),
                "out_of_range",
                "0 to 100 with at most 2 decimals",
            ));
        }
        let unit_price = match (draft.unit_price, offer) {
            (Some(price), _) => {
                if let Some(e) = crate::money::check_amount(price, &at("unit_price")) {
                    errors.push(e);
                }
                price
            }
            (None, Some(o)) => {
                if o.currency != currency {
                    errors.push(FieldError::new(
                        at("product_id"),
                        "currency_mismatch",
                        format!("the product is priced in {}, the opportunity in {currency}: give unit_price", o.currency),
                    ));
                }
                o.unit_price
            }
            (None, None) => {
                if draft.product_id.is_none() {
                    errors.push(FieldError::new(
                        at("unit_price"),
                        "required",
                        "required without a product",
                    ));
                }
                0
            }
        };
        // Checked as sent (its length included), then trimmed.
        let too_long = draft
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > LINE_DESCRIPTION_MAX);
        let description = draft
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .or(offer.map(|o| o.name.clone()));
        if too_long {
            errors.push(FieldError::new(
                at("description"),
                "too_long",
                format!("at most {LINE_DESCRIPTION_MAX} characters"),
            ));
        } else if description.is_none() && draft.product_id.is_none() {
            errors.push(FieldError::new(
                at("description"),
                "required",
                "required without a product",
            ));
        }
        if errors.len() > before {
            continue;
        }
        match line_amount(draft.quantity, unit_price, draft.discount) {
            Some(amount) => lines.push(Line {
                product_id: draft.product_id.clone(),
                description: description.unwrap_or_default(),
                quantity: draft.quantity,
                unit_price,
                discount: draft.discount,
                amount,
            }),
            None => errors.push(FieldError::new(
                format!("/lines/{i}"),
                "amount_overflow",
                "the line's amount exceeds 10^15 minor units",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match total(lines.iter().map(|l| l.amount)) {
        Some(sum) => Ok((lines, sum)),
        None => Err(vec![FieldError::new(
            "/lines",
            "amount_overflow",
            "the total exceeds 10^15 minor units",
        )]),
    }
}

/// A quantity given as JSON (`1.5`) in thousandths (`1500`); `None` when it has more than
/// three decimals or is out of 0 to [`crate::money::QUANTITY_MAX`].
pub fn thousandths(value: f64) -> Option<i64> {
    scaled(value, QUANTITY_SCALE, crate::money::QUANTITY_MAX)
}

/// A discount given as JSON (`12.5` percent) in basis points (`1250`); `None` with more than
/// two decimals or out of 0 to 100.
pub fn basis_points(percent: f64) -> Option<i64> {
    scaled(percent, 100, DISCOUNT_SCALE)
}

fn scaled(value: f64, scale: i64, max: i64) -> Option<i64> {
    let x = value * scale as f64;
    let rounded = x.round();
    ((x - rounded).abs() < 1e-6 && (0.0..=max as f64).contains(&rounded)).then_some(rounded as i64)
}

/// An opportunity as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opportunity {
    /// UUIDv7.
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// Who works it.
    pub owner_id: String,
    /// Name.
    pub name: String,
    /// The pipeline.
    pub pipeline_id: String,
    /// The current stage.
    pub stage_id: String,
    /// From the stage's kind.
    pub status: OpportunityStatus,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// The quoted lines.
    pub lines: Vec<Line>,
    /// The sum of the lines, or the manual amount when there are none.
    pub amount: i64,
    /// When it is expected to close.
    pub expected_close_on: Option<NaiveDate>,
    /// When it was won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it was lost.
    pub lost_reason: Option<String>,
    /// When it entered the current stage.
    pub stage_entered_at: DateTime<Utc>,
    /// The ticked checklist items of the current stage.
    pub checked: Vec<String>,
    /// Custom field values of live fields, canonical.
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// The order of an opportunity list; ties go by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OpportunitySort {
    /// Most recently changed first (the default).
    #[default]
    UpdatedDesc,
    /// Least recently changed first.
    UpdatedAsc,
    /// Largest amount first.
    AmountDesc,
    /// Smallest amount first.
    AmountAsc,
    /// Soonest expected close first; those without a date last.
    CloseAsc,
    /// Latest expected close first; those without a date last.
    CloseDesc,
}

impl OpportunitySort {
    /// From the `sort` parameter: `updated_at`, `amount` or `expected_close_on`, `-` for
    /// descending.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "-updated_at" => Self::UpdatedDesc,
            "updated_at" => Self::UpdatedAsc,
            "-amount" => Self::AmountDesc,
            "amount" => Self::AmountAsc,
            "expected_close_on" => Self::CloseAsc,
            "-expected_close_on" => Self::CloseDesc,
            _ => return None,
        })
    }

    /// The position of `o` in this order, as a cursor key: `<sort>:<value>:<id>` (an empty
    /// value for a missing close date).
    pub fn position(self, o: &Opportunity) -> String {
        let value = match self {
            Self::UpdatedDesc | Self::UpdatedAsc => o.updated_at.timestamp_micros().to_string(),
            Self::AmountDesc | Self::AmountAsc => o.amount.to_string(),
            Self::CloseAsc | Self::CloseDesc => o
                .expected_close_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
        };
        format!("{}:{value}:{}", self.code(), o.id)
    }

    fn code(self) -> &'static str {
        match self {
            Self::UpdatedDesc => "ud",
            Self::UpdatedAsc => "ua",
            Self::AmountDesc => "ad",
            Self::AmountAsc => "aa",
            Self::CloseAsc => "ca",
            Self::CloseDesc => "cd",
        }
    }

    /// `(value, id)` of a cursor key this order issued; `None` for any other text.
    pub fn decode(self, raw: &str) -> Option<(String, String)> {
        let mut parts = raw.splitn(3, ':');
        let (code, value, id) = (parts.next()?, parts.next()?, parts.next()?);
        let fits = match self {
            Self::UpdatedDesc | Self::UpdatedAsc | Self::AmountDesc | Self::AmountAsc => {
                value.parse::<i64>().is_ok()
            }
            Self::CloseAsc | Self::CloseDesc => {
                value.is_empty() || value.parse::<NaiveDate>().is_ok()
            }
        };
        (code == self.code() && fits && !id.is_empty()).then(|| (value.to_string(), id.to_string()))
    }
}

/// A new opportunity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityDraft {
    /// The customer (visible to the caller).
    pub customer_id: String,
    /// Name.
    pub name: String,
    /// The pipeline (default: the default pipeline).
    pub pipeline_id: Option<String>,
    /// The stage (default: the pipeline's first open stage).
    pub stage_id: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Quoted lines.
    pub lines: Vec<LineDraft>,
    /// The manual amount, only without lines.
    pub amount: Option<i64>,
    /// When it is expected to close.
    pub expected_close_on: Option<NaiveDate>,
    /// Custom field values, canonical.
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Changes to an opportunity; `None` leaves a member as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpportunityChanges {
    /// New name.
    pub name: Option<String>,
    /// New currency (lines keep their prices, so they must be given again, or be none).
    pub currency: Option<String>,
    /// New lines (replacing all).
    pub lines: Option<Vec<LineDraft>>,
    /// New manual amount (only without lines).
    pub amount: Option<i64>,
    /// New expected close date (`Some(None)` clears it).
    pub expected_close_on: Option<Option<NaiveDate>>,
    /// New lost reason (`Some(None)` clears it).
    pub lost_reason: Option<Option<String>>,
    /// The ticked checklist items of the current stage (replacing the ticks).
    pub checklist: Option<Vec<String>>,
    /// The custom field values after the change (merged and checked by the caller).
    pub custom_fields: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    /// A new owner: an active user whose records the caller may manage.
    pub owner_id: Option<String>,
}

/// A requested stage change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageMove {
    /// The stage to move to, in the opportunity's pipeline.
    pub to_stage_id: String,
    /// Why, in the rep's words.
    pub note: Option<String>,
    /// Move on although required checklist items are not ticked (managers and admins).
    pub override_checklist: bool,
    /// Why it was lost, when moving to a lost stage.
    pub lost_reason: Option<String>,
}

/// One recorded stage change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChange {
    /// UUIDv7.
    pub id: String,
    /// The stage left; `None` for the creation.
    pub from_stage_id: Option<String>,
    /// The stage entered.
    pub to_stage_id: String,
    /// Who moved it.
    pub changed_by: String,
    /// When.
    pub changed_at: DateTime<Utc>,
    /// The amount at that moment.
    pub amount: i64,
    /// The entered stage's probability at that moment.
    pub probability: i64,
    /// Seconds spent in the stage left (0 for the creation).
    pub seconds_in_previous: i64,
    /// The note given.
    pub note: Option<String>,
    /// Whether unticked required items were overridden.
    pub overridden: bool,
}

/// The required checklist items a move from the stage at `from` to the stage at `to` passes
/// without their ticks: those of the current stage and of every open stage skipped, when moving
/// forward (to a later position, or to a won stage). Moving back, or to a lost stage, passes
/// none. `stages` are the pipeline's, in order; `ticked` are the current stage's ticks.
pub fn unticked_on_the_way<'a>(
    stages: &'a [crate::pipelines::Stage],
    from: usize,
    to: usize,
    ticked: &[String],
) -> Vec<(
    &'a crate::pipelines::Stage,
    &'a crate::pipelines::ChecklistItem,
)> {
    use crate::pipelines::StageKind;
    let Some(target) = stages.get(to) else {
        return Vec::new();
    };
    let forward = match target.fields.kind {
        StageKind::Lost => false,
        StageKind::Won => true,
        StageKind::Open => to > from,
    };
    if !forward {
        return Vec::new();
    }
    let end = if target.fields.kind == StageKind::Won {
        stages.len()
    } else {
        to
    };
    stages
        .iter()
        .enumerate()
        .filter(|(i, s)| *i >= from && *i < end && s.fields.kind == StageKind::Open)
        .flat_map(|(i, s)| {
            s.fields
                .checklist
                .iter()
                .filter(move |item| item.required && !(i == from && ticked.contains(&item.id)))
                .map(move |item| (s, item))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(id: &str, price: i64, currency: &str, active: bool) -> Offer {
        Offer {
            id: id.into(),
            name: format!("Product {id}"),
            unit_price: price,
            currency: currency.into(),
            active,
        }
    }

    fn line(product: Option<&str>, quantity: i64, price: Option<i64>, discount: i64) -> LineDraft {
        LineDraft {
            product_id: product.map(str::to_string),
            description: None,
            quantity,
            unit_price: price,
            discount,
        }
    }

    #[test]
    fn lines_are_priced_exactly() {
        let offers = [offer("p1", 129_900, "CNY", true)];
        let drafts = [
            line(Some("p1"), 3_000, None, 1_000),
            LineDraft {
                description: Some(" Installation ".into()),
                ..line(None, 1_500, Some(99), 0)
            },
        ];
        let (lines, sum) = price_lines(&drafts, &offers, "CNY", &[]).unwrap_or_default();
        assert_eq!(lines[0].amount, 350_730);
        assert_eq!(lines[0].description, "Product p1");
        assert_eq!(lines[1].amount, 149);
        assert_eq!(lines[1].description, "Installation");
        assert_eq!(sum, 350_879);
    }

    #[test]
    fn every_bad_line_is_listed() {
        let offers = [
            offer("usd", 100, "USD", true),
            offer("old", 100, "CNY", false),
        ];
        let drafts = [
            line(Some("usd"), 1_000, None, 0),
            line(Some("gone"), 1_000, None, 0),
            line(Some("old"), 1_000, None, 0),
            line(None, -1, Some(-5), 10_001),
            line(None, 1_000, Some(crate::money::AMOUNT_MAX), 0),
            line(None, 2_000, Some(crate::money::AMOUNT_MAX), 0),
        ];
        let mut drafts = drafts.to_vec();
        drafts[4].description = Some("Big".into());
        drafts[5].description = Some("Too big".into());
        let errors = price_lines(&drafts, &offers, "CNY", &[])
            .err()
            .unwrap_or_default();
        let found: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.pointer.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("/lines/0/product_id", "currency_mismatch"),
                ("/lines/1/product_id", "unknown_product"),
                ("/lines/2/product_id", "inactive_product"),
                ("/lines/3/quantity", "out_of_range"),
                ("/lines/3/discount_percent", "out_of_range"),
                ("/lines/3/unit_price", "out_of_range"),
                ("/lines/3/description", "required"),
                ("/lines/5", "amount_overflow"),
            ]
        );
        // A priced USD product is fine when the line gives its own price; an inactive one the
        // opportunity already quotes may stay.
        let fine = [
            line(Some("usd"), 1_000, Some(700), 0),
            line(Some("old"), 1_000, None, 0),
        ];
        assert!(price_lines(&fine, &offers, "CNY", &["old".to_string()]).is_ok());
        // Two lines at the ceiling overflow the total.
        let big = [
            LineDraft {
                description: Some("a".into()),
                ..line(None, 1_000, Some(crate::money::AMOUNT_MAX), 0)
            },
            LineDraft {
                description: Some("b".into()),
                ..line(None, 1_000, Some(1), 0)
            },
        ];
        let errors = price_lines(&big, &offers, "CNY", &[])
            .err()
            .unwrap_or_default();
        assert_eq!(errors.first().map(|e| e.pointer.as_str()), Some("/lines"));
    }

    fn pipeline() -> Vec<crate::pipelines::Stage> {
        use crate::pipelines::{ChecklistItem, Stage, StageFields, StageKind};
        let stage = |i: i64, kind: StageKind, items: &[(&str, bool)]| Stage {
            id: format!("s{i}"),
            position: i,
            fields: StageFields {
                name: format!("S{i}"),
                probability: 0,
                kind,
                guidance: None,
                checklist: items
                    .iter()
                    .map(|(id, required)| ChecklistItem {
                        id: (*id).into(),
                        label: id.to_uppercase(),
                        required: *required,
                    })
                    .collect(),
            },
        };
        vec![
            stage(0, StageKind::Open, &[("budget", true), ("intro", false)]),
            stage(1, StageKind::Open, &[("needs", true)]),
            stage(2, StageKind::Open, &[]),
            stage(3, StageKind::Won, &[]),
            stage(4, StageKind::Lost, &[]),
        ]
    }

    #[test]
    fn forward_moves_pass_required_items() {
        let stages = pipeline();
        let ids = |found: Vec<(&crate::pipelines::Stage, &crate::pipelines::ChecklistItem)>| {
            found
                .into_iter()
                .map(|(_, i)| i.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(unticked_on_the_way(&stages, 0, 1, &[])), ["budget"]);
        assert!(unticked_on_the_way(&stages, 0, 1, &["budget".into()]).is_empty());
        // Skipping a stage passes its items too; ticks count for the current stage only.
        assert_eq!(
            ids(unticked_on_the_way(&stages, 0, 2, &["budget".into()])),
            ["needs"]
        );
        assert_eq!(
            ids(unticked_on_the_way(&stages, 0, 3, &[])),
            ["budget", "needs"]
        );
        // Back, or lost: nothing to tick.
        assert!(unticked_on_the_way(&stages, 2, 0, &[]).is_empty());
        assert!(unticked_on_the_way(&stages, 0, 4, &[]).is_empty());
        // Won from the last open stage: nothing left.
        assert!(unticked_on_the_way(&stages, 2, 3, &[]).is_empty());
    }

    #[test]
    fn descriptions_count_as_sent() {
        let padded = LineDraft {
            description: Some(format!(" {} ", "x".repeat(LINE_DESCRIPTION_MAX))),
            ..line(None, 1_000, Some(1), 0)
        };
        let errors = price_lines(&[padded], &[], "CNY", &[])
            .err()
            .unwrap_or_default();
        assert_eq!(
            errors.iter().map(|e| e.code.as_str()).collect::<Vec<_>>(),
            ["too_long"]
        );
    }

    #[test]
    fn decimals_scale_exactly() {
        assert_eq!(thousandths(1.5), Some(1_500));
        assert_eq!(thousandths(0.1), Some(100));
        assert_eq!(thousandths(2.0), Some(2_000));
        assert_eq!(thousandths(0.0005), None, "four decimals");
        assert_eq!(basis_points(12.5), Some(1_250));
        assert_eq!(basis_points(33.33), Some(3_333));
        assert_eq!(basis_points(0.125), None);
        assert_eq!(basis_points(100.01), None);
        assert_eq!(basis_points(-1.0), None);
        assert_eq!(thousandths(-0.5), None);
        assert_eq!(thousandths(1.0e9), Some(crate::money::QUANTITY_MAX));
        assert_eq!(thousandths(1.0e9 + 1.0), None);
    }
}
