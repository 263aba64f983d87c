//! Every verdict of `fixtures/explain/` — taken from the network-policy-api conformance tests
//! and documentation, the Kubernetes e2e NetworkPolicy tests (and their legacy suite), Cilium's
//! documentation, connectivity, end-to-end and unit tests and the Kubernetes documentation, each
//! case citing its test or page — decided by the library's `evaluate::explain`, as the command
//! line asks it. The command line's own test (`crates/dynakube-netpol-cli/tests/explain.rs`)
//! runs them through the binary.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use dynakube_netpol::evaluate::{
    Index, NetworkPlugin, Options, PolicyFiles, explain, read_cluster, read_policies,
};
use dynakube_netpol::source::Limits;
use support::explain_cases::{Question, questions};

/// What questions of one step share: their folder, policies, cluster and plugin.
type Step = (PathBuf, Vec<String>, String, Option<String>);

/// The index `question` is asked of: its policies and cluster, with its network plugin.
fn index(question: &Question) -> Result<Index, String> {
    let limits = Limits::default();
    let read = |name: &str| {
        std::fs::read_to_string(question.dir.join(name)).map_err(|e| format!("{name}: {e}"))
    };
    let mut files = PolicyFiles::default();
    for name in &question.policies {
        files.extend([read_policies(name, &read(name)?, &limits).map_err(|e| e.to_string())?]);
    }
    let cluster =
        read_cluster(&question.pods, &read(&question.pods)?, &limits).map_err(|e| e.to_string())?;
    let network_plugin = match &question.plugin {
        Some(name) => Some(name.parse::<NetworkPlugin>().map_err(|e| e.to_string())?),
        None => None,
    };
    let options = Options {
        network_plugin,
        ..Options::default()
    };
    Index::with_options(cluster, &files, options).map_err(|e| e.to_string())
}

/// The answer of `index` to `question`: whether it is allowed, and its JSON.
fn answer(index: &Index, question: &Question) -> Result<(bool, serde_json::Value), String> {
    let expected = &question.expected;
    let answer =
        explain(index, &expected.from, &expected.to, &expected.port).map_err(|e| e.to_string())?;
    let json = serde_json::from_str(&answer.to_json()).map_err(|e| e.to_string())?;
    Ok((answer.allowed(), json))
}

#[test]
fn every_verdict_of_the_fixtures_is_the_evaluators() {
    let mut failures = Vec::new();
    let mut per_source: BTreeMap<String, usize> = BTreeMap::new();
    // Questions of one step share their index.
    let mut indexes: BTreeMap<Step, Result<Index, String>> = BTreeMap::new();
    for (source, question) in questions() {
        *per_source.entry(source).or_default() += 1;
        let expected = &question.expected;
        let key = (
            question.dir.clone(),
            question.policies.clone(),
            question.pods.clone(),
            question.plugin.clone(),
        );
        let index = indexes.entry(key).or_insert_with(|| index(&question));
        let result = match index {
            Ok(index) => answer(index, &question),
            Err(error) => Err(error.clone()),
        };
        match result {
            Err(error) => failures.push(format!("{}: {error}", question.what)),
            Ok((allowed, json)) => {
                if allowed != expected.allowed {
                    failures.push(format!(
                        "{}: expected allowed {}, got\n{json:#}",
                        question.what, expected.allowed
                    ));
                    continue;
                }
                for (side, words) in [("egress", &expected.egress), ("ingress", &expected.ingress)]
                {
                    if let Some(words) = words
                        && json[side]["text"] != words.as_str()
                    {
                        failures.push(format!(
                            "{}: {side} is {}, not {words}",
                            question.what, json[side]["text"]
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} verdicts differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // Every source is there, with the verdicts it was written with.
    assert!(per_source["network-policy-api"] >= 301, "{per_source:?}");
    assert!(per_source["kubernetes-e2e"] >= 4000, "{per_source:?}");
    assert!(per_source["kubernetes-e2e-legacy"] >= 163, "{per_source:?}");
    assert!(per_source["cilium-docs"] >= 365, "{per_source:?}");
    assert!(per_source["kubernetes-docs"] >= 41, "{per_source:?}");
    assert!(
        per_source["network-policy-api-docs"] >= 62,
        "{per_source:?}"
    );
    assert!(per_source["cilium-connectivity"] >= 722, "{per_source:?}");
    assert!(per_source["cilium-e2e"] >= 204, "{per_source:?}");
    assert!(per_source["cilium-unit-tests"] >= 1604, "{per_source:?}");
}
