//! `chipwatch cluster scheduler|executor`: the Ballista processes built into the binary
//! (crate chipwatch-cluster; docs/trade.md, "A cluster"). Both run until Ctrl-C or SIGTERM.

use crate::Cli;
use anyhow::{Context, Result};
use chipwatch_cluster::{
    parse_address, Executor, ExecutorOptions, Scheduler, SchedulerOptions,
    DEFAULT_EXECUTOR_GRPC_PORT, DEFAULT_EXECUTOR_PORT, DEFAULT_SCHEDULER_PORT,
};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// `cluster` subcommands.
#[derive(Debug, Subcommand)]
pub enum ClusterCmd {
    /// Start a Ballista scheduler: clients (`trade … --engine HOST:PORT`) submit queries here,
    /// executors poll it for tasks.
    Scheduler(SchedulerArgs),
    /// Start a Ballista executor: runs the scheduler's tasks and serves their output to the
    /// other executors over Arrow Flight.
    Executor(ExecutorArgs),
}

/// Options of `cluster scheduler`.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on (`0.0.0.0:50050` to serve other machines).
    #[arg(long, default_value_t = SocketAddr::from(([127, 0, 0, 1], DEFAULT_SCHEDULER_PORT)))]
    pub bind: SocketAddr,
    /// Host name the executors use to reach this scheduler.
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// Seconds a finished job's result files stay on the executors (0: kept until the executor
    /// stops).
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub job_data_ttl: u64,
}

/// Options of `cluster executor`.
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler, HOST:PORT.
    #[arg(long, default_value = "localhost:50050", value_name = "HOST:PORT")]
    pub scheduler: String,
    /// Address to listen on (`0.0.0.0` to serve other machines).
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind_host: String,
    /// Arrow Flight port (other executors and clients fetch results here).
    #[arg(long, default_value_t = DEFAULT_EXECUTOR_PORT)]
    pub port: u16,
    /// gRPC port (reserved for push scheduling).
    #[arg(long, default_value_t = DEFAULT_EXECUTOR_GRPC_PORT)]
    pub grpc_port: u16,
    /// Host name the scheduler hands out for this executor (default: the address it saw).
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// Directory for shuffle files and spills (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Task slots (default: the number of cores).
    #[arg(long, default_value_t = 0)]
    pub vcores: usize,
    /// Seconds to keep trying to reach the scheduler at start-up.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub connect_timeout: u16,
}

fn init_log() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(_cli: &Cli, c: &ClusterCmd) -> Result<()> {
    init_log();
    let rt = tokio::runtime::Runtime::new()?;
    match c {
        ClusterCmd::Scheduler(a) => rt.block_on(async {
            let s = Scheduler::start(SchedulerOptions {
                bind: a.bind,
                external_host: a.external_host.clone(),
                min_executors: 1,
                job_data_ttl_secs: a.job_data_ttl,
            })
            .await
            .context("starting the scheduler")?;
            eprintln!(
                "chipwatch cluster scheduler listening on {} (executors: `chipwatch cluster executor --scheduler HOST:{}`)",
                s.addr(),
                s.addr().port()
            );
            tokio::select! {
                r = s.wait() => r.context("the scheduler stopped")?,
                _ = tokio::signal::ctrl_c() => eprintln!("scheduler: stopping (Ctrl-C)"),
            }
            Ok(())
        }),
        ClusterCmd::Executor(a) => rt.block_on(async {
            let (host, port) = parse_address(&a.scheduler, DEFAULT_SCHEDULER_PORT)
                .context("--scheduler")?;
            let e = Executor::start(ExecutorOptions {
                scheduler_host: host,
                scheduler_port: port,
                bind_host: a.bind_host.clone(),
                port: a.port,
                grpc_port: a.grpc_port,
                external_host: a.external_host.clone(),
                work_dir: a.work_dir.clone(),
                vcores: a.vcores,
                connect_timeout_secs: a.connect_timeout,
                task_counter: None,
            })
            .await
            .context("starting the executor")?;
            eprintln!(
                "chipwatch cluster executor on {}:{} (scheduler {})",
                a.bind_host, a.port, a.scheduler
            );
            // The executor handles Ctrl-C and SIGTERM itself: it tells the scheduler and drains
            // its running tasks before it returns.
            e.wait().await.context("the executor stopped")?;
            Ok(())
        }),
    }
}
