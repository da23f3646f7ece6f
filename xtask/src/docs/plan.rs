//! What a sync will do, decided before any page is fetched: which local
//! files are which portal pages, which pages are selected and where each one
//! goes, and which owned pages are gone upstream.
//!
//! A page already in the folder stays in its file (a seed page keeps its
//! name); a new page goes to its [`layout`](super::layout) path. A page whose
//! path is taken by a file that is another page (or that the sync cannot
//! identify) is not written: it fails, naming both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::header::{self, Identity};
use super::layout;
use super::portal::TreePage;
use super::walk;

/// A page file in the docs folder.
#[derive(Debug, Clone)]
pub struct Local {
    /// Relative to the folder, with `/`.
    pub rel: String,
    pub identity: Identity,
}

/// Which pages to sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The pages already in the folder.
    Existing,
    All,
    Services(Vec<String>),
    Paths(Vec<String>),
}

impl Selection {
    /// Whether the run covers the whole folder (`--all`, or no selection):
    /// only such a run deletes synced pages gone upstream.
    pub fn whole_folder(&self) -> bool {
        matches!(self, Selection::Existing | Selection::All)
    }
}

/// One page to fetch, and the file it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub full_path: String,
    pub rel: String,
    /// The file is there already.
    pub exists: bool,
}

/// The decisions of one run.
#[derive(Debug, Default)]
pub struct Plan {
    pub jobs: Vec<Job>,
    /// Owned files whose page is gone from the portal's tree.
    pub removed: Vec<String>,
    /// How many files are synced pages (owned), `removed` included.
    pub synced: usize,
    /// Pages that cannot be synced, with why (they fail the run).
    pub refused: Vec<(String, String)>,
    /// Files left alone, with why (notes, not failures).
    pub left_alone: Vec<(String, String)>,
}

/// The page files of `dir` (as [`walk::page_files`](super::walk::page_files)
/// listed them) and their header identities.
pub fn scan(dir: &Path, files: &[PathBuf]) -> Result<Vec<Local>, String> {
    let mut locals = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        locals.push(Local { rel: walk::relative(dir, file), identity: header::identity(&text) });
    }
    Ok(locals)
}

/// For pages without a header: the doc URL the spec derives for them (the
/// endpoint or event whose first source is the page), by parsing the folder's `files`.
pub fn derived_urls(
    dir: &Path,
    files: &[PathBuf],
    locals: &[Local],
) -> Result<BTreeMap<String, String>, String> {
    if !locals.iter().any(|l| l.identity == Identity::Unknown) {
        return Ok(BTreeMap::new());
    }
    let pages = crate::parse::read_pages(files)?;
    let pages: Vec<(String, String)> = pages
        .into_iter()
        .zip(files)
        .map(|((_, text), file)| (walk::relative(dir, file), text))
        .collect();
    let spec = crate::parse::parse_pages(&pages).spec;
    let mut urls = BTreeMap::new();
    let sources = spec
        .endpoints
        .iter()
        .map(|e| (&e.sources, &e.doc_url))
        .chain(spec.events.iter().map(|e| (&e.sources, &e.doc_url)));
    for (sources, url) in sources {
        if let (Some(first), Some(url)) = (sources.first(), url) {
            urls.entry(first.clone()).or_insert_with(|| url.clone());
        }
    }
    Ok(urls)
}

