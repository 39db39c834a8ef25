//! `chipwatch monitor`: the early-warning monitor (docs/monitor.md). Classify files, ingest
//! files/URLs into the store, poll feeds, list stored events, evaluate against a labelled set.
//! The monitor crate returns data; this module wires it to the store (`--db`, default
//! `chipwatch.db` or `CHIPWATCH_DB`), the watchlist and the webhook.

use crate::Cli;
use anyhow::{bail, Context, Result};
use chipwatch_model::ValueChain;
use chipwatch_monitor::alert::{Alert, Watchlist};
use chipwatch_monitor::cluster::{self, Clusterer, Member};
use chipwatch_monitor::fetch::{self, FeedsConfig, FetchOptions, Fetched, Validators};
use chipwatch_monitor::trade::TradeSignal;
use chipwatch_monitor::{eval, impact, input, Article, Classified, Classifier, RawArticle};
use chipwatch_store::monitor::{EventFilter, FeedState, Inserted, NewAlert, NewArticle};
use chipwatch_store::Store;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Subcommand)]
pub enum MonitorCmd {
    /// Classify articles (files or directories): one line (JSON with --json) per article.
    Classify(ClassifyArgs),
    /// Store articles and events from files, directories or feed URLs (de-duplicated).
    Ingest(IngestArgs),
    /// Poll the feeds of a feeds.toml on a schedule and store what is new.
    Run(RunArgs),
    /// List stored events.
    Events(EventsArgs),
    /// Score the classifier against a labelled set.
    Evaluate(EvaluateArgs),
    /// Analyst feedback on events (marked in the dashboard or through the API).
    #[command(subcommand)]
    Feedback(super::feedback::FeedbackCmd),
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Files (archives, feeds, HTML, text) or directories of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Cluster time window in hours.
    #[arg(long, default_value_t = cluster::DEFAULT_WINDOW_HOURS)]
    pub window_hours: i64,
    /// Say why: every trigger with its sentence and weight, the event types' scores and the
    /// rules that set a type aside or chose it (JSON: an `explanation` array).
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Database: a SQLite file path or a postgres:// URL.
    #[arg(
        long,
        env = "CHIPWATCH_DB",
        default_value = "chipwatch.db",
        value_name = "URL"
    )]
    pub db: String,
    /// Watchlist file (TOML; docs/monitor.md): events touching watched nodes raise alerts.
    #[arg(long, value_name = "FILE")]
    pub watch: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files, directories or http(s) URLs of feeds.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Feeds file (TOML; docs/monitor.md).
    #[arg(long, value_name = "FILE")]
    pub feeds: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Poll every feed once and exit.
    #[arg(long)]
    pub once: bool,
    /// Stop after this many polling rounds (default: run until killed).
    #[arg(long)]
    pub rounds: Option<u64>,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[arg(
        long,
        env = "CHIPWATCH_DB",
        default_value = "chipwatch.db",
        value_name = "URL"
    )]
    pub db: String,
    /// Only events on or after this date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ).
    #[arg(long)]
    pub since: Option<String>,
    /// Only this event type.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Include articles that are not relevant.
    #[arg(long)]
    pub all: bool,
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Labels file; article paths in it are relative to its directory.
    #[arg(long, default_value = "data/eval/monitor/labels.toml")]
    pub labels: PathBuf,
    /// List the misclassified articles.
    #[arg(long)]
    pub errors: bool,
    /// Score the rules and lexicons alone, without the learned layer (to see what it adds).
    #[arg(long)]
    pub rules_only: bool,
}

