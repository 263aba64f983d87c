//! `cargo xtask schemas`: the CustomResourceDefinitions that the tests and `cargo xtask fields`
//! read, kept under `fixtures/schemas/` as structural schemas without upstream's prose.
//!
//! [`SETS`] says which upstream file becomes which file of the repository: for each project its
//! folder, the release tags kept and the files of each release, by their upstream path. The
//! upstream directory that `cargo xtask schemas UPSTREAM_DIR` reads is laid out as the
//! repository's copy is (`UPSTREAM_DIR/dynatrace/v1.10.2/dynatrace.com_dynakubes.yaml` is
//! `config/crd/bases/dynatrace.com_dynakubes.yaml` of the operator at `v1.10.2`); the README
//! beside the copies says how to fill it.
//!
//! A kept file is the upstream CRD with every `description` removed — the descriptions of the
//! schemas at every depth and of the printer columns — and nothing else: types, properties,
//! `required`, enums, patterns, formats, bounds, defaults, `x-kubernetes-*` markers and CEL
//! rules stay, in upstream's order. A property that happens to be named `description` (Cilium's
//! `spec.description`) is a field, not prose, and stays. The text is what the YAML library
//! writes for the result, after one comment line that names this job and the upstream file.
//!
//! `cargo xtask schemas --check` cannot compare with upstream, which the repository does not
//! hold. It checks what the copies say about themselves: every file of [`SETS`] is there (and
//! nothing else), starts with its comment line, holds a CRD of the expected kind, and is
//! exactly what removing descriptions from itself gives — so no description is left, nothing
//! was edited by hand into another shape, and the text is the job's own. The README must name
//! every release kept. `--check UPSTREAM_DIR` compares with upstream as well.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_yaml::Value;

use xtask::generated::{self, Change, Syntax};

/// Where the copies live, from the workspace root.
pub const DIR: &str = "fixtures/schemas";

/// The CRDs of one upstream project.
struct Set {
    /// The folder under [`DIR`] (and under the upstream directory).
    folder: &'static str,
    /// The project's repository.
    project: &'static str,
    /// The release tags kept, each a folder of the set.
    tags: &'static [&'static str],
    /// Each file kept of a release: its path under the tag's folder, its path in the upstream
    /// repository and the kind its CRD defines.
    files: &'static [(&'static str, &'static str, &'static str)],
}

/// Every CRD the repository keeps.
const SETS: [Set; 3] = [
    Set {
        folder: "dynatrace",
        project: "github.com/Dynatrace/dynatrace-operator",
        // The newest patch of every release line the tool supports (`matrix::releases`).
        tags: &[
            "v1.4.2", "v1.5.1", "v1.6.3", "v1.7.3", "v1.8.1", "v1.9.0", "v1.10.2",
        ],
        files: &[
            (
                "dynatrace.com_dynakubes.yaml",
                "config/crd/bases/dynatrace.com_dynakubes.yaml",
                "DynaKube",
            ),
            (
                "dynatrace.com_edgeconnects.yaml",
                "config/crd/bases/dynatrace.com_edgeconnects.yaml",
                "EdgeConnect",
            ),
        ],
    },
    Set {
        folder: "cilium",
        project: "github.com/cilium/cilium",
        tags: &["v1.16.5"],
        files: &[
            (
                "ciliumnetworkpolicies.yaml",
                "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml",
                "CiliumNetworkPolicy",
            ),
            (
                "ciliumclusterwidenetworkpolicies.yaml",
                "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumclusterwidenetworkpolicies.yaml",
                "CiliumClusterwideNetworkPolicy",
            ),
        ],
    },
    Set {
        folder: "network-policy-api",
        project: "github.com/kubernetes-sigs/network-policy-api",
        tags: &["v0.2.0"],
        files: &[
            (
                "standard/policy.networking.k8s.io_clusternetworkpolicies.yaml",
                "config/crd/standard/policy.networking.k8s.io_clusternetworkpolicies.yaml",
                "ClusterNetworkPolicy",
            ),
            (
                "experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml",
                "config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml",
                "ClusterNetworkPolicy",
            ),
        ],
    },
];

/// One kept file.
struct Schema {
    /// Its path under [`DIR`] and under the upstream directory.
    path: String,
    /// Its first line, which names this job and the upstream file.
    header: String,
    /// The kind its CRD defines.
    kind: &'static str,
}

/// Every kept file, in the order of [`SETS`].
fn schemas() -> Vec<Schema> {
    let mut schemas = Vec::new();
    for set in &SETS {
        for tag in set.tags {
            for (file, upstream, kind) in set.files {
                schemas.push(Schema {
                    path: format!("{}/{tag}/{file}", set.folder),
                    header: generated::mark_line(
                        Syntax::Hash,
                        "cargo xtask schemas",
                        &format!(
                            " from {upstream} of {} at {tag}, every description removed",
                            set.project
                        ),
                    ),
                    kind,
                });
            }
        }
    }
    schemas
}

