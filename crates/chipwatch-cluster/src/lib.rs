//! The trade indicators on an Apache DataFusion Ballista cluster.
//!
//! chipwatch's trade statistics outgrow one machine at a few hundred million rows. The indicator
//! queries of `chipwatch-trade` are SQL over the `bilateral` view, so the same text runs on the
//! embedded DataFusion engine or on a Ballista cluster; this crate supplies the cluster side:
//!
//! - [`Scheduler::start`]: a Ballista scheduler (gRPC), built into the `chipwatch` binary
//!   (`chipwatch cluster scheduler`).
//! - [`Executor::start`]: a Ballista executor (`chipwatch cluster executor`), which polls the
//!   scheduler for tasks, runs them with DataFusion 55 and serves its shuffle output to the
//!   other executors over Arrow Flight.
//! - [`remote_engine`]: a `chipwatch_trade::engine::Engine` whose session sends its plans to a
//!   scheduler (`chipwatch trade … --engine HOST:PORT`).
//!
//! Invariants: the scheduler and the executors run the Ballista and DataFusion versions this
//! binary was built with (a cluster of mixed chipwatch versions may refuse plans); every
//! executor must see the dataset at the same absolute path as the client that registered it
//! (a shared file system), because the plan names files, not bytes; results are the local
//! engine's up to floating-point summation order (tested in `tests/cluster.rs`).

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::JobId;
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use ballista_scheduler::scheduler_server::SchedulerServer;
use chipwatch_trade::engine::{Engine, BILATERAL_VIEW_NO_UNION};
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The scheduler's port when none is given (Ballista's default).
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;
/// An executor's Arrow Flight port when none is given (Ballista's default).
pub const DEFAULT_EXECUTOR_PORT: u16 = 50051;
/// An executor's gRPC port when none is given (Ballista's default; used by push scheduling).
pub const DEFAULT_EXECUTOR_GRPC_PORT: u16 = 50052;

/// Errors of the cluster processes and the remote engine.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A bad address or option.
    #[error("{0}")]
    Invalid(String),
    /// Ballista failed (connection, scheduling, a task).
    #[error("ballista: {0}")]
    Ballista(#[from] ballista_core::error::BallistaError),
    /// DataFusion failed while setting up the session.
    #[error("datafusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// The trade dataset could not be registered.
    #[error(transparent)]
    Trade(#[from] chipwatch_trade::TradeError),
    /// A socket or directory could not be opened.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A process task ended abnormally.
    #[error("{0} stopped: {1}")]
    Stopped(&'static str, String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ClusterError>;

/// `HOST:PORT` (or `HOST`, port 50050; `df://` and `http://` prefixes accepted) as host and port.
pub fn parse_address(s: &str, default_port: u16) -> Result<(String, u16)> {
    let t = s
        .trim()
        .trim_start_matches("df://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    if t.is_empty() {
        return Err(ClusterError::Invalid(format!(
            "`{s}` is not an address (HOST:PORT)"
        )));
    }
    // [v6]:port, host:port, or a bare host.
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (h, p) = rest.split_once(']').ok_or_else(|| {
            ClusterError::Invalid(format!("`{s}`: unclosed `[` in an IPv6 address"))
        })?;
        (h.to_string(), p.strip_prefix(':'))
    } else {
        match t.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
            _ => (t.to_string(), None),
        }
    };
    if host.is_empty() || host.contains('/') || host.chars().any(char::is_whitespace) {
        return Err(ClusterError::Invalid(format!(
            "`{s}` is not an address (HOST:PORT)"
        )));
    }
    let port = match port {
        None => default_port,
        Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| {
            ClusterError::Invalid(format!("`{s}`: `{p}` is not a port (1-65535)"))
        })?,
    };
    Ok((host, port))
}

/// How a scheduler starts.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Address to listen on (port 0: any free port, see [`Scheduler::addr`]).
    pub bind: SocketAddr,
    /// The host name executors and clients use to reach this scheduler (default: `localhost`).
    pub external_host: Option<String>,
    /// Jobs wait until this many executors have registered (at least 1).
    pub min_executors: usize,
    /// Seconds after which a finished job's shuffle files are removed from the executors
    /// (0 keeps them; Ballista's default is 300).
    pub job_data_ttl_secs: u64,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_SCHEDULER_PORT)),
            external_host: None,
            min_executors: 1,
            job_data_ttl_secs: 300,
        }
    }
}