pub fn run(cli: &Cli, c: &MonitorCmd) -> Result<()> {
    match c {
        MonitorCmd::Classify(a) => classify(cli, a),
        MonitorCmd::Ingest(a) => ingest(cli, a),
        MonitorCmd::Run(a) => run_feeds(cli, a),
        MonitorCmd::Events(a) => events(cli, a),
        MonitorCmd::Evaluate(a) => evaluate(cli, a),
        MonitorCmd::Feedback(c) => super::feedback::run(cli, c),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Read every input file; errors are printed per file and counted, never fatal.
fn read_inputs(paths: &[PathBuf], errors: &mut usize) -> Vec<RawArticle> {
    let mut out = Vec::new();
    for p in input::expand(paths) {
        match p.and_then(|p| input::read_file(&p, input::DEFAULT_MAX_BYTES)) {
            Ok(v) => out.extend(v),
            Err(e) => {
                eprintln!("error: {e}");
                *errors += 1;
            }
        }
    }
    out
}

/// Print one line to stdout; a closed pipe (`| head`) ends the program quietly.
fn emit(line: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => Ok(r?),
    }
}

fn print_line(cli: &Cli, c: &Classified) -> Result<()> {
    if cli.json {
        emit(&serde_json::to_string(c)?)?;
    } else {
        let title: String = c.title.chars().take(60).collect();
        emit(&format!(
            "{:<26} {:<5} {:<7} {:<15} {:<13} {}",
            if c.relevant {
                c.event_type.as_str()
            } else {
                "-"
            },
            if c.relevant { "yes" } else { "no" },
            c.language,
            c.countries
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            c.cluster_id.as_deref().unwrap_or(""),
            title
        ))?;
        // The English summary under the line, for relevant articles.
        if let Some(sm) = &c.summary {
            emit(&format!("{:<26} {sm}", ""))?;
        }
        // When the learned layer, not the rules, made the call, say so where it is read.
        if let Some(l) = c.learned.as_ref().filter(|l| l.decision != "confirmed") {
            emit(&format!(
                "{:<26} learned layer: {} (relevance {:.2}; n-grams: {})",
                "",
                l.decision,
                l.relevant,
                l.features.join(", ")
            ))?;
        }
    }
    Ok(())
}

fn classify(cli: &Cli, a: &ClassifyArgs) -> Result<()> {
    let vc = super::load_model(cli)?;
    let classifier = Classifier::new(&vc)?;
    let mut errors = 0;
    let raws = read_inputs(&a.paths, &mut errors);
    let mut clusterer = Clusterer::new(a.window_hours);
    for raw in raws {
        let art = Article::from_raw(raw);
        for w in &art.warnings {
            eprintln!("warning: {}: {w}", art.source);
        }
        let (mut c, trace) = if a.explain {
            let (c, t) = classifier.explain(&art);
            (c, Some(t))
        } else {
            (classifier.classify(&art), None)
        };
        c.cluster_id = Some(clusterer.assign(&c, &art.text));
        match trace {
            Some(t) if cli.json => {
                let mut v = serde_json::to_value(&c)?;
                v["explanation"] = serde_json::json!(t);
                emit(&v.to_string())?;
            }
            Some(t) => {
                print_line(cli, &c)?;
                for line in t {
                    emit(&format!("{:<26} | {line}", ""))?;
                }
            }
            None => print_line(cli, &c)?,
        }
    }
    if errors > 0 {
        bail!("{errors} input(s) could not be read (see above); the others were classified");
    }
    Ok(())
}

/// Everything ingestion needs, shared by `ingest` and `run`.
pub(crate) struct Ingestor<'a> {
    vc: &'a ValueChain,
    classifier: Classifier,
    clusterer: Clusterer,
    watch: Option<Watchlist>,
    store: Store,
    json: bool,
    /// Print each new watchlist alert on standard output (off when the caller prints its own
    /// result there).
    print: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) new: usize,
    pub(crate) duplicate: usize,
    pub(crate) alerts: usize,
}

