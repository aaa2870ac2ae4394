//! Newest-first pages of a table, read by the keyset a [`Cursor`] names:
//! rows strictly older than the cursor's (time, id), so a page never
//! repeats or skips a row while new ones arrive.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, sea_query::ExprTrait as _,
};

use crate::{Cursor, DomainResult, Page};

/// The page of `query` after `after`, newest first by `time` then `id`,
/// of at most `limit` rows; `key` gives a row's place as a [`Cursor`]
/// (`None` for a row without its time, which `query` should leave out).
pub async fn newest_first<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    query: Select<E>,
    (time, id): (E::Column, E::Column),
    after: Option<Cursor>,
    limit: u64,
    key: impl Fn(&E::Model) -> Option<Cursor>,
) -> DomainResult<Page<E::Model>> {
    let query = match after {
        Some(cursor) => {
            let older = time.lt(cursor.created_at).or(time.eq(cursor.created_at).and(id.lt(cursor.id)));
            query.filter(older)
        }
        None => query,
    };
    let mut items = query.order_by_desc(time).order_by_desc(id).limit(limit + 1).all(conn).await?;
    let next = if items.len() as u64 > limit {
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        items.last().and_then(key)
    } else {
        None
    };
    Ok(Page { items, next })
}
