//! Reading DynaKube and EdgeConnect resources from YAML text into the normalised [`Inputs`].
//!
//! A file may hold several documents. Fields this tool does not need are ignored; fields it
//! reads are type-checked, and every problem is reported with file, document and field path.

mod dynakube;
mod edgeconnect;

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::error::{Error, Location, Result};
use crate::model::Inputs;

/// Facts the resources refer to but cannot hold themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The proxy URL for DynaKubes whose `spec.proxy.valueFrom` names a Secret.
    pub proxy_url: Option<String>,
}

/// Parses the YAML `text` of `file` and adds its DynaKubes and EdgeConnects to `inputs`.
///
/// `file` only names the input in messages. Empty documents are skipped.
pub fn parse_into(
    inputs: &mut Inputs,
    file: &str,
    text: &str,
    options: &ParseOptions,
) -> Result<()> {
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let location = Location::new(file, Some(index + 1), "");
        let value = serde::Deserialize::deserialize(document).map_err(|e: serde_yaml::Error| {
            Error::invalid(location.clone(), format!("not valid YAML: {e}"))
        })?;
        if value == Value::Null {
            continue;
        }
        parse_document(inputs, &location, value, options)?;
    }
    Ok(())
}

fn parse_document(
    inputs: &mut Inputs,
    location: &Location,
    value: Value,
    options: &ParseOptions,
) -> Result<()> {
    if !value.is_mapping() {
        return Err(Error::invalid(
            location.clone(),
            "a document must be a mapping with apiVersion and kind",
        ));
    }
    let text = |field: &str| -> Result<String> {
        match value.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(Error::invalid(location.at(field), "must be a string")),
            None => Err(Error::invalid(location.at(field), "is missing")),
        }
    };
    let api_version = text("apiVersion")?;
    let kind = text("kind")?;
    match (kind.as_str(), api_version.as_str()) {
        // `kubectl get dynakubes,edgeconnects -o yaml` wraps the resources in a List.
        ("List" | "DynaKubeList" | "EdgeConnectList", _) => {
            let items = match value.get("items") {
                None | Some(Value::Null) => return Ok(()),
                Some(Value::Sequence(items)) => items.clone(),
                Some(_) => return Err(Error::invalid(location.at("items"), "must be a list")),
            };
            for (i, item) in items.into_iter().enumerate() {
                parse_document(inputs, location, item, options)
                    .map_err(|e| within(e, &format!("items[{i}]")))?;
            }
        }
        ("DynaKube", version) => {
            let dynakube = dynakube::parse(location, version, value, options)?;
            inputs.dynakubes.push(dynakube);
        }
        ("EdgeConnect", version) => {
            let edgeconnect = edgeconnect::parse(location, version, value)?;
            inputs.edgeconnects.push(edgeconnect);
        }
        (other, _) => {
            return Err(Error::invalid(
                location.at("kind"),
                format!("`{other}` is not a kind this tool reads (DynaKube, EdgeConnect)"),
            ));
        }
    }
    Ok(())
}

/// `error` with its field path prefixed by `prefix` (an item of a List).
fn within(error: Error, prefix: &str) -> Error {
    match error {
        Error::Invalid { location, reason } => {
            let field = if location.field.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{}", location.field)
            };
            Error::Invalid {
                location: location.at(field),
                reason,
            }
        }
        other => other,
    }
}

/// Deserializes `value` into `T`, naming the field path of the first type error.
fn typed<T: DeserializeOwned>(location: &Location, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| crate::error::field_error(location, e))
}

/// A resource as far as this tool reads it: metadata and a spec of type `S`.
#[derive(serde::Deserialize)]
struct Resource<S> {
    #[serde(default)]
    metadata: Metadata,
    spec: Option<S>,
}

/// The version of `kind` that `api_version` names, among `known`.
fn version<V: Copy>(
    location: &Location,
    kind: &str,
    api_version: &str,
    known: &[(&str, V)],
) -> Result<V> {
    match known.iter().find(|(name, _)| *name == api_version) {
        Some(&(_, version)) => Ok(version),
        None => {
            let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
            Err(Error::invalid(
                location.at("apiVersion"),
                format!(
                    "`{api_version}` is not a {kind} version this tool reads ({})",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Reads `value` as a resource with a spec of type `S`: its metadata, name and spec.
fn resource<S: DeserializeOwned>(
    location: &Location,
    value: Value,
) -> Result<(Metadata, String, S)> {
    let raw: Resource<S> = typed(location, value)?;
    let name = raw.metadata.name(location)?;
    let spec = raw
        .spec
        .ok_or_else(|| Error::invalid(location.at("spec"), "is missing"))?;
    Ok((raw.metadata, name, spec))
}

/// `metadata` as far as this tool reads it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    name: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

impl Metadata {
    /// The name, which every resource must have.
    fn name(&self, location: &Location) -> Result<String> {
        match self.name.as_deref() {
            Some(name) if is_dns_label(name) => Ok(name.to_string()),
            Some(name) => Err(Error::invalid(
                location.at("metadata.name"),
                format!(
                    "`{name}` is not a valid name (lowercase letters, digits and `-`, at most 63)"
                ),
            )),
            None => Err(Error::invalid(location.at("metadata.name"), "is missing")),
        }
    }
}

/// Whether `s` is an RFC 1123 label, as Kubernetes requires of names that become workload names.
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Where a document came from, for messages: `file#document`.
fn origin(location: &Location) -> String {
    match location.document {
        Some(document) => format!("{}#{document}", location.file),
        None => location.file.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Inputs> {
        let mut inputs = Inputs::default();
        parse_into(&mut inputs, "test.yaml", text, &ParseOptions::default())?;
        Ok(inputs)
    }

    #[test]
    fn empty_documents_are_skipped() {
        let inputs = parse("---\n---\n").unwrap();
        assert!(inputs.dynakubes.is_empty());
    }

    #[test]
    fn unknown_kinds_name_the_document() {
        let err = parse("~\n---\n~\n---\napiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "test.yaml, document 3, field `kind`: `ConfigMap` is not a kind this tool reads (DynaKube, EdgeConnect)"
        );
    }

    #[test]
    fn lists_from_kubectl_are_read_item_by_item() {
        let item = |name: &str| {
            format!(
                "{{apiVersion: dynatrace.com/v1beta6, kind: DynaKube, metadata: {{name: {name}}}, spec: {{apiUrl: 'https://a.live.dynatrace.com/api'}}}}"
            )
        };
        let text = format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}\n- {}\n",
            item("one"),
            item("two")
        );
        let inputs = parse(&text).unwrap();
        assert_eq!(inputs.dynakubes.len(), 2);
        let broken = text.replace(
            "two}, spec: {apiUrl: 'https://a.live.dynatrace.com/api'}",
            "two}, spec: {apiUrl: 'x'}",
        );
        let err = parse(&broken).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "test.yaml, document 1, field `items[1].spec.apiUrl`: `x` is not a URL"
            ),
            "{err}"
        );
    }

    #[test]
    fn type_errors_carry_the_field_path() {
        let text = "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {name: dk}\nspec:\n  apiUrl: https://a.live.dynatrace.com/api\n  activeGate:\n    capabilities: routing\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "test.yaml, document 1, field `spec.activeGate.capabilities`: invalid type"
            ),
            "{err}"
        );
    }
}
