//! Releases whose version follows the API change, as users run them: in a
//! temporary copy of a seed page, `cargo xtask regen --docs … --out …` sets
//! the version and the changelog from the change since the last release,
//! and `cargo xtask release --out …` records one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use semver::Version;

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().expect("xtask runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Runs xtask with `args`, and fails the test with its output if it fails.
fn ok(args: &[&str]) -> String {
    let out = xtask(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "xtask {args:?} failed:\n{stderr}");
    stderr
}

/// A copy of one seed page, the spec and crate regen writes from it, and
/// its release record.
struct Copy {
    dir: PathBuf,
}

impl Copy {
    fn new() -> Copy {
        // One folder per copy: the tests of this file run at once.
        static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("xtask-release-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let page = dir.join("docs/im/v1/message/reply.md");
        std::fs::create_dir_all(page.parent().unwrap()).unwrap();
        std::fs::copy(root().join("spec/docs/im/v1/message/reply.md"), &page).unwrap();
        Copy { dir }
    }

    fn arg(&self, rel: &str) -> String {
        self.dir.join(rel).to_string_lossy().into_owned()
    }

    fn regen(&self) -> String {
        ok(&["regen", "--docs", &self.arg("docs"), "--out", &self.arg("")])
    }

    fn regen_check(&self) -> String {
        ok(&["regen", "--check", "--docs", &self.arg("docs"), "--out", &self.arg("")])
    }

    fn release(&self) -> String {
        ok(&["release", "--out", &self.arg("")])
    }

    fn version(&self) -> Version {
        let manifest = std::fs::read_to_string(self.dir.join("generated/Cargo.toml")).unwrap();
        let line = manifest.lines().find(|l| l.starts_with("version = ")).expect("a version");
        Version::parse(line.trim_start_matches("version = ").trim_matches('"')).unwrap()
    }

    fn changelog(&self) -> String {
        std::fs::read_to_string(self.dir.join("generated/CHANGELOG.md")).unwrap()
    }

    /// Rewrites the page's response section (what follows `## 响应`) with `edit`.
    fn edit_response(&self, edit: impl FnOnce(&str) -> String) {
        let path = self.dir.join("docs/im/v1/message/reply.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let at = text.find("\n## 响应").expect("the page has a response section");
        let edited = format!("{}{}", &text[..at], edit(&text[at..]));
        assert_ne!(edited, text, "the edit changed nothing");
        std::fs::write(&path, edited).unwrap();
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The table row (`<md-dt-tr …>…</md-dt-tr>`) of the field `name` in `section`: its byte range.
fn row(section: &str, name: &str) -> std::ops::Range<usize> {
    let field = section.find(&format!(">{name}</md-text>")).expect("the field's row");
    let start = section[..field].rfind("<md-dt-tr").unwrap();
    let end = field + section[field..].find("</md-dt-tr>").unwrap() + "</md-dt-tr>".len();
    start..end
}

/// The coming section of `version` in the changelog.
fn section<'a>(changelog: &'a str, version: &Version) -> &'a str {
    let head = format!("## {version} (unreleased)\n");
    let start = changelog.find(&head).unwrap_or_else(|| panic!("no {head} in:\n{changelog}"));
    let section = &changelog[start..];
    &section[..section[head.len()..].find("\n## ").map_or(section.len(), |i| i + head.len())]
}

/// The group `heading` of the coming section of `version`.
fn group<'a>(changelog: &'a str, version: &Version, heading: &str) -> &'a str {
    let section = section(changelog, version);
    let start = section
        .find(&format!("### {heading}\n"))
        .unwrap_or_else(|| panic!("no {heading} in:\n{section}"));
    let rest = &section[start..];
    &rest[..rest[4..].find("\n### ").map_or(rest.len(), |i| i + 4)]
}

#[test]
fn the_version_and_the_changelog_follow_the_api_change() {
    let copy = Copy::new();
    // The page as it is, recorded as the last release.
    copy.regen();
    copy.release();
    let released = copy.version();
    assert_eq!(released.major, 0, "the rules tested here are the 0.x ones");
    copy.regen();
    assert_eq!(copy.version(), released, "nothing changed, the version stays");
    assert!(!copy.changelog().contains("(unreleased)"), "{}", copy.changelog());

    // A response field disappears: breaking, the minor version rises.
    copy.edit_response(|section| {
        let range = row(section, "thread_id");
        format!("{}{}", &section[..range.start], &section[range.end..])
    });
    let note = copy.regen();
    let breaking = Version::new(0, released.minor + 1, 0);
    assert_eq!(copy.version(), breaking, "{note}");
    let changelog = copy.changelog();
    let lines = group(&changelog, &breaking, "Breaking");
    assert!(
        lines.contains("response field `thread_id`") && lines.contains("removed"),
        "the breaking group names the field:\n{changelog}"
    );
    assert!(
        lines.contains("[`im.v1.message.reply`](https://open.feishu.cn/document/"),
        "each change links to its doc page:\n{changelog}"
    );
    copy.regen_check();
    copy.release();
    assert!(copy.changelog().contains(&format!("\n## {breaking}\n")), "{}", copy.changelog());

    // An optional response field is added: the patch version rises.
    copy.edit_response(|section| {
        let range = row(section, "root_id");
        let added =
            section[range.clone()].replace(">root_id</md-text>", ">root_thread_id</md-text>");
        format!("{}{added}\n\n{}", &section[..range.end], &section[range.end..])
    });
    copy.regen();
    let added = Version::new(0, breaking.minor, 1);
    assert_eq!(copy.version(), added);
    let changelog = copy.changelog();
    assert!(
        group(&changelog, &added, "Added").contains("response field `root_thread_id` added"),
        "{changelog}"
    );
    assert!(!section(&changelog, &added).contains("### Breaking"), "{changelog}");
    assert!(
        changelog.contains(&format!("\n## {breaking}\n")),
        "the released section stays:\n{changelog}"
    );
    copy.release();

    // Prose alone changes: the code's doc comments do, the version does not.
    let before =
        std::fs::read_to_string(copy.dir.join("generated/src/im/message/reply.rs")).unwrap();
    copy.edit_response(|section| section.replacen("根消息 ID。", "根消息的 ID。", 1));
    copy.regen();
    let after =
        std::fs::read_to_string(copy.dir.join("generated/src/im/message/reply.rs")).unwrap();
    assert_ne!(before, after, "the prose reaches the generated docs");
    assert_eq!(copy.version(), added);
    assert!(!copy.changelog().contains("(unreleased)"), "{}", copy.changelog());
    copy.regen_check();
}

/// A variant renamed by a change of the generator's naming rule, with the
/// spec unchanged, is breaking: the release recorded the names it shipped,
/// and regen compares them with what the rule makes of the release's spec
/// now. The rule change is played by the record holding the name an older
/// rule gave (`BotNotOutsideGroup`, before modals were kept).
#[test]
fn a_variant_renamed_by_the_naming_rule_is_breaking() {
    let copy = Copy::new();
    copy.regen();
    copy.release();
    let released = copy.version();
    let path = copy.dir.join("generated/RELEASE.names.json");
    let names = std::fs::read_to_string(&path).expect("the release records its variant names");
    assert!(names.contains("\"230002\": \"BotCannotBeOutsideGroup\""), "{names}");
    copy.regen();
    assert_eq!(copy.version(), released, "the names are the rule's: nothing to report");

    std::fs::write(&path, names.replace("BotCannotBeOutsideGroup", "BotNotOutsideGroup")).unwrap();
    let note = copy.regen();
    let breaking = Version::new(0, released.minor + 1, 0);
    assert_eq!(copy.version(), breaking, "{note}");
    let changelog = copy.changelog();
    assert!(
        group(&changelog, &breaking, "Breaking").contains(
            "error code 230002: variant `BotNotOutsideGroup` renamed to `BotCannotBeOutsideGroup` (the generator's naming rule changed)"
        ),
        "{changelog}"
    );
}

/// A checkout of its own in a temporary git repository: a workspace
/// manifest, an xtask folder, a runtime manifest, one seed page.
struct Checkout {
    dir: PathBuf,
}

impl Checkout {
    fn new() -> Checkout {
        let dir = std::env::temp_dir().join(format!("xtask-release-git-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = [
            (
                "Cargo.toml",
                "[workspace]\nmembers = []\n\n[workspace.package]\nlicense = \"MIT OR Apache-2.0\"\n\
                 rust-version = \"1.88\"\nrepository = \"https://example.invalid/feishu-gen\"\n",
            ),
            ("xtask/Cargo.toml", "[package]\nname = \"xtask\"\n"),
            ("runtime/Cargo.toml", "[package]\nname = \"feishu-runtime\"\nversion = \"0.1.0\"\n"),
            ("runtime/src/lib.rs", "//! The runtime.\n"),
        ];
        for (rel, text) in files {
            std::fs::create_dir_all(dir.join(rel).parent().unwrap()).unwrap();
            std::fs::write(dir.join(rel), text).unwrap();
        }
        let page = dir.join("spec/docs/im/v1/message/reply.md");
        std::fs::create_dir_all(page.parent().unwrap()).unwrap();
        std::fs::copy(root().join("spec/docs/im/v1/message/reply.md"), &page).unwrap();
        let checkout = Checkout { dir };
        checkout.git(&["init", "-q"]);
        checkout.git(&["config", "user.name", "release test"]);
        checkout.git(&["config", "user.email", "release-test@example.invalid"]);
        checkout.git(&["config", "commit.gpgsign", "false"]);
        checkout.git(&["config", "tag.gpgsign", "false"]);
        checkout
    }

    /// Runs xtask in the checkout (found from the current folder, as when the binary is run by its path).
    fn xtask(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .current_dir(&self.dir)
            .env_remove("CARGO_MANIFEST_DIR")
            .env_remove("CARGO_PKG_NAME")
            .args(args)
            .output()
            .expect("xtask runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.xtask(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "xtask {args:?} failed:\n{stderr}");
        stderr
    }

    fn refused(&self, args: &[&str]) -> String {
        let out = self.xtask(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "xtask {args:?} should have failed:\n{stderr}");
        stderr
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git").current_dir(&self.dir).args(args).output().expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.join(rel)).unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.dir.join(rel), text).unwrap();
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn release_commits_tags_and_refuses_a_runtime_changed_without_a_new_version() {
    let checkout = Checkout::new();
    checkout.ok(&["regen"]);
    assert!(checkout.read("generated/Cargo.toml").contains("\nversion = \"0.1.0\"\n"));
    assert!(checkout.read("generated/CHANGELOG.md").contains("\n## 0.1.0 (unreleased)\n"));
    checkout.commit("the first page");

    // The first release: recorded, committed, tagged.
    checkout.ok(&["release"]);
    assert_eq!(checkout.git(&["tag", "--list"]), "feishu-runtime-v0.1.0\nfeishu-v0.1.0\n");
    assert_eq!(checkout.git(&["status", "--porcelain"]), "", "the release is committed");
    assert!(checkout.read("generated/RELEASE").contains("\nversion = \"0.1.0\"\n"));
    assert!(checkout.read("generated/CHANGELOG.md").contains("\n## 0.1.0\n"));
    checkout.ok(&["regen", "--check"]);
    let again = checkout.ok(&["release"]);
    assert!(again.contains("nothing to release"), "{again}");

    // A breaking docs change, and a runtime change without a new runtime version.
    let page = "spec/docs/im/v1/message/reply.md";
    let text = checkout.read(page);
    let at = text.find("\n## 响应").unwrap();
    let range = row(&text[at..], "thread_id");
    checkout.write(page, &format!("{}{}", &text[..at + range.start], &text[at + range.end..]));
    checkout.ok(&["regen"]);
    assert!(checkout.read("generated/Cargo.toml").contains("\nversion = \"0.2.0\"\n"));
    checkout.commit("a response field goes");
    checkout.write("runtime/src/lib.rs", "//! The runtime, changed.\npub fn new() {}\n");
    let dirty = checkout.refused(&["release"]);
    assert!(dirty.contains("uncommitted changes"), "{dirty}");
    checkout.commit("the runtime changes");
    let refused = checkout.refused(&["release"]);
    assert!(refused.contains("feishu-runtime changed since the last release"), "{refused}");
    assert_eq!(checkout.git(&["tag", "--list"]), "feishu-runtime-v0.1.0\nfeishu-v0.1.0\n");

    // The runtime's new version is required by the crate, and tagged with its release.
    let manifest = checkout.read("runtime/Cargo.toml").replace("0.1.0", "0.2.0");
    checkout.write("runtime/Cargo.toml", &manifest);
    checkout.ok(&["regen"]);
    let generated = checkout.read("generated/Cargo.toml");
    assert!(generated.contains("feishu-runtime = { version = \"0.2.0\""), "{generated}");
    let changelog = checkout.read("generated/CHANGELOG.md");
    assert!(
        group(&changelog, &Version::new(0, 2, 0), "Breaking")
            .contains("requires `feishu-runtime` 0.2.0 (was 0.1.0)"),
        "{changelog}"
    );
    checkout.commit("feishu-runtime 0.2.0");
    checkout.ok(&["release"]);
    assert_eq!(
        checkout.git(&["tag", "--list"]),
        "feishu-runtime-v0.1.0\nfeishu-runtime-v0.2.0\nfeishu-v0.1.0\nfeishu-v0.2.0\n"
    );
    assert_eq!(
        checkout.git(&["log", "-1", "--format=%s"]),
        "release: feishu 0.2.0 (feishu-runtime 0.2.0)\n"
    );
    checkout.ok(&["regen", "--check"]);
}

/// Without cargo-semver-checks (here: a cargo that knows no such command),
/// `release --check` fails and says how to install it.
#[test]
fn the_semver_check_says_how_to_install_its_tool() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["release", "--check"])
        .env("CARGO", "false")
        .output()
        .expect("xtask runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cargo install cargo-semver-checks --locked"), "{stderr}");
}
