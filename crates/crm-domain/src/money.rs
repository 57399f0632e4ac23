//! Money: amounts in integer minor units of an ISO 4217 currency (fen for CNY, cents for USD,
//! yen for JPY), never floating point. Line amounts are computed exactly, rounding half away
//! from zero once, at the end.

use crate::FieldError;

/// The largest amount, in minor units, of a price, a line or a total: 10^15 (ten trillion
/// yuan in fen), well inside `i64` and exactly representable in a JSON number.
pub const AMOUNT_MAX: i64 = 1_000_000_000_000_000;
/// Quantities are given in thousandths: `1500` is 1.5.
pub const QUANTITY_SCALE: i64 = 1_000;
/// The largest quantity, in thousandths (one billion units).
pub const QUANTITY_MAX: i64 = 1_000_000_000_000;
/// Discounts are given in basis points: `1250` is 12.5 %.
pub const DISCOUNT_SCALE: i64 = 10_000;

/// An ISO 4217 code naming a currency in use that has minor units defined (not gold or a
/// testing code), in any case; returned upper-cased.
pub fn check_currency(raw: &str, pointer: &str) -> Result<String, FieldError> {
    let code = raw.to_ascii_uppercase();
    match iso_currency::Currency::from_code(&code) {
        Some(c) if c.exponent().is_some() => Ok(code),
        _ => Err(FieldError::new(
            pointer,
            "invalid_currency",
            "an ISO 4217 currency code such as CNY or USD",
        )),
    }
}

/// `Some(error)` unless `amount` is a price: 0 to [`AMOUNT_MAX`] minor units.
pub fn check_amount(amount: i64, pointer: &str) -> Option<FieldError> {
    if !(0..=AMOUNT_MAX).contains(&amount) {
        return Some(FieldError::new(
            pointer,
            "out_of_range",
            format!("0 to {AMOUNT_MAX} minor units"),
        ));
    }
    None
}

/// A line's amount: `quantity` (thousandths) × `unit_price` (minor units) less `discount`
/// (basis points), rounded half away from zero to a minor unit. `None` when it exceeds
/// [`AMOUNT_MAX`] or an input is out of its range.
pub fn line_amount(quantity: i64, unit_price: i64, discount: i64) -> Option<i64> {
    if !(0..=QUANTITY_MAX).contains(&quantity)
        || !(0..=AMOUNT_MAX).contains(&unit_price)
        || !(0..=DISCOUNT_SCALE).contains(&discount)
    {
        return None;
    }
    let numerator =
        i128::from(quantity) * i128::from(unit_price) * i128::from(DISCOUNT_SCALE - discount);
    let denominator = i128::from(QUANTITY_SCALE) * i128::from(DISCOUNT_SCALE);
    let rounded = (numerator + denominator / 2) / denominator;
    i64::try_from(rounded)
        .ok()
        .filter(|amount| *amount <= AMOUNT_MAX)
}

/// The sum of `amounts`; `None` past [`AMOUNT_MAX`].
pub fn total(amounts: impl IntoIterator<Item = i64>) -> Option<i64> {
    amounts
        .into_iter()
        .try_fold(0_i64, |sum, a| sum.checked_add(a))
        .filter(|sum| *sum <= AMOUNT_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_iso_codes_in_use() {
        assert_eq!(check_currency("CNY", "/c"), Ok("CNY".into()));
        assert_eq!(check_currency("usd", "/c"), Ok("USD".into()));
        assert_eq!(check_currency("JPY", "/c"), Ok("JPY".into()));
        for bad in ["", "XYZ", "RMB", "XAU", "CNYX", "¥", " USD"] {
            assert_eq!(
                check_currency(bad, "/c").map_err(|e| e.code),
                Err("invalid_currency".to_string()),
                "{bad}"
            );
        }
    }

    #[test]
    fn line_amounts_are_exact_and_rounded_once() {
        // 3 × 1,299.00 CNY less 10 %: 3,507.30.
        assert_eq!(line_amount(3_000, 129_900, 1_000), Some(350_730));
        // 1.5 × 0.99 = 1.485 → 1.49 (half away from zero).
        assert_eq!(line_amount(1_500, 99, 0), Some(149));
        // 0.333 × 1.00 less 33.33 % = 0.2220 → 0.22.
        assert_eq!(line_amount(333, 100, 3_333), Some(22));
        assert_eq!(line_amount(0, 129_900, 0), Some(0));
        assert_eq!(line_amount(2_000, 500, DISCOUNT_SCALE), Some(0), "free");
        // Exactly the ceiling, and one past it.
        assert_eq!(line_amount(1_000, AMOUNT_MAX, 0), Some(AMOUNT_MAX));
        assert_eq!(line_amount(2_000, AMOUNT_MAX, 0), None);
        assert_eq!(
            line_amount(QUANTITY_MAX, AMOUNT_MAX, 0),
            None,
            "no i64 overflow"
        );
        assert_eq!(line_amount(-1_000, 100, 0), None);
        assert_eq!(line_amount(1_000, -100, 0), None);
        assert_eq!(line_amount(1_000, 100, 10_001), None);
    }

    #[test]
    fn totals_stop_at_the_ceiling() {
        assert_eq!(total([350_730, 149, 0]), Some(350_879));
        assert_eq!(total([]), Some(0));
        assert_eq!(total([AMOUNT_MAX, 1]), None);
        assert_eq!(total([i64::MAX, i64::MAX]), None);
    }

    #[test]
    fn prices_are_bounded() {
        assert_eq!(check_amount(0, "/p"), None);
        assert_eq!(check_amount(AMOUNT_MAX, "/p"), None);
        assert!(check_amount(-1, "/p").is_some());
        assert!(check_amount(AMOUNT_MAX + 1, "/p").is_some());
    }
}

/// An amount written in major units (`1500`, `1500.5`, `-3.25`; at most as many decimal places
/// as `currency` has) in minor units of that currency; `None` when it is not such a number.
pub fn minor_units(text: &str, currency: &str) -> Option<i64> {
    let places = u32::from(iso_currency::Currency::from_code(currency)?.exponent()?);
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    if fraction.len() > places as usize {
        return None;
    }
    let scale = 10_i64.checked_pow(places)?;
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<width$}", width = places as usize)
            .parse()
            .ok()?
    };
    let amount = whole.checked_mul(scale)?.checked_add(fraction)?;
    Some(if negative { -amount } else { amount })
}

#[cfg(test)]
mod minor_unit_tests {
    use super::minor_units;

    #[test]
    fn major_units_become_minor_units() {
        assert_eq!(minor_units("1500", "CNY"), Some(150_000));
        assert_eq!(minor_units("1500.5", "CNY"), Some(150_050));
        assert_eq!(minor_units("-3.25", "USD"), Some(-325));
        assert_eq!(minor_units("1500", "JPY"), Some(1500));
        assert_eq!(minor_units("1.5", "JPY"), None);
        assert_eq!(minor_units("1.234", "CNY"), None);
        assert_eq!(minor_units("abc", "CNY"), None);
        assert_eq!(minor_units("", "CNY"), None);
        assert_eq!(minor_units("1", "XXX"), None);
    }
}