impl<'a> Ingestor<'a> {
    pub(crate) async fn open(
        vc: &'a ValueChain,
        args: &StoreArgs,
        json: bool,
    ) -> Result<Ingestor<'a>> {
        let classifier = Classifier::new(vc)?;
        let watch = match &args.watch {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?;
                Some(Watchlist::from_toml_str(
                    &text,
                    &p.display().to_string(),
                    vc,
                )?)
            }
            None => None,
        };
        let store = Store::open(&args.db).await.with_context(|| {
            format!("cannot open database `{}`", super::server::redact(&args.db))
        })?;
        // Re-seed the clusterer with the stored window so cluster ids continue across runs.
        let mut clusterer = Clusterer::default();
        let since = chipwatch_store::time::now() - 30 * 24 * 3600;
        for s in store.monitor_cluster_seeds(since).await? {
            let entities = serde_json::from_str(&s.entities).unwrap_or_default();
            clusterer.remember(Member {
                cluster_id: s.cluster_id,
                simhash: s.simhash,
                event_type: s.event_type,
                entities,
                time: Some(s.event_time),
            });
        }
        Ok(Ingestor {
            vc,
            classifier,
            clusterer,
            watch,
            store,
            json,
            print: true,
        })
    }

    async fn ingest(&mut self, raws: Vec<RawArticle>, tally: &mut Tally) -> Result<()> {
        for raw in raws {
            let art = Article::from_raw(raw);
            let mut c = self.classifier.classify(&art);
            c.cluster_id = Some(self.clusterer.assign(&c, &art.text));
            let vc = self.vc;
            self.store_event(&c, &art.text, tally, |c| impact::estimate(c, vc))
                .await?;
        }
        self.deliver().await
    }

    /// Keep standard output for the caller: new alerts are counted, stored and delivered, not
    /// printed.
    pub(crate) fn quiet(mut self) -> Self {
        self.print = false;
        self
    }

    /// Trade signals as events (chipwatch_monitor::trade): the same store, watchlists, alert
    /// stream and webhook as news.
    pub(crate) async fn ingest_trade(
        &mut self,
        signals: &[TradeSignal],
        tally: &mut Tally,
    ) -> Result<()> {
        for sig in signals {
            let mut c = sig.classified();
            let body = c.evidence.join("\n");
            c.cluster_id = Some(self.clusterer.assign(&c, &body));
            let vc = self.vc;
            self.store_event(&c, &body, tally, |c| sig.impact(c, vc))
                .await?;
        }
        self.deliver().await
    }

    /// Match one classified event against the watchlist, store it with its alerts (unless it is
    /// stored already) and print the alerts.
    async fn store_event(
        &mut self,
        c: &Classified,
        body: &str,
        tally: &mut Tally,
        impact: impl Fn(&Classified) -> Result<impact::Impact, chipwatch_monitor::MonitorError>,
    ) -> Result<()> {
        let mut alerts = Vec::new();
        if let Some(w) = &self.watch {
            for (watch, matched) in w.matches(c) {
                let mut al = Alert::new(watch, matched, c);
                if w.config.impact {
                    match impact(c) {
                        Ok(i) => al.impact = Some(i),
                        Err(e) => al.impact_note = Some(e.to_string()),
                    }
                }
                alerts.push(al);
            }
        }
        let entities: Vec<String> = cluster::entity_set(c).into_iter().collect();
        let row = NewArticle {
            canonical_url: c.canonical_url.clone(),
            content_hash: c.content_hash.clone(),
            source: c.source.clone(),
            url: c.url.clone(),
            title: c.title.clone(),
            language: c.language.clone(),
            body: body.to_string(),
            seen_at: c.seen_at.clone(),
            published_at: c.published_at.clone(),
            event_time: cluster::article_time(c).unwrap_or_else(chipwatch_store::time::now),
            relevant: c.relevant,
            event_type: c.event_type.clone(),
            cluster_id: c.cluster_id.clone(),
            severity: c.severity,
            simhash: cluster::simhash(&format!("{}\n{}", c.title, body)),
            entities: serde_json::to_string(&entities)?,
            record: serde_json::to_string(c)?,
        };
        let new_alerts: Vec<NewAlert> = alerts
            .iter()
            .map(|a| {
                Ok(NewAlert {
                    watch: a.watch.clone(),
                    payload: serde_json::to_string(a)?,
                })
            })
            .collect::<Result<_>>()?;
        match self.store.monitor_insert_article(&row, &new_alerts).await? {
            Inserted::New(_) => {
                tally.new += 1;
                tally.alerts += alerts.len();
                for a in alerts.iter().filter(|_| self.print) {
                    if self.json {
                        emit(&serde_json::to_string(a)?)?;
                    } else {
                        emit(&format!(
                            "ALERT [{}] {} sev {:.2} {} ({})",
                            a.watch,
                            a.event_type,
                            a.severity,
                            a.title,
                            a.matched.join(", ")
                        ))?;
                    }
                }
            }
            Inserted::Duplicate(_) => tally.duplicate += 1,
        }
        Ok(())
    }

    /// Post undelivered alerts to the webhook (at least once: delivery is marked after a 2xx).
    async fn deliver(&self) -> Result<()> {
        let Some(url) = self.watch.as_ref().and_then(|w| w.config.webhook.clone()) else {
            return Ok(());
        };
        for a in self.store.monitor_undelivered_alerts().await? {
            let opts = FetchOptions {
                retries: 2,
                backoff: Duration::from_millis(200),
                ..FetchOptions::default()
            };
            match fetch::post_json(&url, &a.payload, &opts) {
                Ok(_) => self.store.monitor_mark_delivered(a.id).await?,
                Err(e) => {
                    eprintln!(
                        "error: webhook: {e} (alert {} kept for the next delivery)",
                        a.id
                    );
                    break;
                }
            }
        }
        Ok(())
    }
}

