//! The chipwatch HTTP server: the only crate that knows HTTP.
//!
//! [`app`] builds the axum [`Router`] from one route table ([`route_table`]); the same table
//! drives the OpenAPI sync test and the cross-tenant sweep, so no endpoint escapes either.
//! REST under `/api/v1`: model analytics, scenarios, partner exchange (records, agreements,
//! information requests, federation) and audit; `/healthz`, `/metrics` and
//! `/api/v1/openapi.json` besides. Errors are JSON with a stable code from [`error::ERROR_CODES`].
//!
//! Authentication is by bearer token (or the dashboard's session cookie): see
//! [`auth::resolve_principal`], the one function that turns a request into a principal, and
//! [`security`] for the failed-authentication limits and session policy. `/metrics` needs an
//! admin token on the main listener; [`serve_with`] can serve it, alone, on a second address.

pub mod access_log;
pub mod auth;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod security;
pub mod vocabulary;
pub mod web;

pub use security::Security;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use chipwatch_model::ValueChain;
use chipwatch_store::Store;
use error::ApiError;
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub body_bytes: usize,
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 1 << 20,
            timeout: metrics::REQUEST_TIMEOUT,
        }
    }
}

/// Answers computed once at start-up (the model does not change while the server runs).
#[derive(Debug)]
pub struct Cache {
    pub chokepoints: axum::body::Bytes,
    /// Item id -> serialised item detail.
    pub items: std::collections::HashMap<String, axum::body::Bytes>,
    /// The OpenAPI document, serialised.
    pub openapi: axum::body::Bytes,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub model: Arc<ValueChain>,
    pub metrics: Arc<metrics::Metrics>,
    pub http: reqwest::Client,
    pub limits: Limits,
    pub cache: Arc<Cache>,
    /// Name of this instance in federation (`origin` of the records it sends).
    pub instance: String,
    /// Session policy and abuse limits.
    pub security: Security,
    /// Failed-authentication counters (shared by all requests).
    pub auth_failures: Arc<security::FailureLimiter>,
    /// Name of the operator organisation whose admins are instance admins (audit
    /// verification); `None`: the first local organisation created.
    pub operator_org: Option<String>,
    /// The one audit verification job (`/api/v1/audit/verify`, the dashboard).
    pub audit_job: Arc<routes::audit::VerifyJob>,
    /// Open summary windows of audited reads ([`access_log`]).
    pub access: Arc<access_log::AccessLog>,
    /// Production data of the scenario engine's segment layer (`None` for a model whose items
    /// the embedded data do not describe: scenarios then run the item view only).
    pub production: Option<Arc<chipwatch_model::production::ProductionData>>,
    /// The trade dataset behind `/api/v1/trade/*` and the dashboard's trade page (`None`: the
    /// server was started without one).
    pub trade: Option<Arc<routes::trade::TradeData>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("instance", &self.instance)
            .finish()
    }
}

impl AppState {
    pub fn new(store: Store, model: ValueChain, instance: impl Into<String>) -> AppState {
        let cache = Cache {
            chokepoints: routes::model::default_chokepoints(&model).into(),
            items: routes::model::all_item_details(&model),
            openapi: serde_json::to_vec(&openapi()).unwrap_or_default().into(),
        };
        let production = chipwatch_data::fabs::production_for(&model)
            .ok()
            .map(Arc::new);
        AppState {
            store,
            model: Arc::new(model),
            metrics: Arc::new(metrics::Metrics::default()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap_or_default(),
            limits: Limits::default(),
            cache: Arc::new(cache),
            instance: instance.into(),
            auth_failures: Arc::new(security::FailureLimiter::new(&Security::default())),
            security: Security::default(),
            operator_org: None,
            audit_job: Arc::new(routes::audit::VerifyJob::default()),
            access: Arc::new(access_log::AccessLog::default()),
            production,
            trade: None,
        }
    }

    /// The same state with a trade dataset opened on the embedded engine.
    pub fn with_trade(
        mut self,
        engine: chipwatch_trade::engine::Engine,
        vintage: Option<String>,
    ) -> AppState {
        self.trade = Some(Arc::new(routes::trade::TradeData {
            engine,
            mapping: chipwatch_trade::hs::Mapping::embedded(),
            vintage,
        }));
        self
    }

    /// The same state with other security settings (and fresh failure counters).
    pub fn with_security(mut self, security: Security) -> AppState {
        self.auth_failures = Arc::new(security::FailureLimiter::new(&security));
        self.security = security;
        self
    }

    /// Name the operator organisation whose admins are instance admins.
    pub fn with_operator_org(mut self, name: impl Into<String>) -> AppState {
        self.operator_org = Some(name.into());
        self
    }
}

/// What kind of object an id in a route's path names (drives the cross-tenant sweep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// No id in the path.
    None,
    /// Public reference data (model items, providers): the same for every tenant.
    Public,
    /// An object owned by (or shared between) organisations: must never cross tenants.
    Tenant,
    /// Instance configuration (federation peers), admin-only.
    Instance,
}

