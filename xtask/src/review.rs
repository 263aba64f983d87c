//! What `cargo xtask snapshots` prints above the diff of a changed snapshot of a fixture's
//! policies: the change in connections, as `dynakube-netpol diff` reports it between the
//! snapshot before and after, over the matrix of the fixture's inputs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

/// The options of a fixture's `command` file that take a value (every other `--` word is a
/// flag, every other word a resource file).
const VALUED: [&str; 8] = [
    "--cluster",
    "--hosts",
    "--proxy-url",
    "--zone-fallback",
    "--fqdn-fallback",
    "--internal-host",
    "--operator-version",
    "--ack",
];

/// The fixture a snapshot of generated policies belongs to: `kubernetes@NAME__command.snap`
/// and `cilium@NAME__command.snap` are the policies of `fixtures/NAME`.
pub fn fixture_of(snapshot: &str) -> Option<&str> {
    let (flavor, rest) = snapshot.split_once('@')?;
    let name = rest.strip_suffix("__command.snap")?;
    matches!(flavor, "kubernetes" | "cilium").then_some(name)
}

/// The words of a fixture's `command` (the arguments of `generate`) as `diff` takes them:
/// resource files after `-f`, options as they are.
pub fn diff_arguments(command: &str) -> Vec<String> {
    let mut words = command.split_whitespace();
    let mut arguments = Vec::new();
    while let Some(word) = words.next() {
        if VALUED.contains(&word) {
            arguments.push(word.to_string());
            arguments.extend(words.next().map(str::to_string));
        } else if word.starts_with("--") {
            arguments.push(word.to_string());
        } else {
            arguments.extend(["-f".to_string(), word.to_string()]);
        }
    }
    arguments
}

/// The text of an insta snapshot without its header (the lines between the first two `---`).
pub fn body(snapshot: &str) -> &str {
    snapshot
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(snapshot, |(_, body)| body)
}

/// The changes in connections of the snapshots of one review, with the CLI built once.
pub struct Reviewer {
    root: PathBuf,
    binary: Option<PathBuf>,
}

impl Reviewer {
    /// A review of the workspace at `root`.
    pub fn new(root: &Path) -> Reviewer {
        Reviewer {
            root: root.to_path_buf(),
            binary: None,
        }
    }

    /// What the change of `snapshot` from `old` to `new` does to connections, when it holds
    /// a fixture's policies and was there before; `None` otherwise.
    pub fn connections(
        &mut self,
        snapshot: &Path,
        old: Option<&str>,
        new: &str,
    ) -> Result<Option<String>> {
        let file = snapshot
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let (Some(fixture), Some(old)) = (fixture_of(file), old) else {
            return Ok(None);
        };
        let binary = match &self.binary {
            Some(binary) => binary.clone(),
            None => {
                let args = ["build", "--quiet", "--package", "dynakube-netpol-cli"];
                let built = crate::cargo::build_cli(&self.root, &args)?;
                self.binary = Some(built.clone());
                built
            }
        };
        let scratch = crate::cargo::metadata(&self.root)?
            .target_dir
            .join("snapshot-review");
        let dir = self.root.join("fixtures").join(fixture);
        connections(&binary, &dir, &scratch, old, new).map(Some)
    }
}

/// `dynakube-netpol diff` (the CLI at `binary`) of the policies `old` to `new` of the fixture
/// `dir`, run there; `scratch` holds the two sets meanwhile.
fn connections(binary: &Path, dir: &Path, scratch: &Path, old: &str, new: &str) -> Result<String> {
    std::fs::create_dir_all(scratch)?;
    let (before, after) = (scratch.join("before.yaml"), scratch.join("after.yaml"));
    std::fs::write(&before, body(old))?;
    std::fs::write(&after, body(new))?;
    let command = std::fs::read_to_string(dir.join("command"))
        .with_context(|| format!("{}: no command file", dir.display()))?;
    let output = Command::new(binary)
        .arg("diff")
        .args([&before, &after])
        .args(diff_arguments(&command))
        .current_dir(dir)
        .output()?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !matches!(output.status.code(), Some(0 | 1)) {
        text = format!(
            "connections not compared: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_become_diff_arguments() {
        assert_eq!(
            diff_arguments(
                "dynakube.yaml edgeconnect.yaml --cluster cluster.yaml --fqdn-fallback public-internet --allow-any-address"
            ),
            [
                "-f",
                "dynakube.yaml",
                "-f",
                "edgeconnect.yaml",
                "--cluster",
                "cluster.yaml",
                "--fqdn-fallback",
                "public-internet",
                "--allow-any-address"
            ]
        );
    }

    #[test]
    fn snapshots_name_their_fixture() {
        assert_eq!(
            fixture_of("kubernetes@release-1.9__command.snap"),
            Some("release-1.9")
        );
        assert_eq!(fixture_of("cilium@a__command.snap"), Some("a"));
        assert_eq!(fixture_of("formats@openshift-dns__check-junit.snap"), None);
        assert_eq!(fixture_of("invalid_fixtures@x.snap"), None);
        assert_eq!(
            body("---\nsource: x\n---\n# Generated\nkind: A\n"),
            "# Generated\nkind: A\n"
        );
    }
}
