//! Versioned migrations, embedded at compile time (the list below; the convention is in `lib.rs`).
//! Each applied migration is recorded with a SHA-256 of its text; a changed or unknown one stops
//! the start-up instead of silently running on a schema the code does not expect.

use crate::{col, Backend, Store, StoreError};
use sha2::{Digest, Sha256};

/// One embedded migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// A migration as recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
    pub checksum: String,
    pub applied_at: i64,
}

/// Every migration, listed here (and checked against the directories by a test) rather than
/// collected by a build script: `include_str!` with a path relative to this file always embeds
/// the files of the tree being compiled, and cargo tracks them for rebuilds. (A build script's
/// absolute paths go stale when several checkouts share one target directory.)
macro_rules! embed {
    ($(($stem:literal, $version:literal, $desc:literal)),* $(,)?) => {
        mod embedded {
            use super::Migration;
            pub static SQLITE: &[Migration] = &[$(Migration {
                version: $version,
                description: $desc,
                sql: include_str!(concat!("../migrations/sqlite/", $stem, ".sql")),
            }),*];
            pub static POSTGRES: &[Migration] = &[$(Migration {
                version: $version,
                description: $desc,
                sql: include_str!(concat!("../migrations/postgres/", $stem, ".sql")),
            }),*];
            #[cfg(test)]
            pub static STEMS: &[&str] = &[$($stem),*];
        }
    };
}

embed![
    ("0001_core", 1, "core"),
    ("0002_watchlists", 2, "watchlists"),
    ("0003_auth_hardening", 3, "auth_hardening"),
    ("0004_audit_keyed", 4, "audit_keyed"),
    ("0005_aggregate_releases", 5, "aggregate_releases"),
    ("0100_monitor", 100, "monitor"),
    ("0101_monitor_feedback", 101, "monitor_feedback"),
    ("0102_determination_records", 102, "determination_records"),
    ("0103_licences", 103, "licences"),
    ("0104_denial_notices", 104, "denial_notices"),
];

/// The migrations of a backend, ordered by version.
pub fn embedded(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => embedded::SQLITE,
        Backend::Postgres => embedded::POSTGRES,
    }
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

pub(crate) async fn applied(store: &Store) -> Result<Vec<MigrationInfo>, StoreError> {
    let rows = sqlx::query(
        "SELECT version, description, checksum, applied_at FROM _chipwatch_migrations \
         ORDER BY version",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MigrationInfo {
                version: col(r, "version")?,
                description: col(r, "description")?,
                checksum: col(r, "checksum")?,
                applied_at: col(r, "applied_at")?,
            })
        })
        .collect()
}

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS _chipwatch_migrations (\
           version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
           checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(tx.conn())
    .await?;
    tx.commit().await?;

    let known = embedded(store.backend());
    let done = applied(store).await?;
    for m in &done {
        match known.iter().find(|k| k.version == m.version) {
            None => return Err(StoreError::UnknownMigration(m.version)),
            Some(k) if checksum(k.sql) != m.checksum => {
                return Err(StoreError::MigrationChanged {
                    version: m.version,
                    description: m.description.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for m in known {
        if done.iter().any(|d| d.version == m.version) {
            continue;
        }
        // One transaction per migration: a crash leaves the schema at a clean version boundary.
        let mut tx = store.begin_write().await?;
        // Another process may have applied it while we waited for the lock.
        let already: Option<i64> =
            sqlx::query_scalar("SELECT version FROM _chipwatch_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(tx.conn())
                .await?;
        if already.is_some() {
            continue;
        }
        sqlx::raw_sql(m.sql).execute(tx.conn()).await?;
        sqlx::query(
            "INSERT INTO _chipwatch_migrations (version, description, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.description)
        .bind(checksum(m.sql))
        .bind(crate::time::now())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        tracing::info!(
            version = m.version,
            description = m.description,
            "applied migration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list above names exactly the files of both directories, in version order, and each
    /// entry's version and description are those of its file name.
    #[test]
    fn list_matches_the_migration_directories() {
        for dir in ["sqlite", "postgres"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut files: Vec<String> = std::fs::read_dir(&path)
                .unwrap()
                .filter_map(|e| {
                    let name = e.unwrap().file_name().into_string().unwrap();
                    name.strip_suffix(".sql").map(str::to_string)
                })
                .collect();
            files.sort();
            assert_eq!(
                files,
                embedded::STEMS,
                "migrations/{dir} and the list in migrate.rs differ: add the new file to embed![]"
            );
        }
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let ms = embedded(backend);
            assert!(ms.windows(2).all(|w| w[0].version < w[1].version));
            for (m, stem) in ms.iter().zip(embedded::STEMS) {
                let (num, desc) = stem.split_once('_').unwrap();
                assert_eq!(
                    (num.parse::<i64>().unwrap(), desc),
                    (m.version, m.description)
                );
            }
        }
    }
}
