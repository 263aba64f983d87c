//! The documentation as a reader follows it: every relative link of README.md and `docs/`
//! leads to a file and heading that exist, and every `dynakube-netpol` command line of their
//! shell blocks is run here, page by page and in the page's order, in a directory holding the
//! files the page names, with the exit status the page promises.
//!
//! [`COMMANDS`] lists every such line; `every_documented_command_is_listed` fails when a page
//! shows a line the list lacks, or the list holds one no page shows. A line that needs a live
//! cluster (`kubectl get … | dynakube-netpol …`) or a shell other than `sh` is listed with the
//! reason it is not run here, and the test that covers it instead. The commands of
//! `docs/integrations.md` and of the README's section "Installing" are run by
//! `tests/integrations.rs` with the real Helm and kubectl.
//!
//! Lines that resolve host names (`lock`, `generate --lock`) are run with `--nameserver`
//! added right after the subcommand, naming a DNS server on loopback that answers with the
//! addresses of the example's hosts file: the command a reader types, pointed at a server the
//! test owns.

#[path = "../../dynakube-netpol/tests/support/dns_server.rs"]
mod dns_server;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use dns_server::{DnsServer, Zone};

/// What the test does with a documented command line.
#[derive(Debug, Clone, Copy)]
#[allow(
    dead_code,
    reason = "the reason a line is not run is for the reader of this file"
)]
enum Run {
    /// Runs it with `sh -c` and expects this exit status.
    Exit(i32),
    /// Not run here, for the reason given (and where it is covered instead).
    Not(&'static str),
}

const CLUSTER: Run = Run::Not("reads from a live cluster through kubectl");
const ZSH: Run =
    Run::Not("zsh syntax; `completions_are_fresh` in tests/cli.rs checks every shell's script");
const FORMATS: Run = Run::Not(
    "run by `ci_page_commands_and_examples_are_real` in tests/formats.rs, which compares the page's examples with real output",
);
const APPLY: Run = Run::Not(
    "talks to a Dynatrace tenant; tests/zone_apply.rs runs it against an HTTP server on loopback",
);

/// Every documented `dynakube-netpol` command line outside `docs/integrations.md` and the
/// README's section "Installing": the page, the line, and what the test does with it.
#[rustfmt::skip]
const COMMANDS: &[(&str, &str, Run)] = &[
    ("README.md", "cargo run -q -p dynakube-netpol-cli -- generate fixtures/a-cloud-native-network-zone/dynakube.yaml --cluster fixtures/a-cloud-native-network-zone/cluster.yaml --hosts fixtures/a-cloud-native-network-zone/hosts.yaml", Run::Not("the first command of a fresh clone; `dynakube-netpol generate` on the same files is the fixture snapshot a-cloud-native-network-zone")),
    ("README.md", "dynakube-netpol profile cluster-dump.json > cluster.yaml", Run::Exit(0)),
    ("README.md", "dynakube-netpol lock dynakube.yaml --cluster cluster.yaml", Run::Exit(0)),
    ("README.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml -o policies/", Run::Exit(0)),
    ("README.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --policies policies/", Run::Exit(0)),
    ("README.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml -o policies/ --check", Run::Exit(0)),
    ("README.md", "dynakube-netpol lock dynakube.yaml --cluster cluster.yaml --check", Run::Exit(0)),
    // The EKS dump gives no control-plane addresses: the webhook's ingress is widened, and
    // `--fail-on extra` reports it, as the README says.
    ("README.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --policies policies/ --fail-on extra --format sarif > verify.sarif", Run::Exit(1)),
    ("README.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --policies policies.yaml --pods pods.yaml", Run::Exit(0)),
    ("docs/cilium.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --flavor cilium -o policies/", Run::Exit(0)),
    ("docs/cluster-network-policy.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --flavor cluster-network-policy -o cluster-policies/", Run::Exit(0)),
    // Alone, ingress from outside the pod network is beyond the matrix, which does not fail
    // without --fail-on extra.
    ("docs/cluster-network-policy.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies cluster-policies/", Run::Exit(0)),
    ("docs/cluster-network-policy.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies/", Run::Exit(0)),
    ("docs/cluster-network-policy.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --flavor cluster-network-policy -o policies/cluster-network-policies.yaml", Run::Exit(0)),
    // Beside the NetworkPolicies nothing is beyond the matrix.
    ("docs/cluster-network-policy.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies policies/ --fail-on extra", Run::Exit(0)),
    ("docs/cli.md", "dynakube-netpol completions bash > ~/.local/share/bash-completion/completions/dynakube-netpol", Run::Exit(0)),
    ("docs/cli.md", "dynakube-netpol completions zsh > \"${fpath[1]}/_dynakube-netpol\"", ZSH),
    ("docs/cli.md", "dynakube-netpol completions fish > ~/.config/fish/completions/dynakube-netpol.fish", Run::Exit(0)),
    ("docs/cli.md", "man -l crates/dynakube-netpol-cli/share/man/dynakube-netpol-generate.1", Run::Not("needs man(1); `cargo xtask cli-docs --check` keeps the page fresh")),
    ("docs/ci.md", "dynakube-netpol audit pods.yaml --dynakube dynakube.yaml --format sarif > audit.sarif", FORMATS),
    ("docs/ci.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies/ --check --format junit > check.xml", FORMATS),
    ("docs/ci.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies policies/ --format junit > verify.xml", FORMATS),
    ("docs/ci.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies policies/ --format markdown > verify.md", FORMATS),
    ("docs/ci.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies policies/ --format sarif > verify.sarif", FORMATS),
    ("docs/diff.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies/", Run::Exit(0)),
    ("docs/diff.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --flavor cilium -o cilium/", Run::Exit(0)),
    // The Kubernetes and the Cilium flavor of one DynaKube: the same reachability.
    ("docs/diff.md", "dynakube-netpol diff policies/ cilium/ -f dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml", Run::Exit(1)),
    ("docs/diff.md", "dynakube-netpol diff main:policies/ policies/ -f dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --format markdown", Run::Not("needs a git repository; `a_git_revision_is_read_with_git` in tests/diff.rs runs it in one")),
    ("docs/explain.md", "dynakube-netpol explain --policies policies.yaml --pods pods.yaml --from dynatrace/dynakube-activegate-0 --to abc12345.live.dynatrace.com=203.0.113.10 --port 443/TCP", Run::Exit(0)),
    ("docs/explain.md", "dynakube-netpol explain --policies policies.yaml --pods pods.yaml --from unrelated/unrelated-0 --to dynatrace/dynakube-activegate-0 --port 9999/TCP", Run::Exit(1)),
    ("docs/explain.md", "dynakube-netpol explain --policies policies.yaml --policies cluster-policies.yaml --pods pods.yaml --from apps-dynakube/app-0 --to dynatrace/dynakube-activegate-0 --port 9999/TCP", Run::Exit(0)),
    ("docs/explain.md", "dynakube-netpol explain --policies policies.yaml --policies cluster-policies.yaml --pods pods.yaml --from unrelated/unrelated-0 --to kube-system/coredns-0 --port 53/UDP --format json", Run::Exit(0)),
    ("docs/generate.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml > policies.yaml", Run::Exit(0)),
    ("docs/generate.md", "dynakube-netpol generate dynakube.yaml edgeconnect.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies/", Run::Exit(0)),
    ("docs/generate.md", "dynakube-netpol generate dynakube.yaml edgeconnect.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies/ --check", Run::Exit(0)),
    ("docs/generate.md", "kubectl get dynakubes,edgeconnects -n dynatrace -o yaml | dynakube-netpol generate - --fqdn-fallback public-internet", CLUSTER),
    ("docs/inputs.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml", Run::Exit(0)),
    ("docs/inputs.md", "dynakube-netpol generate -f dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml", Run::Exit(0)),
    ("docs/inputs.md", "dynakube-netpol generate --filename=dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml", Run::Exit(0)),
    ("docs/inputs.md", "kubectl get dynakubes,edgeconnects -n dynatrace -o yaml | dynakube-netpol generate - --cluster cluster.yaml --hosts hosts.yaml", CLUSTER),
    ("docs/inputs.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o json > policies.json", Run::Exit(0)),
    ("docs/inputs.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies.yaml", Run::Exit(0)),
    ("docs/inputs.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies.yaml --check", Run::Exit(0)),
    ("docs/lock.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --lock dynakube-netpol.lock > policies.yaml", Run::Exit(0)),
    ("docs/lock.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --offline > policies.yaml", Run::Exit(0)),
    ("docs/lock.md", "dynakube-netpol lock dynakube.yaml --cluster cluster.yaml --refresh", Run::Exit(0)),
    ("docs/lock.md", "dynakube-netpol lock dynakube.yaml --cluster cluster.yaml --check", Run::Exit(0)),
    ("docs/matrix.md", "dynakube-netpol matrix E9", Run::Exit(0)),
    ("docs/matrix.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --ack E9,E10", Run::Exit(0)),
    ("docs/profile.md", "dynakube-netpol profile cluster-dump.json > cluster.yaml", Run::Exit(0)),
    ("docs/profile.md", "kubectl get nodes,services,endpointslices,pods,namespaces,deployments,daemonsets -A -o json | dynakube-netpol profile - > cluster.yaml", CLUSTER),
    ("docs/verify.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies/", Run::Exit(0)),
    ("docs/verify.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies policies/", Run::Exit(0)),
    ("docs/verify.md", "dynakube-netpol verify dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml --policies policies.yaml --pods pods.yaml --format json", Run::Exit(0)),
    ("docs/zone-plan.md", "dynakube-netpol zone-plan dynakube.yaml --cluster cluster.yaml", Run::Exit(0)),
    ("docs/zone-plan.md", "DT_API_TOKEN=... dynakube-netpol zone-plan dynakube.yaml --cluster cluster.yaml --apply --api-token-env DT_API_TOKEN", APPLY),
    ("docs/zone-plan.md", "dynakube-netpol generate dynakube.yaml --cluster cluster.yaml --hosts hosts.yaml -o policies/", Run::Exit(0)),
    ("docs/zone-plan.md", "dynakube-netpol audit pods.yaml --dynakube dynakubes.yaml", Run::Exit(0)),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every page of `docs/`, as (path from the workspace, text).
fn pages() -> Vec<(String, String)> {
    let root = workspace();
    let mut pages = vec![(
        "README.md".to_owned(),
        std::fs::read_to_string(root.join("README.md")).unwrap(),
    )];
    let mut names: Vec<String> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(root.join("docs").join(&name)).unwrap();
        pages.push((format!("docs/{name}"), text));
    }
    pages
}

/// `text` without the section `## {title}` (up to the next section of that level).
fn without_section(text: &str, title: &str) -> String {
    let Some(start) = text.find(&format!("\n## {title}\n")) else {
        return text.to_owned();
    };
    let rest = &text[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |end| end + 4);
    format!("{}{}", &text[..=start], &rest[end..])
}

/// The lines of the shell blocks of `text` that run `dynakube-netpol`, in order (in a
/// `console` block, the lines after a `$ ` prompt; the others are output).
fn command_lines(text: &str) -> Vec<String> {
    let (mut in_block, mut shell, mut console) = (false, false, false);
    let mut lines = Vec::new();
    for line in text.lines() {
        if let Some(info) = line.strip_prefix("```") {
            in_block = !in_block;
            shell = in_block && matches!(info.trim(), "sh" | "shell" | "bash");
            console = in_block && info.trim() == "console";
            continue;
        }
        let command = if console {
            line.strip_prefix("$ ")
        } else {
            Some(line).filter(|_| shell)
        };
        if let Some(command) = command.filter(|c| c.contains("dynakube-netpol")) {
            lines.push(command.trim().to_owned());
        }
    }
    lines
}

/// The documented command lines this test is about, by page, in each page's order.
fn documented() -> Vec<(String, Vec<String>)> {
    pages()
        .into_iter()
        .filter(|(page, _)| page != "docs/integrations.md")
        .map(|(page, text)| {
            let text = if page == "README.md" {
                without_section(&text, "Installing")
            } else {
                text
            };
            (page, command_lines(&text))
        })
        .filter(|(_, lines)| !lines.is_empty())
        .collect()
}

#[test]
fn every_documented_command_is_listed() {
    let shown: BTreeSet<(String, String)> = documented()
        .into_iter()
        .flat_map(|(page, lines)| lines.into_iter().map(move |line| (page.clone(), line)))
        .collect();
    let listed: BTreeSet<(String, String)> = COMMANDS
        .iter()
        .map(|(page, line, _)| ((*page).to_owned(), (*line).to_owned()))
        .collect();
    let unlisted: Vec<_> = shown.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&shown).collect();
    assert!(
        unlisted.is_empty() && gone.is_empty(),
        "documented but not in COMMANDS: {unlisted:#?}\nin COMMANDS but documented nowhere: {gone:#?}"
    );
}

