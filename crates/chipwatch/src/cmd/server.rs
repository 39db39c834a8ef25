//! `chipwatch serve` and the `chipwatch admin ...` commands that bootstrap a server:
//! organisations, users, tokens (shown once) and federation peers (whose tokens are encrypted
//! with the peer key, `--peer-key-file`).
//! Each command opens the store named by `--db` (default `chipwatch.db`, or `CHIPWATCH_DB`).

use crate::Cli;
use anyhow::{bail, Context, Result};
use chipwatch_server::{AppState, Security};
use chipwatch_store::partner::{OrgKind, Role};
use chipwatch_store::secret::PeerKey;
use chipwatch_store::Store;
use clap::{Args, Subcommand};
use std::time::Duration;

/// Actor recorded in the audit log for commands run on the server's machine.
const CLI_ACTOR: &str = "cli";

#[derive(Debug, Args)]
pub struct DbArg {
    /// Database: a SQLite file path (created on first use) or a postgres:// URL.
    #[arg(
        long,
        env = "CHIPWATCH_DB",
        default_value = "chipwatch.db",
        value_name = "URL"
    )]
    pub db: String,
    /// Audit key file (HMAC keys of the audit chain; keep it away from the database). Default
    /// for SQLite: `<db>.audit-key`, created on first use. PostgreSQL needs it.
    #[arg(long, env = "CHIPWATCH_AUDIT_KEY_FILE", value_name = "FILE")]
    pub audit_key_file: Option<std::path::PathBuf>,
    /// Append-only file of signed audit checkpoints. Default: the key file's path + `.checkpoints`.
    #[arg(long, env = "CHIPWATCH_AUDIT_CHECKPOINT_FILE", value_name = "FILE")]
    pub audit_checkpoint_file: Option<std::path::PathBuf>,
}

