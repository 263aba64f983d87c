//! Files read from git as `REV:PATH` names them: a file, or a directory's *.yaml, *.yml and
//! *.json files (its subdirectories' with -R), as they are in revision REV, through the git
//! binary (`git rev-parse`, `git cat-file`, `git ls-tree`), never from the work tree.
//!
//! Decisions: REV must name a commit (`git rev-parse --verify` after `--end-of-options`, so
//! that no revision reads as an option), and PATH is taken as git takes it after a colon: from
//! the top of the repository, or from the current directory when it starts with `./`; a PATH
//! that is absolute or climbs out with `..` is refused. Symbolic links and submodules in a
//! directory are not followed; each file is bounded by `--max-input-bytes` before it is read.

use std::path::{Component, Path};
use std::process::Command;

use dynakube_netpol::source::Limits;
use dynakube_netpol::values::Shown;

/// The extensions of the files a directory gives, as kubectl matches them.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// A file or directory of a revision: `REV:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revised {
    /// The revision, as given.
    pub rev: String,
    /// The path after the colon, as given.
    pub path: String,
}

impl Revised {
    /// `word` as `REV:PATH` when it is no file or directory of the file system and has a colon
    /// after a non-empty revision; `None` otherwise (a path).
    pub fn parse(word: &str) -> Option<Revised> {
        if word == "-" || Path::new(word).exists() {
            return None;
        }
        let (rev, path) = word.split_once(':')?;
        (!rev.is_empty()).then(|| Revised {
            rev: rev.to_string(),
            path: path.to_string(),
        })
    }

    /// The files it gives, each with its name (`REV:PATH/FILE`) and text: the file itself, or
    /// the files of the directory, in name order.
    pub fn read(&self, recursive: bool, limits: &Limits) -> anyhow::Result<Vec<(String, String)>> {
        self.check()?;
        let commit = self.commit()?;
        let object = format!("{commit}:{}", self.path);
        match self.git(&["cat-file", "-t", &object])?.trim() {
            "blob" => Ok(vec![(self.to_string(), self.blob(&object, limits)?)]),
            "tree" => self.tree(&object, recursive, limits),
            other => Err(self.error(&format!(
                "a {} in git, not a file or directory",
                Shown(other)
            ))),
        }
    }

    /// Refuses a revision that could read as an option and a path out of the repository.
    fn check(&self) -> anyhow::Result<()> {
        let printable = |text: &str| !text.chars().any(char::is_control);
        if self.rev.starts_with('-') || !printable(&self.rev) {
            return Err(self.error("not a revision git names"));
        }
        let path = Path::new(&self.path);
        let out = path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)));
        if out || !printable(&self.path) {
            return Err(self.error(
                "the path after the colon must be relative, below the top of the repository (or `./` and below the current directory)",
            ));
        }
        Ok(())
    }

    /// The commit REV names.
    fn commit(&self) -> anyhow::Result<String> {
        let spec = format!("{}^{{commit}}", self.rev);
        let found = self.git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ]);
        match found {
            Ok(commit) if !commit.trim().is_empty() => Ok(commit.trim().to_string()),
            _ => Err(self.error(&format!("git knows no commit {} here", Shown(&self.rev)))),
        }
    }

    /// The text of the blob `object`, bounded by `limits`.
    fn blob(&self, object: &str, limits: &Limits) -> anyhow::Result<String> {
        let size: usize = (self.git(&["cat-file", "-s", object])?.trim().parse())
            .map_err(|_| self.error("git gave no size"))?;
        if size > limits.max_bytes {
            return Err(self.error(&format!(
                "{size} bytes, more than --max-input-bytes ({})",
                limits.max_bytes
            )));
        }
        self.git(&["cat-file", "blob", object])
    }

    /// The files of the tree `object`: blobs with an input's extension, in name order.
    fn tree(
        &self,
        object: &str,
        recursive: bool,
        limits: &Limits,
    ) -> anyhow::Result<Vec<(String, String)>> {
        // Below the top of the work tree, ls-tree lists only what lies below the current
        // directory, unless told to list the whole tree it is given.
        let mut args = vec!["ls-tree", "--full-tree", "-z"];
        if recursive {
            args.push("-r");
        }
        args.push(object);
        let listing = self.git(&args)?;
        let base = self.to_string();
        let base = base.trim_end_matches('/');
        let mut files = Vec::new();
        for entry in listing.split('\0').filter(|e| !e.is_empty()) {
            // `<mode> SP <type> SP <object> TAB <path>`
            let Some((head, name)) = entry.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = head.split(' ').collect();
            let [mode, "blob", id] = fields[..] else {
                continue;
            };
            let input = Path::new(name)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e));
            // Symbolic links (mode 120000) are not followed.
            if !input || mode == "120000" {
                continue;
            }
            files.push((format!("{base}/{name}"), self.blob(id, limits)?));
        }
        files.sort();
        Ok(files)
    }

    /// Runs git with `args`; its standard output, or an error with the first line it printed.
    fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("git")
            .args(args)
            .output()
            .map_err(|e| self.error(&format!("cannot run git: {e}")))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr.lines().next().unwrap_or("git failed");
            return Err(self.error(&Shown(first).to_string()));
        }
        String::from_utf8(output.stdout).map_err(|_| self.error("not UTF-8 text"))
    }

    fn error(&self, reason: &str) -> anyhow::Error {
        dynakube_netpol::Error::Read {
            file: self.to_string(),
            reason: reason.to_string(),
        }
        .into()
    }
}

impl std::fmt::Display for Revised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.rev, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_and_paths_are_told_apart() {
        assert_eq!(
            Revised::parse("main:policies/"),
            Some(Revised {
                rev: "main".into(),
                path: "policies/".into()
            })
        );
        assert_eq!(
            Revised::parse("HEAD~1:./p.yaml").map(|r| r.rev),
            Some("HEAD~1".into())
        );
        assert_eq!(Revised::parse("-"), None);
        assert_eq!(Revised::parse("policies/"), None);
        assert_eq!(Revised::parse(":policies/"), None);
        // An existing file is a file, colon or not.
        assert_eq!(Revised::parse("Cargo.toml"), None);
    }

    #[test]
    fn options_and_paths_out_of_the_repository_are_refused() {
        for (rev, path) in [
            ("--output=x", "a.yaml"),
            ("main", "../a.yaml"),
            ("main", "/etc/a.yaml"),
            ("ma\u{1b}in", "a.yaml"),
        ] {
            let revised = Revised {
                rev: rev.into(),
                path: path.into(),
            };
            assert!(revised.check().is_err(), "{revised}");
        }
    }
}