/// One route: method, path template, whether it needs a token, what its id names.
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub auth: bool,
    pub id: IdKind,
    handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for RouteDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The route table: every endpoint of the server.
pub fn route_table() -> Vec<RouteDef> {
    use routes::*;
    use IdKind::*;
    fn r<H, T>(method: Method, path: &'static str, auth: bool, id: IdKind, h: H) -> RouteDef
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("standard method");
        RouteDef {
            method,
            path,
            auth,
            id,
            handler: on(filter, h),
        }
    }
    let (get, post, delete) = (Method::GET, Method::POST, Method::DELETE);
    vec![
        r(get.clone(), "/healthz", false, None, system::healthz),
        r(get.clone(), "/metrics", true, None, system::metrics),
        r(
            get.clone(),
            "/api/v1/openapi.json",
            false,
            None,
            system::openapi,
        ),
        // model
        r(get.clone(), "/api/v1/items", true, None, model::list_items),
        r(
            get.clone(),
            "/api/v1/items/{id}",
            true,
            Public,
            model::get_item,
        ),
        r(
            get.clone(),
            "/api/v1/items/{id}/shares",
            true,
            Public,
            model::item_shares,
        ),
        r(
            get.clone(),
            "/api/v1/providers",
            true,
            None,
            model::list_providers,
        ),
        r(
            get.clone(),
            "/api/v1/providers/{id}",
            true,
            Public,
            model::get_provider,
        ),
        r(
            get.clone(),
            "/api/v1/chokepoints",
            true,
            None,
            model::chokepoints,
        ),
        r(
            get.clone(),
            "/api/v1/dependence",
            true,
            None,
            model::dependence,
        ),
        r(
            get.clone(),
            "/api/v1/value-share",
            true,
            None,
            model::value_share,
        ),
        r(
            post.clone(),
            "/api/v1/model/validate",
            true,
            None,
            model::validate_model,
        ),
        r(post.clone(), "/api/v1/risk", true, None, model::risk),
        // scenarios
        r(
            post.clone(),
            "/api/v1/scenarios/run",
            true,
            None,
            scenarios::run_adhoc,
        ),
        r(
            post.clone(),
            "/api/v1/scenarios",
            true,
            None,
            scenarios::save,
        ),
        r(
            get.clone(),
            "/api/v1/scenarios",
            true,
            None,
            scenarios::list,
        ),
        r(
            get.clone(),
            "/api/v1/scenarios/{id}",
            true,
            Tenant,
            scenarios::get,
        ),
        r(
            post.clone(),
            "/api/v1/scenarios/{id}/run",
            true,
            Tenant,
            scenarios::run_saved,
        ),
        r(
            get.clone(),
            "/api/v1/scenarios/{id}/result",
            true,
            Tenant,
            scenarios::result,
        ),
        // trade statistics
        r(get.clone(), "/api/v1/trade", true, None, trade::summary),
        r(
            get.clone(),
            "/api/v1/trade/dependence",
            true,
            None,
            trade::dependence,
        ),
        r(
            get.clone(),
            "/api/v1/trade/bilateral",
            true,
            None,
            trade::bilateral,
        ),
        r(
            get.clone(),
            "/api/v1/trade/partners",
            true,
            None,
            trade::partners,
        ),
        r(
            get.clone(),
            "/api/v1/trade/alerts",
            true,
            None,
            trade::alerts,
        ),
        r(
            get.clone(),
            "/api/v1/trade/matrix",
            true,
            None,
            trade::matrix,
        ),
        // export controls
        r(
            post.clone(),
            "/api/v1/licence/check",
            true,
            None,
            controls::licence_check,
        ),
        r(
            get.clone(),
            "/api/v1/licences/denials",
            true,
            None,
            denials::list_denials,
        ),
        r(
            post.clone(),
            "/api/v1/licences/denials",
            true,
            None,
            denials::publish_denial,
        ),
        r(
            get.clone(),
            "/api/v1/licences/denials/{id}",
            true,
            Tenant,
            denials::show_denial,
        ),
        r(
            post.clone(),
            "/api/v1/licences/denials/{id}/withdrawal",
            true,
            Tenant,
            denials::withdraw_denial,
        ),
        r(
            post.clone(),
            "/api/v1/licence/records",
            true,
            None,
            controls::create_determination_record,
        ),
        r(
            get.clone(),
            "/api/v1/licence/records",
            true,
            None,
            controls::list_determination_records,
        ),
        // licence register
        r(get.clone(), "/api/v1/licences", true, None, licences::list),
        r(
            post.clone(),
            "/api/v1/licences",
            true,
            None,
            licences::create,
        ),
        r(
            get.clone(),
            "/api/v1/licences/{id}",
            true,
            Tenant,
            licences::get,
        ),
        r(
            post.clone(),
            "/api/v1/licences/{id}/shipments",
            true,
            Tenant,
            licences::ship,
        ),
        r(
            post.clone(),
            "/api/v1/licences/{id}/events",
            true,
            Tenant,
            licences::add_event,
        ),
        r(
            post.clone(),
            "/api/v1/licences/{id}/impact",
            true,
            Tenant,
            licences::impact,
        ),
        r(
            post.clone(),
            "/api/v1/licences/impact",
            true,
            None,
            licences::decision_impact,
        ),
        r(
            post.clone(),
            "/api/v1/screening",
            true,
            None,
            controls::screening,
        ),
        // former names, deprecated (vocabulary::DEPRECATED_ROUTES)
        r(
            post.clone(),
            "/api/v1/controls/determine",
            true,
            None,
            controls::determine,
        ),
        r(
            post.clone(),
            "/api/v1/controls/screen",
            true,
            None,
            controls::screen,
        ),
        r(
            get.clone(),
            "/api/v1/measures",
            true,
            None,
            measures::list_measures,
        ),
        r(
            get.clone(),
            "/api/v1/measures/{id}",
            true,
            Public,
            measures::get_measure,
        ),
        r(
            get.clone(),
            "/api/v1/measures/{id}/impact",
            true,
            Public,
            measures::measure_impact,
        ),
        r(
            get.clone(),
            "/api/v1/products",
            true,
            None,
            measures::list_products,
        ),
        // monitor
        r(
            get.clone(),
            "/api/v1/monitor/events",
            true,
            None,
            monitor::events,
        ),
        r(
            get.clone(),
            "/api/v1/monitor/alerts",
            true,
            None,
            monitor::alerts,
        ),
        r(
            get.clone(),
            "/api/v1/monitor/watchlists",
            true,
            None,
            monitor::list_watchlists,
        ),
        r(
            post.clone(),
            "/api/v1/monitor/watchlists",
            true,
            None,
            monitor::save_watchlist,
        ),
        r(
            post.clone(),
            "/api/v1/monitor/classify",
            true,
            None,
            monitor::classify,
        ),
        r(
            post.clone(),
            "/api/v1/monitor/events/{id}/feedback",
            true,
            Public,
            monitor::add_feedback,
        ),
        r(
            get.clone(),
            "/api/v1/monitor/feedback",
            true,
            None,
            monitor::list_feedback,
        ),
        r(
            get.clone(),
            "/api/v1/monitor/watchlists/{id}",
            true,
            Tenant,
            monitor::get_watchlist,
        ),
        // identity
        r(get.clone(), "/api/v1/me", true, None, exchange::me),
        r(get.clone(), "/api/v1/orgs", true, None, exchange::list_orgs),
        r(
            get.clone(),
            "/api/v1/orgs/{id}/users",
            true,
            Tenant,
            exchange::list_users,
        ),
        r(
            post.clone(),
            "/api/v1/orgs/{id}/users",
            true,
            Tenant,
            exchange::create_user,
        ),
        r(
            get.clone(),
            "/api/v1/tokens",
            true,
            None,
            exchange::list_tokens,
        ),
        r(
            post.clone(),
            "/api/v1/tokens",
            true,
            None,
            exchange::create_token,
        ),
        r(
            delete.clone(),
            "/api/v1/tokens/{id}",
            true,
            Tenant,
            exchange::revoke_token,
        ),
        // partner exchange
        r(
            post.clone(),
            "/api/v1/records",
            true,
            None,
            exchange::create_record,
        ),
        r(
            get.clone(),
            "/api/v1/records",
            true,
            None,
            exchange::list_records,
        ),
        r(
            get.clone(),
            "/api/v1/records/{id}",
            true,
            Tenant,
            exchange::get_record,
        ),
        r(
            Method::PUT,
            "/api/v1/records/{id}",
            true,
            Tenant,
            exchange::update_record,
        ),
        r(
            delete.clone(),
            "/api/v1/records/{id}",
            true,
            Tenant,
            exchange::delete_record,
        ),
        r(
            get.clone(),
            "/api/v1/aggregates",
            true,
            None,
            exchange::aggregates,
        ),
        r(
            get.clone(),
            "/api/v1/sharing-groups",
            true,
            None,
            exchange::list_groups,
        ),
        r(
            post.clone(),
            "/api/v1/sharing-groups",
            true,
            None,
            exchange::create_group,
        ),
        r(
            post.clone(),
            "/api/v1/agreements",
            true,
            None,
            exchange::create_agreement,
        ),
        r(
            get.clone(),
            "/api/v1/agreements",
            true,
            None,
            exchange::list_agreements,
        ),
        r(
            get.clone(),
            "/api/v1/agreements/{id}",
            true,
            Tenant,
            exchange::get_agreement,
        ),
        r(
            post.clone(),
            "/api/v1/agreements/{id}/revoke",
            true,
            Tenant,
            exchange::revoke_agreement,
        ),
        // information requests
        r(
            post.clone(),
            "/api/v1/requests",
            true,
            None,
            requests::create_request,
        ),
        r(
            get.clone(),
            "/api/v1/requests",
            true,
            None,
            requests::list_requests,
        ),
        r(
            get.clone(),
            "/api/v1/requests/{id}",
            true,
            Tenant,
            requests::get_request,
        ),
        r(
            post.clone(),
            "/api/v1/requests/{id}/respond",
            true,
            Tenant,
            requests::respond,
        ),
        r(
            post.clone(),
            "/api/v1/requests/{id}/decline",
            true,
            Tenant,
            requests::decline,
        ),
        r(
            post.clone(),
            "/api/v1/requests/{id}/withdraw",
            true,
            Tenant,
            requests::withdraw,
        ),
        r(
            get.clone(),
            "/api/v1/requests/{id}/records",
            true,
            Tenant,
            requests::request_records,
        ),
        // federation
        r(
            get.clone(),
            "/api/v1/federation/outbox",
            true,
            None,
            federation::outbox,
        ),
        r(
            post.clone(),
            "/api/v1/federation/inbox",
            true,
            None,
            federation::inbox,
        ),
        r(
            post.clone(),
            "/api/v1/federation/peers/{name}/push",
            true,
            Instance,
            federation::push_route,
        ),
        r(
            post.clone(),
            "/api/v1/federation/peers/{name}/pull",
            true,
            Instance,
            federation::pull_route,
        ),
        // audit
        r(get.clone(), "/api/v1/audit", true, None, audit::list),
        r(get, "/api/v1/audit/verify", true, None, audit::verify),
        r(
            post,
            "/api/v1/audit/verify",
            true,
            None,
            audit::start_verify,
        ),
    ]
}

