//! The marketplace tenants' part of the state: the app's tickets and the
//! tenants' stores (`crate::tenants` serves the requests that use them).

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use super::{Shared, lock};
use crate::store::{Store, TENANT_KEY};

/// The marketplace app's tickets and where they are pushed.
#[derive(Debug, Default)]
pub(crate) struct Tickets {
    /// Newest last.
    pub valid: Vec<String>,
    /// Where tickets are pushed, when a control call named it.
    pub url: Option<String>,
    /// How many were pushed.
    pub pushed: u64,
}

/// The stores of the marketplace tenants, by tenant key (the self-built
/// app's tenant keeps [`Shared::store`]).
pub(crate) type TenantStores = Mutex<BTreeMap<String, Arc<Mutex<Store>>>>;

/// A tenant's store: the shared default one or a marketplace tenant's.
pub(crate) enum StoreRef<'a> {
    Own(&'a Mutex<Store>),
    Tenant(Arc<Mutex<Store>>),
}

impl Deref for StoreRef<'_> {
    type Target = Mutex<Store>;
    fn deref(&self) -> &Mutex<Store> {
        match self {
            StoreRef::Own(store) => store,
            StoreRef::Tenant(store) => store,
        }
    }
}

impl Shared {
    /// The store holding `tenant_key`'s data.
    pub(crate) fn store_for(&self, tenant_key: &str) -> StoreRef<'_> {
        if tenant_key == TENANT_KEY {
            return StoreRef::Own(&self.store);
        }
        StoreRef::Tenant(
            lock(&self.tenant_stores).entry(tenant_key.to_owned()).or_default().clone(),
        )
    }
}
