//! The crate's field lists against the operator's CRDs: for every DynaKube and EdgeConnect
//! version that a CRD under `fixtures/schemas/dynatrace/<release>/` serves (one folder for each
//! release line the tool supports), the crate must know exactly the fields the CRDs declare, no
//! more and no fewer. The versions the tool refuses to read (DynaKube `v1beta1` and `v1beta2`,
//! served up to operator 1.6) have no list.
//!
//! The paths are derived here on their own, without the crate's reader of CRDs, so that this
//! test also checks the reader that `cargo xtask fields` uses. When it fails, run `cargo xtask
//! fields` and review the change of the lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// The folder of the operator's CRDs, one folder per release.
fn crd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/schemas/dynatrace")
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
    let releases = std::fs::read_dir(crd_dir())
        .unwrap_or_else(|e| panic!("reading {}: {e}", crd_dir().display()));
    for release in releases {
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
    // Seven release lines, 1.4 to 1.10, two CRDs each.
    assert!(files >= 14, "{files} CRDs in {}", crd_dir().display());
    served
}

/// The key of a DynaKube version.
fn dynakube(version: &str) -> (String, String) {
    ("DynaKube".to_owned(), format!("dynatrace.com/{version}"))
}

#[test]
fn the_field_lists_hold_exactly_the_fields_of_the_crds() {
    let served = served();
    // The versions the crate keeps a field list for: those whose list is not empty.
    let listed: BTreeSet<(String, String)> = served
        .keys()
        .filter(|(kind, api_version)| {
            !dynakube_netpol::input::known_field_paths(kind, api_version).is_empty()
        })
        .cloned()
        .collect();
    let versions: BTreeSet<(String, String)> = served.keys().cloned().collect();
    let unlisted: Vec<&(String, String)> = versions.difference(&listed).collect();
    assert_eq!(
        unlisted,
        [&dynakube("v1beta1"), &dynakube("v1beta2")],
        "the crate has a field list for each version the CRDs serve, except the refused ones"
    );
    for (_, api_version) in unlisted {
        let text = format!(
            "apiVersion: {api_version}\nkind: DynaKube\nmetadata: {{name: dk}}\nspec: {{apiUrl: https://abc12345.live.dynatrace.com/api}}\n"
        );
        let mut inputs = dynakube_netpol::resources::Inputs::default();
        let options = dynakube_netpol::input::ParseOptions::default();
        let err = dynakube_netpol::input::parse_into(&mut inputs, "dk.yaml", &text, &options)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is not a DynaKube version this tool reads"),
            "{err}"
        );
    }
    let mut stale = Vec::new();
    for ((kind, api_version), fields) in served.iter().filter(|(key, _)| listed.contains(key)) {
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
        "spec.extensions.databases[].volumes[].projected.sources[].configMap.items[].key",
        "spec.extensions.databases[].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[].matchExpressions[].values[]",
    ] {
        assert!(v1beta6.contains(path), "{path}");
    }
}