/// A running scheduler.
pub struct Scheduler {
    addr: SocketAddr,
    server: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
    task: JoinHandle<Result<()>>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Scheduler {
    /// Binds the address, then serves the scheduler's gRPC service on a task of the current
    /// Tokio runtime.
    pub async fn start(opts: SchedulerOptions) -> Result<Scheduler> {
        let config = SchedulerConfig {
            bind_host: opts.bind.ip().to_string(),
            bind_port: opts.bind.port(),
            external_host: opts
                .external_host
                .clone()
                .unwrap_or_else(|| "localhost".into()),
            scheduling_policy: TaskSchedulingPolicy::PullStaged,
            min_ready_executors: opts.min_executors.max(1),
            finished_job_data_clean_up_interval_seconds: opts.job_data_ttl_secs,
            ..SchedulerConfig::default()
        };
        config.validate()?;
        let listener = tokio::net::TcpListener::bind(opts.bind)
            .await
            .map_err(|e| ClusterError::Io {
                context: format!("scheduler: cannot listen on {}", opts.bind),
                source: e,
            })?;
        let addr = listener.local_addr().map_err(|e| ClusterError::Io {
            context: "scheduler: local address".into(),
            source: e,
        })?;
        let cluster = BallistaCluster::new_from_config(&config).await?;
        let server =
            create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config))
                .await?;
        let serving = server.clone();
        let task = tokio::spawn(async move {
            start_grpc_service_with_listener(listener, serving).await?;
            Ok(())
        });
        Ok(Scheduler { addr, server, task })
    }

    /// The address the scheduler listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether at least `min_executors` executors have a live heartbeat.
    pub fn is_ready(&self) -> bool {
        self.server.is_ready()
    }

    /// Waits until [`is_ready`](Self::is_ready), at most `timeout`.
    pub async fn wait_ready(&self, timeout: std::time::Duration) -> Result<()> {
        let start = std::time::Instant::now();
        while !self.is_ready() {
            if self.task.is_finished() {
                return Err(ClusterError::Stopped(
                    "scheduler",
                    "before executors joined".into(),
                ));
            }
            if start.elapsed() > timeout {
                return Err(ClusterError::Invalid(format!(
                    "the executors did not register with the scheduler at {} within {} s",
                    self.addr,
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Waits until the scheduler stops (it runs until the process ends or the task is aborted).
    pub async fn wait(self) -> Result<()> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(ClusterError::Stopped("scheduler", e.to_string())),
        }
    }

    /// Stops the scheduler's task.
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// How an executor starts.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// Address to listen on (`0.0.0.0` to serve other machines).
    pub bind_host: String,
    /// Arrow Flight port: other executors and the client fetch this executor's results here.
    pub port: u16,
    /// gRPC port (push scheduling; chipwatch's cluster uses pull scheduling but reserves it).
    pub grpc_port: u16,
    /// The host name the scheduler hands out for this executor (default: the address it
    /// connected from).
    pub external_host: Option<String>,
    /// Where shuffle files and spills go (default: a fresh temporary directory).
    pub work_dir: Option<PathBuf>,
    /// Task slots (0: the number of cores).
    pub vcores: usize,
    /// Seconds to keep trying to reach the scheduler at start-up (0: fail at once).
    pub connect_timeout_secs: u16,
    /// Counts the tasks (one stage, one or more partitions) this executor runs: how the
    /// cluster test sees that every executor worked. With a counter the executor does not keep
    /// a pool of Flight clients to the other executors (Ballista keeps its pool private).
    pub task_counter: Option<Arc<AtomicUsize>>,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            scheduler_host: "localhost".into(),
            scheduler_port: DEFAULT_SCHEDULER_PORT,
            bind_host: "127.0.0.1".into(),
            port: DEFAULT_EXECUTOR_PORT,
            grpc_port: DEFAULT_EXECUTOR_GRPC_PORT,
            external_host: None,
            work_dir: None,
            vcores: 0,
            connect_timeout_secs: 30,
            task_counter: None,
        }
    }
}

/// Ballista's execution engine, counting the tasks it is handed.
struct CountingEngine {
    inner: DefaultExecutionEngine,
    tasks: Arc<AtomicUsize>,
}

impl ExecutionEngine for CountingEngine {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> datafusion::error::Result<Arc<dyn QueryStageExecutor>> {
        self.tasks.fetch_add(1, Ordering::SeqCst);
        self.inner.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )
    }
}