/// Bearer-token security scheme for the OpenAPI document.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "chipwatch API", description = "Semiconductor supply-chain resilience and export-control intelligence: model analytics, scenarios, partner exchange, audit. Errors: {\"error\": {\"code\", \"message\"}} with the codes listed in docs/api.md."),
    modifiers(&BearerAuth),
    paths(
        routes::system::healthz, routes::system::metrics, routes::system::openapi,
        routes::model::list_items, routes::model::get_item, routes::model::item_shares,
        routes::model::list_providers, routes::model::get_provider, routes::model::chokepoints,
        routes::model::dependence, routes::model::value_share,
        routes::scenarios::run_adhoc, routes::scenarios::save, routes::scenarios::list,
        routes::scenarios::get, routes::scenarios::run_saved, routes::scenarios::result,
        routes::controls::licence_check, routes::controls::screening,
        routes::controls::create_determination_record, routes::controls::list_determination_records,
        routes::denials::list_denials, routes::denials::publish_denial, routes::denials::show_denial, routes::denials::withdraw_denial,
        routes::controls::determine, routes::controls::screen,
        routes::licences::list, routes::licences::create, routes::licences::get,
        routes::licences::ship, routes::licences::add_event, routes::licences::impact, routes::licences::decision_impact,
        routes::measures::list_measures, routes::measures::get_measure,
        routes::measures::measure_impact, routes::measures::list_products,
        routes::model::validate_model, routes::model::risk,
        routes::monitor::events, routes::monitor::alerts, routes::monitor::list_watchlists,
        routes::monitor::save_watchlist, routes::monitor::get_watchlist, routes::monitor::classify,
        routes::monitor::add_feedback, routes::monitor::list_feedback,
        routes::exchange::me, routes::exchange::list_orgs, routes::exchange::list_users,
        routes::exchange::create_user, routes::exchange::list_tokens, routes::exchange::create_token,
        routes::exchange::revoke_token, routes::exchange::create_record, routes::exchange::list_records,
        routes::exchange::get_record, routes::exchange::update_record, routes::exchange::delete_record, routes::exchange::aggregates,
        routes::exchange::list_groups, routes::exchange::create_group, routes::exchange::create_agreement,
        routes::exchange::list_agreements, routes::exchange::get_agreement, routes::exchange::revoke_agreement,
        routes::requests::create_request, routes::requests::list_requests, routes::requests::get_request,
        routes::requests::respond, routes::requests::decline, routes::requests::withdraw,
        routes::requests::request_records,
        routes::federation::outbox, routes::federation::inbox, routes::federation::push_route,
        routes::federation::pull_route,
        routes::audit::list, routes::audit::verify, routes::audit::start_verify,
        routes::trade::summary, routes::trade::dependence, routes::trade::bilateral,
        routes::trade::partners, routes::trade::alerts, routes::trade::matrix,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail, routes::scenarios::ScenarioBody, routes::controls::PartyBody, routes::controls::ParamValue, routes::controls::DetermineBody, routes::licences::LicenceBody, routes::licences::LicenceItemBody, routes::licences::LegalBasisBody, routes::licences::ShipmentBody, routes::licences::EventBody, routes::licences::DecisionBody))
)]
struct ApiDoc;

