//! Cursor paging of newest-first lists.

use uuid::Uuid;

use crate::{Code, DomainError, DomainResult};

/// A position in a newest-first list: the creation time and id of the last
/// item seen. Opaque to clients (base64url text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// When the last item seen was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Its id, to break ties.
    pub id: Uuid,
}

impl Cursor {
    /// The cursor as text for a URL.
    pub fn encode(&self) -> String {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.created_at.to_rfc3339(), self.id))
    }

    /// Parses a cursor made by [`Cursor::encode`].
    pub fn decode(text: &str) -> DomainResult<Self> {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let invalid = || DomainError::with(Code::InvalidCursor, "the paging cursor is not one this server made");
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let raw = String::from_utf8(raw).map_err(|_| invalid())?;
        let (time, id) = raw.split_once('|').ok_or_else(invalid)?;
        Ok(Self {
            created_at: chrono::DateTime::parse_from_rfc3339(time).map_err(|_| invalid())?.to_utc(),
            id: Uuid::parse_str(id).map_err(|_| invalid())?,
        })
    }
}

/// The most items a page may hold.
pub const MAX_PAGE_SIZE: u32 = 200;

/// How many items a list returns: 50 unless asked, 1 to [`MAX_PAGE_SIZE`].
pub fn page_limit(requested: Option<u32>) -> DomainResult<u64> {
    match requested {
        None => Ok(50),
        Some(n @ 1..=MAX_PAGE_SIZE) => Ok(u64::from(n)),
        Some(_) => Err(DomainError::with(Code::InvalidLimit, format!("limit must be between 1 and {MAX_PAGE_SIZE}"))),
    }
}

/// One page of a list and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor { created_at: chrono::Utc::now(), id: Uuid::new_v4() };
        assert_eq!(Cursor::decode(&cursor.encode()).ok(), Some(cursor));
        assert!(Cursor::decode("not-a-cursor").is_err());
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(201)).is_err());
        assert_eq!(page_limit(None).ok(), Some(50));
    }
}