/// Decides the run. `tree` is every page of the portal; `derived` the URLs of [`derived_urls`].
pub fn plan(
    locals: &[Local],
    derived: &BTreeMap<String, String>,
    tree: &[TreePage],
    selection: &Selection,
) -> Plan {
    let mut plan = Plan::default();
    let in_tree: BTreeSet<&str> = tree.iter().map(|p| p.full_path.as_str()).collect();
    // fullPath → the local file that is that page; the first claim wins.
    let mut held: BTreeMap<String, String> = BTreeMap::new();
    let mut by_rel: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    plan.synced = locals
        .iter()
        .filter(|l| matches!(l.identity, Identity::FullPath { owned: true, .. }))
        .count();
    for local in locals {
        let (full_path, owned) = match &local.identity {
            Identity::FullPath { full_path, owned } => (Some(full_path.clone()), *owned),
            Identity::Url(url) => (header::full_path_of_url(url, in_tree.iter().copied()), false),
            Identity::Unknown => (
                derived
                    .get(&local.rel)
                    .and_then(|url| header::full_path_of_url(url, in_tree.iter().copied())),
                false,
            ),
        };
        let Some(full_path) = full_path else {
            let why = match &local.identity {
                Identity::Unknown => {
                    "no fullPath or source URL in its header, and no doc URL from the spec"
                }
                _ => "its source URL names no page of the portal",
            };
            plan.left_alone.push((local.rel.clone(), why.into()));
            by_rel.insert(&local.rel, None);
            continue;
        };
        if let Some(first) = held.get(&full_path) {
            plan.left_alone
                .push((local.rel.clone(), format!("{first} is already that page ({full_path})")));
            by_rel.insert(&local.rel, None);
            continue;
        }
        if !in_tree.contains(full_path.as_str()) {
            if owned {
                plan.removed.push(local.rel.clone());
            } else {
                plan.left_alone.push((
                    local.rel.clone(),
                    format!("{full_path} is not on the portal (not a synced page, so it is kept)"),
                ));
            }
            by_rel.insert(&local.rel, None);
            continue;
        }
        held.insert(full_path, local.rel.clone());
    }
    for (full_path, rel) in &held {
        by_rel.insert(rel, Some(full_path));
    }
    let wanted: Vec<&str> = match selection {
        Selection::Existing => held.keys().map(String::as_str).collect(),
        Selection::All => {
            tree.iter().filter(|p| p.server_api).map(|p| p.full_path.as_str()).collect()
        }
        Selection::Services(names) => tree
            .iter()
            .filter(|p| {
                p.server_api
                    && layout::service_of(&p.full_path).is_some_and(|s| {
                        names.iter().any(|n| n == s || n.replace('_', "-") == s.replace('_', "-"))
                    })
            })
            .map(|p| p.full_path.as_str())
            .collect(),
        Selection::Paths(paths) => {
            for path in paths.iter().filter(|p| !in_tree.contains(p.as_str())) {
                plan.refused.push((path.clone(), "not a page of the portal's tree".into()));
            }
            paths.iter().map(String::as_str).filter(|p| in_tree.contains(p)).collect()
        }
    };
    let mut seen = BTreeSet::new();
    for full_path in wanted {
        if !seen.insert(full_path) {
            continue;
        }
        if let Some(rel) = held.get(full_path) {
            plan.jobs.push(Job {
                full_path: full_path.to_string(),
                rel: rel.clone(),
                exists: true,
            });
            continue;
        }
        match layout::page_path(full_path) {
            Err(error) => plan.refused.push((full_path.to_string(), error)),
            Ok(rel) => match by_rel.get(rel.as_str()) {
                Some(other) if other.is_some_and(|o| o != full_path) || other.is_none() => {
                    let what = other.map_or("a file the sync cannot identify".to_string(), |o| {
                        format!("page {o}")
                    });
                    plan.refused.push((
                        full_path.to_string(),
                        format!("its file {rel} is {what}; move that file away"),
                    ));
                }
                _ => plan.jobs.push(Job { full_path: full_path.to_string(), rel, exists: false }),
            },
        }
    }
    plan
}

