//! The verifier's self-test: defects planted in scratch copies of one fixture's outputs (and
//! inputs and case), each of which the verifier must refuse in the check meant to catch it,
//! while the unchanged copies pass. A verifier that passed everything would fail here.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::json;
use serde_yaml::{Mapping, Value};

use crate::verifier::{Input, Rendered, Verifier};

/// The fixture whose outputs the defects are planted in (a small one: the analyzer's sanity
/// checks grow with the square of the policies).
pub const BASE: &str = "no-csi-bootstrapper";

/// The flavors whose unchanged copies must pass.
const FLAVORS: [&str; 3] = ["kubernetes", "cilium", "cluster-network-policy"];

/// A planted defect.
struct Defect {
    /// Its name, which names the scratch copy and the verifier's job.
    name: &'static str,
    /// The flavor of the output it is planted in.
    flavor: &'static str,
    /// The check that must fail.
    check: &'static str,
    /// Plants it into the copy.
    plant: fn(&Copy) -> Result<()>,
}

/// A scratch copy of the base's files.
struct Copy {
    /// The output of the defect's flavor.
    output: PathBuf,
    /// The evaluator's case.
    case: PathBuf,
    /// The resource files.
    resources: Vec<PathBuf>,
}

const DEFECTS: [Defect; 12] = [
    Defect {
        name: "unknown-field",
        flavor: "kubernetes",
        check: "k8s-schema",
        plant: |copy| {
            edit_first(&copy.output, |p| {
                insert(p, &["spec"], "podSelectr", Value::Mapping(Mapping::new()))
            })
        },
    },
    Defect {
        name: "end-port-below-port",
        flavor: "kubernetes",
        check: "api-rules",
        plant: |copy| edit_first(&copy.output, end_port_below_port),
    },
    Defect {
        name: "except-outside-cidr",
        flavor: "kubernetes",
        check: "api-rules",
        plant: |copy| edit_first(&copy.output, except_is_the_cidr),
    },
    Defect {
        name: "unlisted-file",
        flavor: "kubernetes",
        check: "kustomization",
        plant: |copy| copy_policy(&copy.output, "unlisted", false),
    },
    Defect {
        name: "duplicate-name",
        flavor: "kubernetes",
        check: "unique",
        plant: |copy| copy_policy(&copy.output, "", true),
    },
    Defect {
        name: "redundant-policy",
        flavor: "kubernetes",
        check: "nca-sanity",
        plant: |copy| copy_policy(&copy.output, "redundant", true),
    },
    Defect {
        name: "flipped-verdict",
        flavor: "kubernetes",
        check: "nca-flow",
        plant: |copy| {
            let file = copy.case.join("expected.yaml");
            let text = std::fs::read_to_string(&file)?;
            if !text.contains("allowed: true") {
                bail!("no allowed connection in {}", file.display());
            }
            std::fs::write(&file, text.replacen("allowed: true", "allowed: false", 1))?;
            Ok(())
        },
    },
    Defect {
        name: "unknown-resource-field",
        flavor: "kubernetes",
        check: "resource-crd",
        plant: |copy| {
            edit_first_file(&copy.resources, |r| {
                insert(r, &["spec"], "oneAgnet", Value::Mapping(Mapping::new()))
            })
        },
    },
    Defect {
        name: "cilium-unknown-field",
        flavor: "cilium",
        check: "crd-schema",
        plant: |copy| {
            let fqdn: Value = serde_yaml::from_str("[{matchName: example.com}]")?;
            edit_first(&copy.output, |p| {
                insert(p, &["spec", "egress", "0"], "toFQDN", fqdn.clone())
            })
        },
    },
    Defect {
        name: "cilium-port-out-of-range",
        flavor: "cilium",
        check: "api-rules",
        plant: |copy| edit_first(&copy.output, cilium_port_out_of_range),
    },
    Defect {
        name: "cnp-priority-out-of-range",
        flavor: "cluster-network-policy",
        check: "crd-schema",
        plant: |copy| {
            edit_first(&copy.output, |p| {
                p.get("kind").and_then(Value::as_str) == Some("ClusterNetworkPolicy")
                    && insert(p, &["spec"], "priority", Value::from(1001))
            })
        },
    },
    Defect {
        name: "cnp-network-policy-unknown-field",
        flavor: "cluster-network-policy",
        check: "k8s-schema",
        plant: |copy| {
            edit_first(&copy.output, |p| {
                p.get("kind").and_then(Value::as_str) == Some("NetworkPolicy")
                    && insert(p, &["spec"], "podSelectr", Value::Mapping(Mapping::new()))
            })
        },
    },
];

