//! Phone numbers: kept as entered for display, normalised to E.164 for matching.

use phonenumber::country::Id as Region;
use phonenumber::Mode;

use crate::FieldError;

/// The longest phone number accepted as entered.
pub const PHONE_MAX: usize = 40;

/// A phone number: as entered (trimmed) and in E.164.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// As entered, trimmed.
    pub display: String,
    /// E.164, e.g. `+8613812345678`: the form used for matching.
    pub normalized: String,
}

/// The region assumed for numbers written without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(Region);

impl PhoneRegion {
    /// Parses an ISO 3166-1 alpha-2 code such as `CN` or `DE`.
    pub fn parse(code: &str) -> Option<Self> {
        code.trim()
            .to_uppercase()
            .parse::<Region>()
            .ok()
            .map(PhoneRegion)
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        PhoneRegion(Region::CN)
    }
}

impl Phone {
    /// Parses a number written in any common way (spaces, dashes, dots, brackets, full-width
    /// digits, `+86` or `0086` prefixes); `pointer` names the field in errors.
    pub fn parse(raw: &str, region: PhoneRegion, pointer: &str) -> Result<Phone, FieldError> {
        let display = raw.trim();
        if display.chars().count() > PHONE_MAX {
            return Err(FieldError::new(
                pointer,
                "too_long",
                format!("at most {PHONE_MAX} characters"),
            ));
        }
        // Full-width digits and plus (as typed with Chinese input methods) to ASCII.
        let ascii: String = display
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '＋' => '+',
                other => other,
            })
            .collect();
        let invalid = || FieldError::new(pointer, "phone", "not a valid phone number");
        let parsed = phonenumber::parse(Some(region.0), &ascii)
            .ok()
            .filter(phonenumber::is_valid)
            .map(|number| number.format().mode(Mode::E164).to_string());
        let normalized = parsed
            .or_else(|| plausible(&ascii, region))
            .ok_or_else(invalid)?;
        Ok(Phone {
            display: display.to_string(),
            normalized,
        })
    }
}

/// The E.164 form of a number the library's range tables do not know (yet) but that the
/// country's numbering plan allows: its national number fits the country's general pattern
/// and has the length of one of its fixed-line or mobile numbers. Numbering plans grow (new
/// mobile ranges open every year), so a real customer's number is not refused because the
/// bundled tables are older than it. The digits are taken as written: no carrier prefix is
/// stripped (China's 179xx dialling prefixes look like the start of new 179 mobile numbers).
fn plausible(ascii: &str, region: PhoneRegion) -> Option<String> {
    use phonenumber::metadata::DATABASE;
    let trimmed = ascii.trim_start();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let (code, national) = match international {
        Some(rest) => (1..=3).find_map(|n| {
            let code: u16 = rest.get(..n)?.parse().ok()?;
            DATABASE
                .by_code(&code)
                .map(|_| (code, rest[n..].to_string()))
        })?,
        None => {
            let meta = DATABASE.by_id(region.0.as_ref())?;
            let national = meta
                .national_prefix()
                .and_then(|prefix| digits.strip_prefix(prefix))
                .unwrap_or(&digits);
            (meta.country_code(), national.to_string())
        }
    };
    let length = u16::try_from(national.len()).ok()?;
    let fits = DATABASE.by_code(&code)?.into_iter().any(|meta| {
        let descriptors = meta.descriptors();
        let lengths = [descriptors.fixed_line(), descriptors.mobile()]
            .into_iter()
            .flatten()
            .any(|d| d.possible_length().contains(&length));
        lengths && descriptors.general().is_match(&national)
    });
    fits.then(|| format!("+{code}{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str) -> Result<String, String> {
        Phone::parse(raw, PhoneRegion::default(), "/phone")
            .map(|p| p.normalized)
            .map_err(|e| e.code)
    }

    #[test]
    fn common_chinese_spellings_match() {
        for raw in [
            "13812345678",
            "+86 138 1234 5678",
            "0086-138-1234-5678",
            "138.1234.5678",
            "１３８１２３４５６７８",
        ] {
            assert_eq!(e164(raw), Ok("+8613812345678".to_string()), "{raw}");
        }
    }

    #[test]
    fn other_regions_by_prefix_or_default() {
        assert_eq!(e164("+49 30 901820"), Ok("+4930901820".to_string()));
        let de = PhoneRegion::parse("de").unwrap_or_default();
        assert_eq!(
            Phone::parse("030 901820", de, "/phone").map(|p| p.normalized),
            Ok("+4930901820".to_string())
        );
    }

    #[test]
    fn numbers_of_newer_ranges_are_taken() {
        for raw in [
            "+86 17487574911",
            "008616971147104",
            "+86-194-2366-7127",
            "+86 14220297299",
        ] {
            assert!(e164(raw).is_ok(), "{raw}");
        }
        for raw in ["179 0798 0169", "+86-179-0798-0169", "17907980169"] {
            assert_eq!(e164(raw), Ok("+8617907980169".to_string()), "{raw}");
        }
    }

    #[test]
    fn impossible_numbers_are_refused() {
        for raw in ["12345", "not a phone", "+86 999", ""] {
            assert_eq!(e164(raw), Err("phone".to_string()), "{raw}");
        }
    }
}
