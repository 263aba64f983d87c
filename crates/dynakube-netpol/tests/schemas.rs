//! The crate's field lists against the operator's CRDs: for every DynaKube and EdgeConnect
//! version that a CRD under `../shared/schemas/dynatrace/<release>/` serves, the crate must know
//! exactly the fields the CRDs declare, no more and no fewer.
//!
//! The paths are derived here on their own, without the crate's reader of CRDs, so that this
//! test also checks the reader that `cargo xtask fields` uses. When it fails, run `cargo xtask
//! fields` and review the change of the lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// The folder of the operator's CRDs, one folder per release; the test fails without it.
fn crd_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemas/dynatrace");
    assert!(
        dir.is_dir(),
        "the operator's CRDs are missing: expected them in {} (`shared/` beside the repository)",
        dir.display()
    );
    dir
}

/// The paths below the object `schema`, each prefixed with `prefix`, in the lists' notation.
fn paths_below(schema: &Value, prefix: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let Some(properties) = schema["properties"].as_mapping() else {
        return paths;
    };
    for (name, property) in properties {
        let name = name.as_str().expect("property names are strings");
        let mut path = format!("{prefix}{name}");
        let mut element = property;
        // Arrays lead to their items and maps with a value schema to their values.
        loop {
            if element["type"].as_str() == Some("array") {
                path.push_str("[]");
                element = &element["items"];
            } else if element["additionalProperties"].is_mapping() {
                path.push_str("{}");
                element = &element["additionalProperties"];
            } else {
                break;
            }
        }
        if element["x-kubernetes-preserve-unknown-fields"].as_bool() == Some(true) {
            paths.push(format!("{path}.*"));
        } else {
            paths.push(path.clone());
        }
        paths.extend(paths_below(element, &format!("{path}.")));
    }
    paths
}

/// Every field path of every served version in the CRDs, by kind and full API version.
fn served() -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut served: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut files = 0;
    for release in std::fs::read_dir(crd_dir()).unwrap() {
        let release = release.unwrap().path();
        if !release.is_dir() {
            continue;
        }
        for name in [
            "dynatrace.com_dynakubes.yaml",
            "dynatrace.com_edgeconnects.yaml",
        ] {
            let path = release.join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            files += 1;
            let crd: Value = serde_yaml::from_str(&text).unwrap();
            let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_owned();
            let group = crd["spec"]["group"].as_str().unwrap();
            for version in crd["spec"]["versions"].as_sequence().unwrap() {
                if version["served"].as_bool() != Some(true) {
                    continue;
                }
                let api_version = format!("{group}/{}", version["name"].as_str().unwrap());
                let schema = &version["schema"]["openAPIV3Schema"];
                served
                    .entry((kind.clone(), api_version))
                    .or_default()
                    .extend(paths_below(schema, ""));
            }
        }
    }
    assert!(files >= 2, "no CRDs in {}", crd_dir().display());
    served
}

#[test]
fn the_field_lists_hold_exactly_the_fields_of_the_crds() {
    let served = served();
    let listed: BTreeSet<(String, String)> = dynakube_netpol::input::FIELD_LISTS
        .iter()
        .map(|list| (list.kind.to_owned(), list.api_version.to_owned()))
        .collect();
    let versions: BTreeSet<(String, String)> = served.keys().cloned().collect();
    assert_eq!(
        listed, versions,
        "the crate has a field list for each version the CRDs serve"
    );
    let mut stale = Vec::new();
    for ((kind, api_version), fields) in &served {
        let known: BTreeSet<String> = dynakube_netpol::input::known_field_paths(kind, api_version)
            .into_iter()
            .collect();
        let missing: Vec<&String> = fields.difference(&known).take(10).collect();
        let extra: Vec<&String> = known.difference(fields).take(10).collect();
        if !missing.is_empty() || !extra.is_empty() {
            stale.push(format!(
                "{kind} {api_version}: missing {missing:?}, not in any CRD {extra:?}"
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "the field lists differ from the CRDs (run `cargo xtask fields`):\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_derivation_sees_deep_kubernetes_types() {
    // A derivation that stopped early would agree with lists that stopped early too.
    let served = served();
    let v1beta6 = &served[&("DynaKube".to_owned(), "dynatrace.com/v1beta6".to_owned())];
    for path in [
        "apiVersion",
        "metadata",
        "status.oneAgent.healthcheck.*",
        "spec.activeGate.capabilities[]",
        "spec.activeGate.tolerations[].effect",
        "spec.activeGate.labels{}",
        "spec.activeGate.resources.limits{}",
        "spec.activeGate.volumes[].projected.sources[].configMap.items[].key",
        "spec.extensions.databases[].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[].matchExpressions[].values[]",
    ] {
        assert!(v1beta6.contains(path), "{path}");
    }
}
