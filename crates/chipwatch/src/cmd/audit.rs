//! `chipwatch audit verify` and `chipwatch audit rotate-key`: check the keyed audit chain against
//! the newest signed checkpoint, and hand the chain over to a fresh key
//! (docs/partner-exchange.md, "Audit").

use super::server::{open, redact, runtime, DbArg};
use crate::Cli;
use anyhow::{bail, Context, Result};
use chipwatch_store::audit::{self, KeyRing};
use chipwatch_store::Store;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Verify the audit chain with the key file and the checkpoint file; name the first wrong
    /// entry (removed, altered, reordered, forged, truncated, corrupt). Exit status 2 if any.
    Verify(VerifyArgs),
    /// Add a fresh key to the key file; the chain is handed over to it at once by an entry
    /// MACed with the old key. Retired keys stay in the file (verification needs them).
    RotateKey(DbArg),
    /// Print the audit checkpoints a federation peer sent us, one JSON line each (the
    /// checkpoint-file format). Hand them to that peer's operator, who checks their log against
    /// them with `audit verify --audit-checkpoint-file FILE`.
    Checkpoints(CheckpointsArgs),
}

#[derive(Debug, Args)]
pub struct CheckpointsArgs {
    /// The peer's local stand-in organisation.
    #[arg(long)]
    pub org: String,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

async fn open_existing_key(db: &DbArg) -> Result<Store> {
    // Never create a key to verify with: a missing key file is an error, not a fresh start.
    Store::open_opts(&db.db, 2, &db.audit_options(false))
        .await
        .with_context(|| format!("cannot open database `{}`", redact(&db.db)))
}

pub fn run(_cli: &Cli, c: &AuditCmd) -> Result<()> {
    runtime()?.block_on(async {
        match c {
            AuditCmd::Verify(a) => verify(a).await,
            AuditCmd::RotateKey(db) => rotate(db).await,
            AuditCmd::Checkpoints(a) => checkpoints(a).await,
        }
    })
}

async fn verify(a: &VerifyArgs) -> Result<()> {
    let store = open_existing_key(&a.db).await?;
    let r = audit::verify(&store).await?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&r)?);
    } else if r.ok() {
        match &r.head {
            Some((seq, hash)) => {
                outln!("audit log intact: {} entries, head {seq} {hash}", r.entries)
            }
            None => outln!("audit log intact: empty"),
        }
        match &r.checkpoint {
            Some((seq, _)) => outln!("matches the signed checkpoint of entry {seq}"),
            None => eprintln!(
                "warning: no signed checkpoint found; removal of the newest entries cannot be \
                 detected"
            ),
        }
    } else {
        for p in &r.problems {
            outln!("{p}");
        }
        if r.more_problems > 0 {
            outln!("... and {} more problem(s)", r.more_problems);
        }
    }
    if !r.ok() {
        bail!(
            "audit log verification failed: {} problem(s) in {} entries",
            r.problems.len() as u64 + r.more_problems,
            r.entries
        );
    }
    Ok(())
}

async fn rotate(db: &DbArg) -> Result<()> {
    let store = open_existing_key(db).await?;
    let key_file = store
        .audit_config()
        .and_then(|c| c.key_file.clone())
        .context("no audit key file configured (--audit-key-file)")?;
    store.close().await;
    let id = KeyRing::rotate_file(&key_file)?;
    let store = open(db).await?;
    store
        .audit(
            "cli",
            "audit.rotate_key",
            "audit",
            serde_json::json!({"key_id": id}),
        )
        .await?;
    store.close().await;
    eprintln!("audit key rotated; new entries are MACed with key `{id}`");
    outln!("{id}");
    Ok(())
}

async fn checkpoints(a: &CheckpointsArgs) -> Result<()> {
    let store = open_existing_key(&a.db).await?;
    let org = store
        .org_by_name(&a.org)
        .await?
        .with_context(|| format!("no organisation named `{}`", a.org))?;
    let kept = store.peer_checkpoints(org.id).await?;
    for pc in &kept {
        outln!("{}", serde_json::to_string(&pc.checkpoint)?);
    }
    eprintln!("{} checkpoint(s) received from `{}`", kept.len(), a.org);
    Ok(())
}
