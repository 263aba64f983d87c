//! The output directory: written atomically, checked without following links.
//!
//! [`write_dir`] renders nothing itself: it takes the complete set of files, writes them into
//! a fresh temporary directory beside the output directory and swaps the two with one atomic
//! rename (`renameat2` with `RENAME_EXCHANGE` on Linux; elsewhere two renames, between which
//! the directory is briefly absent). A reader sees the old set or the new set, never a mix,
//! and an interrupted run leaves the old set in place. A [`WriteLock`] on a file beside the
//! directory makes concurrent runs take turns.
//!
//! Nothing this module creates goes through a link: temporary directories and files get
//! random names and are created exclusively (the `tempfile` crate), and the lock file is opened
//! without following a link at its name.
//!
//! A file in the directory belongs to this tool when the previous run's `kustomization.yaml`
//! lists it and it starts with [`GENERATED_MARK`]. Other entries are the user's: regular
//! files and symbolic links are carried into the new directory unchanged (hard links and
//! re-created links, never followed), other kinds are refused, and so is any entry of the
//! user's that has the name of a file this tool writes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{GENERATED_MARK, KUSTOMIZATION, unified_diff};
use crate::error::{Error, Result};

/// The largest file `--check` reads to compare; a bigger one is reported as different.
const MAX_COMPARED: u64 = 64 << 20;

/// How a file in an output directory differs from what would be written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Difference {
    /// The file name inside the directory.
    pub(crate) file: String,
    /// What differs.
    pub(crate) change: Change,
    /// A unified diff from the file on disk to the expected content (removal for stale files).
    pub(crate) diff: String,
}

/// What differs about a file of an output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Change {
    /// Its content is not what the inputs generate.
    Changed,
    /// It is missing.
    Missing,
    /// This tool wrote it before, and the inputs no longer generate it.
    LeftOver,
    /// Something that is not a regular file (a link, a directory) holds its name.
    NotAFile,
}

/// What `--check` found in an output directory; `render` writes it in a
/// [`crate::ci::Format`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checked {
    /// The directory, as named.
    pub(crate) dir: String,
    /// Every file compared: the files the inputs generate and the generated files left over,
    /// sorted.
    pub files: Vec<String>,
    /// How files differ; empty when the directory is fresh.
    pub(crate) differences: Vec<Difference>,
}

impl Checked {
    /// Ok when the directory is fresh; else [`Error::Stale`], naming the directory and how
    /// many files differ.
    pub fn fresh(&self) -> Result<()> {
        if self.differences.is_empty() {
            return Ok(());
        }
        Err(Error::Stale {
            dir: self.dir.clone(),
            count: self.differences.len(),
            refresh: None,
        })
    }

    /// The differences as unified diffs, one after the other.
    pub(crate) fn to_text(&self) -> String {
        self.differences.iter().map(|d| d.diff.as_str()).collect()
    }

    /// The check as JSON.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the check serializes") + "\n"
    }
}

/// An entry of an existing output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// A file this tool wrote.
    Ours,
    /// The user's regular file.
    File,
    /// The user's symbolic link (never followed).
    Link,
    /// Anything else: a directory, pipe, socket or device.
    Other(&'static str),
}

/// The entries of `dir`, classified; empty when it does not exist.
fn entries(dir: &Path) -> Result<BTreeMap<String, Entry>> {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(write_error(dir, &e)),
    };
    let owned = owned_names(dir);
    let mut entries = BTreeMap::new();
    for entry in listing {
        let entry = entry.map_err(|e| write_error(dir, &e))?;
        let Ok(name) = entry.file_name().into_string() else {
            return Err(Error::Write {
                path: entry.path().display().to_string(),
                reason: "a file name that is not UTF-8; move it out of the directory".into(),
            });
        };
        let kind = entry
            .file_type()
            .map_err(|e| write_error(&entry.path(), &e))?;
        let class = if kind.is_symlink() {
            Entry::Link
        } else if kind.is_file() {
            if owned.contains(&name) && starts_with_mark(&entry.path()) {
                Entry::Ours
            } else {
                Entry::File
            }
        } else if kind.is_dir() {
            Entry::Other("a directory")
        } else {
            Entry::Other("not a regular file")
        };
        entries.insert(name, class);
    }
    Ok(entries)
}