/// The files the pages name, from the fixtures: the example DynaKube with a network zone, an
/// EdgeConnect, their cluster profile and hosts, a cluster dump, and the ClusterNetworkPolicies
/// of docs/explain.md.
fn seed(dir: &Path) {
    let fixtures = workspace().join("fixtures");
    let example = fixtures.join("a-cloud-native-network-zone");
    let edge = fixtures.join("f-edgeconnect-automation");
    let copy = |from: &Path, to: &str| {
        std::fs::copy(from, dir.join(to)).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    };
    copy(&example.join("dynakube.yaml"), "dynakube.yaml");
    copy(&example.join("dynakube.yaml"), "dynakubes.yaml");
    copy(&example.join("cluster.yaml"), "cluster.yaml");
    copy(&edge.join("edgeconnect.yaml"), "edgeconnect.yaml");
    let hosts = std::fs::read_to_string(example.join("hosts.yaml")).unwrap()
        + &std::fs::read_to_string(edge.join("hosts.yaml")).unwrap();
    std::fs::write(dir.join("hosts.yaml"), hosts).unwrap();
    copy(
        &fixtures.join("cluster-dumps/eks/dump.json"),
        "cluster-dump.json",
    );
    copy(
        &fixtures.join("explain/examples/cluster-policies.yaml"),
        "cluster-policies.yaml",
    );
    // The directories the completion lines write into, below the pages' `~`.
    for below in [
        ".local/share/bash-completion/completions",
        ".config/fish/completions",
    ] {
        std::fs::create_dir_all(dir.join(below)).unwrap();
    }
}

