//! The field paths a CustomResourceDefinition declares, in the notation of the field lists.
//!
//! `cargo xtask fields` writes the library's field lists
//! (`crates/dynakube-netpol/src/input/fields/*.txt`) from what this module reads out of the
//! operator's CRDs. It understands the structural schemas Kubernetes requires of CRDs (`properties`,
//! `items`, `additionalProperties`, `x-kubernetes-preserve-unknown-fields`) and refuses
//! anything else that could declare fields, so that a schema it cannot read is an error
//! instead of a silently shorter list.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value;

/// The fields one CRD declares, for each version it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrdFields {
    /// The kind (`spec.names.kind`), such as `DynaKube`.
    pub kind: String,
    /// The API group (`spec.group`), such as `dynatrace.com`.
    pub group: String,
    /// The field paths of every served version, by version name (`v1beta6`).
    pub versions: BTreeMap<String, BTreeSet<String>>,
}

/// Reads the CRD in `text` and derives the field paths of every version it serves.
///
/// # Errors
///
/// When the text is not a CRD, or its schema uses a construct this reader does not know.
pub(crate) fn crd_fields(text: &str) -> Result<CrdFields, String> {
    let crd: Value = serde_yaml::from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let string = |value: Option<&Value>, what: &str| -> Result<String, String> {
        value
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("the CRD has no {what}"))
    };
    let spec = crd.get("spec");
    let kind = string(
        spec.and_then(|s| s.get("names")?.get("kind")),
        "spec.names.kind",
    )?;
    let group = string(spec.and_then(|s| s.get("group")), "spec.group")?;
    let versions = spec
        .and_then(|s| s.get("versions")?.as_sequence())
        .ok_or("the CRD has no spec.versions")?;
    let mut fields = BTreeMap::new();
    for version in versions {
        if version.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let name = string(version.get("name"), "name in a version")?;
        let schema = version
            .get("schema")
            .and_then(|s| s.get("openAPIV3Schema"))
            .ok_or_else(|| format!("version {name} has no openAPIV3Schema"))?;
        let mut paths = BTreeSet::new();
        object_fields(schema, "", &mut paths).map_err(|e| format!("version {name}: {e}"))?;
        fields.insert(name, paths);
    }
    Ok(CrdFields {
        kind,
        group,
        versions: fields,
    })
}

/// Adds the fields declared in the `properties` of the object schema at `prefix`.
fn object_fields(schema: &Value, prefix: &str, paths: &mut BTreeSet<String>) -> Result<(), String> {
    refuse_unknown_constructs(schema, prefix)?;
    let Some(properties) = schema.get("properties") else {
        return Ok(());
    };
    let properties = properties
        .as_mapping()
        .ok_or_else(|| format!("`{prefix}`: properties is not a mapping"))?;
    for (name, field) in properties {
        let name = name
            .as_str()
            .ok_or_else(|| format!("`{prefix}`: a property name is not a string"))?;
        if name.is_empty() || name.contains(['.', '[', ']', '{', '}', '*', '#', ' ']) {
            return Err(format!(
                "`{prefix}`: the property name `{name}` cannot be written in the notation"
            ));
        }
        let path = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        field_paths(field, path, paths)?;
    }
    Ok(())
}

/// Adds the field at `path` whose schema is `schema`, and every field below it.
///
/// Arrays and maps add `[]` and `{}` to the path for their items and values, which are
/// followed until the schema of the innermost element, whose own fields come next.
fn field_paths(
    mut schema: &Value,
    mut path: String,
    paths: &mut BTreeSet<String>,
) -> Result<(), String> {
    loop {
        refuse_unknown_constructs(schema, &path)?;
        let next = if let Some(items) = schema.get("items") {
            Some(("[]", items))
        } else {
            match schema.get("additionalProperties") {
                Some(values @ Value::Mapping(_)) => Some(("{}", values)),
                Some(other) => {
                    return Err(format!(
                        "`{path}`: additionalProperties `{other:?}` is not a schema"
                    ));
                }
                None => None,
            }
        };
        let Some((suffix, inner)) = next else { break };
        if preserves_unknown(schema) {
            return Err(format!(
                "`{path}`: x-kubernetes-preserve-unknown-fields on an array or map"
            ));
        }
        path.push_str(suffix);
        schema = inner;
    }
    if preserves_unknown(schema) {
        paths.insert(format!("{path}.*"));
    } else {
        paths.insert(path.clone());
    }
    object_fields(schema, &path, paths)
}

/// Whether the schema accepts any field below it (`x-kubernetes-preserve-unknown-fields`).
fn preserves_unknown(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

/// Refuses schema constructs that could declare fields this reader would miss: combinators
/// (`allOf`, `anyOf`, `oneOf`, `not`) that declare structure, and embedded resources.
fn refuse_unknown_constructs(schema: &Value, path: &str) -> Result<(), String> {
    const STRUCTURE: [&str; 4] = [
        "properties",
        "items",
        "additionalProperties",
        "x-kubernetes-preserve-unknown-fields",
    ];
    if !schema.is_mapping() {
        return Err(format!("`{path}`: the schema is not a mapping"));
    }
    if schema.get("x-kubernetes-embedded-resource").is_some() {
        return Err(format!("`{path}`: embedded resources are not supported"));
    }
    for combinator in ["allOf", "anyOf", "oneOf", "not"] {
        let Some(branches) = schema.get(combinator) else {
            continue;
        };
        let branches = match branches {
            Value::Sequence(branches) => branches.iter().collect(),
            single => vec![single],
        };
        for branch in branches {
            if STRUCTURE.iter().any(|key| branch.get(key).is_some()) {
                return Err(format!(
                    "`{path}`: {combinator} declares fields, which this reader does not follow"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRD: &str = r"
spec:
  group: example.com
  names: {kind: Thing}
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          metadata: {type: object}
          spec:
            type: object
            properties:
              list:
                type: array
                items:
                  type: object
                  properties:
                    port: {anyOf: [{type: integer}, {type: string}], x-kubernetes-int-or-string: true}
              labels: {type: object, additionalProperties: {type: string}}
              matrix: {type: array, items: {type: array, items: {type: string}}}
              anything: {type: object, x-kubernetes-preserve-unknown-fields: true}
  - name: v0
    served: false
    schema:
      openAPIV3Schema: {type: object}
";

    #[test]
    fn every_field_of_a_served_version_in_the_notation() {
        let fields = crd_fields(CRD).unwrap();
        assert_eq!(
            (fields.kind.as_str(), fields.group.as_str()),
            ("Thing", "example.com")
        );
        let v1: Vec<&str> = fields.versions["v1"].iter().map(String::as_str).collect();
        assert_eq!(
            v1,
            [
                "apiVersion",
                "metadata",
                "spec",
                "spec.anything.*",
                "spec.labels{}",
                "spec.list[]",
                "spec.list[].port",
                "spec.matrix[][]",
            ]
        );
        assert!(!fields.versions.contains_key("v0"));
    }

    #[test]
    fn combinators_that_declare_fields_are_refused() {
        let crd = CRD.replace(
            "apiVersion: {type: string}",
            "apiVersion: {oneOf: [{properties: {a: {type: string}}}]}",
        );
        let err = crd_fields(&crd).unwrap_err();
        assert!(err.contains("`apiVersion`: oneOf declares fields"), "{err}");
    }
}
