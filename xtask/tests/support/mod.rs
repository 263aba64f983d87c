//! What the repository-wide tests share: the workspace root and the files git tracks.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

/// The files of the repository, as paths from the root with `/`.
pub fn tracked(root: &Path) -> Vec<String> {
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output();
    if let Ok(listed) = listed
        && listed.status.success()
    {
        let names = String::from_utf8(listed.stdout).expect("file names are UTF-8");
        return names
            .split('\0')
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
    }
    // Not a git checkout (an unpacked archive): every file but the build's and git's.
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(root.join(&dir)).unwrap() {
            let entry = entry.unwrap();
            let path = dir.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                if path != Path::new("target") && path != Path::new(".git") {
                    dirs.push(path);
                }
            } else {
                files.push(path.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files
}
