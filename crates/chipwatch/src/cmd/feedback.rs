//! `chipwatch monitor feedback export`: an organisation's analyst feedback as an evaluation set
//! (a labels file and one text file per event), so `monitor evaluate --labels DIR/labels.toml`
//! scores the classifier against what the analysts said.

use crate::Cli;
use anyhow::{bail, Context, Result};
use chipwatch_monitor::eval::label_from_feedback;
use clap::{Args, Subcommand};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum FeedbackCmd {
    /// Write an organisation's feedback as a labelled set: DIR/labels.toml and DIR/LANG/ID.txt.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: super::server::DbArg,
    /// Organisation whose feedback to export (its name).
    #[arg(long)]
    pub org: String,
    /// Directory to write (created; an existing labels.toml there is not overwritten).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// A language code safe as a directory name.
fn dir_name(lang: &str) -> String {
    let d: String = lang
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(12)
        .collect();
    if d.is_empty() {
        "und".into()
    } else {
        d
    }
}

pub fn run(cli: &Cli, c: &FeedbackCmd) -> Result<()> {
    let FeedbackCmd::Export(a) = c;
    let labels = super::server::runtime()?.block_on(async {
        // Opened like every command that reads the server's database (the URL's password never
        // reaches a message).
        let store = super::server::open(&a.db).await?;
        let org = store
            .org_by_name(&a.org)
            .await?
            .with_context(|| format!("--org: no organisation named `{}`", a.org))?;
        Ok::<_, anyhow::Error>(store.monitor_feedback_labels(org.id).await?)
    })?;
    let file = a.out.join("labels.toml");
    if file.exists() {
        bail!("{}: exists; choose another --out", file.display());
    }
    let mut toml = format!(
        "# Analyst feedback of `{}` exported by `chipwatch monitor feedback export`: the latest mark\n# per event as a label. Evaluate with `chipwatch monitor evaluate --labels {}`.\n",
        a.org,
        file.display()
    );
    for l in &labels {
        let (relevant, event_type) = label_from_feedback(
            l.feedback.verdict.as_str(),
            l.feedback.event_type.as_deref(),
            l.predicted_relevant,
            &l.predicted_type,
        );
        let lang = dir_name(&l.language);
        let rel = format!("{lang}/{}.txt", l.feedback.article_id);
        let path = a.out.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, format!("{}\n\n{}\n", l.title, l.body))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let _ = write!(
            toml,
            "\n[[article]]\n# event {} marked {} by {}\nfile = {}\nlanguage = {}\nrelevant = {relevant}\nevent_type = {}\n",
            l.feedback.article_id,
            l.feedback.verdict.as_str(),
            l.feedback.user_name.replace('\n', " "),
            toml::Value::String(rel.clone()),
            toml::Value::String(l.language.clone()),
            toml::Value::String(event_type),
        );
    }
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    std::fs::write(&file, toml).with_context(|| format!("cannot write {}", file.display()))?;
    if cli.json {
        outln!(
            "{}",
            serde_json::json!({"labels": file, "articles": labels.len()})
        );
    } else {
        outln!(
            "{} labelled articles written to {}",
            labels.len(),
            file.display()
        );
    }
    Ok(())
}
