//! How the subcommands that read resources name their inputs, as kubectl does: files and
//! directories as arguments or with `-f`/`--filename`, `-` for standard input, and `-R` to
//! read a directory's subdirectories too. One definition ([`InputArgs`]) for `generate`,
//! `verify`, `lock`, `zone-plan` and `audit`, and one walk ([`expand`]) for every file or
//! directory they read.
//!
//! Decisions, where kubectl (`kubectl apply -f DIR`) is the model: a directory gives its files
//! named `*.yaml`, `*.yml` and `*.json` (the extension as kubectl matches it, case and all), in
//! byte order of their names, each subdirectory's files where its name sorts; subdirectories
//! only with `-R`. A file named on its own is read whatever its name. Unlike kubectl, a link
//! met in a directory is read only when its target lies inside the directory named (a link
//! out of it is an error naming it, so that a checkout cannot make the tool read elsewhere),
//! and links to directories are not descended (as kubectl's walk does not). A directory that
//! gives no file is an error (its inputs were expected there), except as `verify --policies`,
//! where it is a cluster without policies.

use std::path::{Path, PathBuf};

/// The inputs of a subcommand that reads resources.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// Files or directories to read (YAML or JSON, any number of documents each, and the lists
    /// `kubectl get -o yaml` or `-o json` prints); `-` reads standard input. A directory gives
    /// its *.yaml, *.yml and *.json files in name order.
    #[arg(
        value_name = "INPUT",
        required_unless_present = "filename",
        value_hint = clap::ValueHint::AnyPath
    )]
    pub inputs: Vec<String>,

    /// An input as kubectl's -f names it: a file, a directory or `-`. May be given more than
    /// once, and beside the inputs above.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        value_hint = clap::ValueHint::AnyPath
    )]
    pub filename: Vec<String>,

    /// Also read the subdirectories of every directory the subcommand reads (the inputs,
    /// verify's --policies and --pods, audit's --dynakube), as kubectl's -R does.
    #[arg(short = 'R', long)]
    pub recursive: bool,
}

impl InputArgs {
    /// The inputs as given: the arguments, then those of `-f`.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.inputs.iter().chain(&self.filename)
    }

    /// The files to read, in order, with directories walked. Files met in a directory that
    /// are one of `others` (the cluster profile or the hosts file of the same run, whose
    /// documents are no resources) are left out, saying so with --verbose.
    pub fn files(&self, others: &[&str]) -> anyhow::Result<Vec<String>> {
        let others: Vec<PathBuf> = others
            .iter()
            .filter(|name| **name != "-")
            .filter_map(|name| Path::new(name).canonicalize().ok())
            .collect();
        let mut files = Vec::new();
        for name in self.names() {
            if name == "-" || !Path::new(name).is_dir() {
                files.push(name.clone());
                continue;
            }
            for file in expand(name, self.recursive)? {
                let other = Path::new(&file)
                    .canonicalize()
                    .is_ok_and(|path| others.contains(&path));
                if other {
                    crate::say::verbose(|| {
                        format!("skipped {file}: it is the cluster profile or hosts file")
                    });
                } else {
                    files.push(file);
                }
            }
        }
        Ok(files)
    }

    /// The inputs as command-line words for the provenance: every input as an argument (so that
    /// `-f x.yaml` and `x.yaml` give the same bytes), a name that would read as an option
    /// behind `./`, and `-R` when given.
    pub fn arguments(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .names()
            .map(|name| {
                let path = dynakube_netpol::output::normalized_path(name);
                let path = if path.starts_with('-') && path != "-" {
                    format!("./{path}")
                } else {
                    path
                };
                crate::settings::quoted(&path)
            })
            .collect();
        if self.recursive {
            words.push("-R".into());
        }
        words
    }
}

/// The extensions of the files a directory gives, as kubectl matches them.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// The files `name` gives: itself (a file, `-`, or a name that does not exist, which reading
/// then refuses with its reason), or the files of the directory it names; a directory that
/// gives none is an error.
pub fn expand(name: &str, recursive: bool) -> anyhow::Result<Vec<String>> {
    let (files, subdirectories) = walk(name, recursive)?;
    if !files.is_empty() && subdirectories && !recursive {
        left_out(name);
    }
    if files.is_empty() {
        let hint = if subdirectories && !recursive {
            "; pass -R to read its subdirectories"
        } else {
            ""
        };
        return Err(read_error(
            Path::new(name),
            &format!("a directory without *.yaml, *.yml or *.json files{hint}"),
        ));
    }
    Ok(files)
}

/// [`expand`], where a directory without files gives none: for `verify --policies`, where
/// an empty directory is a cluster without policies (which `--allow-no-policies` accepts), and
/// `explain --policies`, where it is a cluster without policies.
pub fn expand_or_none(name: &str, recursive: bool) -> anyhow::Result<Vec<String>> {
    let (files, subdirectories) = walk(name, recursive)?;
    if subdirectories && !recursive {
        left_out(name);
    }
    Ok(files)
}

/// Warns that the directory `name` has subdirectories that were not read: policies or
/// resources kept there would be missed without a word.
fn left_out(name: &str) {
    let shown = dynakube_netpol::values::escape(name);
    crate::say::print_notes(&[dynakube_netpol::matrix::Note::new(
        dynakube_netpol::matrix::Level::Warning,
        &[],
        format!("{shown}: its subdirectories were not read; pass -R to read them"),
    )]);
}