/// Stand-ins for what `kubectl get` prints (`policies.yaml`, `pods.yaml`) when `line` reads one
/// the page has not made: the policies generated from the page's files as they are at that
/// line, and the model cluster `verify` builds, as a cluster that runs those policies shows them.
fn stand_ins(dir: &Path, line: &str) {
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        output.stdout
    };
    let common = [
        "dynakube.yaml",
        "--cluster",
        "cluster.yaml",
        "--hosts",
        "hosts.yaml",
    ];
    let wants = |name: &str| line.contains(&format!(" {name}")) && !dir.join(name).exists();
    if wants("policies.yaml") || wants("pods.yaml") {
        let policies = run(&[&["generate"], &common[..]].concat());
        std::fs::write(dir.join("stand-in-policies.yaml"), policies).unwrap();
        if wants("policies.yaml") {
            std::fs::copy(
                dir.join("stand-in-policies.yaml"),
                dir.join("policies.yaml"),
            )
            .unwrap();
        }
    }
    if wants("pods.yaml") {
        let case = [
            "--policies",
            "stand-in-policies.yaml",
            "--write-case",
            "case",
        ];
        run(&[&["verify"], &common[..], &case[..]].concat());
        std::fs::rename(dir.join("case/cluster.yaml"), dir.join("pods.yaml")).unwrap();
        std::fs::remove_dir_all(dir.join("case")).unwrap();
    }
}

