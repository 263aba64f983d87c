//! The release archive that `cargo xtask dist` writes, assembled from a built binary and the
//! repository: one `.tar.gz` whose top directory is laid out as an installation prefix.
//!
//! ```text
//! dynakube-netpol-<version>-<target>/
//!   README.md, LICENSE
//!   docs/*.md                                 the reference pages the README links to
//!   bin/dynakube-netpol
//!   helm-plugin/dynakube-netpol.tgz          the Helm 4 plugin, as `helm plugin install` takes it
//!   share/man/man1/*.1
//!   share/bash-completion/completions/dynakube-netpol
//!   share/zsh/site-functions/_dynakube-netpol
//!   share/fish/vendor_completions.d/dynakube-netpol.fish
//!   share/powershell/_dynakube-netpol.ps1
//! ```
//!
//! `bin/` and `share/` copied into a prefix (`~/.local`, `/usr/local`) put the man pages and
//! the bash, zsh and fish completions where those tools look.
//!
//! The Helm plugin is a plugin tarball: a directory named after the plugin holding
//! `plugin.yaml`. Helm 4 unpacks such a tarball and copies the directory into its plugin
//! directory (it links a plugin directory instead, which must then stay where it is), and it
//! derives the directory's name from the tarball's name, hence `dynakube-netpol.tgz`. Helm 4
//! checks a tarball against a signed provenance file (`.prov`) unless `--verify=false`; the
//! archive carries none, since a signature is only worth the key a user already trusts.
//!
//! Both archives are reproducible: entries sorted, owner 0, modes 0644 and 0755, and every
//! time `SOURCE_DATE_EPOCH` (else 0), so that the same sources and binary give the same bytes.
//! The CLI's integration test assembles an archive through [`write`] from its own debug build.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::cli_docs::COMPLETIONS;

/// The name of the binary, of the Helm plugin and of the archive's first word.
pub const NAME: &str = "dynakube-netpol";

/// Where the CLI crate keeps the Helm plugin and the generated completions and man pages,
/// from the workspace root.
const CLI_DIR: &str = "crates/dynakube-netpol-cli";

/// The Helm plugin tarball's path in the archive.
pub const HELM_PLUGIN: &str = "helm-plugin/dynakube-netpol.tgz";

/// What goes into one archive.
#[derive(Debug, Clone)]
pub struct Release<'a> {
    /// The workspace root.
    pub root: &'a Path,
    /// The built executable.
    pub binary: &'a Path,
    /// The CLI's version.
    pub version: &'a str,
    /// The target triple the binary was built for.
    pub target: &'a str,
    /// The cargo profile it was built with; a profile other than `release` is named in the
    /// archive's name, and compressed fast rather than small.
    pub profile: &'a str,
}

impl Release<'_> {
    /// The name of the archive's top directory, and of the archive without `.tar.gz`.
    pub fn stem(&self) -> String {
        match self.profile {
            "release" => format!("{NAME}-{}-{}", self.version, self.target),
            profile => format!("{NAME}-{}-{}-{profile}", self.version, self.target),
        }
    }
}

/// Writes `<stem>.tar.gz` and `<stem>.tar.gz.sha256` (as `sha256sum` prints it) into
/// `out_dir` (made when missing), each through a temporary file renamed into place; returns the
/// archive's path.
pub fn write(release: &Release, out_dir: &Path) -> Result<PathBuf> {
    let entries = entries(release)?;
    // A release is compressed as small as it gets; another profile's archive (the integration
    // test's, of a debug binary four times the size) as fast.
    let compression = match release.profile {
        "release" => flate2::Compression::best(),
        _ => flate2::Compression::fast(),
    };
    let archive = tar_gz(&entries, mtime()?, compression)?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let name = format!("{}.tar.gz", release.stem());
    let path = out_dir.join(&name);
    replace(&path, &archive)?;
    let sum = format!("{}  {name}\n", hex(&Sha256::digest(&archive)));
    replace(&out_dir.join(format!("{name}.sha256")), sum.as_bytes())?;
    Ok(path)
}

/// The target triple of the toolchain's host (`rustc -vV`, with `RUSTC` when cargo names it).
pub fn host_target() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    if !output.status.success() {
        bail!("rustc -vV failed");
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV names no host")
}

/// A file of an archive: its bytes and whether it is executable; `None` for a directory.
type Entries = BTreeMap<String, Option<(Vec<u8>, bool)>>;

/// Every entry of the release archive, by path, directories included.
fn entries(release: &Release) -> Result<Entries> {
    let root = release.root;
    let read =
        |path: &Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let mut files: BTreeMap<String, (Vec<u8>, bool)> = BTreeMap::new();
    files.insert("README.md".into(), (read(&root.join("README.md"))?, false));
    files.insert("LICENSE".into(), (read(&root.join("LICENSE"))?, false));
    for page in sorted_files(&root.join("docs"))? {
        let name = page.file_name().unwrap().to_string_lossy();
        if name.ends_with(".md") {
            files.insert(format!("docs/{name}"), (read(&page)?, false));
        }
    }
    let binary = release
        .binary
        .file_name()
        .context("the binary has no file name")?
        .to_string_lossy();
    files.insert(format!("bin/{binary}"), (read(release.binary)?, true));
    files.insert(HELM_PLUGIN.into(), (helm_plugin(root)?, false));
    let share = root.join(crate::cli_docs::SHARE_DIR);
    for page in sorted_files(&share.join("man"))? {
        let name = page.file_name().unwrap().to_string_lossy();
        if !name.ends_with(".1") {
            bail!("{} is no man page of section 1", page.display());
        }
        files.insert(format!("share/man/man1/{name}"), (read(&page)?, false));
    }
    for script in sorted_files(&share.join("completions"))? {
        let name = script.file_name().unwrap().to_string_lossy();
        let Some(completion) = COMPLETIONS.iter().find(|c| c.file == name) else {
            bail!("{} has no place in the release archive", script.display());
        };
        files.insert(completion.installed.to_owned(), (read(&script)?, false));
    }
    Ok(under(&release.stem(), files))
}

