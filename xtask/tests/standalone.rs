//! The repository stands alone: no tracked file refers to a path outside it, so that a fresh
//! clone with nothing beside it builds, tests and regenerates everything.
//!
//! Every text file that git tracks (every file below the root but `target/` and `.git/` when
//! the tree is no git checkout) is scanned for two kinds of reference:
//!
//! - a relative path that starts with `..` (`../elsewhere/tools`, `join("../../fixtures")`): it
//!   must name a tracked file or directory, read from one of the directories below, without
//!   climbing above the root;
//! - an absolute path into a home directory (`/home/`, `/Users/`, `/root/`) or into the
//!   directory that holds this checkout.
//!
//! A relative path is read from the file's own directory and its ancestors up to the root (code
//! joins paths to its crate's root, a README to its own folder), and from every package's
//! directory, where cargo runs tests and doctests (the README's examples run in `xtask/`).
//!
//! [`NOT_REFERENCES`] lists the paths that are test data: each is one exact path in one file, so
//! that any other reference fails. This file itself is not scanned: its strings are the examples the
//! scan is tested with.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use support::{root, tracked};

/// Relative paths that are data, not references: what tests give to the code that normalises
/// paths and resolves URLs, the paths out of a kustomization that a configuration must not
/// read, the paths a diff names a file by, and paths out of a git repository `diff` refuses
/// (or of a temporary one that a patch is applied in).
const NOT_REFERENCES: [(&str, &str); 9] = [
    ("crates/dynakube-netpol/src/output/mod.rs", "../x.yaml"),
    (
        "crates/dynakube-netpol/src/output/patch.rs",
        "../policies/a.yaml",
    ),
    (
        "crates/dynakube-netpol/src/output/patch.rs",
        "../inner.patch",
    ),
    ("crates/dynakube-netpol-cli/src/git.rs", "../a.yaml"),
    ("crates/dynakube-netpol-cli/tests/diff.rs", "../policies"),
    ("xtask/src/tools.rs", "../../../packages/f4/w.whl"),
    (
        "crates/dynakube-netpol-cli/tests/integrations.rs",
        "../kustomize/generator.yaml",
    ),
    (
        "crates/dynakube-netpol-cli/tests/integrations.rs",
        "../kustomize/resources/dynakube.yaml",
    ),
    (
        "crates/dynakube-netpol-cli/tests/kustomize_files.rs",
        "../elsewhere/cluster.yaml",
    ),
];

/// This file, from the root.
const THIS_FILE: &str = "xtask/tests/standalone.rs";

/// Directories every Unix system has, whose paths appear in data as themselves (a webhook's
/// `/tmp/k8s-webhook-server/serving-certs` in a cluster dump): a checkout held directly in one
/// of them (`/tmp/clone`) does not make them one machine's.
const SYSTEM_DIRS: [&str; 8] = [
    "/tmp", "/var/tmp", "/var", "/opt", "/srv", "/mnt", "/usr", "/run",
];

/// Absolute paths that belong to one machine, with the directory that holds this checkout
/// (unless that is one of [`SYSTEM_DIRS`]).
fn machine_paths(root: &Path) -> Vec<String> {
    machine_paths_beside(root.canonicalize().unwrap().parent())
}

/// [`machine_paths`] of a checkout held in `parent`.
fn machine_paths_beside(parent: Option<&Path>) -> Vec<String> {
    let mut paths: Vec<String> = ["/home/", "/Users/", "/root/"].map(str::to_owned).into();
    if let Some(parent) = parent
        && parent.parent().is_some()
        && !SYSTEM_DIRS.contains(&parent.to_string_lossy().as_ref())
    {
        paths.push(format!("{}/", parent.display()));
    }
    paths
}

#[test]
fn the_folder_of_the_checkout_is_one_machine_s_unless_every_system_has_it() {
    let beside = |parent: &str| machine_paths_beside(Some(Path::new(parent)));
    assert!(beside("/srv/checkouts").contains(&"/srv/checkouts/".to_owned()));
    assert!(beside("/builds/team").contains(&"/builds/team/".to_owned()));
    assert_eq!(beside("/tmp"), ["/home/", "/Users/", "/root/"]);
    assert_eq!(beside("/"), ["/home/", "/Users/", "/root/"]);
}

/// Every tracked file and every directory that holds one (`""` is the root).
fn known_paths(files: &[String]) -> BTreeSet<String> {
    let mut known = BTreeSet::from([String::new()]);
    for file in files {
        let mut path = file.as_str();
        known.insert(path.to_owned());
        while let Some((dir, _)) = path.rsplit_once('/') {
            known.insert(dir.to_owned());
            path = dir;
        }
    }
    known
}

/// The directories of the packages: those that hold a `Cargo.toml`.
fn packages(known: &BTreeSet<String>) -> impl Iterator<Item = &str> {
    known
        .iter()
        .filter_map(|path| path.strip_suffix("/Cargo.toml"))
}

/// `relative` read from the directory `base` (from the root), or None when it climbs above
/// the root.
fn resolve(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

/// The relative paths that start with `..` in `text`, and the paths that start with one of
/// `machine`.
fn path_tokens<'t>(text: &'t str, machine: &[String]) -> Vec<&'t str> {
    let mut tokens = Vec::new();
    let mut previous = ' ';
    for (at, c) in text.char_indices() {
        let starts = !is_path_char(previous) && (c == '.' || c == '/');
        previous = c;
        if !starts {
            continue;
        }
        let rest = &text[at..];
        let end = rest.find(|c| !is_path_char(c)).unwrap_or(rest.len());
        let token = rest[..end].trim_end_matches('.');
        let relative = token == ".." || token.starts_with("../");
        if relative || machine.iter().any(|p| token.starts_with(p.as_str())) {
            tokens.push(token);
        }
    }
    tokens
}