/// A DNS server that answers every host of the example's hosts file with its addresses.
fn dns_for(hosts: &Path) -> DnsServer {
    let text = std::fs::read_to_string(hosts).unwrap();
    let map: std::collections::BTreeMap<String, Vec<String>> = serde_yaml::from_str(&text).unwrap();
    let mut zone = Zone::default();
    for (host, addresses) in &map {
        if host.starts_with('*') {
            continue;
        }
        let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
        zone = zone.addresses(host, &addresses, 300);
    }
    DnsServer::start(zone)
}

/// `line` with `--nameserver` added after its subcommand when it resolves host names.
fn pointed_at(line: &str, server: &DnsServer) -> String {
    let resolves = line.contains("dynakube-netpol lock ") || line.contains(" --lock ");
    if !resolves {
        return line.to_owned();
    }
    let at = line.find("dynakube-netpol ").unwrap() + "dynakube-netpol ".len();
    let subcommand = line[at..].split(' ').next().unwrap();
    let at = at + subcommand.len();
    format!(
        "{} --nameserver {}{}",
        &line[..at],
        server.address,
        &line[at..]
    )
}

#[test]
fn documented_commands_run_as_the_pages_say() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_dynakube-netpol"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    for (page, lines) in documented() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("docs")
            .join(page.replace('/', "_"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        seed(&dir);
        let server = dns_for(&dir.join("hosts.yaml"));
        for line in lines {
            let run = COMMANDS
                .iter()
                .find(|(p, l, _)| *p == page && *l == line)
                .map(|(_, _, run)| *run);
            let Some(Run::Exit(expected)) = run else {
                continue;
            };
            stand_ins(&dir, &line);
            let output = Command::new("sh")
                .arg("-c")
                .arg(pointed_at(&line, &server))
                .current_dir(&dir)
                .env("PATH", &path)
                .env("HOME", &dir)
                .env_remove("NO_COLOR")
                .output()
                .unwrap();
            let status = output.status.code();
            if status != Some(expected) {
                failures.push(format!(
                    "{page}: `{line}` exited {status:?}, the page promises {expected}:\n{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_relative_link_leads_somewhere() {
    let root = workspace();
    let pages = pages();
    let mut broken = Vec::new();
    for (page, text) in &pages {
        let base = Path::new(page).parent().unwrap().to_path_buf();
        for target in links(text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if file.is_empty() {
                PathBuf::from(page)
            } else {
                base.join(file)
            };
            let path = root.join(&file);
            if !path.exists() {
                broken.push(format!("{page}: {target} (no {})", file.display()));
                continue;
            }
            if !anchor.is_empty() && path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).unwrap();
                if !anchors(&text).contains(anchor) {
                    broken.push(format!("{page}: {target} (no heading #{anchor})"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The targets of the inline links `[text](target)` of `text`, outside code.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            found.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    found
}

/// The anchors GitHub gives the headings of `text`: lower case, spaces to dashes, punctuation
/// other than dashes and underscores removed.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_block = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
        } else if !in_block && line.starts_with('#') {
            let title = line.trim_start_matches('#').trim();
            let anchor: String = title
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect();
            found.insert(anchor);
        }
    }
    found
}
