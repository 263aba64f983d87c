//! Reading `cilium.io/v2` CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies from YAML
//! or JSON, as strictly as the API server with the CRD schema and Cilium's agent together.

use serde::de::DeserializeOwned;

use super::Options;
use super::compile::{self, Context, Kind, Policy, PolicyRef};
use super::raw;
use crate::error::{Error, Location, Result};
use crate::evaluate::meta;
use crate::source::{Limits, Object};

/// The `apiVersion` of both kinds: the only version their CRDs serve.
pub(crate) const API_VERSION: &str = "cilium.io/v2";

/// The kind of a Cilium policy object, or `None` for other kinds.
pub(crate) fn kind_of(kind: &str) -> Option<Kind> {
    match kind {
        "CiliumNetworkPolicy" => Some(Kind::Namespaced),
        "CiliumClusterwideNetworkPolicy" => Some(Kind::Clusterwide),
        _ => None,
    }
}

/// Every Cilium policy in the YAML `text` of `file` (documents, and lists as `kubectl get -o
/// yaml` prints them), compiled; objects of other kinds are skipped.
pub(crate) fn read_policies(
    file: &str,
    text: &str,
    limits: &Limits,
    options: &Options,
) -> Result<Vec<Policy>> {
    crate::source::objects(file, text, limits)?
        .into_iter()
        .filter(|object| kind_of(&object.kind).is_some())
        .map(|object| policy(object, options))
        .collect()
}

/// Compiles one object of kind CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy.
///
/// Refused, with the field: another `apiVersion` than `cilium.io/v2`; a field the schema does
/// not declare; a value of the wrong type or outside the schema's enums, patterns and bounds; a
/// missing name (or namespace of a CiliumNetworkPolicy), and metadata the API server refuses of
/// any object (see [`crate::evaluate::meta`]); neither `spec` nor `specs`
/// (`ErrEmptyCNP`); and what the agent refuses (see [`compile`]).
pub(crate) fn policy(object: Object, options: &Options) -> Result<Policy> {
    let Object {
        location,
        kind,
        api_version,
        value,
    } = object;
    let kind = kind_of(&kind).ok_or_else(|| {
        Error::invalid(
            location.join("kind"),
            format!("`{kind}` is not a Cilium policy"),
        )
    })?;
    if api_version != API_VERSION {
        return Err(Error::invalid(
            location.join("apiVersion"),
            format!(
                "`{api_version}` is not served for {}: the CRD serves {API_VERSION}",
                kind.name()
            ),
        ));
    }
    let raw: raw::Object = typed(&location, value)?;
    let (name, namespace) = identify(&location, kind, &raw.metadata)?;
    if raw.spec.is_none() && raw.specs.is_none() {
        return Err(Error::invalid(location.clone(), "needs spec or specs"));
    }
    let context = Context {
        namespace: namespace.as_deref(),
        options,
        node_peers: std::cell::RefCell::new(None),
    };
    let mut rules = Vec::new();
    if let Some(spec) = &raw.spec {
        rules.push(compile::rule(
            &context,
            spec,
            &location.join("spec"),
            "spec",
        )?);
    }
    for (i, spec) in raw.specs.iter().flatten().enumerate() {
        let field = format!("specs[{i}]");
        rules.push(compile::rule(
            &context,
            spec,
            &location.join(&field),
            &field,
        )?);
    }
    let node_peers = context.node_peers.into_inner();
    Ok(Policy {
        reference: PolicyRef {
            kind,
            namespace,
            name,
        },
        rules,
        node_peers,
    })
}

/// The name and (for a CiliumNetworkPolicy) namespace of a policy of `kind` found at
/// `location`, its `metadata` checked as the API server checks every object's.
fn identify(
    location: &Location,
    kind: Kind,
    metadata: &raw::Metadata,
) -> Result<(String, Option<String>)> {
    let scope = match kind {
        Kind::Clusterwide => meta::Scope::Cluster,
        Kind::Namespaced => meta::Scope::Namespaced,
    };
    let kind = (scope, meta::NameRule::Subdomain);
    let (name, namespace) = meta::check(location, &metadata.parts(), kind)?;
    Ok((name.to_string(), namespace.map(str::to_string)))
}

/// Deserializes `value` at `location` into `T`, naming the field of the first error.
fn typed<T: DeserializeOwned>(location: &Location, value: serde_yaml::Value) -> Result<T> {
    serde_path_to_error::deserialize(value)
        .map_err(|error| crate::error::field_error(location, error))
}
