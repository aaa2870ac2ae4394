//! The card-number sweep (PLANS.md B4): with `PETBRIDGE_CARD_SCAN` naming a
//! directory, every test server logs there (`tests.log`, debug level for
//! our crates), and every test database is read whole before it is thrown
//! away (`scanned.txt` lists them), each Luhn-valid 13–19-digit run found
//! being written to `findings.txt`. After the suite, the `card-scan` program reads the log,
//! the findings and every key left in Redis, and fails on any card number.

use std::{io::Write, path::PathBuf};

use petbridge_domain::kernel::cards::contains_card_number;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

/// The sweep's directory, when this run sweeps.
pub fn directory() -> Option<PathBuf> {
    std::env::var_os("PETBRIDGE_CARD_SCAN").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The file every test server of the process logs to.
pub fn log_file() -> Option<PathBuf> {
    directory().map(|dir| dir.join("tests.log"))
}

/// Records that `place` holds a card number (never the number itself).
pub fn record(place: &str) {
    append("findings.txt", &format!("{place}: a Luhn-valid card number"));
}

/// Records that `place` could not be read: the sweep then fails too.
pub fn unread(place: &str, why: &str) {
    append("findings.txt", &format!("{place}: not read ({why})"));
}

/// Records that `place` was read whole.
pub fn scanned(place: &str) {
    append("scanned.txt", place);
}

fn append(file: &str, line: &str) {
    let Some(path) = directory().map(|dir| dir.join(file)) else { return };
    let written =
        std::fs::OpenOptions::new().create(true).append(true).open(&path).and_then(|mut file| writeln!(file, "{line}"));
    if let Err(err) = written {
        eprintln!("could not write {}: {err}", path.display());
    }
}

/// Reads every text value of every table of the database at `url`
/// (PostgreSQL or SQLite), one value at a time; answers the tables holding
/// a card number.
pub async fn tables_with_cards(url: &str) -> Result<Vec<String>, sea_orm::DbErr> {
    let db = Database::connect(url).await?;
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    let texts = |sql: String| db.query_all_raw(Statement::from_string(backend, sql));
    let catalog = if postgres {
        "SELECT table_name AS t, column_name AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
    } else {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table'"
    };
    let mut found = Vec::new();
    for column in texts(catalog.to_owned()).await? {
        let (table, name): (String, String) = (column.try_get("", "t")?, column.try_get("", "c")?);
        if found.contains(&table) {
            continue;
        }
        let sql = if postgres {
            format!("SELECT CAST(\"{name}\" AS TEXT) AS v FROM \"{table}\" WHERE \"{name}\" IS NOT NULL")
        } else {
            format!("SELECT CAST(\"{name}\" AS TEXT) AS v FROM \"{table}\" WHERE typeof(\"{name}\") = 'text'")
        };
        for row in texts(sql).await? {
            let value: String = row.try_get("", "v")?;
            if contains_card_number(value.as_bytes()) {
                found.push(table.clone());
                break;
            }
        }
    }
    db.close().await?;
    Ok(found)
}
