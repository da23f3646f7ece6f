//! The doc portal's part of the state: its folder, the index of its pages,
//! canned answers and counters (`crate::portal` serves the requests).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::lock;

/// The tree call (the misspelling is the real portal's).
pub(crate) const DIRECTORY_LIST: &str = "/api/tools/docment/directory_list";
/// The page call.
pub(crate) const GET_DETAIL: &str = "/document_portal/v1/document/get_detail";
/// The portal of one sandbox: off unless it has a folder.
#[derive(Debug, Default)]
pub(crate) struct Portal {
    /// The folder of pages served.
    pub dir: Option<PathBuf>,
    pub state: Mutex<State>,
}

/// What the portal counts and keeps between requests.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// fullPath → file, from the last read of the folder.
    pub index: BTreeMap<String, PathBuf>,
    pub canned: Vec<Canned>,
    pub directory_lists: u64,
    pub details: u64,
    pub accept_language: Option<String>,
}

/// A canned answer: served instead of the real one to requests whose path (with query) starts with `prefix`.
#[derive(Debug)]
pub(crate) struct Canned {
    pub prefix: String,
    pub status: u16,
    pub body: Vec<u8>,
    /// How many more requests get it; `None`: every one.
    pub remaining: Option<u64>,
}

impl Portal {
    /// A portal serving `dir`, or none.
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        Portal { dir, state: Mutex::default() }
    }

    /// Whether `path` is one of the portal's calls (only when it has a folder).
    pub(crate) fn serves(&self, path: &str) -> bool {
        self.dir.is_some() && (path == DIRECTORY_LIST || path == GET_DETAIL)
    }

    /// Forgets canned answers and counters.
    pub(crate) fn reset(&self) {
        let mut state = lock(&self.state);
        state.canned.clear();
        state.directory_lists = 0;
        state.details = 0;
        state.accept_language = None;
    }
}