/// `cargo xtask schemas [--check] [UPSTREAM_DIR]`: with `upstream`, writes (or checks) every
/// kept file from upstream's; the files `upstream` lacks are kept as they are, and named. Then,
/// and without `upstream`, checks the copies as the module documentation says.
pub fn run(root: &Path, upstream: Option<&Path>, check: bool) -> Result<()> {
    if let Some(upstream) = upstream {
        let mut changes = Vec::new();
        let mut absent = Vec::new();
        for schema in schemas() {
            let source = upstream.join(&schema.path);
            let Ok(text) = std::fs::read_to_string(&source) else {
                absent.push(schema.path);
                continue;
            };
            let fresh = kept_text(&schema, &text)
                .with_context(|| format!("reading {}", source.display()))?;
            changes.extend(Change::of(root, format!("{DIR}/{}", schema.path), fresh));
        }
        if absent.len() == schemas().len() {
            bail!("{} holds none of the upstream CRDs", upstream.display());
        }
        for path in absent {
            println!(
                "note: {} has no {path}; the copy is kept",
                upstream.display()
            );
        }
        generated::apply(root, &changes, check, &refresh_command())?;
    }
    check_copies(root)
}

/// The command that refreshes the copies, for messages.
fn refresh_command() -> String {
    format!(
        "`cargo xtask schemas UPSTREAM_DIR` with the upstream CRDs laid out as {DIR}/ is (see {DIR}/README.md)"
    )
}

/// The file the repository keeps for the upstream CRD `text`: the header, then the CRD without
/// descriptions. Fails when `text` is not a CRD of the schema's kind.
fn kept_text(schema: &Schema, text: &str) -> Result<String> {
    let mut crd: Value = serde_yaml::from_str(text).context("not one YAML document")?;
    let kind = crd["spec"]["names"]["kind"].as_str();
    if crd["kind"].as_str() != Some("CustomResourceDefinition") || kind != Some(schema.kind) {
        bail!("not the CustomResourceDefinition of {}", schema.kind);
    }
    let versions = crd
        .get_mut("spec")
        .and_then(|spec| spec.get_mut("versions"))
        .and_then(Value::as_sequence_mut)
        .context("the CRD has no spec.versions")?;
    for version in versions {
        if let Some(schema) = version
            .get_mut("schema")
            .and_then(|s| s.get_mut("openAPIV3Schema"))
        {
            strip_descriptions(schema);
        }
        let columns = version
            .get_mut("additionalPrinterColumns")
            .and_then(Value::as_sequence_mut);
        for column in columns.into_iter().flatten() {
            if let Some(column) = column.as_mapping_mut() {
                column.remove("description");
            }
        }
    }
    Ok(format!("{}{}", schema.header, serde_yaml::to_string(&crd)?))
}

/// Removes the description of the JSON schema `schema` and of every schema below it. Only the
/// keywords that hold schemas are followed: a property named `description`, and data such as
/// defaults, enums and CEL rules, stay.
fn strip_descriptions(schema: &mut Value) {
    let Some(schema) = schema.as_mapping_mut() else {
        return;
    };
    if schema.get("description").is_some_and(Value::is_string) {
        schema.remove("description");
    }
    for (keyword, value) in schema.iter_mut() {
        match keyword.as_str().unwrap_or_default() {
            // Maps of names to schemas (`dependencies` also holds lists of names).
            "properties" | "patternProperties" | "definitions" | "dependencies" => {
                for (_, below) in value.as_mapping_mut().into_iter().flatten() {
                    strip_descriptions(below);
                }
            }
            // A schema, or a boolean.
            "additionalProperties" | "additionalItems" | "not" => strip_descriptions(value),
            // A schema, or a list of schemas.
            "items" | "allOf" | "anyOf" | "oneOf" => match value.as_sequence_mut() {
                Some(list) => list.iter_mut().for_each(strip_descriptions),
                None => strip_descriptions(value),
            },
            _ => {}
        }
    }
}