/// The names the directory's kustomization lists, with the kustomization itself, when this
/// tool wrote it.
fn owned_names(dir: &Path) -> BTreeSet<String> {
    #[derive(serde::Deserialize)]
    struct Listed {
        #[serde(default)]
        resources: Vec<String>,
    }
    let path = dir.join(KUSTOMIZATION);
    let regular = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() < MAX_COMPARED);
    if !regular {
        return BTreeSet::new();
    }
    let Ok(text) = fs::read_to_string(&path) else {
        return BTreeSet::new();
    };
    if !text.starts_with(GENERATED_MARK) {
        return BTreeSet::new();
    }
    let Ok(listed) = serde_yaml::from_str::<Listed>(&text) else {
        return BTreeSet::new();
    };
    let mut names: BTreeSet<String> = listed
        .resources
        .into_iter()
        .filter(|name| !name.contains('/') && !name.starts_with('.'))
        .collect();
    names.insert(KUSTOMIZATION.into());
    names
}

/// Whether the regular file at `path` starts with the generated-file mark.
fn starts_with_mark(path: &Path) -> bool {
    use std::io::Read as _;
    let mut start = [0u8; GENERATED_MARK.len()];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|()| start == GENERATED_MARK.as_bytes())
}

/// Compares `dir` with `files`: changed, missing and left-over generated files, as diffs.
/// Nothing is followed or opened but regular files.
pub fn check_dir(dir: &Path, files: &BTreeMap<String, String>) -> Result<Checked> {
    let entries = entries(dir)?;
    let mut differences = Vec::new();
    for (name, expected) in files {
        let path = dir.join(name);
        let (actual, change) = match entries.get(name) {
            None => (String::new(), Change::Missing),
            Some(Entry::Ours | Entry::File) => (read_compared(&path)?, Change::Changed),
            Some(Entry::Link) => {
                differences.push(not_a_file(
                    name,
                    &dir.join(name),
                    "a symbolic link",
                    expected,
                ));
                continue;
            }
            Some(Entry::Other(kind)) => {
                differences.push(not_a_file(name, &dir.join(name), kind, expected));
                continue;
            }
        };
        if &actual != expected {
            differences.push(Difference {
                file: name.clone(),
                change,
                diff: diff(&dir.join(name), change, &actual, expected),
            });
        }
    }
    let mut compared: Vec<String> = files.keys().cloned().collect();
    for (name, entry) in &entries {
        if *entry == Entry::Ours && !files.contains_key(name) {
            let actual = read_compared(&dir.join(name))?;
            differences.push(Difference {
                file: name.clone(),
                change: Change::LeftOver,
                diff: unified_diff(&dir.join(name).to_string_lossy(), Some(&actual), None),
            });
            compared.push(name.clone());
        }
    }
    compared.sort();
    Ok(Checked {
        dir: dir.display().to_string(),
        files: compared,
        differences,
    })
}

/// Compares the file at `path` with `expected`, as [`check_dir`] compares the files of a
/// directory (for `generate -o FILE --check`): the report names the file's directory and the
/// file. A missing file is missing; anything but a regular file (a link too, which a write
/// would replace) is not a file.
pub fn check_file(path: &Path, expected: &str) -> Result<Checked> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.display().to_string(),
        _ => ".".to_string(),
    };
    let difference = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Difference {
            file: name.clone(),
            change: Change::Missing,
            diff: diff(path, Change::Missing, "", expected),
        }),
        Err(e) => return Err(write_error(path, &e)),
        Ok(metadata) if metadata.is_file() => {
            let actual = read_compared(path)?;
            (actual != expected).then(|| Difference {
                file: name.clone(),
                change: Change::Changed,
                diff: diff(path, Change::Changed, &actual, expected),
            })
        }
        Ok(metadata) if metadata.is_symlink() => {
            Some(not_a_file(&name, path, "a symbolic link", expected))
        }
        Ok(_) => Some(not_a_file(&name, path, "not a regular file", expected)),
    };
    Ok(Checked {
        dir,
        files: vec![name],
        differences: difference.into_iter().collect(),
    })
}

/// What a write did to an output directory, by file name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Written {
    /// Files written that were not there, or had other content.
    pub changed: BTreeSet<String>,
    /// Files that were there with the same content.
    pub unchanged: BTreeSet<String>,
    /// Files of this tool that are no longer generated, removed.
    pub removed: BTreeSet<String>,
}

