//! Files of the repository that a job writes from a source, and the check that they are fresh:
//! one place that writes the stale ones, or, with `--check`, prints a unified diff of each and
//! fails naming them and the command that refreshes them.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// A generated file whose text differs from what it should be.
pub struct Change {
    /// The file, from the workspace root.
    pub name: String,
    /// Its text now (empty when it is missing).
    pub old: String,
    /// What it should be.
    pub fresh: String,
}

impl Change {
    /// The change of the file `name` (from `root`) to `fresh`, if it is not already that.
    pub fn of(root: &Path, name: String, fresh: String) -> Option<Change> {
        let old = std::fs::read_to_string(root.join(&name)).unwrap_or_default();
        (old != fresh).then_some(Change { name, old, fresh })
    }
}

/// Writes every change under `root` (or, with `check`, prints its diff and fails naming the
/// stale files and `refresh`, the command that writes them).
pub fn apply(root: &Path, changes: &[Change], check: bool, refresh: &str) -> Result<()> {
    if check {
        if changes.is_empty() {
            return Ok(());
        }
        for change in changes {
            print!(
                "{}",
                dynakube_netpol::output::unified_diff(&change.name, &change.old, &change.fresh)
            );
        }
        let names: Vec<&str> = changes.iter().map(|c| c.name.as_str()).collect();
        bail!("stale: {}; run {refresh}", names.join(", "));
    }
    for change in changes {
        let path = root.join(&change.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, &change.fresh).with_context(|| format!("writing {}", change.name))?;
        println!("updated {}", change.name);
    }
    Ok(())
}
