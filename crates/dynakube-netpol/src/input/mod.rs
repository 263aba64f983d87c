//! Reading DynaKube and EdgeConnect resources from YAML text into the normalised [`Inputs`].
//!
//! A file may hold several documents. Fields this tool does not need are ignored; fields it
//! reads are type-checked, and every problem is reported with file, document and field path.

mod dynakube;
mod edgeconnect;
mod fields;

#[doc(hidden)]
pub use fields::{CrdFields, FIELD_LISTS, FieldList, crd_fields, known_field_paths};

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::error::{Error, Location, Result};
use crate::resources::{Inputs, ProxyUrl};
use crate::source::{Limits, Object};
use crate::values::{Name, Shown};

/// Facts the resources refer to but cannot hold themselves, and bounds on the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The proxy URL for DynaKubes whose `spec.proxy.valueFrom` names a Secret.
    pub proxy_url: Option<ProxyUrl>,
    /// Bounds on the input text.
    pub limits: Limits,
}

/// Parses the YAML `text` of `file` and adds its DynaKubes and EdgeConnects to `inputs`.
///
/// `file` only names the input in messages. Empty documents are skipped; lists such as
/// `kubectl get -o yaml` prints are read item by item.
pub fn parse_into(
    inputs: &mut Inputs,
    file: &str,
    text: &str,
    options: &ParseOptions,
) -> Result<()> {
    for object in crate::source::objects(file, text, &options.limits)? {
        parse_object(inputs, object, options)?;
    }
    Ok(())
}

fn parse_object(inputs: &mut Inputs, object: Object, options: &ParseOptions) -> Result<()> {
    let Object {
        location,
        kind,
        api_version,
        value,
    } = object;
    match kind.as_str() {
        "DynaKube" => {
            let dynakube = dynakube::parse(&location, &api_version, value, options)?;
            inputs.dynakubes.push(dynakube);
        }
        "EdgeConnect" => {
            let edgeconnect = edgeconnect::parse(&location, &api_version, value)?;
            inputs.edgeconnects.push(edgeconnect);
        }
        other => {
            return Err(Error::invalid(
                location.join("kind"),
                format!(
                    "`{}` is not a kind this tool reads (DynaKube, EdgeConnect)",
                    Shown(other)
                ),
            ));
        }
    }
    Ok(())
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
                location.join("apiVersion"),
                format!(
                    "`{}` is not a {kind} version this tool reads ({})",
                    Shown(api_version),
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Reads `value` as a resource with a spec of type `S`: its metadata, name (checked by
/// `name`) and spec.
fn resource<S: DeserializeOwned>(
    location: &Location,
    value: Value,
    name: fn(&str) -> std::result::Result<Name, crate::values::Invalid>,
) -> Result<(Metadata, Name, S)> {
    let raw: Resource<S> = typed(location, value)?;
    let name = raw.metadata.name(location, name)?;
    let spec = raw
        .spec
        .ok_or_else(|| Error::invalid(location.join("spec"), "is missing"))?;
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
    /// The name, which every resource must have, checked by `parse`.
    fn name(
        &self,
        location: &Location,
        parse: fn(&str) -> std::result::Result<Name, crate::values::Invalid>,
    ) -> Result<Name> {
        let field = location.join("metadata.name");
        match self.name.as_deref() {
            Some(name) => {
                parse(name).map_err(|e| Error::invalid(field, format!("`{}` {e}", Shown(name))))
            }
            None => Err(Error::invalid(field, "is missing")),
        }
    }

    /// The namespace, when set.
    fn namespace(&self, location: &Location) -> Result<Option<Name>> {
        let field = location.join("metadata.namespace");
        match self.namespace.as_deref() {
            None => Ok(None),
            Some(namespace) => Name::parse(namespace)
                .map(Some)
                .map_err(|e| Error::invalid(field, format!("`{}` {e}", Shown(namespace)))),
        }
    }
}

/// A value of type `T` parsed from `raw`, or an error at `field` that shows the value.
fn checked<T>(
    location: &Location,
    field: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, crate::values::Invalid>,
) -> Result<T> {
    parse(raw).map_err(|e| Error::invalid(location.join(field), format!("`{}` {e}", Shown(raw))))
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