impl Written {
    /// Whether the directory held exactly these files already.
    fn nothing_changed(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

/// How `files` differ from what `dir` holds among its files of this tool (a quick
/// [`check_dir`] without diffs).
fn compare(
    dir: &Path,
    entries: &BTreeMap<String, Entry>,
    files: &BTreeMap<String, String>,
) -> Result<Written> {
    let mut written = Written::default();
    for (name, expected) in files {
        let same =
            entries.get(name) == Some(&Entry::Ours) && read_compared(&dir.join(name))? == *expected;
        let set = if same {
            &mut written.unchanged
        } else {
            &mut written.changed
        };
        set.insert(name.clone());
    }
    written.removed = entries
        .iter()
        .filter(|(name, entry)| **entry == Entry::Ours && !files.contains_key(*name))
        .map(|(name, _)| name.clone())
        .collect();
    Ok(written)
}

/// The diff of the file at `path` to `expected`: from `/dev/null` when it is missing.
fn diff(path: &Path, change: Change, actual: &str, expected: &str) -> String {
    let actual = (change != Change::Missing).then_some(actual);
    unified_diff(&path.to_string_lossy(), actual, Some(expected))
}

fn not_a_file(name: &str, path: &Path, kind: &str, expected: &str) -> Difference {
    Difference {
        file: name.to_string(),
        change: Change::NotAFile,
        diff: format!(
            "{name} is {kind}, not a file this tool wrote\n{}",
            unified_diff(&path.to_string_lossy(), None, Some(expected))
        ),
    }
}

/// The text of a regular file to compare; too large or not UTF-8 reads as a placeholder, which
/// differs from any generated file.
fn read_compared(path: &Path) -> Result<String> {
    let metadata = fs::symlink_metadata(path).map_err(|e| write_error(path, &e))?;
    if metadata.len() > MAX_COMPARED {
        return Ok(format!("(a file of {} bytes)\n", metadata.len()));
    }
    let bytes = fs::read(path).map_err(|e| write_error(path, &e))?;
    Ok(String::from_utf8(bytes).unwrap_or_else(|_| "(not UTF-8 text)\n".into()))
}

/// Whether [`write_dir`] flushes the new files to disk before they take the place of the old
/// ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flush {
    /// Leave flushing to the system: an interrupted run leaves the old set, but a crash of the
    /// machine shortly after a write may leave empty files on some file systems.
    #[default]
    No,
    /// Flush first (one `syncfs` on Linux, a flush per file elsewhere): a crash of the machine
    /// leaves the old set or the complete new one. On slow disks this costs about a
    /// millisecond per file.
    Yes,
}

/// Writes `files` as the new content of `dir`, atomically (see the module documentation),
/// and says which files changed. When `dir` already holds exactly these files, nothing is
/// written.
///
/// Another run writing the same directory is waited for: `waiting` is called once, with the
/// lock file, before the wait begins (the command-line tool says so).
pub fn write_dir(
    dir: &Path,
    files: &BTreeMap<String, String>,
    flush: Flush,
    waiting: &mut dyn FnMut(&Path),
) -> Result<Written> {
    Writer::new(dir)?.write(files, flush, None, waiting)
}

/// [`write_dir`] that fails after writing `after` files into the temporary directory, so
/// that tests can check what an interrupted write leaves behind.
#[cfg(test)]
fn write_dir_failing_after(
    dir: &Path,
    files: &BTreeMap<String, String>,
    after: usize,
) -> Result<Written> {
    Writer::new(dir)?.write(files, Flush::No, Some(after), &mut |_| {})
}

/// The output directory, its parent and the names of the temporary siblings.
struct Writer {
    dir: PathBuf,
    parent: PathBuf,
    name: String,
}

impl Writer {
    fn new(dir: &Path) -> Result<Self> {
        let refuse = |reason: &str| Error::Write {
            path: dir.display().to_string(),
            reason: reason.into(),
        };
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty() && *n != "." && *n != "..")
            .ok_or_else(|| {
                refuse("give a directory by its name (not `/`, `.` or `..`), such as `policies/`")
            })?
            .to_string();
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| write_error(&parent, &e))?;
        let canonical = fs::canonicalize(&parent)
            .map_err(|e| write_error(&parent, &e))?
            .join(&name);
        let home = std::env::var_os("HOME").map(PathBuf::from);
        if canonical == Path::new("/") || home.is_some_and(|h| h == canonical) {
            return Err(refuse(
                "is the root or home directory; give a directory of its own for the policies",
            ));
        }
        match fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => Err(refuse(
                "is a symbolic link; give the directory it points to",
            )),
            Ok(m) if !m.is_dir() => Err(refuse("exists and is not a directory")),
            _ => Ok(Writer {
                dir: dir.to_path_buf(),
                parent,
                name,
            }),
        }
    }

    fn write(
        &self,
        files: &BTreeMap<String, String>,
        flush: Flush,
        fail_after: Option<usize>,
        waiting: &mut dyn FnMut(&Path),
    ) -> Result<Written> {
        let _lock = WriteLock::take(&self.dir, waiting)?;
        self.remove_stale_siblings()?;
        let entries = entries(&self.dir)?;
        let written = compare(&self.dir, &entries, files)?;
        if written.nothing_changed() {
            return Ok(written);
        }
        let mut carried = Vec::new();
        for (name, entry) in &entries {
            let collides = files.contains_key(name);
            match entry {
                Entry::Ours => {}
                Entry::File | Entry::Link if !collides => carried.push(name.as_str()),
                Entry::File | Entry::Link => {
                    return Err(Error::Write {
                        path: self.dir.join(name).display().to_string(),
                        reason: "was not written by this tool (the previous kustomization.yaml does not list it, or it lacks the generated-file mark), and this run would replace it; move it away".into(),
                    });
                }
                Entry::Other(kind) => {
                    return Err(Error::Write {
                        path: self.dir.join(name).display().to_string(),
                        reason: format!(
                            "is {kind}, which this tool cannot carry into the new directory; move it away"
                        ),
                    });
                }
            }
        }
        let temporary = self.temporary("new-")?;
        let result = self
            .fill(temporary.path(), files, &carried, flush, fail_after)
            .and_then(|()| self.swap(temporary.path()));
        // The temporary directory holds the old set after a swap, the half-written new one
        // after a failure: removed either way (a failure to remove it is left for the next
        // run, which removes what interrupted runs left).
        let _ = temporary.close();
        result.map(|()| written)
    }

    /// A new empty directory beside the output directory, `.<name>.dynakube-netpol-<kind>`
    /// and a random suffix, created exclusively.
    fn temporary(&self, kind: &str) -> Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(&format!(".{}.dynakube-netpol-{kind}", self.name))
            .tempdir_in(&self.parent)
            .map_err(|e| write_error(&self.parent, &e))
    }

    /// Removes temporary directories that interrupted runs left behind (the lock is held, so
    /// no other run is using them).
    fn remove_stale_siblings(&self) -> Result<()> {
        let prefix = format!(".{}.dynakube-netpol-", self.name);
        let listing = fs::read_dir(&self.parent).map_err(|e| write_error(&self.parent, &e))?;
        for entry in listing.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let stale = name
                .strip_prefix(&prefix)
                .is_some_and(|rest| rest.starts_with("new-") || rest.starts_with("old-"));
            if stale && entry.file_type().is_ok_and(|t| t.is_dir()) {
                fs::remove_dir_all(entry.path()).map_err(|e| write_error(&entry.path(), &e))?;
            }
        }
        Ok(())
    }

    /// Writes the new files and carries the user's entries into `temporary`.
    fn fill(
        &self,
        temporary: &Path,
        files: &BTreeMap<String, String>,
        carried: &[&str],
        flush: Flush,
        fail_after: Option<usize>,
    ) -> Result<()> {
        for (written, (name, content)) in files.iter().enumerate() {
            if fail_after == Some(written) {
                return Err(Error::Write {
                    path: temporary.join(name).display().to_string(),
                    reason: "injected failure".into(),
                });
            }
            let path = temporary.join(name);
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| write_error(&path, &e))?;
            file.write_all(content.as_bytes())
                .map_err(|e| write_error(&path, &e))?;
            if flush == Flush::Yes && !CAN_SYNC_FILESYSTEM {
                file.sync_data().map_err(|e| write_error(&path, &e))?;
            }
        }
        for name in carried {
            let (from, to) = (self.dir.join(name), temporary.join(name));
            let kind = fs::symlink_metadata(&from).map_err(|e| write_error(&from, &e))?;
            let carried = if kind.file_type().is_symlink() {
                fs::read_link(&from).and_then(|target| symlink(&target, &to))
            } else {
                fs::hard_link(&from, &to).or_else(|_| fs::copy(&from, &to).map(|_| ()))
            };
            carried.map_err(|e| write_error(&from, &e))?;
        }
        if flush == Flush::Yes {
            sync_files(temporary)?;
            sync_dir(temporary)?;
        }
        Ok(())
    }

    /// Puts `temporary` in the place of the directory; `temporary` then holds the old content.
    fn swap(&self, temporary: &Path) -> Result<()> {
        if !self.dir.exists() {
            fs::rename(temporary, &self.dir).map_err(|e| write_error(&self.dir, &e))?;
            // Leave an empty directory where the caller's temporary one was.
            return fs::create_dir(temporary).map_err(|e| write_error(temporary, &e));
        }
        if !exchange(temporary, &self.dir) {
            // Without an atomic exchange the directory is absent for a moment, never mixed.
            let old = self.temporary("old-")?.keep();
            fs::rename(&self.dir, &old).map_err(|e| write_error(&self.dir, &e))?;
            if let Err(e) = fs::rename(temporary, &self.dir) {
                let _ = fs::rename(&old, &self.dir);
                return Err(write_error(&self.dir, &e));
            }
            fs::rename(&old, temporary).map_err(|e| write_error(&old, &e))?;
        }
        Ok(())
    }
}

