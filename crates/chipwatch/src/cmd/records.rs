//! `chipwatch licence check ... --record-case CASE --as-org ORG --as-user NAME`: keep the
//! determination the command line made as a determination record in the server's database,
//! like the API's `POST /api/v1/licence/records` and the dashboard's form (issue 17). The
//! command runs on the server's machine with access to its database (as `chipwatch admin`
//! does); the record names the user it is kept for, who must be an analyst or admin of the
//! organisation. Records are append-only and announced in the audit chain by the store.

use super::server::{open, org_named, runtime, DbArg};
use anyhow::{Context, Result};
use chipwatch_store::determinations::{NewDeterminationRecord, OUTCOMES};
use chipwatch_store::partner::{Credential, Principal, Role};
use clap::Args;

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Keep this determination as a record for the case (file number, order, shipment) in the
    /// server's database (--db).
    #[arg(long = "record-case", value_name = "CASE", requires_all = ["as_org", "as_user"], conflicts_with = "batch")]
    pub record_case: Option<String>,
    /// Organisation the record belongs to.
    #[arg(long = "as-org", value_name = "ORG", requires = "record_case")]
    pub as_org: Option<String>,
    /// User (analyst or admin of the organisation) the record is kept for.
    #[arg(long = "as-user", value_name = "NAME", requires = "record_case")]
    pub as_user: Option<String>,
    /// The officer's different conclusion (one of the outcomes), with --override-reason.
    #[arg(long = "override", value_name = "OUTCOME", requires_all = ["override_reason", "record_case"])]
    pub override_outcome: Option<String>,
    #[arg(
        long = "override-reason",
        value_name = "TEXT",
        requires = "override_outcome"
    )]
    pub override_reason: Option<String>,
    #[command(flatten)]
    pub db: DbArg,
}

/// Keep `determination` (as JSON) for the case, with the command's `inputs`; the record's id.
pub fn keep(
    a: &RecordArgs,
    inputs: serde_json::Value,
    determination: serde_json::Value,
) -> Result<i64> {
    let (Some(case), Some(org), Some(user)) = (&a.record_case, &a.as_org, &a.as_user) else {
        anyhow::bail!("--record-case needs --as-org and --as-user");
    };
    if let Some(o) = a.override_outcome.as_deref() {
        if !OUTCOMES.contains(&o) {
            anyhow::bail!("--override: `{o}` is not one of {}", OUTCOMES.join(", "));
        }
    }
    runtime()?.block_on(async {
        let store = open(&a.db).await?;
        let org = org_named(&store, org).await?;
        let u = store
            .users_of(org.id)
            .await?
            .into_iter()
            .find(|u| u.name == *user)
            .with_context(|| format!("--as-user: no user `{user}` in `{}`", org.name))?;
        if u.role < Role::Analyst {
            anyhow::bail!(
                "--as-user: `{user}` is a {}; keeping a record needs an analyst or admin",
                u.role.as_str()
            );
        }
        let who = Principal {
            user_id: u.id,
            user_name: u.name.clone(),
            role: u.role,
            org,
            token_id: 0,
            credential: Credential::Api,
        };
        let r = store
            .record_determination(
                &who,
                NewDeterminationRecord {
                    case_ref: case.clone(),
                    outcome: determination["overall"]["outcome"]
                        .as_str()
                        .unwrap_or("undetermined")
                        .to_string(),
                    ruleset: determination["ruleset"]["version"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    inputs: inputs.to_string(),
                    determination: determination.to_string(),
                    override_outcome: a.override_outcome.clone(),
                    override_reason: a.override_reason.clone(),
                },
            )
            .await
            .context("the record was not kept")?;
        Ok(r.id)
    })
}
