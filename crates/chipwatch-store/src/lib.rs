//! Persistence for chipwatch: the only crate that knows SQL.
//!
//! [`Store::open`] takes a URL: `sqlite://path/to/file.db` (or a bare file path; the file is
//! created on first start, in WAL mode) or `postgres://user@host:port/db`. Both go through sqlx's
//! `Any` driver, so every query is written once; only the DDL differs per dialect. Migrations run
//! at open and are versioned.
//!
//! # Migration convention (read before adding tables)
//!
//! - Files live in `migrations/sqlite/` and `migrations/postgres/` (the dialects differ: SQLite
//!   `INTEGER PRIMARY KEY AUTOINCREMENT`/`REAL`, PostgreSQL `BIGSERIAL`/`BIGINT`/`DOUBLE
//!   PRECISION`). Every migration exists in BOTH directories with the same version and name.
//! - Name: `NNNN_description.sql`; `NNNN` is the version (integer). `src/migrate.rs` lists the
//!   files (`embed![]`; a test checks the list against both directories): adding one is one
//!   line there.
//! - Version ranges: 1..=99 partner exchange, audit, scenarios (this crate's core, owned by the
//!   server work); 100..=199 the monitor (`monitor.rs`: articles, events, alerts, watchlists);
//!   200+ free for later areas. Never edit an applied migration: the runner stores a SHA-256 of
//!   each and refuses to start when one changed; add a new version instead.
//! - Use only portable types in queries: integers are BIGINT (`i64`), reals are `f64`, booleans
//!   are 0/1 integers, timestamps unix seconds, lists JSON text. Placeholders are `$1, $2, ...`
//!   (both SQLite and PostgreSQL accept them).
//!
//! # Writes
//!
//! Every write goes through [`Store::begin_write`]: it serialises writers in-process (and with an
//! advisory lock on PostgreSQL across processes) and opens `BEGIN IMMEDIATE` on SQLite, so the
//! hash-chained audit log (see [`audit`]) gets a total order and no writer ever meets
//! `SQLITE_BUSY` half-way through a transaction.

pub mod audit;
pub mod dashboard;
pub mod denial_notices;
pub mod determinations;
pub mod licences;
mod migrate;
pub mod monitor;
pub mod monitor_feedback;
pub mod partner;
pub mod secret;
pub mod time;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Transaction};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use migrate::{Migration, MigrationInfo};
pub use sqlx;

/// Errors of the store. Messages may contain SQL detail: callers log them, never show them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database url `{0}` is neither sqlite:// nor postgres://")]
    BadUrl(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration {version} ({description}) was changed after it was applied")]
    MigrationChanged { version: i64, description: String },
    #[error("database has migration {0} that this binary does not know (newer chipwatch?)")]
    UnknownMigration(i64),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
}

impl StoreError {
    /// Whether the error is a uniqueness violation (maps to 409 in the API).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Conflict(_) => true,
            StoreError::Db(sqlx::Error::Database(d)) => {
                d.is_unique_violation() || d.message().contains("UNIQUE constraint failed")
            }
            _ => false,
        }
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool plus the writer lock. Cheap to clone (shares the pool).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// Seals the tokens federation peers issued to us (see [`secret`]); kept outside the
    /// database, so `None` until the binary loads it.
    peer_key: Option<Arc<secret::PeerKey>>,
    /// Audit key and checkpoint file; `None` makes every audited write fail (closed).
    audit: Option<Arc<audit::AuditConfig>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// A write transaction holding the writer lock; commit or drop (rolls back).
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    audit: Option<Arc<audit::AuditConfig>>,
    /// `(seq, hash, key_id)` of the newest audit entry this transaction appended.
    audit_head: Option<(i64, String, String)>,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
    /// Commit; when the transaction appended audit entries, then write a signed checkpoint of
    /// the new head (still under the writer lock, so checkpoint lines are in chain order).
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        if let (Some(cfg), Some((seq, hash, key_id))) = (&self.audit, &self.audit_head) {
            cfg.checkpoint(*seq, hash, key_id);
        }
        Ok(())
    }
}

/// Turn a user-facing location into an sqlx URL: bare paths become SQLite files.
pub fn normalise_url(url: &str) -> Result<(String, Backend), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres));
    }
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if url.contains("://") {
        return Err(StoreError::BadUrl(url.to_string()));
    } else {
        url
    };
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() {
        return Err(StoreError::BadUrl(url.to_string()));
    }
    Ok((format!("sqlite://{path}?mode=rwc"), Backend::Sqlite))
}

