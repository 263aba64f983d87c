//! `dynakube-netpol plugins install`: the names kubectl and kustomize run the binary by, set up
//! in one command, on real directories: created where they are missing, kept where they already
//! run the binary, and never created over or through anything else (files of the user, links
//! elsewhere, dangling links, a link planted among the plugin directories).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dynakube-netpol");

/// The kustomize transformer plugin below its plugin home.
const TRANSFORMER: &str =
    "dynakube-netpol.github.io/v1alpha1/networkpolicygenerator/NetworkPolicyGenerator";
/// The names in the bin directory.
const IN_BIN: [&str; 3] = [
    "kubectl-dynakube_netpol",
    "kubectl_complete-dynakube_netpol",
    "dynakube-netpol-krm",
];

/// A scratch directory with `bin/dynakube-netpol` linked to the binary and an empty `home/`.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("plugins")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::create_dir_all(dir.join("home")).unwrap();
    std::os::unix::fs::symlink(BIN, dir.join("bin/dynakube-netpol")).unwrap();
    dir
}

/// `dynakube-netpol plugins install ARGS` as found on a PATH of `path` directories, with HOME
/// in the scratch directory and no kustomize or XDG variables.
fn install(dir: &Path, path: &[PathBuf], args: &[&str]) -> Output {
    Command::new(dir.join("bin/dynakube-netpol"))
        .args(["plugins", "install"])
        .args(args)
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("HOME", dir.join("home"))
        .env_remove("KUSTOMIZE_PLUGIN_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The default plugin home of the scratch directory.
fn plugin_home(dir: &Path) -> PathBuf {
    dir.join("home/.config/kustomize/plugin")
}

/// Every name's path, with the bin directory `bin` and the plugin home `home`.
fn names(bin: &Path, home: &Path) -> Vec<PathBuf> {
    IN_BIN
        .iter()
        .map(|name| bin.join(name))
        .chain([home.join(TRANSFORMER)])
        .collect()
}

/// Every entry below `dir` with its kind and, for links, target: the state of a tree.
fn tree(dir: &Path) -> Vec<String> {
    let mut entries = Vec::new();
    let Ok(listing) = std::fs::read_dir(dir) else {
        return entries;
    };
    let mut paths: Vec<PathBuf> = listing.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
        if kind.is_symlink() {
            let to = std::fs::read_link(&path).unwrap();
            entries.push(format!("{} -> {}", path.display(), to.display()));
        } else if kind.is_dir() {
            entries.push(format!("{}/", path.display()));
            entries.extend(tree(&path));
        } else {
            entries.push(format!(
                "{} ({} bytes)",
                path.display(),
                std::fs::metadata(&path).unwrap().len()
            ));
        }
    }
    entries
}

#[test]
fn names_are_linked_to_the_binary_on_path_and_kept_on_a_second_run() {
    let dir = scratch("linked");
    let path = [dir.join("bin")];
    let first = install(&dir, &path, &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let target = dir.join("bin/dynakube-netpol");
    let names = names(&dir.join("bin"), &plugin_home(&dir));
    for name in &names {
        // Linked to the binary as PATH names it, so that the link follows an upgrade.
        assert_eq!(
            std::fs::read_link(name).unwrap(),
            target,
            "{}",
            name.display()
        );
        assert!(
            text(&first.stdout).contains(&format!(
                "linked {} -> {}",
                name.display(),
                target.display()
            )),
            "{}",
            text(&first.stdout)
        );
    }
    assert!(first.stderr.is_empty(), "{}", text(&first.stderr));
    // Under each name, the binary is what main dispatches on that name.
    let help = Command::new(&names[0]).arg("--help").output().unwrap();
    assert!(text(&help.stdout).contains("Usage: kubectl dynakube-netpol"));

    let before = tree(&dir);
    let second = install(&dir, &path, &[]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(tree(&dir), before, "a second run changes nothing");
    let stdout = text(&second.stdout);
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(
        stdout.lines().all(|line| line.starts_with("kept ")),
        "{stdout}"
    );
}

#[test]
fn away_from_path_the_names_go_to_local_bin_with_warnings() {
    let dir = scratch("away");
    let home_bin = dir.join("home/.local/bin");
    let out = install(&dir, &[], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let binary = Path::new(BIN).canonicalize().unwrap();
    for name in names(&home_bin, &plugin_home(&dir)) {
        assert_eq!(
            std::fs::read_link(&name).unwrap(),
            binary,
            "{}",
            name.display()
        );
    }
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("warning: {} is not on PATH", home_bin.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("PATH does not find dynakube-netpol"),
        "{stderr}"
    );
}

#[test]
fn the_plugin_home_is_the_one_kustomize_reads() {
    let dir = scratch("home");
    let path = [dir.join("bin")];
    // ~/kustomize/plugin is the last place kustomize looks, but the only one that exists.
    let legacy = dir.join("home/kustomize/plugin");
    std::fs::create_dir_all(&legacy).unwrap();
    let out = install(&dir, &path, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(legacy.join(TRANSFORMER).is_file());
    assert!(
        !plugin_home(&dir).exists(),
        "no plugin home that would shadow it"
    );
    // Named, it is taken as it is.
    let named = dir.join("elsewhere");
    let home = named.to_str().unwrap();
    let out = install(&dir, &path, &["--kustomize-plugin-home", home]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(named.join(TRANSFORMER).is_file());
}

#[test]
fn names_held_by_anything_else_are_refused_and_nothing_is_created() {
    let dir = scratch("foreign");
    let bin = dir.join("bin");
    let other = dir.join("other-binary");
    std::fs::write(&other, "#!/bin/sh\n").unwrap();
    // What takes the name, how it is made, and what the refusal says it is.
    type Case<'a> = (&'a str, &'a dyn Fn(&Path), &'a str);
    let cases: [Case; 4] = [
        (
            "a file",
            &|name| std::fs::write(name, "mine\n").unwrap(),
            "is another file",
        ),
        (
            "a directory",
            &|name| std::fs::create_dir(name).unwrap(),
            "is a directory",
        ),
        (
            "a link elsewhere",
            &|name| std::os::unix::fs::symlink(&other, name).unwrap(),
            "is a link to",
        ),
        (
            "a dangling link",
            &|name| std::os::unix::fs::symlink(dir.join("nowhere"), name).unwrap(),
            "is a dangling link to",
        ),
    ];
    for (what, make, said) in cases {
        let taken = bin.join("dynakube-netpol-krm");
        make(&taken);
        let before = tree(&dir);
        let out = install(&dir, std::slice::from_ref(&bin), &[]);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("{} (KRM function) {said}", taken.display())),
            "{what}: {stderr}"
        );
        assert!(stderr.contains("nothing was installed"), "{stderr}");
        assert_eq!(tree(&dir), before, "{what}: nothing changes");
        assert!(!dir.join("nowhere").exists(), "{what}: no link is followed");
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "#!/bin/sh\n");
        let _ = std::fs::remove_file(&taken).or_else(|_| std::fs::remove_dir(&taken));
    }
}

#[test]
fn a_link_planted_among_the_plugin_directories_is_not_followed() {
    let dir = scratch("planted");
    let bin = dir.join("bin");
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let group = plugin_home(&dir).join("dynakube-netpol.github.io");
    std::fs::create_dir_all(&group).unwrap();
    std::os::unix::fs::symlink(&elsewhere, group.join("v1alpha1")).unwrap();
    let out = install(&dir, std::slice::from_ref(&bin), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("lies below v1alpha1, a link (never followed)"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    for name in IN_BIN {
        assert!(std::fs::symlink_metadata(bin.join(name)).is_err(), "{name}");
    }
    // A file where a directory belongs is refused alike.
    std::fs::remove_file(group.join("v1alpha1")).unwrap();
    std::fs::write(group.join("v1alpha1"), "").unwrap();
    let out = install(&dir, &[bin], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("lies below v1alpha1, which is no directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn copies_are_made_kept_and_told_apart_from_other_files() {
    let dir = scratch("copies");
    let (bin, home) = (dir.join("copies-bin"), dir.join("copies-home"));
    let args = [
        "--copy",
        "--bin-dir",
        bin.to_str().unwrap(),
        "--kustomize-plugin-home",
        home.to_str().unwrap(),
    ];
    let out = install(&dir, &[dir.join("bin")], &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let binary = std::fs::read(BIN).unwrap();
    let names = names(&bin, &home);
    for name in &names {
        let kind = std::fs::symlink_metadata(name).unwrap();
        assert!(kind.is_file(), "{} is a copy", name.display());
        assert!(
            std::os::unix::fs::PermissionsExt::mode(&kind.permissions()) & 0o111 != 0,
            "{} is executable",
            name.display()
        );
        assert!(std::fs::read(name).unwrap() == binary, "{}", name.display());
    }
    // Copies that hold the binary are kept, with or without --copy.
    for args in [&args[..], &args[1..]] {
        let again = install(&dir, &[dir.join("bin")], args);
        assert!(again.status.success(), "{}", text(&again.stderr));
        assert!(text(&again.stdout).lines().all(|l| l.starts_with("kept ")));
    }
    // A copy of another binary (of the same size) is another file.
    let mut changed = binary.clone();
    changed[binary.len() / 2] ^= 1;
    std::fs::write(&names[0], changed).unwrap();
    let out = install(&dir, &[dir.join("bin")], &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("(kubectl plugin) is another file"));
}
