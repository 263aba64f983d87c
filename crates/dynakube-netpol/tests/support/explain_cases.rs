//! The cases of `fixtures/explain/` (their format is in that folder's README.md): every
//! connection they hold, with the command-line words `explain` takes and the verdict expected.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A case: where its verdicts come from, the cluster, and the steps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The test or page the verdicts come from.
    source: String,
    /// The cluster dump, relative to the case file.
    pods: String,
    /// The network plugin, when not the default.
    #[serde(default)]
    plugin: Option<String>,
    steps: Vec<Step>,
}

/// One step of a case: a set of policies and the verdicts under it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// The test step, as its source names it.
    step: String,
    /// Policy files, relative to the case file.
    #[serde(default)]
    policies: Vec<String>,
    /// The network plugin of this step, when not the case's.
    #[serde(default)]
    plugin: Option<String>,
    /// The cluster dump of this step, when not the case's (labels changed by the test).
    #[serde(default)]
    pods: Option<String>,
    expect: Vec<Expectation>,
}

/// One connection and its verdict.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The source, as `--from` takes it.
    pub from: String,
    /// The destination, as `--to` takes it.
    pub to: String,
    /// The port, as `--port` takes it.
    pub port: String,
    /// The verdict.
    pub allowed: bool,
    /// The egress side in words, when the case says.
    #[serde(default)]
    pub egress: Option<String>,
    /// The ingress side in words, when the case says.
    #[serde(default)]
    pub ingress: Option<String>,
}

/// One question a case asks.
#[derive(Debug, Clone)]
pub struct Question {
    /// The folder of the case, which its paths are relative to.
    pub dir: PathBuf,
    /// The policy files.
    pub policies: Vec<String>,
    /// The cluster dump.
    pub pods: String,
    /// `--network-plugin`, when not the default.
    pub plugin: Option<String>,
    /// The connection and its verdict.
    pub expected: Expectation,
    /// The case, step and connection, for messages.
    pub what: String,
}

/// The root of the cases.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/explain")
        .canonicalize()
        .unwrap()
}

/// Every `case.yaml` below `dir`, sorted.
fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(case_files(&path));
        } else if path.file_name().is_some_and(|n| n == "case.yaml") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Every question of every case, with the folder of its source (`network-policy-api`,
/// `kubernetes-e2e`).
pub fn questions() -> Vec<(String, Question)> {
    let root = root();
    let mut all = Vec::new();
    for file in case_files(&root) {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let source = name.split('/').next().unwrap_or_default().to_owned();
        let dir = file.parent().unwrap().to_path_buf();
        let case: Case = serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!case.source.is_empty(), "{name}: no source");
        for step in case.steps {
            let plugin = step.plugin.clone().or_else(|| case.plugin.clone());
            let pods = step.pods.clone().unwrap_or_else(|| case.pods.clone());
            for expected in step.expect {
                let what = format!(
                    "{name}, {}: {} -> {} {}",
                    step.step, expected.from, expected.to, expected.port
                );
                let question = Question {
                    dir: dir.clone(),
                    policies: step.policies.clone(),
                    pods: pods.clone(),
                    plugin: plugin.clone(),
                    expected,
                    what,
                };
                all.push((source.clone(), question));
            }
        }
    }
    all
}
