//! Unified diffs that `git apply` and `patch -p1` take: new files come from `/dev/null`,
//! removed files go to it, and every path is one the reader can apply from where it ran.

use std::fmt::Write as _;
use std::path::{Component, Path};

/// What git and `patch` name a file that does not exist on one side of a diff.
const NOTHING: &str = "/dev/null";

/// A unified diff of the file `name` from `old` to `new`, where `None` is a file that does not
/// exist on that side: a new file is a diff from `/dev/null`, a removed one a diff to it, as
/// `git diff` writes them, so that `git apply` creates and deletes files. Nothing when both
/// sides are the same.
///
/// The sides are labelled `a/NAME` and `b/NAME`, where NAME is `name` when it is a relative
/// path that stays below the directory it is read from (so that `git apply`, run where the
/// diff was made, finds the file; git takes a path as relative to the directory it runs in),
/// and else `name`'s last component (an absolute path or one that climbs out: the reader
/// applies it in the file's directory).
pub fn unified_diff(name: &str, old: Option<&str>, new: Option<&str>) -> String {
    if old == new {
        return String::new();
    }
    let path = label(name);
    let from = old.map_or_else(|| NOTHING.to_string(), |_| side("a/", &path));
    let to = new.map_or_else(|| NOTHING.to_string(), |_| side("b/", &path));
    similar::TextDiff::from_lines(old.unwrap_or_default(), new.unwrap_or_default())
        .unified_diff()
        .context_radius(3)
        .header(&from, &to)
        .to_string()
}

/// A side's label as git writes it: `prefix` and `path`, in double quotes with C escapes when
/// the path holds a byte other than printable ASCII, a double quote or a backslash (as git's
/// `core.quotePath`, which `git apply` reads back; so no name can end the line or reach a
/// terminal raw). A space needs no quotes: git reads a name to the end of its line.
fn side(prefix: &str, path: &str) -> String {
    let plain = |b: u8| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\';
    if path.bytes().all(plain) {
        return format!("{prefix}{path}");
    }
    let mut quoted = format!("\"{prefix}");
    for byte in path.bytes() {
        match byte {
            b'"' => quoted.push_str("\\\""),
            b'\\' => quoted.push_str("\\\\"),
            b'\t' => quoted.push_str("\\t"),
            b'\n' => quoted.push_str("\\n"),
            b'\r' => quoted.push_str("\\r"),
            _ if plain(byte) => quoted.push(char::from(byte)),
            _ => {
                let _ = write!(quoted, "\\{byte:03o}");
            }
        }
    }
    quoted.push('"');
    quoted
}

