//! Runs every hand-written case in `tests/evaluate-cases/` through the NetworkPolicy evaluator.
//!
//! A case is a directory with `policies.yaml` (NetworkPolicies), `cluster.yaml` (namespaces and
//! pods, as `kubectl get pods,namespaces -A -o yaml` prints them) and `expected.yaml`: a list of
//! connections with the Kubernetes verdict, optionally the expected text of each side, and `nca`
//! where the analyzer NCA answers otherwise (the case's README.md explains why). The cases were
//! cross-checked against NCA with `nca_crosscheck.py` in the same directory; these tests do not
//! need NCA.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dynakube_netpol::evaluate::{
    Connection, HostNetwork, Index, NetworkPlugin, Options, read_cluster, read_policies,
};
use dynakube_netpol::matrix::Protocol;
use dynakube_netpol::source::Limits;
use serde::Deserialize;

/// One line of `expected.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    /// `namespace/pod` or an IP address.
    from: String,
    /// `namespace/pod` or an IP address.
    to: String,
    port: u16,
    #[serde(default = "tcp")]
    protocol: String,
    /// The Kubernetes verdict.
    allowed: bool,
    /// The source's side as [`dynakube_netpol::evaluate::Side`] displays it.
    egress: Option<String>,
    /// The destination's side as [`dynakube_netpol::evaluate::Side`] displays it.
    ingress: Option<String>,
    /// NCA's verdict where it differs from Kubernetes'.
    nca: Option<bool>,
}

fn tcp() -> String {
    "TCP".to_string()
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/evaluate-cases")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The problems with one case, as sentences.
/// The case's cluster and policies indexed twice: as this crate evaluates them, and with
/// hostNetwork pods treated as ordinary pods, as NCA does.
fn indexes(dir: &Path, name: &str) -> (Index, Index) {
    let policies = read_policies(
        "policies.yaml",
        &read(&dir.join("policies.yaml")),
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let cluster = read_cluster(
        "cluster.yaml",
        &read(&dir.join("cluster.yaml")),
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let like_nca = Index::with_options(
        cluster.clone(),
        &policies,
        Options {
            host_network: HostNetwork::Pod,
            network_plugin: Some(NetworkPlugin::Cilium),
            ..Options::default()
        },
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let index = Index::with_options(cluster, &policies, Options::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (index, like_nca)
}

fn run_case(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let (index, like_nca) = indexes(dir, &name);
    let expectations: Vec<Expectation> = serde_yaml::from_str(&read(&dir.join("expected.yaml")))
        .unwrap_or_else(|e| panic!("{name}/expected.yaml: {e}"));
    assert!(!expectations.is_empty(), "{name}: no expectations");
    if expectations.iter().any(|e| e.nca.is_some()) {
        assert!(
            dir.join("README.md").is_file(),
            "{name}: differences from NCA need a README.md"
        );
    }

    // NCA treats hostNetwork pods as ordinary pods and never matches a pod with an ipBlock:
    // with `HostNetwork::Pod` and the address blocks of the Cilium plugin (no pod, no node),
    // the evaluator must give NCA's verdicts.
    let differs_otherwise = name == "policy-types";

    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, expected) in expectations.iter().enumerate() {
        let line = format!(
            "{name} #{}: {} -> {} {}/{}",
            i + 1,
            expected.from,
            expected.to,
            expected.port,
            expected.protocol
        );
        assert!(
            seen.insert(line[line.find(':').unwrap()..].to_string()),
            "{line}: listed twice"
        );
        let peer = |text: &str| {
            index
                .connection_end(text)
                .unwrap_or_else(|| panic!("{line}: `{text}` is neither a pod nor an address"))
        };
        let connection = Connection {
            from: peer(&expected.from),
            to: peer(&expected.to),
            port: expected.port,
            protocol: Protocol::parse(&expected.protocol)
                .unwrap_or_else(|| panic!("{line}: unknown protocol")),
        };
        let verdict = index.evaluate(&connection);
        if verdict.allowed() != expected.allowed {
            problems.push(format!(
                "{line}: expected allowed={}, got egress: {}; ingress: {}",
                expected.allowed, verdict.egress, verdict.ingress
            ));
        }
        if index.allows(&connection) != verdict.allowed() {
            problems.push(format!("{line}: allows() disagrees with evaluate()"));
        }
        for (what, expected, actual) in [
            ("egress", &expected.egress, &verdict.egress),
            ("ingress", &expected.ingress, &verdict.ingress),
        ] {
            if let Some(expected) = expected
                && *expected != actual.to_string()
            {
                problems.push(format!(
                    "{line}: {what} expected `{expected}`, got `{actual}`"
                ));
            }
        }
        let nca = expected.nca.unwrap_or(expected.allowed);
        if !differs_otherwise && like_nca.evaluate(&connection).allowed() != nca {
            problems.push(format!(
                "{line}: read as NCA reads it, expected NCA's allowed={nca}"
            ));
        }
        if expected.nca == Some(expected.allowed) {
            problems.push(format!("{line}: `nca` is only for verdicts that differ"));
        }
    }
    problems
}

#[test]
fn every_case_gives_the_expected_verdicts() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "only {} cases", dirs.len());
    let problems: Vec<String> = dirs.iter().flat_map(|dir| run_case(dir)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