/// The OpenAPI document: generated from the handlers' annotations, then completed with the
/// error answers every operation shares ([`openapi::complete`], driven by the route table).
pub fn openapi() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    openapi::complete(&mut doc, &route_table());
    doc
}

async fn not_found() -> ApiError {
    ApiError::new("not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        "method_not_allowed",
        "this route does not accept this method",
    )
}

fn panic_response(_err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("handler panicked");
    ApiError::new("internal", "internal error").into_response()
}

/// The application router.
pub fn app(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for r in route_table() {
        router = router.route(r.path, r.handler);
    }
    router
        .merge(web::router())
        .layer(axum::middleware::from_fn(vocabulary::mark_deprecated))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.limits.body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

/// The router of the metrics-only listener (`serve --metrics-addr`): `/metrics` without a
/// token, nothing else. Bind it to an address only the monitoring system reaches.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(routes::system::metrics_open))
        .fallback(not_found)
        .with_state(state)
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Bind and serve until Ctrl-C / SIGTERM. Prints the bound address on stderr (useful with
/// port 0).
pub async fn serve(addr: &str, state: AppState) -> Result<(), ServeError> {
    serve_with(addr, None, state).await
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.to_string(),
            source,
        })
}

/// Like [`serve`], plus, with `metrics_addr`, a second listener that serves `/metrics` alone
/// without a token ([`metrics_app`]).
pub async fn serve_with(
    addr: &str,
    metrics_addr: Option<&str>,
    state: AppState,
) -> Result<(), ServeError> {
    let listener = bind(addr).await?;
    let metrics = match metrics_addr {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let local = listener.local_addr()?;
    eprintln!("chipwatch listening on http://{local}");
    tracing::info!(%local, "listening");
    if let Some(m) = &metrics {
        let m = m.local_addr()?;
        eprintln!("chipwatch metrics on http://{m}/metrics");
        tracing::info!(%m, "metrics listening");
    }
    serve_listeners(listener, metrics, state, shutdown_signal()).await
}

/// Serve on bound listeners until `shutdown` completes. The main listener records each
/// connection's address, which the failed-authentication limit and the logs use.
pub async fn serve_listeners<F>(
    main: tokio::net::TcpListener,
    metrics: Option<tokio::net::TcpListener>,
    state: AppState,
    shutdown: F,
) -> Result<(), ServeError>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    // Summaries of audited reads are written when their window ends (bounded by the server's
    // life: the task is aborted when the servers stop).
    let sweeper = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = access_log::flush(&state, false).await {
                    tracing::error!(error = %e.message, "could not write access summaries");
                }
            }
        })
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let main_server = axum::serve(
        main,
        app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(rx.clone()));
    match metrics {
        Some(m) => {
            let metrics_server =
                axum::serve(m, metrics_app(state.clone())).with_graceful_shutdown(stopped(rx));
            tokio::try_join!(
                std::future::IntoFuture::into_future(main_server),
                std::future::IntoFuture::into_future(metrics_server)
            )?;
        }
        None => main_server.await?,
    }
    sweeper.abort();
    if let Err(e) = access_log::flush(&state, true).await {
        tracing::error!(error = %e.message, "could not write access summaries at shutdown");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