/// Plants every defect in a copy of `rendered` under `work`, runs the verifier on them and on an
/// unchanged copy, and fails unless each defect failed its check and the unchanged copy passed.
pub fn run(verifier: &Verifier, base: &Input, rendered: &Rendered, work: &Path) -> Result<()> {
    let mut jobs = Vec::new();
    for flavor in FLAVORS {
        let copy = copy(
            rendered,
            base,
            flavor,
            &work.join(format!("unchanged-{flavor}")),
        )?;
        jobs.push(job(&format!("unchanged-{flavor}"), flavor, &copy));
    }
    for defect in &DEFECTS {
        let copy = copy(rendered, base, defect.flavor, &work.join(defect.name))?;
        (defect.plant)(&copy).with_context(|| format!("planting {}", defect.name))?;
        jobs.push(job(defect.name, defect.flavor, &copy));
    }
    let manifest = work.join("manifest.json");
    std::fs::write(
        &manifest,
        serde_json::to_string_pretty(&json!({ "jobs": jobs }))?,
    )?;
    let report = work.join("report.txt");
    let output = verifier.command(&manifest, &report, true).output()?;
    let lines = std::fs::read_to_string(&report).with_context(|| {
        format!(
            "the verifier wrote no report: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let mut wrong = Vec::new();
    for flavor in FLAVORS {
        let job = format!("self-test/unchanged-{flavor} ({flavor}):");
        if lines
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains(&job))
            || !lines.contains(&job)
        {
            wrong.push(format!("the unchanged {flavor} copy did not pass"));
        }
    }
    for defect in &DEFECTS {
        let line = format!(
            "FAIL [{}] self-test/{} ({}):",
            defect.check, defect.name, defect.flavor
        );
        if lines.lines().any(|l| l.starts_with(&line)) {
            println!("    refused as meant: {} ({})", defect.name, defect.check);
        } else {
            wrong.push(format!(
                "{} was not refused by {}",
                defect.name, defect.check
            ));
        }
    }
    if !wrong.is_empty() {
        bail!(
            "the verifier's self-test failed: {}\n{}",
            wrong.join("; "),
            String::from_utf8_lossy(&output.stdout)
        );
    }
    Ok(())
}

/// The verifier's job for a copy.
fn job(name: &str, flavor: &str, copy: &Copy) -> serde_json::Value {
    let name = format!("self-test/{name}");
    if flavor != "kubernetes" {
        return json!({"name": name, "flavor": flavor, "output": copy.output});
    }
    json!({
        "name": name, "flavor": flavor, "output": copy.output, "resources": copy.resources,
        "cluster": [copy.case.join("cluster.yaml")], "case": copy.case,
    })
}

/// Copies the output of `flavor`, the case and the resources into `dir`.
fn copy(rendered: &Rendered, base: &Input, flavor: &str, dir: &Path) -> Result<Copy> {
    let from = match flavor {
        "cilium" => &rendered.cilium,
        "cluster-network-policy" => &rendered.cluster_network_policy,
        _ => &rendered.kubernetes,
    };
    let copy = Copy {
        output: dir.join(flavor),
        case: dir.join("case"),
        resources: base
            .resources
            .iter()
            .map(|file| dir.join("resources").join(file.file_name().unwrap()))
            .collect(),
    };
    copy_dir(from, &copy.output)?;
    copy_dir(&rendered.case, &copy.case)?;
    std::fs::create_dir_all(dir.join("resources"))?;
    for (file, to) in base.resources.iter().zip(&copy.resources) {
        std::fs::copy(file, to)?;
    }
    Ok(copy)
}

/// Copies the files of `from` into `to` (made here).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        std::fs::copy(&path, to.join(path.file_name().unwrap()))?;
    }
    Ok(())
}

/// The policy files of an output directory (not its kustomization), sorted.
fn policy_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.file_name().is_some_and(|n| n != "kustomization.yaml"));
    files.sort();
    Ok(files)
}

/// Applies `edit` to the policies of `dir` in turn until it changes one, and writes that one.
fn edit_first(dir: &Path, edit: impl FnMut(&mut Value) -> bool) -> Result<()> {
    edit_first_file(&policy_files(dir)?, edit)
}