impl DbArg {
    /// The store's audit options; `create_key` for commands that write.
    pub fn audit_options(&self, create_key: bool) -> chipwatch_store::audit::AuditOptions {
        chipwatch_store::audit::AuditOptions {
            key_file: self.audit_key_file.clone(),
            checkpoint_file: self.audit_checkpoint_file.clone(),
            create_key,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    #[command(flatten)]
    pub db: DbArg,
    /// Name of this instance in federation (origin of the records it sends).
    #[arg(long, default_value = "chipwatch")]
    pub instance: String,
    /// Log format: json (structured, default) or text.
    #[arg(long, default_value = "json", value_parser = ["json", "text"])]
    pub log_format: String,
    /// Serve `/metrics` without a token on this address only (e.g. 127.0.0.1:9090); on the main
    /// address `/metrics` needs an admin token either way.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// Absolute lifetime of a dashboard session, hours (never beyond its API token's expiry).
    #[arg(long, default_value_t = 8, value_name = "HOURS")]
    pub session_hours: u64,
    /// A dashboard session unused for this long ends, minutes.
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub session_idle_minutes: u64,
    /// Failed authentications per source address within the window before 429.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub auth_failures_per_source: u32,
    /// Failed authentications per token prefix within the window before 429.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub auth_failures_per_token: u32,
    /// Sliding window of the failed-authentication limits, seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub auth_failure_window: u64,
    /// A reverse proxy whose X-Forwarded-For is believed (repeat for several). Without one,
    /// the source address is the connecting peer's.
    #[arg(long, value_name = "IP")]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    #[command(flatten)]
    pub peer_key: PeerKeyArg,
    /// Trade dataset (written by `chipwatch trade import` or `trade gen`) behind
    /// `/api/v1/trade/*` and the dashboard's trade page; without it they say none is loaded.
    #[arg(long, env = "CHIPWATCH_TRADE_DATA", value_name = "DIR")]
    pub trade: Option<std::path::PathBuf>,
    /// Vintage of the trade dataset, shown with its numbers.
    #[arg(long, value_name = "TEXT", requires = "trade")]
    pub trade_vintage: Option<String>,
}

#[derive(Debug, Args)]
pub struct PeerKeyArg {
    /// File with the key (64 hex digits, mode 600) that encrypts the tokens federation peers
    /// issued to this instance. Alternatively CHIPWATCH_PEER_KEY holds the hex key itself.
    #[arg(long, env = "CHIPWATCH_PEER_KEY_FILE", value_name = "FILE")]
    pub peer_key_file: Option<std::path::PathBuf>,
}

impl PeerKeyArg {
    /// The configured key, if any (the file wins over CHIPWATCH_PEER_KEY).
    fn load(&self) -> Result<Option<PeerKey>> {
        if let Some(path) = &self.peer_key_file {
            return Ok(Some(PeerKey::from_file(path)?));
        }
        match std::env::var("CHIPWATCH_PEER_KEY") {
            Ok(hex) if !hex.trim().is_empty() => {
                Ok(Some(PeerKey::from_hex(&hex).context("CHIPWATCH_PEER_KEY")?))
            }
            _ => Ok(None),
        }
    }

    /// The store with the key, or an error explaining how to configure one.
    async fn apply(&self, store: Store) -> Result<Store> {
        match self.load()? {
            Some(k) => Ok(store.with_peer_key(k)),
            None => bail!(
                "no peer key: federation peer tokens are encrypted at rest; pass --peer-key-file \
                 (or set CHIPWATCH_PEER_KEY_FILE); create one with `chipwatch admin peer keygen FILE`"
            ),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Organisations (tenants and federation peers).
    #[command(subcommand)]
    Org(OrgCmd),
    /// Users of an organisation.
    #[command(subcommand)]
    User(UserCmd),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Federation peers (other chipwatch instances).
    #[command(subcommand)]
    Peer(PeerCmd),
}

#[derive(Debug, Subcommand)]
pub enum OrgCmd {
    /// Create an organisation.
    Create {
        name: String,
        /// local (a tenant) or peer (stands for another instance).
        #[arg(long, default_value = "local", value_parser = ["local", "peer"])]
        kind: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// List organisations.
    List(DbArg),
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user.
    Create {
        /// Organisation name.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "analyst", "viewer"])]
        role: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Issue a token; the secret is printed once (stdout) and only its hash is stored.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        label: String,
        /// Days until expiry.
        #[arg(long, default_value_t = 90)]
        expires_days: i64,
        #[command(flatten)]
        db: DbArg,
    },
    /// Revoke a token by id (effective for the next request).
    Revoke {
        #[arg(long)]
        org: String,
        id: i64,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum PeerCmd {
    /// Register a peer instance.
    Add {
        #[arg(long)]
        name: String,
        /// Base URL of the peer, e.g. http://127.0.0.1:8081
        #[arg(long)]
        url: String,
        /// File holding the token the peer issued to us (`-` for stdin); never a command-line
        /// argument, which other users could read from the process list.
        #[arg(long, value_name = "FILE")]
        token_file: String,
        /// Local organisation (kind peer) that stands for the peer.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        key: PeerKeyArg,
    },
    /// Push our records for a peer to it now.
    Push {
        name: String,
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        key: PeerKeyArg,
    },
    /// Pull the peer's records for us now.
    Pull {
        name: String,
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        key: PeerKeyArg,
    },
    /// Write a new random peer key to FILE (mode 600; an existing file is never overwritten).
    Keygen {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Encrypt peer tokens still stored in plaintext (from before encryption at rest).
    SealTokens {
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        key: PeerKeyArg,
    },
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) async fn open(db: &DbArg) -> Result<Store> {
    Store::open_opts(&db.db, 8, &db.audit_options(true))
        .await
        .with_context(|| format!("cannot open database `{}`", redact(&db.db)))
}

/// A database URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub(crate) async fn org_named(store: &Store, name: &str) -> Result<chipwatch_store::partner::Org> {
    store
        .org_by_name(name)
        .await?
        .with_context(|| format!("no organisation named `{name}` (see `chipwatch admin org list`)"))
}

pub fn serve(cli: &Cli, a: &ServeArgs) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if a.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    let security = Security {
        session_lifetime: Duration::from_secs(a.session_hours.saturating_mul(3600)),
        session_idle: Duration::from_secs(a.session_idle_minutes.saturating_mul(60)),
        failures_per_source: a.auth_failures_per_source,
        failures_per_token: a.auth_failures_per_token,
        failure_window: Duration::from_secs(a.auth_failure_window),
        trusted_proxies: a.trusted_proxy.clone(),
        ..Security::default()
    };
    security
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid setting: {e}"))?;
    let key = a.peer_key.load()?;
    let model = super::load_model(cli)?;
    runtime()?.block_on(async {
        // Fail closed at start, before touching the database, not at the first write: every
        // write needs the audit key, and PostgreSQL has no default key file.
        let (_, backend) = chipwatch_store::normalise_url(&a.db.db)?;
        if backend == chipwatch_store::Backend::Postgres && a.db.audit_key_file.is_none() {
            bail!(
                "no audit key file: PostgreSQL needs --audit-key-file (or \
                 CHIPWATCH_AUDIT_KEY_FILE); see docs/partner-exchange.md, \"Audit\""
            );
        }
        let mut store = open(&a.db).await?;
        match key {
            Some(k) => {
                store = store.with_peer_key(k);
                // Rows from before encryption at rest are sealed now that the key is known.
                let n = store.seal_plaintext_peer_tokens(CLI_ACTOR).await?;
                if n > 0 {
                    eprintln!("encrypted {n} plaintext peer token(s) with the peer key");
                }
            }
            None if !store.peer_names().await?.is_empty() => eprintln!(
                "warning: no peer key configured (--peer-key-file): federation push and pull \
                 will fail"
            ),
            None => {}
        }
        let mut state = AppState::new(store, model, a.instance.clone()).with_security(security);
        if let Some(dir) = &a.trade {
            let engine = chipwatch_trade::engine::Engine::open(dir, None)
                .await
                .with_context(|| format!("--trade {}", dir.display()))?;
            state = state.with_trade(engine, a.trade_vintage.clone());
        }
        chipwatch_server::serve_with(&a.addr, a.metrics_addr.as_deref(), state).await?;
        Ok(())
    })
}

pub fn admin(cli: &Cli, c: &AdminCmd) -> Result<()> {
    runtime()?.block_on(admin_async(cli, c))
}

async fn admin_async(cli: &Cli, c: &AdminCmd) -> Result<()> {
    match c {
        AdminCmd::Org(OrgCmd::Create { name, kind, db }) => {
            let store = open(db).await?;
            let kind = OrgKind::parse(kind).context("kind")?;
            let o = store.create_org(name, kind, CLI_ACTOR).await?;
            if cli.json {
                outln!("{}", serde_json::to_string_pretty(&o)?);
            } else {
                outln!(
                    "created organisation {} `{}` ({})",
                    o.id,
                    o.name,
                    o.kind.as_str()
                );
            }
        }
        AdminCmd::Org(OrgCmd::List(db)) => {
            let store = open(db).await?;
            let orgs = store.orgs().await?;
            if cli.json {
                outln!("{}", serde_json::to_string_pretty(&orgs)?);
            } else {
                for o in orgs {
                    outln!("{:>4}  {:<6} {}", o.id, o.kind.as_str(), o.name);
                }
            }
        }
        AdminCmd::User(UserCmd::Create {
            org,
            name,
            role,
            db,
        }) => {
            let store = open(db).await?;
            let o = org_named(&store, org).await?;
            let role = Role::parse(role).context("role")?;
            let u = store.create_user(o.id, name, role, CLI_ACTOR).await?;
            outln!(
                "created user {} `{}` ({}) in `{}`",
                u.id,
                u.name,
                u.role.as_str(),
                o.name
            );
        }
        AdminCmd::Token(TokenCmd::Create {
            org,
            user,
            label,
            expires_days,
            db,
        }) => {
            if !(1..=3650).contains(expires_days) {
                bail!("--expires-days must be between 1 and 3650");
            }
            let store = open(db).await?;
            let o = org_named(&store, org).await?;
            let u = store
                .users_of(o.id)
                .await?
                .into_iter()
                .find(|u| &u.name == user)
                .with_context(|| format!("no user `{user}` in `{org}`"))?;
            let secret = chipwatch_server::auth::new_token_secret();
            let exp = chipwatch_store::time::now() + expires_days * 86400;
            let t = store
                .create_token(u.id, &secret, label, Some(exp), CLI_ACTOR)
                .await?;
            eprintln!(
                "token {} for {}@{} expires {}; shown once, store it now:",
                t.id,
                u.name,
                o.name,
                chipwatch_store::time::format(exp)
            );
            outln!("{secret}");
        }
        AdminCmd::Token(TokenCmd::Revoke { org, id, db }) => {
            let store = open(db).await?;
            let o = org_named(&store, org).await?;
            store.revoke_token(o.id, *id, CLI_ACTOR).await?;
            outln!("revoked token {id}");
        }
        AdminCmd::Peer(PeerCmd::Add {
            name,
            url,
            token_file,
            org,
            db,
            key,
        }) => {
            let token = if token_file == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
                s
            } else {
                std::fs::read_to_string(token_file)
                    .with_context(|| format!("cannot read {token_file}"))?
            };
            let token = token.trim();
            if token.is_empty() {
                bail!("{token_file}: empty token");
            }
            let store = key.apply(open(db).await?).await?;
            let o = org_named(&store, org).await?;
            let p = store.add_peer(name, url, token, o.id, CLI_ACTOR).await?;
            outln!(
                "added peer {} `{}` at {} (stands as `{}`)",
                p.id,
                p.name,
                p.base_url,
                o.name
            );
        }
        AdminCmd::Peer(PeerCmd::Push { name, db, key })
        | AdminCmd::Peer(PeerCmd::Pull { name, db, key }) => {
            let store = key.apply(open(db).await?).await?;
            let state = AppState::new(store, super::load_model(cli)?, "chipwatch");
            let out = if matches!(c, AdminCmd::Peer(PeerCmd::Push { .. })) {
                chipwatch_server::routes::federation::push(&state, name, CLI_ACTOR).await
            } else {
                chipwatch_server::routes::federation::pull(&state, name, CLI_ACTOR).await
            };
            let v = out.map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
            outln!("{}", serde_json::to_string_pretty(&v)?);
        }
        AdminCmd::Peer(PeerCmd::Keygen { file }) => {
            write_new_key(file)?;
            outln!("wrote a new peer key to {}", file.display());
        }
        AdminCmd::Peer(PeerCmd::SealTokens { db, key }) => {
            let store = key.apply(open(db).await?).await?;
            let n = store.seal_plaintext_peer_tokens(CLI_ACTOR).await?;
            outln!("encrypted {n} plaintext peer token(s)");
        }
    }
    Ok(())
}

/// Create `file` with a new key, readable by its owner only; never overwrite.
fn write_new_key(file: &std::path::Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(file).with_context(|| {
        format!(
            "cannot create {} (an existing key is never overwritten)",
            file.display()
        )
    })?;
    std::io::Write::write_all(
        &mut f,
        format!("{}\n", PeerKey::generate().to_hex()).as_bytes(),
    )
    .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("x.db"), "x.db");
    }
}