/// The Helm plugin as a plugin tarball: `dynakube-netpol/` with the plugin's files and the
/// license.
pub fn helm_plugin(root: &Path) -> Result<Vec<u8>> {
    let dir = root.join(CLI_DIR).join("helm-plugin");
    let mut files = BTreeMap::new();
    for file in sorted_files(&dir)? {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        files.insert(name, (bytes, false));
    }
    if !files.contains_key("plugin.yaml") {
        bail!("{} has no plugin.yaml", dir.display());
    }
    let license = root.join("LICENSE");
    let license =
        std::fs::read(&license).with_context(|| format!("reading {}", license.display()))?;
    files.insert("LICENSE".into(), (license, false));
    tar_gz(&under(NAME, files), mtime()?, flate2::Compression::best())
}

/// `files` under the directory `top`, with an entry for every directory.
fn under(top: &str, files: BTreeMap<String, (Vec<u8>, bool)>) -> Entries {
    let mut entries = Entries::new();
    for (path, file) in files {
        let path = format!("{top}/{path}");
        let mut dir = path.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            entries.insert(format!("{parent}/"), None);
            dir = parent;
        }
        entries.insert(path, Some(file));
    }
    entries
}

/// The regular files directly in `dir`, sorted; anything else there is an error.
fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            bail!("{} is no regular file", entry.path().display());
        }
        files.push(entry.path());
    }
    files.sort();
    Ok(files)
}

/// The gzip-compressed tar of `entries` (sorted, so that a directory precedes its contents),
/// compressed as `compression` says.
fn tar_gz(entries: &Entries, mtime: u64, compression: flate2::Compression) -> Result<Vec<u8>> {
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), compression);
    let mut tar = tar::Builder::new(gzip);
    for (path, file) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        match file {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, path, std::io::empty())?;
            }
            Some((bytes, executable)) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(if *executable { 0o755 } else { 0o644 });
                header.set_size(bytes.len() as u64);
                tar.append_data(&mut header, path, bytes.as_slice())?;
            }
        }
    }
    Ok(tar.into_inner()?.finish()?)
}

/// The time of every entry: `SOURCE_DATE_EPOCH` (seconds), else 0.
fn mtime() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(seconds) => seconds
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH {seconds:?} is no number of seconds")),
        Err(_) => Ok(0),
    }
}

/// Writes `bytes` beside `path` and renames the file into place.
fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension("partial");
    let mut file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", partial.display()))?;
    drop(file);
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}

/// Lower-case hexadecimal digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(archive: &[u8]) -> Vec<(String, u32, u64)> {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
        tar.entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    entry.path().unwrap().display().to_string(),
                    header.mode().unwrap(),
                    header.mtime().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn directories_precede_their_files_and_modes_are_fixed() {
        let mut files = BTreeMap::new();
        files.insert("bin/tool".to_owned(), (b"x".to_vec(), true));
        files.insert("a-b/readme".to_owned(), (b"y".to_vec(), false));
        let archive = tar_gz(&under("top", files), 7, flate2::Compression::fast()).unwrap();
        assert_eq!(
            listing(&archive),
            [
                ("top/".to_owned(), 0o755, 7),
                ("top/a-b/".to_owned(), 0o755, 7),
                ("top/a-b/readme".to_owned(), 0o644, 7),
                ("top/bin/".to_owned(), 0o755, 7),
                ("top/bin/tool".to_owned(), 0o755, 7),
            ]
        );
    }

    #[test]
    fn the_helm_plugin_is_a_directory_named_after_the_plugin() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let names: Vec<String> = listing(&helm_plugin(root).unwrap())
            .into_iter()
            .map(|(name, _, _)| name)
            .collect();
        assert_eq!(names[0], "dynakube-netpol/");
        assert!(names.contains(&"dynakube-netpol/plugin.yaml".to_owned()));
        assert!(names.contains(&"dynakube-netpol/LICENSE".to_owned()));
        // Helm 4 takes the directory's name from the tarball's, less `-<version>…`.
        assert_eq!(HELM_PLUGIN.rsplit('/').next(), Some("dynakube-netpol.tgz"));
    }

    #[test]
    fn profiles_other_than_release_are_named() {
        let release = Release {
            root: Path::new("."),
            binary: Path::new("dynakube-netpol"),
            version: "1.2.3",
            target: "x86_64-unknown-linux-gnu",
            profile: "release",
        };
        assert_eq!(
            release.stem(),
            "dynakube-netpol-1.2.3-x86_64-unknown-linux-gnu"
        );
        let dev = Release {
            profile: "dev",
            ..release
        };
        assert_eq!(
            dev.stem(),
            "dynakube-netpol-1.2.3-x86_64-unknown-linux-gnu-dev"
        );
    }
}