/// Swaps two directories in one step; false where the system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> bool {
    false
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "symbolic links cannot be carried here",
    ))
}

/// Whether one call flushes every file written ([`sync_files`]); elsewhere each file is
/// flushed as it is written.
const CAN_SYNC_FILESYSTEM: bool = cfg!(target_os = "linux");

/// Flushes the files written into `dir` before the directory is swapped in, so that a crash of
/// the machine cannot leave empty files behind the new name: one `syncfs` of the file system
/// on Linux, which costs less than a flush per file.
fn sync_files(dir: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    fs::File::open(dir)
        .and_then(|d| rustix::fs::syncfs(&d).map_err(std::io::Error::from))
        .map_err(|e| write_error(dir, &e))?;
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
    Ok(())
}

/// Flushes a directory's entries to disk (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| write_error(dir, &e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// An exclusive lock that makes runs writing the same output take turns: on the file
/// `.<name>.dynakube-netpol-lock` beside the output (a directory, or a file such as the
/// lock file of DNS answers), released and removed on drop.
///
/// The lock file is opened without following a link at its name (a planted link is refused,
/// its target untouched) and must be a regular file.
#[derive(Debug)]
pub struct WriteLock {
    path: PathBuf,
    _file: fs::File,
}

impl WriteLock {
    /// Takes the lock for writing `target`. When another run holds it, `waiting` is called
    /// once with the lock file's path, and the lock is waited for.
    pub fn take(target: &Path, waiting: &mut dyn FnMut(&Path)) -> Result<Self> {
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty() && *n != "." && *n != "..")
            .ok_or_else(|| Error::Write {
                path: target.display().to_string(),
                reason: "give it by its name (not `/`, `.` or `..`)".into(),
            })?;
        let path = target.with_file_name(format!(".{name}.dynakube-netpol-lock"));
        let mut announced = false;
        // Another run may remove the lock file between our open and our lock: then the lock
        // we hold is on a file nobody else sees, so open again.
        for _ in 0..64 {
            let file = open_no_follow(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    if !announced {
                        waiting(&path);
                        announced = true;
                    }
                    file.lock().map_err(|e| write_error(&path, &e))?;
                }
                Err(fs::TryLockError::Error(e)) => return Err(write_error(&path, &e)),
            }
            if same_file(&file, &path) {
                return Ok(WriteLock { path, _file: file });
            }
        }
        Err(Error::Write {
            path: target.display().to_string(),
            reason: "could not take the lock: other runs keep replacing it".into(),
        })
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        // Removed while still locked, so a run that opened it before sees a stale file and
        // opens again.
        let _ = fs::remove_file(&self.path);
    }
}

