//! `dynakube-netpol plugins install`: the names under which kubectl, kustomize and KRM
//! orchestrators run this binary (see `main`, which dispatches on the file name), set up in one
//! command.
//!
//! Decisions: a name is linked to the binary (copied with `--copy`), and a name that already
//! runs this binary (a link to it, a hard link, an identical copy) is left as it is, so a second
//! run changes nothing. Anything else at a name — a file, a link elsewhere or dangling, a
//! directory — is the user's: it is refused, and then nothing is created at all. Nothing is
//! written through a link: the directories below the plugin home are opened without following
//! links (a planted link there is refused), names are created exclusively (`symlinkat`, or a
//! file opened with `O_EXCL | O_NOFOLLOW`), and a name that appears meanwhile is classified
//! again, never replaced. The directories named by `--bin-dir` and `--kustomize-plugin-home`
//! (or their defaults) are the user's own and may be links.
//!
//! Only Unix systems are served; elsewhere the command says which copies to make.
#![cfg_attr(not(unix), allow(dead_code))]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dynakube_netpol::matrix::{Level, Note};
use dynakube_netpol::values::escape;

use crate::{kubectl_complete, manifests};

/// The binary's own name, as `PATH` finds it.
const BINARY: &str = "dynakube-netpol";
/// The kubectl plugin's file name (`kubectl dynakube-netpol` runs it).
const KUBECTL_PLUGIN: &str = "kubectl-dynakube_netpol";

/// Subcommands of `plugins`.
#[derive(Debug, clap::Subcommand)]
pub enum Plugins {
    /// Link this binary under the names kubectl and kustomize run it by: the kubectl plugin
    /// `kubectl-dynakube_netpol`, its completion `kubectl_complete-dynakube_netpol` and the KRM
    /// exec function `dynakube-netpol-krm` in --bin-dir, and the transformer plugin
    /// `NetworkPolicyGenerator` under kustomize's plugin home.
    ///
    /// A name that already runs this binary stays as it is, so a second run changes nothing. A
    /// name held by anything else (a file, a link elsewhere, a directory), or a link among the
    /// directories below the plugin home, is refused and nothing is created. Links are never
    /// followed to write. Prints one line per name: linked, copied or kept.
    ///
    /// Exit status: 0 when every name runs this binary; 2 when a name is refused (nothing is
    /// created then) or a directory or name cannot be created.
    Install(Install),
}

/// The options of `plugins install`.
#[derive(Debug, clap::Args)]
pub struct Install {
    /// The directory of the kubectl plugin, its completion and the KRM function; kubectl finds
    /// plugins on PATH. Default: the directory on PATH through which this binary is found, else
    /// ~/.local/bin. Made when missing.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    bin_dir: Option<PathBuf>,

    /// kustomize's plugin home. Default: the one kustomize reads, the first that exists of
    /// $KUSTOMIZE_PLUGIN_HOME, $XDG_CONFIG_HOME/kustomize/plugin, ~/.config/kustomize/plugin
    /// and ~/kustomize/plugin; when none exists, the first of the first three that is set
    /// (made).
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    kustomize_plugin_home: Option<PathBuf>,

    /// Copy the binary instead of linking it, for file systems without links or images that
    /// keep the plugin home apart from the binary. A copy is not updated with the binary: after
    /// an upgrade, remove the copies and run this again.
    #[arg(long)]
    copy: bool,
}

impl Plugins {
    /// Runs the subcommand.
    pub fn run(&self) -> anyhow::Result<ExitCode> {
        match self {
            Plugins::Install(install) => install.run(),
        }
    }
}

/// A name under which another tool runs the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    /// What the name is, for people.
    role: &'static str,
    /// The directory the user chose (or its default); may be a link.
    base: PathBuf,
    /// The directories below `base`, which this command makes and never follows as links.
    below: Vec<String>,
    /// The file name.
    file: String,
}

impl Name {
    /// The name's full path, for messages.
    fn path(&self) -> PathBuf {
        let mut path = self.base.clone();
        path.extend(&self.below);
        path.join(&self.file)
    }
}

