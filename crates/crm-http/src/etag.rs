//! Entity tags: a record's row version, quoted, as a strong `ETag`.

/// The `ETag` value for a row version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version named by an `If-Match` value, `None` when it names no version we issued.
pub fn parse_if_match(value: &str) -> Option<i64> {
    value
        .trim()
        .strip_prefix('"')?
        .strip_suffix('"')?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(etag(3), "\"3\"");
        assert_eq!(parse_if_match(" \"3\" "), Some(3));
        assert_eq!(parse_if_match("W/\"3\""), None);
        assert_eq!(parse_if_match("3"), None);
    }
}