fn ingest(cli: &Cli, a: &IngestArgs) -> Result<()> {
    let vc = super::load_model(cli)?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut ing = Ingestor::open(&vc, &a.store, cli.json).await?;
        let mut tally = Tally::default();
        let mut errors = 0usize;
        for inp in &a.inputs {
            let raws = if inp.starts_with("http://") || inp.starts_with("https://") {
                let seen = chrono_now();
                match fetch::fetch(inp, &Validators::default(), &FetchOptions::default()).and_then(
                    |f| match f {
                        Fetched::Body { bytes, .. } => input::parse_bytes(&bytes, inp, Some(&seen)),
                        Fetched::NotModified => Ok(Vec::new()),
                    },
                ) {
                    Ok(v) => v,
                    Err(e) => {
                        eprintln!("error: {e}");
                        errors += 1;
                        continue;
                    }
                }
            } else {
                read_inputs(&[PathBuf::from(inp)], &mut errors)
            };
            ing.ingest(raws, &mut tally).await?;
        }
        eprintln!(
            "ingested: {} new, {} duplicate(s), {} alert(s), {} input error(s)",
            tally.new, tally.duplicate, tally.alerts, errors
        );
        if errors > 0 {
            bail!("{errors} input(s) could not be read (see above); the others were stored");
        }
        Ok(())
    })
}

fn chrono_now() -> String {
    chipwatch_store::time::format(chipwatch_store::time::now())
}

fn run_feeds(cli: &Cli, a: &RunArgs) -> Result<()> {
    let text =
        std::fs::read_to_string(&a.feeds).with_context(|| format!("{}", a.feeds.display()))?;
    let cfg = FeedsConfig::from_toml_str(&text, &a.feeds.display().to_string())?;
    let vc = super::load_model(cli)?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut ing = Ingestor::open(&vc, &a.store, cli.json).await?;
        let opts = cfg.options();
        let mut next_due: Vec<Instant> = vec![Instant::now(); cfg.feeds.len()];
        let mut round = 0u64;
        loop {
            round += 1;
            for (i, f) in cfg.feeds.iter().enumerate() {
                if Instant::now() < next_due[i] {
                    continue;
                }
                let interval = f.interval_secs.unwrap_or(cfg.interval_secs);
                next_due[i] = Instant::now() + Duration::from_secs(interval);
                let name = f.name.clone().unwrap_or_else(|| f.url.clone());
                let prev = ing
                    .store
                    .monitor_feed_state(&f.url)
                    .await?
                    .unwrap_or(FeedState {
                        url: f.url.clone(),
                        ..Default::default()
                    });
                let validators = Validators {
                    etag: prev.etag.clone(),
                    last_modified: prev.last_modified.clone(),
                };
                let seen = chrono_now();
                let url = f.url.clone();
                let o = opts.clone();
                // The blocking HTTP call runs off the async thread.
                let fetched =
                    tokio::task::spawn_blocking(move || fetch::fetch(&url, &validators, &o))
                        .await?;
                let mut state = prev.clone();
                state.last_fetch = Some(chipwatch_store::time::now());
                let mut tally = Tally::default();
                match fetched.and_then(|r| match r {
                    Fetched::NotModified => Ok((304, None, Vec::new())),
                    Fetched::Body {
                        bytes,
                        validators,
                        status,
                        ..
                    } => input::parse_bytes(&bytes, &f.url, Some(&seen))
                        .map(|v| (status as i64, Some(validators), v)),
                }) {
                    Ok((status, validators, raws)) => {
                        if let Some(v) = validators {
                            state.etag = v.etag;
                            state.last_modified = v.last_modified;
                        }
                        state.last_status = Some(status);
                        state.last_error = None;
                        state.failures = 0;
                        ing.ingest(raws, &mut tally).await?;
                        eprintln!(
                            "feed {name}: HTTP {status}, {} new, {} duplicate(s), {} alert(s)",
                            tally.new, tally.duplicate, tally.alerts
                        );
                    }
                    Err(e) => {
                        state.failures += 1;
                        state.last_error = Some(e.to_string());
                        eprintln!(
                            "error: feed {name}: {e} ({} consecutive failure(s))",
                            state.failures
                        );
                        // Back off a failing feed: double its interval per failure, up to a day.
                        let factor = 1u64 << state.failures.clamp(0, 6);
                        next_due[i] =
                            Instant::now() + Duration::from_secs((interval * factor).min(86_400));
                    }
                }
                ing.store.monitor_save_feed_state(&state).await?;
            }
            if a.once || a.rounds.is_some_and(|r| round >= r) {
                return Ok(());
            }
            let wake = next_due.iter().min().copied().unwrap_or_else(Instant::now);
            tokio::time::sleep(
                wake.saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(200)),
            )
            .await;
        }
    })
}

