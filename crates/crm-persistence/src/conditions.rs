//! Conditions written so both backends' statement caches keep the statements they are part of:
//! those that keep a rep's or a manager's reads to the customers they may see, and fixed SQL.
//!
//! Diesel caches a prepared statement only when every part of it says it is safe to: a list
//! bound as `IN (?, ?, …)` (SQLite's form of `eq_any`) is not, as its text follows the list's
//! length, and neither is a raw SQL fragment. Such a statement is parsed and planned again on
//! every run, which on SQLite costs more than running it for a page read by id.

use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Nullable};
use diesel::{BoolExpressionMethods, BoxableExpression, ExpressionMethods, QueryResult};

use crate::connection::DbBackend;
use crate::schema::customers;

/// `customers.owner_id` is one of `owners` or NULL (the shared pool). A single owner, a rep, is
/// an equality; several, a manager's team, a list (`= ANY(?)` on PostgreSQL, which is cached,
/// `IN (…)` on SQLite, which is not).
pub(crate) fn owned_or_pool<'a, QS>(
    owners: &'a [String],
) -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Nullable<Bool>> + 'a>
where
    customers::owner_id: SelectableExpression<QS>,
    QS: 'a,
{
    match owners {
        [owner] => Box::new(
            customers::owner_id
                .eq(owner)
                .or(customers::owner_id.is_null()),
        ),
        _ => Box::new(
            customers::owner_id
                .eq_any(owners)
                .or(customers::owner_id.is_null()),
        ),
    }
}

/// The traits that make `$ty` a boolean condition on any table, for a `filter` of a boxed query;
/// its `QueryFragment` writes the SQL. No static query id: a statement holding it is cached by
/// its SQL text.
macro_rules! boolean_condition {
    ($ty:ty) => {
        impl Expression for $ty {
            type SqlType = Bool;
        }

        impl<QS> AppearsOnTable<QS> for $ty {}

        impl<QS> SelectableExpression<QS> for $ty {}

        impl<GB> ValidGrouping<GB> for $ty {
            type IsAggregate = is_aggregate::Never;
        }

        impl QueryId for $ty {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
}

/// A condition that is fixed SQL text with nothing bound, for what diesel's DSL cannot say the
/// way a planner needs it (the predicate of a partial index, written as the index writes it).
/// Unlike `diesel::dsl::sql`, it lets the statement be cached: its text never changes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedSql(pub(crate) &'static str);

boolean_condition!(FixedSql);

impl QueryFragment<DbBackend> for FixedSql {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DbBackend>) -> QueryResult<()> {
        out.push_sql(self.0);
        Ok(())
    }
}