/// Checks the copies without upstream (see the module documentation).
fn check_copies(root: &Path) -> Result<()> {
    let mut changes = Vec::new();
    let mut problems = Vec::new();
    let schemas = schemas();
    for schema in &schemas {
        let name = format!("{DIR}/{}", schema.path);
        let Ok(text) = std::fs::read_to_string(root.join(&name)) else {
            problems.push(format!("{name} is missing"));
            continue;
        };
        let Some(body) = text.strip_prefix(&schema.header) else {
            problems.push(format!(
                "{name} does not start with {}",
                schema.header.trim()
            ));
            continue;
        };
        match kept_text(schema, body) {
            Ok(fresh) => changes.extend(Change::of(root, name, fresh)),
            Err(e) => problems.push(format!("{name}: {e:#}")),
        }
    }
    let kept: BTreeSet<String> = schemas.iter().map(|s| s.path.clone()).collect();
    let mut found = Vec::new();
    files_below(&root.join(DIR), "", &mut found)?;
    for path in found {
        if path != "README.md" && !kept.contains(&path) {
            problems.push(format!(
                "{DIR}/{path} is not a file of the table in xtask/src/schemas.rs"
            ));
        }
    }
    let readme = std::fs::read_to_string(root.join(DIR).join("README.md")).unwrap_or_default();
    for set in &SETS {
        for tag in set.tags {
            if !readme.contains(&format!("{}/{tag}/", set.folder)) {
                problems.push(format!(
                    "{DIR}/README.md does not name {}/{tag}/",
                    set.folder
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!("{}; see {DIR}/README.md", problems.join("; "));
    }
    generated::apply(root, &changes, true, &refresh_command())
}

/// The paths of the files below `dir`, from `dir`, each after `prefix`.
fn files_below(dir: &Path, prefix: &str, found: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            files_below(&entry.path(), &format!("{name}/"), found)?;
        } else {
            found.push(name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dynakube_schema() -> Schema {
        schemas().into_iter().next().unwrap()
    }

    /// A small CRD with prose at every kind of place, and a property named `description`.
    const CRD: &str = r#"---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: dynakubes.dynatrace.com
spec:
  group: dynatrace.com
  names:
    kind: DynaKube
  versions:
  - name: v1beta6
    additionalPrinterColumns:
    - jsonPath: .spec.apiUrl
      name: ApiUrl
      type: string
      description: The URL.
    schema:
      openAPIV3Schema:
        description: DynaKube is the Schema.
        type: object
        properties:
          description:
            description: A field named description.
            type: string
            default: "description: kept"
          tolerations:
            description: Tolerations.
            type: array
            items:
              description: One toleration.
              type: object
              x-kubernetes-validations:
              - rule: self.key != ''
                message: description must stay
          labels:
            type: object
            additionalProperties:
              description: A label value.
              type: string
              pattern: ^[a-z]+$
          port:
            anyOf:
            - type: integer
              description: A number.
            - type: string
            x-kubernetes-int-or-string: true
"#;

    #[test]
    fn descriptions_are_removed_and_everything_else_stays() {
        let kept = kept_text(&dynakube_schema(), CRD).unwrap();
        let body = kept.strip_prefix(&dynakube_schema().header).unwrap();
        let value: Value = serde_yaml::from_str(body).unwrap();
        let version = &value["spec"]["versions"][0];
        let schema = &version["schema"]["openAPIV3Schema"];
        assert_eq!(schema.get("description"), None);
        assert_eq!(
            version["additionalPrinterColumns"][0].get("description"),
            None
        );
        let field = &schema["properties"]["description"];
        assert_eq!(field.get("description"), None);
        assert_eq!(field["type"].as_str(), Some("string"));
        assert_eq!(field["default"].as_str(), Some("description: kept"));
        let items = &schema["properties"]["tolerations"]["items"];
        assert_eq!(items.get("description"), None);
        assert_eq!(
            items["x-kubernetes-validations"][0]["message"].as_str(),
            Some("description must stay")
        );
        let values = &schema["properties"]["labels"]["additionalProperties"];
        assert_eq!(values.get("description"), None);
        assert_eq!(values["pattern"].as_str(), Some("^[a-z]+$"));
        let port = &schema["properties"]["port"];
        assert_eq!(port["anyOf"][0].get("description"), None);
        assert_eq!(port["x-kubernetes-int-or-string"].as_bool(), Some(true));
        // Nothing but the eight descriptions went.
        assert_eq!(CRD.lines().count() - 8, body.lines().count(), "{body}");
    }

    #[test]
    fn a_kept_file_is_its_own_stripping() {
        let kept = kept_text(&dynakube_schema(), CRD).unwrap();
        let body = kept.strip_prefix(&dynakube_schema().header).unwrap();
        assert_eq!(kept_text(&dynakube_schema(), body).unwrap(), kept);
    }

    #[test]
    fn another_kind_is_refused() {
        let edgeconnect = CRD.replace("kind: DynaKube", "kind: EdgeConnect");
        let err = kept_text(&dynakube_schema(), &edgeconnect).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not the CustomResourceDefinition of DynaKube"
        );
    }

    #[test]
    fn the_copies_are_fresh() {
        check_copies(&crate::project_root()).unwrap();
    }

    #[test]
    fn the_check_finds_a_description_left_in_a_copy() {
        let root = crate::project_root().join("target/tmp/xtask-schemas-check");
        let _ = std::fs::remove_dir_all(&root);
        let real = crate::project_root().join(DIR);
        let mut files = Vec::new();
        files_below(&real, "", &mut files).unwrap();
        for file in &files {
            let to = root.join(DIR).join(file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(real.join(file), to).unwrap();
        }
        check_copies(&root).unwrap();
        let copy = root.join(DIR).join(&schemas()[0].path);
        let text = std::fs::read_to_string(&copy).unwrap();
        let planted = text.replacen(
            "openAPIV3Schema:\n",
            "openAPIV3Schema:\n        description: prose\n",
            1,
        );
        assert_ne!(planted, text);
        std::fs::write(&copy, planted).unwrap();
        let err = check_copies(&root).unwrap_err().to_string();
        assert!(
            err.starts_with("stale: fixtures/schemas/dynatrace/v1.4.2/"),
            "{err}"
        );
    }
}