fn parse_since(s: &str) -> Result<i64> {
    chipwatch_store::time::parse(s).with_context(|| {
        format!("--since: `{s}` is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)")
    })
}

fn events(cli: &Cli, a: &EventsArgs) -> Result<()> {
    let since = a.since.as_deref().map(parse_since).transpose()?;
    runtime()?.block_on(async {
        let store = Store::open(&a.db)
            .await
            .with_context(|| format!("cannot open database `{}`", super::server::redact(&a.db)))?;
        let rows = store
            .monitor_events(&EventFilter {
                since,
                event_type: a.event_type.clone(),
                relevant_only: !a.all,
                limit: Some(a.limit),
            })
            .await?;
        for r in rows {
            if cli.json {
                emit(&r.record)?;
            } else {
                emit(&format!(
                    "{} {:<26} sev {:.2} {:<13} {}",
                    chipwatch_store::time::format(r.event_time),
                    r.event_type,
                    r.severity,
                    r.cluster_id.as_deref().unwrap_or(""),
                    r.title
                ))?;
            }
        }
        Ok(())
    })
}

fn evaluate(cli: &Cli, a: &EvaluateArgs) -> Result<()> {
    let vc = super::load_model(cli)?;
    let classifier = Classifier::new(&vc)?;
    let classifier = if a.rules_only {
        classifier.rules_only()
    } else {
        classifier
    };
    let r = eval::evaluate_file(&a.labels, &classifier)?;
    if cli.json {
        emit(&serde_json::to_string_pretty(&r)?)?;
        return Ok(());
    }
    emit(&format!(
        "{:<8} {:>4} {:>5} {:>6} {:>5} {:>7} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "slice",
        "n",
        "prec",
        "recall",
        "F1",
        "type",
        "neg",
        "country",
        "c.prec",
        "org",
        "item",
        "lang"
    ))?;
    let row = |name: &str, s: &eval::Scores| -> Result<()> {
        emit(&format!(
            "{:<8} {:>4} {:>5.3} {:>6.3} {:>5.3} {:>7.3} {:>5} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3}",
            name,
            s.articles,
            s.precision,
            s.recall,
            s.f1,
            s.event_type_accuracy,
            if s.tn + s.fp == 0 {
                "-".to_string()
            } else {
                format!("{:.3}", s.tn as f64 / (s.tn + s.fp) as f64)
            },
            s.country_recall,
            s.country_precision,
            s.organisation_recall,
            s.item_recall,
            s.language_accuracy
        ))
    };
    row("all", &r.overall)?;
    for (l, s) in &r.by_language {
        row(l, s)?;
    }
    emit(&format!(
        "type = event-type accuracy on relevant articles; neg = share of not-relevant articles rejected; c.prec = share of countries found that are labelled; overall type accuracy incl. none: {:.3}",
        r.overall.event_type_accuracy_all
    ))?;
    if a.errors {
        for (f, why) in &r.errors {
            emit(&format!("  {f}: {why}"))?;
        }
    }
    Ok(())
}
