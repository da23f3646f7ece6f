//! How far the version moves for what changed since the last release.
//!
//! While 0.x (cargo reads `0.4` as `>=0.4.0, <0.5.0`): a breaking change
//! raises the minor version, any other API change the patch version. From
//! 1.0: breaking → major, an addition → minor, another change → patch. No
//! API change keeps the version, so a change of prose alone (doc comments)
//! waits for the next change that counts. In 0.0.x every change raises the
//! patch version, which cargo already treats as incompatible.

use feishu_diff::{Change, ChangeKind, Report};
use semver::{Version, VersionReq};

/// Which heading of the changelog a change goes under; also how much it
/// moves the version (the order is the amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Non-breaking, and not an addition: a looser limit, a default, a
    /// scope, a rate limit.
    Changed,
    /// Something new that code can start to use.
    Added,
    /// Code that compiled and validated before may not after.
    Breaking,
}

impl Group {
    /// The changelog's heading.
    pub fn heading(self) -> &'static str {
        match self {
            Group::Breaking => "Breaking",
            Group::Added => "Added",
            Group::Changed => "Changed",
        }
    }
}

/// The group of one change of the API report.
pub fn group(change: &Change) -> Group {
    use ChangeKind::*;
    if change.breaking {
        return Group::Breaking;
    }
    match change.kind {
        EndpointAdded | FieldAdded | EnumValueAdded | ErrorCodeAdded | EventAdded => Group::Added,
        // A newly typed function is new API too; the old one going is breaking and marked so.
        DetailChanged => Group::Added,
        _ => Group::Changed,
    }
}

/// The largest group among the report's changes; `None` when nothing changed.
pub fn level(report: &Report) -> Option<Group> {
    report.changes.iter().map(group).max()
}

/// The group of a change of the runtime's version from `old` to `new`: the
/// crate re-exports the runtime (`feishu::runtime`), so a runtime that a
/// `^old` requirement does not accept breaks the crate's users too.
pub fn runtime_level(old: &Version, new: &Version) -> Option<Group> {
    if old == new {
        return None;
    }
    let compatible = VersionReq::parse(&format!("^{old}")).is_ok_and(|req| req.matches(new));
    Some(if compatible && new > old { Group::Changed } else { Group::Breaking })
}

/// The version after `released` for changes of `level`.
pub fn next(released: &Version, level: Option<Group>) -> Version {
    let Some(level) = level else { return released.clone() };
    let (major, minor, patch) = (released.major, released.minor, released.patch);
    match (major, minor, level) {
        (0, 0, _) => Version::new(0, 0, patch + 1),
        (0, _, Group::Breaking) => Version::new(0, minor + 1, 0),
        (0, _, _) => Version::new(0, minor, patch + 1),
        (_, _, Group::Breaking) => Version::new(major + 1, 0, 0),
        (_, _, Group::Added) => Version::new(major, minor + 1, 0),
        (_, _, Group::Changed) => Version::new(major, minor, patch + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn zero_x_breaking_is_minor_anything_else_patch() {
        assert_eq!(next(&v("0.4.2"), Some(Group::Breaking)), v("0.5.0"));
        assert_eq!(next(&v("0.4.2"), Some(Group::Added)), v("0.4.3"));
        assert_eq!(next(&v("0.4.2"), Some(Group::Changed)), v("0.4.3"));
        assert_eq!(next(&v("0.4.2"), None), v("0.4.2"));
        assert_eq!(next(&v("0.0.7"), Some(Group::Breaking)), v("0.0.8"));
    }

    #[test]
    fn from_one_the_usual() {
        assert_eq!(next(&v("1.4.2"), Some(Group::Breaking)), v("2.0.0"));
        assert_eq!(next(&v("1.4.2"), Some(Group::Added)), v("1.5.0"));
        assert_eq!(next(&v("1.4.2"), Some(Group::Changed)), v("1.4.3"));
        assert_eq!(next(&v("1.4.2"), None), v("1.4.2"));
    }

    #[test]
    fn changes_are_grouped_and_the_largest_sets_the_level() {
        let change = |kind, breaking| Change {
            endpoint: "im.v1.message.reply".into(),
            kind,
            breaking,
            line: String::new(),
        };
        assert_eq!(group(&change(ChangeKind::FieldAdded, true)), Group::Breaking);
        assert_eq!(group(&change(ChangeKind::FieldAdded, false)), Group::Added);
        assert_eq!(group(&change(ChangeKind::ConstraintLoosened, false)), Group::Changed);
        let mut report = Report::default();
        assert_eq!(level(&report), None);
        report.changes.push(change(ChangeKind::ScopeAdded, false));
        assert_eq!(level(&report), Some(Group::Changed));
        report.changes.push(change(ChangeKind::EventAdded, false));
        assert_eq!(level(&report), Some(Group::Added));
        report.changes.push(change(ChangeKind::FieldRemoved, true));
        assert_eq!(level(&report), Some(Group::Breaking));
    }

    #[test]
    fn a_runtime_outside_the_old_requirement_breaks() {
        assert_eq!(runtime_level(&v("0.1.0"), &v("0.1.0")), None);
        assert_eq!(runtime_level(&v("0.1.0"), &v("0.1.4")), Some(Group::Changed));
        assert_eq!(runtime_level(&v("0.1.4"), &v("0.2.0")), Some(Group::Breaking));
        assert_eq!(runtime_level(&v("1.2.0"), &v("1.3.0")), Some(Group::Changed));
        assert_eq!(runtime_level(&v("0.2.0"), &v("0.1.9")), Some(Group::Breaking));
    }
}