/// The references of `file`'s `text` to paths outside the repository, as `file: path`.
fn outside_references(
    file: &str,
    text: &str,
    known: &BTreeSet<String>,
    machine: &[String],
) -> Vec<String> {
    let mut found = Vec::new();
    for token in path_tokens(text, machine) {
        if NOT_REFERENCES.contains(&(file, token)) {
            continue;
        }
        let inside = token.starts_with("..") && {
            let mut bases = Vec::new();
            let mut dir = file;
            while let Some((parent, _)) = dir.rsplit_once('/') {
                bases.push(parent);
                dir = parent;
            }
            bases.push("");
            bases.extend(packages(known));
            bases
                .iter()
                .filter_map(|base| resolve(base, token))
                .any(|target| known.contains(&target))
        };
        if !inside {
            found.push(format!("{file}: {token}"));
        }
    }
    found
}

#[test]
fn no_tracked_file_refers_to_a_path_outside_the_repository() {
    let root = root();
    let files = tracked(&root);
    assert!(
        files.iter().any(|f| f == "Cargo.toml") && files.len() > 100,
        "the repository's files are listed: {} of them",
        files.len()
    );
    assert!(
        files.iter().any(|f| f == THIS_FILE),
        "{THIS_FILE} is tracked"
    );
    let known = known_paths(&files);
    let machine = machine_paths(&root);
    let mut found = Vec::new();
    let mut scanned = 0;
    for file in files.iter().filter(|f| *f != THIS_FILE) {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue; // binary, or removed but not yet committed
        };
        scanned += 1;
        found.extend(outside_references(file, &text, &known, &machine));
    }
    assert!(scanned > 100, "{scanned} text files scanned");
    assert!(
        found.is_empty(),
        "tracked files refer to paths outside the repository; bring what they need into it:\n{}",
        found.join("\n")
    );
}

#[test]
fn references_outside_are_found_and_inside_are_not() {
    let files = [
        "Cargo.toml",
        "README.md",
        "crates/lib/Cargo.toml",
        "crates/lib/tests/schemas.rs",
        "fixtures/schemas/README.md",
        "fixtures/schemas/dynatrace/v1.10.2/dynatrace.com_dynakubes.yaml",
    ]
    .map(str::to_owned);
    let known = known_paths(&files);
    let machine = ["/home/".to_owned(), "/srv/checkouts/".to_owned()];
    let check = |file: &str, text: &str| outside_references(file, text, &known, &machine);
    let none: [&str; 0] = [];
    let crate_test = "crates/lib/tests/schemas.rs";
    // Inside: from the crate's root, from the file's folder, the folder itself.
    assert_eq!(
        check(
            crate_test,
            r#"dir.join("../../fixtures/schemas/dynatrace")"#
        ),
        none
    );
    assert_eq!(
        check(crate_test, r#"insta::glob!("../../../fixtures")"#),
        none
    );
    assert_eq!(check(crate_test, r#"join("..").join("../..")"#), none);
    assert_eq!(
        check("fixtures/schemas/README.md", "[up](../../README.md)."),
        none
    );
    assert_eq!(check(crate_test, "0..10, [..], a...b, ./x"), none);
    // Outside: above the root, a sibling of the repository, a folder that is not tracked,
    // a machine's home.
    assert_eq!(
        check(
            crate_test,
            r#"join("../../../elsewhere/schemas/dynatrace")"#
        ),
        ["crates/lib/tests/schemas.rs: ../../../elsewhere/schemas/dynatrace"]
    );
    assert_eq!(
        check("README.md", "beside it (`../elsewhere/operator-samples`)."),
        ["README.md: ../elsewhere/operator-samples"]
    );
    assert_eq!(
        check("README.md", "see ../../elsewhere"),
        ["README.md: ../../elsewhere"]
    );
    assert_eq!(
        check(crate_test, r#"root.join("../fixtures/missing")"#),
        ["crates/lib/tests/schemas.rs: ../fixtures/missing"]
    );
    assert_eq!(
        check("README.md", "cd /home/someone/dynakube-netpol"),
        ["README.md: /home/someone/dynakube-netpol"]
    );
    assert_eq!(
        check(crate_test, r#"read("/srv/checkouts/elsewhere/x.yaml")"#),
        ["crates/lib/tests/schemas.rs: /srv/checkouts/elsewhere/x.yaml"]
    );
    assert_eq!(check(crate_test, r#"read("/srv/other/x.yaml")"#), none);
    // From a package's directory, as doctests run.
    assert_eq!(
        check("README.md", r#"read("../lib/tests/schemas.rs")"#),
        none
    );
    // Test data is allowed in its file only.
    assert_eq!(
        check(
            "crates/dynakube-netpol/src/output/mod.rs",
            r#"normalized_path("../x.yaml")"#
        ),
        none
    );
    assert_eq!(
        check(crate_test, r#"normalized_path("../x.yaml")"#),
        ["crates/lib/tests/schemas.rs: ../x.yaml"]
    );
    assert_eq!(
        check("README.md", "`../elsewhere/tools/setup-verifiers`"),
        ["README.md: ../elsewhere/tools/setup-verifiers"]
    );
}