/// The path a diff names `name` by: its normal components joined by `/`, or its last one when
/// it is absolute or climbs out of the directory it is read from.
fn label(name: &str) -> String {
    let path = Path::new(name);
    let normal: Option<Vec<String>> = (path.components())
        .filter(|c| *c != Component::CurDir)
        .map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    match normal {
        Some(parts) if !parts.is_empty() => parts.join("/"),
        _ => path.file_name().map_or_else(
            || name.to_string(),
            |last| last.to_string_lossy().into_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    #[test]
    fn paths_are_relative_to_where_the_diff_is_applied() {
        assert_eq!(label("policies/a.yaml"), "policies/a.yaml");
        assert_eq!(label("./policies/./a.yaml"), "policies/a.yaml");
        assert_eq!(label("a.yaml"), "a.yaml");
        assert_eq!(label("/srv/policies/a.yaml"), "a.yaml");
        assert_eq!(label("../policies/a.yaml"), "a.yaml");
    }

    #[test]
    fn names_are_quoted_as_git_quotes_them() {
        assert_eq!(side("b/", "p/a.yaml"), "b/p/a.yaml");
        assert_eq!(side("b/", "p q/a.yaml"), "b/p q/a.yaml");
        assert_eq!(side("a/", "q\"d"), r#""a/q\"d""#);
        assert_eq!(side("a/", "t\tb\\"), r#""a/t\tb\\""#);
        assert_eq!(side("a/", "\u{1b}[2Jü"), r#""a/\033[2J\303\274""#);
    }

    #[test]
    fn new_and_removed_files_diff_from_and_to_dev_null() {
        let new = unified_diff("p/a.yaml", None, Some("a\nb\n"));
        assert!(
            new.starts_with("--- /dev/null\n+++ b/p/a.yaml\n@@ -0,0 +1,2 @@\n+a\n+b\n"),
            "{new}"
        );
        let removed = unified_diff("p/a.yaml", Some("a\n"), None);
        assert!(
            removed.starts_with("--- a/p/a.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"),
            "{removed}"
        );
        let changed = unified_diff("p/a.yaml", Some("a\n"), Some("b\n"));
        assert!(changed.starts_with("--- a/p/a.yaml\n+++ b/p/a.yaml\n"));
        assert_eq!(unified_diff("p/a.yaml", Some("a\n"), Some("a\n")), "");
        assert_eq!(unified_diff("p/a.yaml", None, None), "");
    }

    /// Runs git in `dir`, failing with its standard error.
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
            .args(["-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn git_apply_takes_new_removed_and_changed_files() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        git(root, &["init", "--quiet"]);
        std::fs::create_dir_all(root.join("policies")).unwrap();
        std::fs::write(root.join("policies/changed.yaml"), "a\nb\nc\n").unwrap();
        std::fs::write(root.join("policies/removed.yaml"), "gone\n").unwrap();
        std::fs::write(root.join("policies/unterminated.yaml"), "x").unwrap();
        git(root, &["add", "."]);
        git(root, &["commit", "--quiet", "-m", "old"]);
        let patch = [
            "a summary above the diffs\n\n".to_string(),
            unified_diff("policies/added.yaml", None, Some("new\nfile\n")),
            unified_diff("policies/removed.yaml", Some("gone\n"), None),
            unified_diff(
                "./policies/changed.yaml",
                Some("a\nb\nc\n"),
                Some("a\nB\nc\n"),
            ),
            unified_diff("policies/unterminated.yaml", Some("x"), Some("y\n")),
        ]
        .concat();
        std::fs::write(root.join("fix.patch"), &patch).unwrap();
        git(root, &["apply", "--check", "fix.patch"]);
        git(root, &["apply", "fix.patch"]);
        let read = |name: &str| std::fs::read_to_string(root.join("policies").join(name)).ok();
        assert_eq!(read("added.yaml").as_deref(), Some("new\nfile\n"));
        assert_eq!(read("removed.yaml"), None);
        assert_eq!(read("changed.yaml").as_deref(), Some("a\nB\nc\n"));
        assert_eq!(read("unterminated.yaml").as_deref(), Some("y\n"));
        // Names with spaces, quotes and other bytes are quoted as git quotes them.
        for name in [
            "with space.yaml",
            "quote\"d.yaml",
            "tab\there.yaml",
            "ümlaut.yaml",
        ] {
            let diff = unified_diff(&format!("policies/{name}"), None, Some("q\n"));
            std::fs::write(root.join("quoted.patch"), diff).unwrap();
            git(root, &["apply", "quoted.patch"]);
            assert_eq!(read(name).as_deref(), Some("q\n"), "{name}");
        }
        // From a directory below the repository's root, git takes the paths as relative to it.
        git(root, &["checkout", "--quiet", "--", "."]);
        git(root, &["clean", "--quiet", "-fd", "policies"]);
        let inner = unified_diff("changed.yaml", Some("a\nb\nc\n"), Some("a\nc\n"));
        std::fs::write(root.join("inner.patch"), inner).unwrap();
        git(&root.join("policies"), &["apply", "../inner.patch"]);
        assert_eq!(read("changed.yaml").as_deref(), Some("a\nc\n"));
    }
}