/// Applies `edit` to the documents of `files` in turn until it changes one, and writes that
/// file back.
fn edit_first_file(files: &[PathBuf], mut edit: impl FnMut(&mut Value) -> bool) -> Result<()> {
    for file in files {
        let text = std::fs::read_to_string(file)?;
        let mut documents = Vec::new();
        for document in serde_yaml::Deserializer::from_str(&text) {
            documents.push(<Value as serde::Deserialize>::deserialize(document)?);
        }
        if documents.iter_mut().any(&mut edit) {
            let texts: Vec<String> = documents
                .iter()
                .map(serde_yaml::to_string)
                .collect::<Result<_, _>>()?;
            std::fs::write(file, texts.join("---\n"))?;
            return Ok(());
        }
    }
    bail!("no document to plant the defect in")
}

/// The value at `path` (mapping keys, or list indices as numbers).
fn at<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(value, |value, key| match key.parse::<usize>() {
            Ok(index) => value.as_sequence_mut()?.get_mut(index),
            Err(_) => value.get_mut(*key),
        })
}

/// Sets `key` to `new` in the mapping at `path`, if there is one.
fn insert(value: &mut Value, path: &[&str], key: &str, new: Value) -> bool {
    match at(value, path).and_then(Value::as_mapping_mut) {
        Some(mapping) => {
            mapping.insert(key.into(), new);
            true
        }
        None => false,
    }
}

/// The rules of a policy's `spec.ingress` and `spec.egress`.
fn rules(policy: &mut Value) -> impl Iterator<Item = &mut Value> {
    let spec = policy.get_mut("spec").and_then(Value::as_mapping_mut);
    spec.into_iter().flat_map(|spec| {
        spec.iter_mut()
            .filter(|(key, _)| *key == "ingress" || *key == "egress")
            .filter_map(|(_, rules)| rules.as_sequence_mut())
            .flatten()
    })
}

/// Gives the first numeric port of the policy an `endPort` one below it.
fn end_port_below_port(policy: &mut Value) -> bool {
    for rule in rules(policy) {
        let Some(port) = at(rule, &["ports", "0"]) else {
            continue;
        };
        if let Some(number) = port.get("port").and_then(Value::as_u64) {
            return insert(port, &[], "endPort", (number - 1).into());
        }
    }
    false
}

/// Gives the first ipBlock of the policy its own CIDR as `except`, which is no strict subset.
fn except_is_the_cidr(policy: &mut Value) -> bool {
    for rule in rules(policy) {
        let peers = ["from", "to"]
            .into_iter()
            .find(|key| rule.get(key).is_some());
        let Some(peers) = peers.and_then(|key| rule.get_mut(key)?.as_sequence_mut()) else {
            continue;
        };
        for peer in peers {
            if let Some(block) = peer.get_mut("ipBlock") {
                let cidr = block.get("cidr").cloned().unwrap_or_default();
                return insert(block, &[], "except", Value::Sequence(vec![cidr]));
            }
        }
    }
    false
}

/// Sets the first port of the first `toPorts` of a Cilium policy to 70000, which the CRD's
/// pattern lets through.
fn cilium_port_out_of_range(policy: &mut Value) -> bool {
    for rule in rules(policy) {
        if let Some(port) = at(rule, &["toPorts", "0", "ports", "0"]) {
            return insert(port, &[], "port", "70000".into());
        }
    }
    false
}

/// Copies the first policy of `dir` with rules into another file; with a `suffix`, its name is
/// changed; with `listed`, the kustomization lists the new file.
fn copy_policy(dir: &Path, suffix: &str, listed: bool) -> Result<()> {
    for file in policy_files(dir)? {
        let mut policy: Value = serde_yaml::from_str(&std::fs::read_to_string(&file)?)?;
        if rules(&mut policy).next().is_none() {
            continue;
        }
        let name = format!("copy-{}.yaml", file.file_stem().unwrap().to_string_lossy());
        if !suffix.is_empty() {
            let old = policy["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            insert(
                &mut policy,
                &["metadata"],
                "name",
                format!("{old}-{suffix}").into(),
            );
        }
        std::fs::write(dir.join(&name), serde_yaml::to_string(&policy)?)?;
        if listed {
            let kustomization = dir.join("kustomization.yaml");
            let mut value: Value = serde_yaml::from_str(&std::fs::read_to_string(&kustomization)?)?;
            value["resources"]
                .as_sequence_mut()
                .context("the kustomization lists no resources")?
                .push(name.into());
            std::fs::write(&kustomization, serde_yaml::to_string(&value)?)?;
        }
        return Ok(());
    }
    bail!("no policy with rules in {}", dir.display())
}
