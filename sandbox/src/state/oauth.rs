//! The OAuth part of the state: codes waiting to be exchanged, refresh
//! tokens and revoked consents (`crate::oauth` serves the requests).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// Who approved what: the app, the user and their tenant.
#[derive(Debug, Clone)]
pub(crate) struct Consent {
    pub app_id: String,
    pub open_id: String,
    pub tenant_key: String,
    pub scope: String,
}

/// An authorisation code, until it is exchanged or expires.
#[derive(Debug)]
pub(crate) struct Code {
    pub consent: Consent,
    pub redirect_uri: Option<String>,
    pub expires: Instant,
}

/// A refresh token: it works once (`used`), until it expires.
#[derive(Debug)]
pub(crate) struct Refresh {
    pub consent: Consent,
    pub expires: Instant,
    pub used: bool,
}

/// Codes, refresh tokens and revoked consents.
#[derive(Debug, Default)]
pub(crate) struct OAuth {
    pub codes: HashMap<String, Code>,
    pub refresh: HashMap<String, Refresh>,
    /// `(app_id, open_id)` pairs whose consent was revoked.
    pub revoked: BTreeSet<(String, String)>,
    pub exchanges: u64,
    pub refreshes: u64,
    pub refused_refreshes: u64,
}