/// The files `name` gives, and whether it is a directory with subdirectories.
fn walk(name: &str, recursive: bool) -> anyhow::Result<(Vec<String>, bool)> {
    let path = Path::new(name);
    if name == "-" || !path.is_dir() {
        return Ok((vec![name.to_string()], false));
    }
    let root = path
        .canonicalize()
        .map_err(|e| read_error(path, &e.to_string()))?;
    let mut walk = Walk {
        root,
        recursive,
        files: Vec::new(),
        subdirectories: false,
    };
    walk.visit(path)?;
    Ok((walk.files, walk.subdirectories))
}

/// A walk of one directory named as an input.
struct Walk {
    /// The directory named, without links, which links met must stay in.
    root: PathBuf,
    recursive: bool,
    /// What was found, in order.
    files: Vec<String>,
    /// Whether a subdirectory was met (and, without `recursive`, left out).
    subdirectories: bool,
}

impl Walk {
    fn visit(&mut self, dir: &Path) -> anyhow::Result<()> {
        let mut entries = std::fs::read_dir(dir)
            .and_then(|entries| entries.collect::<std::io::Result<Vec<_>>>())
            .map_err(|e| read_error(dir, &e.to_string()))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| read_error(&path, &e.to_string()))?;
            if kind.is_dir() {
                self.subdirectories = true;
                if self.recursive {
                    self.visit(&path)?;
                }
                continue;
            }
            let input = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e));
            if !input {
                continue;
            }
            if kind.is_symlink() && !self.inside(&path)? {
                continue;
            }
            self.files.push(path.display().to_string());
        }
        Ok(())
    }

    /// Whether the link at `path` is to be read: its target must be in the tree (else an
    /// error) and no directory (which is not descended).
    fn inside(&self, path: &Path) -> anyhow::Result<bool> {
        let target = path
            .canonicalize()
            .map_err(|e| read_error(path, &format!("a link that leads nowhere ({e})")))?;
        if !target.starts_with(&self.root) {
            return Err(read_error(
                path,
                &format!(
                    "a link out of the directory named as input (to {}); name the file itself to read it",
                    dynakube_netpol::values::Shown(&target.display().to_string())
                ),
            ));
        }
        Ok(!target.is_dir())
    }
}

/// The library's read error for `path`.
fn read_error(path: &Path, reason: &str) -> anyhow::Error {
    dynakube_netpol::Error::Read {
        file: path.display().to_string(),
        reason: reason.to_string(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "dynakube-netpol-inputs-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn relative(files: &[String], dir: &Path) -> Vec<String> {
        files
            .iter()
            .map(|f| {
                Path::new(f)
                    .strip_prefix(dir)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn directories_give_their_inputs_in_name_order() {
        let dir = scratch("order");
        for file in [
            "b.yaml",
            "a.json",
            "c.yml",
            "README.md",
            "d.YAML",
            "sub/e.yaml",
            "sub/deeper/f.yaml",
            "z/g.yaml",
        ] {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let name = dir.display().to_string();
        let flat = expand(&name, false).unwrap();
        assert_eq!(relative(&flat, &dir), ["a.json", "b.yaml", "c.yml"]);
        let deep = expand(&name, true).unwrap();
        assert_eq!(
            relative(&deep, &dir),
            [
                "a.json",
                "b.yaml",
                "c.yml",
                "sub/deeper/f.yaml",
                "sub/e.yaml",
                "z/g.yaml"
            ]
        );
        // A file is itself, whatever its name; so is a name that does not exist.
        let readme = dir.join("README.md").display().to_string();
        assert_eq!(expand(&readme, false).unwrap(), [readme]);
        assert_eq!(expand("-", true).unwrap(), ["-"]);
        assert_eq!(expand("no/such.yaml", true).unwrap(), ["no/such.yaml"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directories_without_inputs_are_errors_that_say_why() {
        let dir = scratch("empty");
        std::fs::create_dir_all(dir.join("base")).unwrap();
        std::fs::write(dir.join("base/dynakube.yaml"), "").unwrap();
        let name = dir.display().to_string();
        let error = expand(&name, false).unwrap_err().to_string();
        assert!(
            error.ends_with(
                "a directory without *.yaml, *.yml or *.json files; pass -R to read its subdirectories"
            ),
            "{error}"
        );
        assert_eq!(expand(&name, true).unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn links_are_read_only_inside_the_directory() {
        use std::os::unix::fs::symlink;
        let dir = scratch("links");
        let outside = scratch("links-outside");
        std::fs::write(outside.join("secret.yaml"), "").unwrap();
        std::fs::create_dir_all(dir.join("in/shared")).unwrap();
        std::fs::write(dir.join("in/shared/dynakube.yaml"), "").unwrap();
        symlink(dir.join("in/shared/dynakube.yaml"), dir.join("in/a.yaml")).unwrap();
        symlink(dir.join("in/shared"), dir.join("in/b.yaml")).unwrap();
        let name = dir.join("in").display().to_string();
        // A link to a file inside is read; a link to a directory is not descended.
        let found = expand(&name, true).unwrap();
        assert_eq!(
            relative(&found, &dir.join("in")),
            ["a.yaml", "shared/dynakube.yaml"]
        );
        symlink(outside.join("secret.yaml"), dir.join("in/c.yaml")).unwrap();
        let error = expand(&name, false).unwrap_err().to_string();
        assert!(error.contains("c.yaml: cannot read"), "{error}");
        assert!(
            error.contains("a link out of the directory named as input"),
            "{error}"
        );
        std::fs::remove_file(dir.join("in/c.yaml")).unwrap();
        symlink(dir.join("missing.yaml"), dir.join("in/d.yaml")).unwrap();
        let error = expand(&name, false).unwrap_err().to_string();
        assert!(error.contains("a link that leads nowhere"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }
}
