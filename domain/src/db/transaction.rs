//! Every write opens its transaction here.

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// A transaction that reads before it writes and may race others doing the
/// same: on SQLite it takes the write lock at BEGIN (IMMEDIATE), as a
/// deferred one fails with "database is locked" when another commits
/// between its first read and its first write. PostgreSQL ignores the mode.
pub async fn begin_write(writer: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    writer.begin_with_options(options).await
}