/// Opens (or creates) the regular file at `path` for writing, never through a link.
fn open_no_follow(path: &Path) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let refuse = || {
        Error::Write {
        path: path.display().to_string(),
        reason: "is a symbolic link or not a regular file; remove it (this tool's lock files are regular files it removes after each run)".into(),
    }
    };
    if fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(refuse());
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(target_os = "linux")]
        if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
            // The name became a link between the check above and the open.
            return refuse();
        }
        write_error(path, &e)
    })?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(refuse());
    }
    Ok(file)
}

/// Writes `content` to the file at `path` atomically: into a new file with a random name beside
/// it (created exclusively, never through a link), flushed, then renamed over `path` (which
/// replaces a link at `path`, never its target).
pub fn write_file(path: &Path, content: &str) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(parent)
        .map_err(|e| write_error(path, &e))?;
    file.write_all(content.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| write_error(path, &e))?;
    file.persist(path)
        .map_err(|e| write_error(path, &e.error))?;
    Ok(())
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &fs::File, path: &Path) -> bool {
    path.exists()
}

fn write_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("dynakube-netpol-dir-{}", std::process::id()))
            .join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.parent().unwrap()).unwrap();
        dir
    }

    fn set(version: &str, names: &[&str]) -> BTreeMap<String, String> {
        let mut files: BTreeMap<String, String> = names
            .iter()
            .map(|n| {
                (
                    format!("{n}.yaml"),
                    format!("{GENERATED_MARK} {version}\n{n}\n"),
                )
            })
            .collect();
        let listed: String = names.iter().map(|n| format!("- {n}.yaml\n")).collect();
        files.insert(
            KUSTOMIZATION.into(),
            format!("{GENERATED_MARK} {version}\nresources:\n{listed}"),
        );
        files
    }

    fn read(dir: &Path) -> BTreeMap<String, String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| {
                let name = e.file_name().into_string().unwrap();
                let text = fs::read_to_string(e.path()).unwrap_or_else(|_| "<unreadable>".into());
                (name, text)
            })
            .collect()
    }

    #[test]
    fn a_file_is_checked_as_a_directory_s_files_are() {
        let dir = scratch("check-file");
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("policies.yaml");
        let changes = |checked: &Checked| -> Vec<Change> {
            checked.differences.iter().map(|d| d.change).collect()
        };
        let missing = check_file(&file, "a\n").unwrap();
        assert_eq!(changes(&missing), [Change::Missing]);
        assert_eq!(missing.files, ["policies.yaml"]);
        assert_eq!(missing.dir, dir.display().to_string());
        fs::write(&file, "a\n").unwrap();
        let fresh = check_file(&file, "a\n").unwrap();
        assert!(fresh.fresh().is_ok());
        let changed = check_file(&file, "b\n").unwrap();
        assert_eq!(changes(&changed), [Change::Changed]);
        assert!(changed.differences[0].diff.contains("-a\n+b\n"));
        assert!(matches!(
            changed.fresh(),
            Err(Error::Stale { count: 1, .. })
        ));
        #[cfg(unix)]
        {
            let link = dir.join("link.yaml");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            let linked = check_file(&link, "a\n").unwrap();
            assert_eq!(changes(&linked), [Change::NotAFile]);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_interrupted_write_leaves_the_old_set() {
        let dir = scratch("interrupted");
        let old = set("1", &["a", "b", "c"]);
        write_dir(&dir, &old, Flush::No, &mut |_| {}).unwrap();
        let new = set("2", &["a", "d"]);
        for after in 0..new.len() {
            assert!(write_dir_failing_after(&dir, &new, after).is_err());
            assert_eq!(read(&dir), old, "after {after} files");
        }
        write_dir(&dir, &new, Flush::No, &mut |_| {}).unwrap();
        assert_eq!(read(&dir), new);
        let leftovers: Vec<_> = fs::read_dir(dir.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with(".interrupted."))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_write_says_which_files_changed() {
        let dir = scratch("written");
        let names = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>();
        let first = write_dir(&dir, &set("1", &["a", "b"]), Flush::No, &mut |_| {}).unwrap();
        assert_eq!(
            names(&first.changed),
            ["a.yaml", "b.yaml", "kustomization.yaml"]
        );
        assert!(first.unchanged.is_empty() && first.removed.is_empty());
        let again = write_dir(&dir, &set("1", &["a", "b"]), Flush::No, &mut |_| {}).unwrap();
        assert!(again.changed.is_empty() && again.removed.is_empty());
        assert_eq!(again.unchanged.len(), 3);
        // `a` keeps its content, the kustomization lists `c` instead of `b`.
        let mut next = set("1", &["a", "c"]);
        next.insert(
            "kustomization.yaml".into(),
            set("2", &["a", "c"])["kustomization.yaml"].clone(),
        );
        let changed = write_dir(&dir, &next, Flush::No, &mut |_| {}).unwrap();
        assert_eq!(names(&changed.changed), ["c.yaml", "kustomization.yaml"]);
        assert_eq!(names(&changed.unchanged), ["a.yaml"]);
        assert_eq!(names(&changed.removed), ["b.yaml"]);
        assert_eq!(read(&dir), next);
    }

    #[test]
    fn user_entries_are_carried_or_refused_never_followed() {
        let dir = scratch("user");
        write_dir(&dir, &set("1", &["a"]), Flush::No, &mut |_| {}).unwrap();
        let outside = dir.parent().unwrap().join("outside.txt");
        fs::write(&outside, "precious\n").unwrap();
        fs::write(dir.join("notes.md"), "mine\n").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("link.yaml")).unwrap();
        // A user's copy that keeps the mark but is not listed stays the user's.
        fs::write(dir.join("copy.yaml"), format!("{GENERATED_MARK} edited\n")).unwrap();

        write_dir(&dir, &set("2", &["b"]), Flush::No, &mut |_| {}).unwrap();
        let after = read(&dir);
        assert_eq!(after["notes.md"], "mine\n");
        assert_eq!(after["copy.yaml"], format!("{GENERATED_MARK} edited\n"));
        assert!(
            fs::symlink_metadata(dir.join("link.yaml"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(!after.contains_key("a.yaml"));
        assert_eq!(fs::read_to_string(&outside).unwrap(), "precious\n");

        // A link with the name of a generated file is refused, and its target untouched.
        std::os::unix::fs::symlink(&outside, dir.join("c.yaml")).unwrap();
        let err = write_dir(&dir, &set("3", &["c"]), Flush::No, &mut |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("was not written by this tool"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&outside).unwrap(), "precious\n");
        let checked = check_dir(&dir, &set("3", &["c"])).unwrap();
        assert!(checked.differences.iter().any(|d| {
            d.change == Change::NotAFile && d.diff.starts_with("c.yaml is a symbolic link")
        }));

        fs::remove_file(dir.join("c.yaml")).unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        let err = write_dir(&dir, &set("3", &["c"]), Flush::No, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    #[test]
    fn roots_and_links_are_refused() {
        for bad in ["/", "."] {
            assert!(
                write_dir(Path::new(bad), &set("1", &["a"]), Flush::Yes, &mut |_| {}).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_held_lock_makes_a_second_writer_wait() {
        let dir = scratch("locked");
        let lock = WriteLock::take(&dir, &mut |_| panic!("nobody holds it")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let writer = {
            let dir = dir.clone();
            std::thread::spawn(move || {
                write_dir(&dir, &set("1", &["a"]), Flush::No, &mut |held| {
                    tx.send(held.to_path_buf()).unwrap();
                })
            })
        };
        let held = rx.recv().unwrap();
        assert!(
            held.ends_with(".locked.dynakube-netpol-lock"),
            "{}",
            held.display()
        );
        assert!(!dir.exists(), "the second writer waits");
        drop(lock);
        writer.join().unwrap().unwrap();
        assert_eq!(read(&dir), set("1", &["a"]));
    }

    #[cfg(unix)]
    #[test]
    fn planted_links_are_never_followed() {
        let dir = scratch("planted");
        let parent = dir.parent().unwrap().to_path_buf();
        // A dangling link where the lock file goes: refused, and nothing created at its target.
        let target = parent.join("planted-target");
        let _ = fs::remove_file(&target);
        let lock = parent.join(".planted.dynakube-netpol-lock");
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        let err = write_dir(&dir, &set("1", &["a"]), Flush::No, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert!(!target.exists() && !dir.exists());
        // A link to a precious file is refused too, and the file is untouched.
        fs::write(&target, "precious\n").unwrap();
        let err = write_dir(&dir, &set("1", &["a"]), Flush::No, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious\n");
        fs::remove_file(&lock).unwrap();

        // A file written over a link replaces the link, never its target.
        let file = parent.join("planted.lock");
        let _ = fs::remove_file(&file);
        std::os::unix::fs::symlink(&target, &file).unwrap();
        write_file(&file, "new\n").unwrap();
        assert!(
            !fs::symlink_metadata(&file)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), "new\n");
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious\n");
        let leftovers: Vec<_> = fs::read_dir(&parent)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".planted"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
