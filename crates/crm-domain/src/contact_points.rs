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
        let number = phonenumber::parse(Some(region.0), &ascii).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Phone {
            display: display.to_string(),
            normalized: number.format().mode(Mode::E164).to_string(),
        })
    }
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
    fn impossible_numbers_are_refused() {
        for raw in ["12345", "not a phone", "+86 999", ""] {
            assert_eq!(e164(raw), Err("phone".to_string()), "{raw}");
        }
    }
}