/// The path of a job's file under `dir`.
pub fn file_of(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    layout::join_inside(dir, rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = "/uAjLw4CM/ukTMukTMukTM/reference/im-v1";

    fn page(full_path: &str, server_api: bool) -> TreePage {
        TreePage { full_path: full_path.into(), name: String::new(), server_api }
    }

    fn local(rel: &str, identity: Identity) -> Local {
        Local { rel: rel.into(), identity }
    }

    fn owned(full_path: &str) -> Identity {
        Identity::FullPath { full_path: full_path.into(), owned: true }
    }

    #[test]
    fn existing_pages_are_found_by_header_url_or_derived_url() {
        let tree = [
            page(&format!("{REF}/message/reply"), true),
            page(&format!("{REF}/message/push_follow_up"), true),
            page(&format!("{REF}/message-reaction/create"), true),
        ];
        let locals = [
            local(
                "im/v1/message/reply.md",
                Identity::FullPath { full_path: format!("{REF}/message/reply"), owned: false },
            ),
            local(
                "im/v1/message/push_follow_up.md",
                Identity::Url(
                    "https://open.feishu.cn/document/im-v1/message/push_follow_up".into(),
                ),
            ),
            local("im/v1/message/push_follow_up.sdk-examples.md", Identity::Unknown),
            local("im/v1/message_reaction/create.md", Identity::Unknown),
            local(
                "im/v1/introduction.md",
                Identity::FullPath { full_path: format!("{REF}/introduction"), owned: false },
            ),
        ];
        let derived = BTreeMap::from([(
            "im/v1/message_reaction/create.md".to_string(),
            format!("https://open.feishu.cn/document{REF}/message-reaction/create"),
        )]);
        let plan = plan(&locals, &derived, &tree, &Selection::Existing);
        let jobs: Vec<(&str, bool)> =
            plan.jobs.iter().map(|j| (j.rel.as_str(), j.exists)).collect();
        assert_eq!(
            jobs,
            [
                ("im/v1/message_reaction/create.md", true),
                ("im/v1/message/push_follow_up.md", true),
                ("im/v1/message/reply.md", true)
            ]
        );
        let alone: Vec<&str> = plan.left_alone.iter().map(|(rel, _)| rel.as_str()).collect();
        assert_eq!(
            alone,
            ["im/v1/message/push_follow_up.sdk-examples.md", "im/v1/introduction.md"],
            "{:?}",
            plan.left_alone
        );
        assert!(plan.removed.is_empty(), "a seed page missing upstream is kept, not removed");
    }

    #[test]
    fn all_takes_the_server_api_only_and_removes_owned_pages_gone_upstream() {
        let tree = [page(&format!("{REF}/a"), true), page("/outside/b", false)];
        let locals = [
            local("im/v1/gone.md", owned(&format!("{REF}/gone"))),
            local("im/v1/a.md", owned(&format!("{REF}/a"))),
        ];
        let plan = plan(&locals, &BTreeMap::new(), &tree, &Selection::All);
        assert_eq!(
            plan.jobs,
            [Job { full_path: format!("{REF}/a"), rel: "im/v1/a.md".into(), exists: true }]
        );
        assert_eq!((plan.removed.as_slice(), plan.synced), (&["im/v1/gone.md".to_string()][..], 2));
    }

    #[test]
    fn services_paths_and_taken_files() {
        let tree = [
            page(&format!("{REF}/message/create"), true),
            page("/uAjLw4CM/ukTMukTMukTM/reference/drive-v1/file/list", true),
            page("/o/im-v1/x", false),
        ];
        let only_im = plan(&[], &BTreeMap::new(), &tree, &Selection::Services(vec!["im".into()]));
        assert_eq!(
            only_im.jobs,
            [Job {
                full_path: format!("{REF}/message/create"),
                rel: "im/v1/message/create.md".into(),
                exists: false
            }]
        );
        let taken = plan(
            &[local("im/v1/message/create.md", Identity::Unknown)],
            &BTreeMap::new(),
            &tree,
            &Selection::All,
        );
        assert_eq!(taken.jobs.len(), 1, "drive still goes");
        assert!(
            taken.refused[0].1.contains("a file the sync cannot identify"),
            "{:?}",
            taken.refused
        );
        let paths = plan(
            &[],
            &BTreeMap::new(),
            &tree,
            &Selection::Paths(vec!["/o/im-v1/x".into(), "/nowhere".into()]),
        );
        assert_eq!(paths.jobs[0].rel, "_/o/im-v1/x.md");
        assert_eq!(
            paths.refused,
            [("/nowhere".to_string(), "not a page of the portal's tree".to_string())]
        );
    }
}