/// Waits until the scheduler's port accepts connections, at most `secs` seconds (0: one try).
async fn wait_for_scheduler(host: &str, port: u16, secs: u16) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(u64::from(secs));
    loop {
        let attempt = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            tokio::net::TcpStream::connect((host, port)),
        )
        .await;
        let err = match attempt {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer within 2 s".to_string(),
        };
        if std::time::Instant::now() >= deadline {
            return Err(ClusterError::Invalid(format!(
                "executor: cannot reach the scheduler at {host}:{port} within {secs} s ({err})"
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// A running executor.
#[derive(Debug)]
pub struct Executor {
    task: JoinHandle<Result<()>>,
}

impl Executor {
    /// Starts an executor on a task of the current Tokio runtime. It registers with the
    /// scheduler and polls it for tasks until the process receives Ctrl-C or SIGTERM (then it
    /// tells the scheduler and drains its running tasks) or the task is aborted.
    pub async fn start(opts: ExecutorOptions) -> Result<Executor> {
        if let Some(dir) = &opts.work_dir {
            std::fs::create_dir_all(dir).map_err(|e| ClusterError::Io {
                context: format!(
                    "executor: cannot create the work directory {}",
                    dir.display()
                ),
                source: e,
            })?;
        }
        // Ballista 55.0's own retry loop never ends (it measures the elapsed time of a fresh
        // `Instant`), so chipwatch waits for the scheduler itself and lets Ballista connect
        // once: an executor without a scheduler fails with a clear error instead of retrying
        // forever.
        wait_for_scheduler(
            &opts.scheduler_host,
            opts.scheduler_port,
            opts.connect_timeout_secs,
        )
        .await?;
        let config = ExecutorProcessConfig {
            bind_host: opts.bind_host.clone(),
            port: opts.port,
            grpc_port: opts.grpc_port,
            external_host: opts.external_host.clone(),
            scheduler_host: opts.scheduler_host.clone(),
            scheduler_port: opts.scheduler_port,
            scheduler_connect_timeout_seconds: 0,
            vcores: opts.vcores,
            task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
            work_dir: opts
                .work_dir
                .as_ref()
                .map(|d| d.to_string_lossy().into_owned()),
            // A heartbeat every few seconds so that a lost executor is noticed quickly.
            executor_heartbeat_interval_seconds: 5,
            print_thread_info: false,
            override_execution_engine: opts.task_counter.clone().map(|n| {
                Arc::new(CountingEngine {
                    inner: DefaultExecutionEngine::new(),
                    tasks: n,
                }) as Arc<dyn ExecutionEngine>
            }),
            ..ExecutorProcessConfig::default()
        };
        let task = tokio::spawn(async move {
            start_executor_process(Arc::new(config)).await?;
            Ok(())
        });
        Ok(Executor { task })
    }

    /// Waits until the executor stops.
    pub async fn wait(self) -> Result<()> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(ClusterError::Stopped("executor", e.to_string())),
        }
    }

    /// Whether the executor's task has ended (it failed to start, or it stopped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the executor's task.
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// A session that sends its plans to the scheduler at `scheduler` (`HOST:PORT`), with
/// `partitions` target partitions (the number of tasks a scan or a shuffle is split into).
pub async fn remote_context(scheduler: &str, partitions: Option<usize>) -> Result<SessionContext> {
    let (host, port) = parse_address(scheduler, DEFAULT_SCHEDULER_PORT)?;
    let mut config: SessionConfig =
        SessionConfig::new_with_ballista().with_information_schema(true);
    if let Some(n) = partitions {
        config = config.with_target_partitions(n.max(1));
    }
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    Ok(SessionContext::remote_with_state(&format!("df://{host}:{port}"), state).await?)
}

/// The trade dataset at `dir` on a cluster: every indicator of `chipwatch_trade::indicators`
/// runs on it as on the embedded engine. The executors must see `dir` at the same absolute
/// path.
pub async fn remote_engine(
    scheduler: &str,
    dir: &Path,
    partitions: Option<usize>,
) -> Result<Engine> {
    let ctx = remote_context(scheduler, partitions).await?;
    Ok(Engine::with_context(ctx, dir, BILATERAL_VIEW_NO_UNION).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("10.0.0.5:6000", 50050).unwrap(),
            ("10.0.0.5".into(), 6000)
        );
        assert_eq!(
            parse_address("df://sched.example:50050", 1).unwrap(),
            ("sched.example".into(), 50050)
        );
        assert_eq!(
            parse_address("sched", 50050).unwrap(),
            ("sched".into(), 50050)
        );
        assert_eq!(
            parse_address("[::1]:7000", 50050).unwrap(),
            ("::1".into(), 7000)
        );
        for bad in ["", "host:0", "host:99999", "host:x", "[::1", "a b:1"] {
            assert!(parse_address(bad, 50050).is_err(), "{bad}");
        }
    }
}