impl Store {
    /// Open (creating a SQLite file if needed) and migrate to the latest schema.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, 8).await
    }

    /// Like [`Store::open`] with an explicit pool size.
    pub async fn open_with(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Self::open_opts(url, max_connections, &audit::AuditOptions::creating()).await
    }

    /// Open with explicit audit options (key file, checkpoint file; see [`audit::AuditOptions`]).
    /// Without a key file option, a SQLite store uses `<file>.audit-key` next to the database
    /// (created when `create_key`); a PostgreSQL store has no audit key and refuses audited
    /// writes.
    pub async fn open_opts(
        url: &str,
        max_connections: u32,
        audit_opts: &audit::AuditOptions,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = normalise_url(url)?;
        let mut default_key_file = None;
        if backend == Backend::Sqlite {
            let file = url.trim_start_matches("sqlite://");
            let file = file.split('?').next().unwrap_or(file);
            default_key_file = Some(std::path::PathBuf::from(format!("{file}.audit-key")));
            if let Some(parent) = Path::new(file).parent() {
                if !parent.as_os_str().is_empty() && !parent.exists() {
                    return Err(StoreError::BadUrl(format!(
                        "{file}: directory {} does not exist",
                        parent.display()
                    )));
                }
            }
        }
        let mut opts = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            opts = opts.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // synchronous=NORMAL in WAL mode: a committed transaction survives a process
                    // crash (SIGKILL); only an OS crash/power loss can lose the last commits.
                    use sqlx::Executor;
                    conn.execute(
                        "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                         PRAGMA synchronous = NORMAL;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = opts.connect(&url).await?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set once, every later connection inherits it.
            sqlx::raw_sql("PRAGMA journal_mode = WAL;")
                .execute(&pool)
                .await?;
        }
        let audit = audit::AuditConfig::load(audit_opts, default_key_file)?.map(Arc::new);
        let store = Store {
            pool,
            backend,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            peer_key: None,
            audit,
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// The same store, sealing and opening peer tokens with `key` (see [`secret`]).
    pub fn with_peer_key(mut self, key: secret::PeerKey) -> Store {
        self.peer_key = Some(Arc::new(key));
        self
    }

    /// The peer key, or an error saying how to configure one.
    pub(crate) fn peer_key(&self) -> Result<&secret::PeerKey, StoreError> {
        self.peer_key.as_deref().ok_or_else(|| {
            StoreError::Invalid(
                "no peer key configured: federation peer tokens are encrypted at rest; set \
                 CHIPWATCH_PEER_KEY_FILE (or --peer-key-file) to a file holding 64 hex digits \
                 (`chipwatch admin peer keygen`)"
                    .into(),
            )
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for read queries (writes go through [`Store::begin_write`]).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Start a serialised write transaction.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let guard = self.write_lock.clone().lock_owned().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                // One writer at a time across processes too: the audit chain needs a total order.
                sqlx::query("SELECT pg_advisory_xact_lock(726874)")
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        Ok(WriteTx {
            tx,
            audit: self.audit.clone(),
            audit_head: None,
            _guard: guard,
        })
    }

    /// Applied migrations, oldest first.
    pub async fn migrations(&self) -> Result<Vec<MigrationInfo>, StoreError> {
        migrate::applied(self).await
    }

    /// Close the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Read a column, mapping a decode failure to [`StoreError::Corrupt`] with the column name.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// For tests against PostgreSQL: create a fresh, uniquely named database on the server of
/// `base_url` (e.g. the value of `CHIPWATCH_TEST_PG_URL`) and return its URL, so tests running
/// in parallel never share tables.
pub async fn create_scratch_database(base_url: &str) -> Result<String, StoreError> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(base_url).await?;
    // Drop scratch databases of test processes that are gone (Linux: /proc tells), so the test
    // server does not fill up; databases of running processes are left alone.
    let old: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE 'cwtest\\_%'")
            .fetch_all(&mut conn)
            .await?;
    for db in old {
        let pid = db.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            let proc_dir = Path::new("/proc");
            if proc_dir.exists() && !proc_dir.join(pid.to_string()).exists() {
                // Best effort: another test process may be dropping it at the same moment.
                let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {db}"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!(
        "cwtest_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        n
    );
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    // Replace the database path of the URL, keep credentials, host and query.
    let (head, query) = match base_url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base_url, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    Ok(match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    })
}

/// Test helper: the stores a backend-generic test should run against. Always a fresh SQLite
/// file in `dir`; plus a fresh PostgreSQL database when `CHIPWATCH_TEST_PG_URL` is set (a note
/// is printed when it is not, so a skipped backend is visible in the test output).
pub async fn test_stores(dir: &Path) -> Vec<(String, Store)> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = dir.join(format!("store{n}.db"));
    let mut out = vec![(
        "sqlite".to_string(),
        Store::open(&file.display().to_string())
            .await
            .expect("open sqlite store"),
    )];
    match std::env::var("CHIPWATCH_TEST_PG_URL") {
        Ok(base) if !base.is_empty() => {
            let url = create_scratch_database(&base)
                .await
                .expect("create scratch PostgreSQL database");
            // PostgreSQL has no default key file: give each test store its own.
            let opts = audit::AuditOptions {
                key_file: Some(dir.join(format!("pg{n}.audit-key"))),
                checkpoint_file: None,
                create_key: true,
            };
            out.push((
                "postgres".to_string(),
                Store::open_opts(&url, 8, &opts)
                    .await
                    .expect("open postgres store"),
            ));
        }
        _ => eprintln!("note: CHIPWATCH_TEST_PG_URL unset; PostgreSQL backend skipped"),
    }
    out
}
