//! What the sandbox remembers between requests: [`Shared`], the state every
//! connection shares, each part behind a lock of its own ([`lock`]), held
//! briefly. The handlers import this module and never the server; the parts
//! whose data is plain (tokens, messages, limits, faults, paging) live in
//! their own leaf modules, and the parts whose handlers need `Shared` keep
//! their data here, as children: marketplace tickets and tenant stores
//! (`tenants`), OAuth grants (`oauth`), uploads (`files`), the doc portal
//! (`portal`) and the long connections (`hub`).

pub(crate) mod files;
pub(crate) mod hub;
pub(crate) mod oauth;
pub(crate) mod portal;
pub(crate) mod tenants;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::SandboxConfig;
use crate::auth::Tokens;
use crate::faults::{self, Faults, Kind};
use crate::ids::{IdGen, XorShift};
use crate::limits::Limits;
use crate::paging::TokenMode;
use crate::reply::Reply;
use crate::routes::Routes;
use crate::store::Store;

/// Locks a mutex, carrying on after a panic elsewhere (the state stays usable).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counters behind `GET /_sandbox/stats`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
    pub faults_injected: AtomicU64,
}

/// Everything the connections share. Each part has its own lock, held briefly.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SandboxConfig,
    /// The spec's endpoints by method and path.
    pub routes: Routes,
    pub ids: IdGen,
    pub tokens: Mutex<Tokens>,
    /// The data of the self-built app's tenant (`sandbox-tenant`).
    pub store: Mutex<Store>,
    /// The data of each marketplace tenant (see [`tenants`]).
    pub tenant_stores: tenants::TenantStores,
    pub tickets: Mutex<tenants::Tickets>,
    /// Wakes the task that pushes app_tickets.
    pub ticket_push: tokio::sync::Notify,
    pub oauth: Mutex<oauth::OAuth>,
    pub limits: Mutex<Limits>,
    pub faults: Mutex<Faults>,
    pub files: Mutex<files::Files>,
    pub paging: Mutex<TokenMode>,
    /// The request log, `(record id, record)`.
    pub requests: Mutex<Vec<(u64, Value)>>,
    pub next_request: AtomicU64,
    /// When the sandbox started: the request log's `at_us` counts from it.
    pub started: std::time::Instant,
    pub stats: Stats,
    pub rng: Mutex<XorShift>,
    pub portal: portal::Portal,
    pub ws: hub::Hub,
}

impl Shared {
    /// State for a new sandbox serving `config.spec`.
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let routes = Routes::new(&config.spec);
        let portal = portal::Portal::new(config.docs.clone());
        Shared {
            config,
            routes,
            ids: IdGen::default(),
            tokens: Mutex::default(),
            store: Mutex::default(),
            tenant_stores: Mutex::default(),
            tickets: Mutex::default(),
            ticket_push: tokio::sync::Notify::new(),
            oauth: Mutex::default(),
            limits: Mutex::default(),
            faults: Mutex::default(),
            files: Mutex::default(),
            paging: Mutex::default(),
            requests: Mutex::default(),
            next_request: AtomicU64::new(0),
            started: std::time::Instant::now(),
            stats: Stats::default(),
            rng: Mutex::new(XorShift::from_entropy()),
            portal,
            ws: hub::Hub::default(),
        }
    }

    /// The endpoint serving `method path`, with the path parameters.
    pub(crate) fn route(
        &self,
        method: feishu_spec::Method,
        path: &str,
    ) -> Option<(&feishu_spec::Endpoint, Vec<(String, String)>)> {
        self.routes.find(&self.config.spec, method, path)
    }

    /// Counts a 99991400 answer (and any other rate-limit answer).
    pub(crate) fn count_rate_limited(&self) {
        self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// The answer a fault gives instead of the real one, counted when it is
    /// a rate limit; `None` drops the connection.
    pub(crate) fn fault_reply(&self, kind: Kind) -> Option<Reply> {
        if kind == Kind::RateLimited {
            self.count_rate_limited();
        }
        faults::reply(kind, &self.config.spec)
    }
}
