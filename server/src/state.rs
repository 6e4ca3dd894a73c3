//! Everything a handler can reach.

use crate::audit::AuditLog;
use crate::auth::accounts::Accounts;
use crate::catalog::Catalog;
use crate::config::WebConfig;
use crate::db::Db;
use crate::deploy::Deployments;
use crate::events::EventBus;
use crate::metrics::Metrics;
use app::ports::Ports;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Cloned for every request by each layer and handler that takes it, so it is one pointer: a
/// struct of a dozen `Arc`s and the Leptos options cost 5 % of the CPU of alert ingestion (perf).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// leptos_axum's handlers take the options from the router's state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}

pub struct Shared {
    /// Where the built site lives and what the bundle is called; read by leptos_axum.
    pub leptos_options: LeptosOptions,
    /// Both database pools.
    pub db: Db,
    /// Publishes committed events to websocket sessions.
    pub bus: Arc<EventBus>,
    /// Alerts, silences, channels, escalation.
    pub alerts: Arc<crate::alerts::Alerts>,
    /// Components and the prober.
    pub components: Arc<crate::probes::Components>,
    /// SLO definitions and evaluation.
    pub slos: Arc<crate::slos::Slos>,
    /// Users, tokens and sign-in.
    pub accounts: Arc<Accounts>,
    /// The audit trail.
    pub audit: Arc<AuditLog>,
    /// Services and environments.
    pub catalog: Arc<Catalog>,
    /// The deploy engine.
    pub deployments: Arc<Deployments>,
    /// Maintenance mode, read by every request.
    pub maintenance: Arc<crate::maintenance::MaintenanceMode>,
    /// CI builds and the failure predictor.
    pub builds: Arc<crate::builds::Builds>,
    /// Runtime configuration values.
    pub config_values: Arc<crate::runtime_config::RuntimeConfig>,
    /// Feature flags and their in-memory copy for evaluation.
    pub flags: Arc<crate::flags::Flags>,
    /// Webhook secrets (variables, else the settings page).
    pub secrets: Arc<crate::webhooks::Secrets>,
    /// Stored CI/CD webhook deliveries, applied in the background.
    pub inbox: Arc<crate::webhooks::Inbox>,
    /// Reads the pages' server functions keep (`read_cache.rs`).
    pub reads: Arc<crate::read_cache::ReadCache>,
    /// Request, websocket and event counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Cookie and origin policy.
    pub config: Arc<WebConfig>,
    /// Whether the database answered its last ping.
    pub reachability: Arc<crate::reachability::Reachability>,
    /// Serving, draining or abandoning: read by websockets, log streams and the workers.
    pub shutdown: crate::shutdown::Shutdown,
}

impl AppState {
    /// The services as the ports the pages' server functions use (the same instances: each
    /// service is held once, here).
    pub fn ports(&self) -> Ports {
        Ports {
            accounts: self.accounts.clone(),
            alerts: self.alerts.clone(),
            audit: self.audit.clone(),
            builds: self.builds.clone(),
            catalog: self.catalog.clone(),
            config: self.config_values.clone(),
            components: self.components.clone(),
            deployments: self.deployments.clone(),
            flags: self.flags.clone(),
            settings: Arc::new(crate::webhooks::WebhookSettings {
                secrets: self.secrets.clone(),
                inbox: self.inbox.clone(),
            }),
            slos: self.slos.clone(),
            system: Arc::new(crate::system::SystemHealth(self.db.pool.clone())),
            reads: self.reads.clone(),
        }
    }

    /// Builds the state over an open, migrated database and starts the event bus. Background
    /// workers start separately ([`AppState::start_workers`]): CLI commands that only write a
    /// row must not pick up deployments.
    pub async fn new(
        db: Db,
        leptos_options: LeptosOptions,
        config: WebConfig,
    ) -> Result<AppState, sqlx::Error> {
        let bus = EventBus::new(db.pool.clone()).await?;
        bus.spawn();
        if let crate::db::TypedPool::Postgres(pg) = &db.typed {
            bus.listen(pg.clone());
        }
        let accounts = Arc::new(Accounts::new(
            db.pool.clone(),
            bus.clone(),
            config.trusted_proxies.clone(),
        ));
        let audit = Arc::new(AuditLog::new(db.pool.clone()));
        let catalog = Arc::new(Catalog::new(db.pool.clone(), bus.clone()));
        let maintenance =
            crate::maintenance::MaintenanceMode::start(db.pool.clone(), bus.clone()).await?;
        let shutdown = crate::shutdown::Shutdown::default();
        let deployments = Deployments::new(
            &db,
            bus.clone(),
            config.deploy.clone(),
            config.webhooks.deployer.clone(),
            maintenance.clone(),
            shutdown.clone(),
        );
        let alerts = crate::alerts::Alerts::new(&db, bus.clone(), &config.alerting);
        let prometheus_url = config.alerting.prometheus_url.as_deref();
        let components = crate::probes::Components::new(
            &db,
            bus.clone(),
            alerts.clone(),
            prometheus_url,
            (maintenance.clone(), deployments.clone()),
        );
        let flags = crate::flags::Flags::start(db.pool.clone(), bus.clone()).await?;
        let config_values = crate::runtime_config::RuntimeConfig::new(db.pool.clone(), bus.clone());
        let builds = crate::builds::Builds::start(&db, bus.clone()).await;
        let slos = crate::slos::Slos::new(
            &db,
            bus.clone(),
            crate::slos::Linked {
                alerts: alerts.clone(),
                deployments: deployments.clone(),
                flags: flags.clone(),
                maintenance: maintenance.clone(),
            },
            prometheus_url,
            config.alerting.slo_interval,
        );
        let inbox = crate::webhooks::Inbox::start(db.pool.clone(), db.backend);
        let secrets =
            crate::webhooks::Secrets::new(db.pool.clone(), bus.clone(), config.webhooks.clone());
        let reads = Arc::new(crate::read_cache::ReadCache::new(bus.clone()));
        Ok(AppState(Arc::new(Shared {
            leptos_options,
            db,
            bus,
            accounts,
            alerts,
            audit,
            catalog,
            components,
            slos,
            deployments,
            flags,
            config_values,
            builds,
            maintenance,
            secrets,
            inbox,
            reads,
            metrics: Arc::new(Metrics::default()),
            config: Arc::new(config),
            shutdown,
            reachability: Default::default(),
        })))
    }

    /// Starts the workers that run deployments, health watches, escalations, notifications,
    /// probes and SLO evaluation.
    pub fn start_workers(&self) {
        self.reachability.spawn_probe(self.db.clone());
        self.deployments.spawn_workers();
        self.inbox.spawn_worker(self.deployments.clone());
        self.alerts.spawn_worker();
        self.components.spawn_worker();
        self.slos.spawn_worker();
        self.maintenance.spawn_worker();
        self.builds.spawn_worker();
        crate::system::spawn_sampler(self.clone());
    }
}
