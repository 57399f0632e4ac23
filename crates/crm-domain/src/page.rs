//! Keyset pagination: a page of items in key order and where the next page starts.

/// The most items one page may hold.
pub const PAGE_LIMIT_MAX: u32 = 200;
/// Items per page when the caller does not say.
pub const PAGE_LIMIT_DEFAULT: u32 = 50;

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items, 1..=[`PAGE_LIMIT_MAX`].
    pub limit: u32,
    /// Read items whose key comes after this one (the previous page's last key).
    pub after: Option<String>,
}

/// One page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in key order.
    pub items: Vec<T>,
    /// The key to continue after, when more items may follow.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows read in key order: the extra row only tells
    /// that another page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_after = if more { rows.last().map(key) } else { None };
        Page {
            items: rows,
            next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extra_row_means_another_page() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(
            page,
            Page {
                items: vec![1, 2],
                next_after: Some("2".into())
            }
        );
        let last = Page::from_rows(vec![3], 2, |n| n.to_string());
        assert_eq!(
            last,
            Page {
                items: vec![3],
                next_after: None
            }
        );
    }
}