/// Every name, with the directories they go into.
fn names(bin_dir: &Path, kustomize_home: &Path) -> Vec<Name> {
    let in_bin = |role, file: &str| Name {
        role,
        base: bin_dir.to_path_buf(),
        below: Vec::new(),
        file: file.to_owned(),
    };
    // kustomize finds a transformer plugin at <group>/<version>/<lower-case kind>/<kind>.
    let mut below: Vec<String> = manifests::API_VERSION
        .split('/')
        .map(String::from)
        .collect();
    below.push(manifests::TRANSFORMER_NAME.to_lowercase());
    vec![
        in_bin("kubectl plugin", KUBECTL_PLUGIN),
        in_bin("kubectl completion", kubectl_complete::NAME),
        in_bin("KRM function", manifests::KRM_NAME),
        Name {
            role: "kustomize transformer plugin",
            base: kustomize_home.to_path_buf(),
            below,
            file: manifests::TRANSFORMER_NAME.to_owned(),
        },
    ]
}

/// kustomize's plugin home as kustomize looks for it (`konfig.DefaultAbsPluginHome`): the
/// first directory that exists of `$KUSTOMIZE_PLUGIN_HOME`, `$XDG_CONFIG_HOME/kustomize/plugin`,
/// `$HOME/.config/kustomize/plugin` and `$HOME/kustomize/plugin`. When none exists, the first of
/// the first three that is set: making it shadows no other plugin home. Unset and empty
/// variables are skipped.
fn kustomize_home(
    env: impl Fn(&str) -> Option<OsString>,
    exists: impl Fn(&Path) -> bool,
) -> anyhow::Result<PathBuf> {
    let set = |name: &str| {
        env(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    let home = set("HOME");
    let candidates: Vec<PathBuf> = [
        set("KUSTOMIZE_PLUGIN_HOME"),
        set("XDG_CONFIG_HOME").map(|dir| dir.join("kustomize/plugin")),
        home.as_ref()
            .map(|dir| dir.join(".config/kustomize/plugin")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let legacy = home.map(|dir| dir.join("kustomize/plugin"));
    if let Some(found) = candidates.iter().chain(&legacy).find(|dir| exists(dir)) {
        return Ok(found.clone());
    }
    candidates.into_iter().next().ok_or_else(|| {
        anyhow::anyhow!(
            "neither KUSTOMIZE_PLUGIN_HOME, XDG_CONFIG_HOME nor HOME is set: name the plugin home with --kustomize-plugin-home"
        )
    })
}

/// Where `PATH` finds `dynakube-netpol`: the first such file, and the first that is `me` (as
/// identified by `is_me`). Relative directories of `PATH` are skipped.
fn on_path(path: &OsString, is_me: impl Fn(&Path) -> bool) -> (Option<PathBuf>, Option<PathBuf>) {
    let mut first = None;
    for dir in std::env::split_paths(path).filter(|dir| dir.is_absolute()) {
        let candidate = dir.join(BINARY);
        if !candidate.is_file() {
            continue;
        }
        if first.is_none() {
            first = Some(candidate.clone());
        }
        if is_me(&candidate) {
            return (first, Some(candidate));
        }
    }
    (first, None)
}

/// Whether `dir` is one of the directories of `path` (compared as resolved paths).
fn is_on_path(dir: &Path, path: &OsString) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    std::env::split_paths(path).any(|entry| entry.canonicalize().is_ok_and(|entry| entry == dir))
}

/// A warning on standard error (unless --quiet).
fn warn(text: String) {
    crate::say::print_notes(&[Note::new(Level::Warning, &[], text)]);
}

/// A path as it may be shown.
fn shown(path: &Path) -> String {
    escape(&path.to_string_lossy()).into_owned()
}

#[cfg(unix)]
impl Install {
    fn run(&self) -> anyhow::Result<ExitCode> {
        use anyhow::Context as _;
        let me = unix::Binary::current()?;
        let path = std::env::var_os("PATH").unwrap_or_default();
        let (first, mine) = on_path(&path, |candidate| me.is(candidate));
        let home = std::env::var_os("HOME").filter(|home| !home.is_empty());
        let bin_dir = match (&self.bin_dir, &mine, &home) {
            (Some(dir), _, _) => dir.clone(),
            (None, Some(mine), _) => mine
                .parent()
                .expect("a file on PATH has a directory")
                .into(),
            (None, None, Some(home)) => Path::new(home).join(".local/bin"),
            (None, None, None) => {
                anyhow::bail!("HOME is not set: name the directory with --bin-dir")
            }
        };
        let kustomize_home = match &self.kustomize_plugin_home {
            Some(dir) => dir.clone(),
            None => kustomize_home(|name| std::env::var_os(name), Path::is_dir)?,
        };
        // Links name the binary as PATH finds it, so that they follow an upgrade that replaces
        // the file PATH names (package managers link it to a versioned directory).
        let target = mine.clone().unwrap_or_else(|| me.path.clone());
        let names = names(&bin_dir, &kustomize_home);
        let refused: Vec<String> = names
            .iter()
            .filter_map(|name| match unix::found(name, &me) {
                Ok(unix::Found::Foreign(what)) => {
                    Some(format!("{} ({}) {what}", shown(&name.path()), name.role))
                }
                Ok(_) => None,
                Err(error) => Some(format!("{}: {error}", shown(&name.path()))),
            })
            .collect();
        if !refused.is_empty() {
            anyhow::bail!(
                "nothing was installed: {}; move them away or choose another directory \
                 (--bin-dir, --kustomize-plugin-home)",
                refused.join("; ")
            );
        }
        for name in &names {
            let done = unix::install(name, &me, &target, self.copy)
                .with_context(|| format!("cannot install {}", shown(&name.path())))?;
            crate::exit::write(done.line(name, &target))?;
        }
        Self::advise(&bin_dir, &path, first.as_deref(), mine.as_deref());
        Ok(ExitCode::SUCCESS)
    }

    /// Warns where kubectl or Helm would not find what was installed.
    fn advise(bin_dir: &Path, path: &OsString, first: Option<&Path>, mine: Option<&Path>) {
        if !is_on_path(bin_dir, path) {
            warn(format!(
                "{} is not on PATH: kubectl finds plugins and their completion on PATH",
                shown(bin_dir)
            ));
        }
        match first {
            Some(first) if Some(first) != mine => warn(format!(
                "PATH finds another {BINARY} first ({}): the Helm plugin runs that one",
                shown(first)
            )),
            None => warn(format!(
                "PATH does not find {BINARY}: the Helm plugin runs `{BINARY}` from PATH"
            )),
            Some(_) => {}
        }
    }
}

#[cfg(not(unix))]
impl Install {
    fn run(&self) -> anyhow::Result<ExitCode> {
        let list: Vec<String> = names(Path::new("DIR"), Path::new("$KUSTOMIZE_PLUGIN_HOME"))
            .iter()
            .map(|name| format!("{} ({})", shown(&name.path()), name.role))
            .collect();
        anyhow::bail!(
            "plugins install needs a Unix system; copy the binary to {}",
            list.join(", ")
        )
    }
}

/// What was done for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    /// A link to the binary was made.
    Linked,
    /// A copy of the binary was made.
    Copied,
    /// The name already ran the binary.
    Kept,
}

impl Done {
    /// The line of the report.
    fn line(self, name: &Name, target: &Path) -> String {
        let path = shown(&name.path());
        match self {
            Done::Linked => format!("linked {path} -> {} ({})\n", shown(target), name.role),
            Done::Copied => format!("copied {path} ({})\n", name.role),
            Done::Kept => format!("kept {path} ({}, already this binary)\n", name.role),
        }
    }
}

/// The file operations, relative to directory descriptors so that no link is followed.
#[cfg(unix)]
mod unix {
    use std::cell::OnceCell;
    use std::io::{Read as _, Write as _};
    use std::os::fd::OwnedFd;
    use std::os::unix::fs::MetadataExt as _;
    use std::path::{Path, PathBuf};

    use rustix::fs::{AtFlags, FileType, Mode, OFlags};
    use rustix::io::Errno;

    use super::{Done, Name};

    /// The running binary.
    pub struct Binary {
        /// Its path, links resolved.
        pub path: PathBuf,
        /// Its device and inode.
        id: (u64, u64),
        /// Its size in bytes.
        size: u64,
        /// Its bytes, read when a copy is compared or made.
        bytes: OnceCell<Vec<u8>>,
    }

    impl Binary {
        /// The binary of this process.
        pub fn current() -> anyhow::Result<Binary> {
            use anyhow::Context as _;
            let path = std::env::current_exe()
                .and_then(|path| path.canonicalize())
                .context("cannot find the running binary")?;
            let metadata = std::fs::metadata(&path)?;
            Ok(Binary {
                path,
                id: (metadata.dev(), metadata.ino()),
                size: metadata.len(),
                bytes: OnceCell::new(),
            })
        }

        /// Whether `path` (links followed) is this binary's file.
        pub fn is(&self, path: &Path) -> bool {
            std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == self.id)
        }

        fn bytes(&self) -> std::io::Result<&[u8]> {
            if let Some(bytes) = self.bytes.get() {
                return Ok(bytes);
            }
            let bytes = std::fs::read(&self.path)?;
            Ok(self.bytes.get_or_init(|| bytes))
        }

        fn is_stat(&self, stat: &rustix::fs::Stat) -> bool {
            #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
            let id = (stat.st_dev as u64, stat.st_ino as u64);
            id == self.id
        }
    }

    /// What is at a name now.
    #[derive(Debug, PartialEq, Eq)]
    pub enum Found {
        /// Nothing (or a directory on the way is still missing).
        Absent,
        /// This binary: a link to it, a hard link or an identical copy.
        Ours,
        /// Something else: what it is, as a predicate (`is a file`).
        Foreign(String),
    }

    /// A directory below another, opened without following a link; `Ok(None)` when missing,
    /// `Ok(Err)` saying why it is refused.
    fn open_below(dir: &OwnedFd, name: &str) -> std::io::Result<Result<Option<OwnedFd>, String>> {
        let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
        match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => Ok(Ok(Some(fd))),
            Err(Errno::NOENT) => Ok(Ok(None)),
            Err(Errno::LOOP | Errno::NOTDIR) => {
                let stat = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
                let name = super::shown(Path::new(name));
                Ok(Err(match FileType::from_raw_mode(stat.st_mode) {
                    FileType::Symlink => format!("lies below {name}, a link (never followed)"),
                    _ => format!("lies below {name}, which is no directory"),
                }))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The directory a name goes into, opened; made first when `make`. `Ok(Err)` says why it
    /// is refused, `Ok(Ok(None))` that it is missing.
    fn open_dir(name: &Name, make: bool) -> std::io::Result<Result<Option<OwnedFd>, String>> {
        if make {
            std::fs::create_dir_all(&name.base)?;
        }
        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
        let mut dir = match rustix::fs::open(&name.base, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) if !make => return Ok(Ok(None)),
            Err(error) => return Err(error.into()),
        };
        for below in &name.below {
            if make {
                match rustix::fs::mkdirat(&dir, below.as_str(), Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            match open_below(&dir, below)? {
                Ok(Some(next)) => dir = next,
                other => return Ok(other),
            }
        }
        Ok(Ok(Some(dir)))
    }

    /// What is at `name`, without writing anything.
    pub fn found(name: &Name, me: &Binary) -> std::io::Result<Found> {
        match open_dir(name, false)? {
            Ok(Some(dir)) => found_in(&dir, &name.file, me),
            Ok(None) => Ok(Found::Absent),
            Err(why) => Ok(Found::Foreign(why)),
        }
    }

    /// What is at `file` in `dir`.
    fn found_in(dir: &OwnedFd, file: &str, me: &Binary) -> std::io::Result<Found> {
        let stat = match rustix::fs::statat(dir, file, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(Errno::NOENT) => return Ok(Found::Absent),
            Err(error) => return Err(error.into()),
        };
        Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => {
                let to = rustix::fs::readlinkat(dir, file, Vec::new())?;
                let to = super::shown(Path::new(&*to.to_string_lossy()));
                match rustix::fs::statat(dir, file, AtFlags::empty()) {
                    Ok(target) if me.is_stat(&target) => Found::Ours,
                    Ok(_) => Found::Foreign(format!("is a link to {to}")),
                    Err(_) => Found::Foreign(format!("is a dangling link to {to}")),
                }
            }
            FileType::RegularFile if me.is_stat(&stat) => Found::Ours,
            #[allow(clippy::unnecessary_cast)]
            FileType::RegularFile
                if stat.st_size as u64 == me.size && same_bytes(dir, file, me)? =>
            {
                Found::Ours
            }
            FileType::RegularFile => Found::Foreign("is another file".into()),
            FileType::Directory => Found::Foreign("is a directory".into()),
            _ => Found::Foreign("is no regular file".into()),
        })
    }

    /// Whether the regular file `file` in `dir` holds the binary's bytes.
    fn same_bytes(dir: &OwnedFd, file: &str, me: &Binary) -> std::io::Result<bool> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut bytes = Vec::new();
        std::fs::File::from(rustix::fs::openat(dir, file, flags, Mode::empty())?)
            .read_to_end(&mut bytes)?;
        Ok(bytes == me.bytes()?)
    }

    /// Makes `name` run the binary: a link to `target`, or with `copy` a copy.
    pub fn install(name: &Name, me: &Binary, target: &Path, copy: bool) -> anyhow::Result<Done> {
        let dir = match open_dir(name, true)? {
            Ok(Some(dir)) => dir,
            Ok(None) => anyhow::bail!("its directory vanished"),
            Err(why) => anyhow::bail!("it {why}"),
        };
        let file = name.file.as_str();
        let made = if copy {
            copy_into(&dir, file, me).map(|()| Done::Copied)
        } else {
            rustix::fs::symlinkat(target, &dir, file)
                .map(|()| Done::Linked)
                .map_err(std::io::Error::from)
        };
        match made {
            Ok(done) => Ok(done),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                match found_in(&dir, file, me)? {
                    Found::Ours => Ok(Done::Kept),
                    Found::Absent => anyhow::bail!("it vanished meanwhile"),
                    Found::Foreign(what) => anyhow::bail!("it {what} now"),
                }
            }
            Err(error) if !copy && error.raw_os_error() == Some(Errno::PERM.raw_os_error()) => {
                anyhow::bail!("{error} (a file system without links? --copy copies the binary)")
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Creates `file` in `dir` exclusively (never through a link) with the binary's bytes;
    /// removes it again when writing fails.
    fn copy_into(dir: &OwnedFd, file: &str, me: &Binary) -> std::io::Result<()> {
        let bytes = me.bytes()?;
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir, file, flags, Mode::from_raw_mode(0o755))?;
        let mut out = std::fs::File::from(fd);
        if let Err(error) = out.write_all(bytes).and_then(|()| out.sync_all()) {
            drop(out);
            let _ = rustix::fs::unlinkat(dir, file, AtFlags::empty());
            return Err(error);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    #[test]
    fn the_plugin_home_is_the_first_that_exists_as_kustomize_looks() {
        let vars = [
            ("KUSTOMIZE_PLUGIN_HOME", "/k"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ];
        let home = |existing: &[&str]| {
            kustomize_home(env(&vars), |dir| {
                existing.iter().any(|e| Path::new(e) == dir)
            })
            .unwrap()
        };
        assert_eq!(home(&["/k", "/x/kustomize/plugin"]), Path::new("/k"));
        assert_eq!(
            home(&["/x/kustomize/plugin"]),
            Path::new("/x/kustomize/plugin")
        );
        assert_eq!(
            home(&["/h/kustomize/plugin"]),
            Path::new("/h/kustomize/plugin")
        );
        // None exists: the first that is set, which shadows nothing once made.
        assert_eq!(home(&[]), Path::new("/k"));
        let home_only = [("HOME", "/h"), ("XDG_CONFIG_HOME", "")];
        assert_eq!(
            kustomize_home(env(&home_only), |_| false).unwrap(),
            Path::new("/h/.config/kustomize/plugin")
        );
        assert!(kustomize_home(env(&[]), |_| true).is_err());
    }

    #[test]
    fn names_follow_the_dispatch_of_main() {
        let names = names(Path::new("/b"), Path::new("/k"));
        let paths: Vec<PathBuf> = names.iter().map(Name::path).collect();
        assert_eq!(
            paths,
            [
                "/b/kubectl-dynakube_netpol",
                "/b/kubectl_complete-dynakube_netpol",
                "/b/dynakube-netpol-krm",
                "/k/dynakube-netpol.github.io/v1alpha1/networkpolicygenerator/NetworkPolicyGenerator",
            ]
            .map(PathBuf::from)
        );
    }
}
