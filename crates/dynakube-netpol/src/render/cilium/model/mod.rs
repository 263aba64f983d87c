//! Typed `cilium.io/v2` CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy objects: the part
//! of the CRD schema (Cilium v1.16.5) that the Cilium flavor writes, and nothing else.
//!
//! The Kubernetes API server prunes fields that a CRD schema does not declare, and Cilium's
//! schemas do not forbid undeclared fields. A misspelt `toFQDN` would therefore be dropped
//! without an error, and the rule that remains would admit its ports to any address. These
//! types exclude such mistakes by construction:
//!
//! - every field is written with the schema's name, in a fixed order;
//! - the schema's `oneOf` choices are enums: [`Subject`] (`endpointSelector` or
//!   `nodeSelector`) and [`FqdnSelector`] (`matchName` or `matchPattern`);
//! - Cilium accepts one kind of peer per rule, so a rule holds exactly one [`IngressPeer`] or
//!   [`EgressPeer`];
//! - closed sets ([`Entity`], [`Protocol`]) are enums with the schema's values, and the values
//!   of names, patterns, addresses and ports are the validated types of
//!   [`values`](crate::values), so every value has the schema's shape;
//! - a namespaced policy selects endpoints, a clusterwide one has no namespace.
//!
//! What types leave open — peer lists must not be empty, a `toPorts` item holds 1 to 40 ports,
//! host policies carry no DNS rules — is upheld by the renderer and checked by
//! [`Rule::validate`], which the tests run over every policy of every fixture.

mod peers;
mod ports;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
pub(crate) use peers::{
    EgressPeer, EgressRule, EndpointSelector, Entity, FqdnPattern, FqdnSelector, IngressPeer,
    IngressRule, LabelSelectorRequirement,
};
pub(crate) use ports::{L4PortRule, MAX_PORTS, PortProtocol, PortRule, Protocol};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// The `apiVersion` of both policy kinds.
pub(crate) const API_VERSION: &str = "cilium.io/v2";

/// The Cilium label that holds the Kubernetes namespace of an endpoint, for selectors that
/// reach into other namespaces.
pub(crate) const NAMESPACE_LABEL: &str = "k8s:io.kubernetes.pod.namespace";

/// The prefix under which Cilium copies the labels of an endpoint's namespace, such as
/// `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name`.
pub(crate) const NAMESPACE_LABELS_PREFIX: &str = "k8s:io.cilium.k8s.namespace.labels.";

/// Why a rule is not one that Cilium would enforce as written: the path of the offending field
/// and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg(test)]
pub(crate) struct ModelError {
    /// The dotted path of the field, such as `egress[0].toPorts`.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) reason: String,
}

#[cfg(test)]
impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

#[cfg(test)]
impl std::error::Error for ModelError {}

#[cfg(test)]
fn error(path: impl Into<String>, reason: impl Into<String>) -> ModelError {
    ModelError {
        path: path.into(),
        reason: reason.into(),
    }
}

/// A namespaced `cilium.io/v2` `CiliumNetworkPolicy`: its rule selects endpoints of its
/// namespace (`endpointSelector`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CiliumNetworkPolicy {
    metadata: ObjectMeta,
    spec: Rule,
}

impl CiliumNetworkPolicy {
    /// The `kind` of this object.
    pub(crate) const KIND: &'static str = "CiliumNetworkPolicy";

    /// A policy in `metadata.namespace` with `spec`.
    pub(crate) fn new(metadata: ObjectMeta, spec: Rule) -> Self {
        CiliumNetworkPolicy { metadata, spec }
    }

    /// The metadata.
    pub(crate) fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    /// The rule.
    #[cfg(test)]
    pub(crate) fn spec(&self) -> &Rule {
        &self.spec
    }
}

/// A cluster-scoped `cilium.io/v2` `CiliumClusterwideNetworkPolicy`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CiliumClusterwideNetworkPolicy {
    metadata: ObjectMeta,
    spec: Rule,
}

impl CiliumClusterwideNetworkPolicy {
    /// The `kind` of this object.
    pub(crate) const KIND: &'static str = "CiliumClusterwideNetworkPolicy";

    /// A policy for `spec`'s subject; any namespace in `metadata` is dropped, since the
    /// object is cluster-scoped.
    pub(crate) fn new(mut metadata: ObjectMeta, spec: Rule) -> Self {
        metadata.namespace = None;
        CiliumClusterwideNetworkPolicy { metadata, spec }
    }

    /// The metadata.
    pub(crate) fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    /// The rule.
    #[cfg(test)]
    pub(crate) fn spec(&self) -> &Rule {
        &self.spec
    }
}

/// Writes `apiVersion`, `kind`, `metadata`, `spec`.
fn serialize_policy<S: Serializer>(
    serializer: S,
    kind: &'static str,
    metadata: &ObjectMeta,
    spec: &Rule,
) -> Result<S::Ok, S::Error> {
    let mut state = serializer.serialize_struct(kind, 4)?;
    state.serialize_field("apiVersion", API_VERSION)?;
    state.serialize_field("kind", kind)?;
    state.serialize_field("metadata", metadata)?;
    state.serialize_field("spec", spec)?;
    state.end()
}

impl Serialize for CiliumNetworkPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_policy(serializer, Self::KIND, &self.metadata, &self.spec)
    }
}

impl Serialize for CiliumClusterwideNetworkPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_policy(serializer, Self::KIND, &self.metadata, &self.spec)
    }
}

/// The `spec` of a policy: whom it applies to and the traffic it allows.
///
/// Written in the order `description`, `endpointSelector` or `nodeSelector`,
/// `enableDefaultDeny`, `ingress`, `egress`; empty lists and absent options are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// `endpointSelector` or `nodeSelector`: exactly one of the two.
    pub(crate) subject: Subject,
    /// `description`: free text for people.
    pub(crate) description: Option<String>,
    /// `enableDefaultDeny`: whether the subject denies what no policy allows. Cilium's default
    /// is to deny in each direction that has rules.
    pub(crate) enable_default_deny: Option<DefaultDeny>,
    /// `ingress`: allowed incoming traffic.
    pub(crate) ingress: Vec<IngressRule>,
    /// `egress`: allowed outgoing traffic.
    pub(crate) egress: Vec<EgressRule>,
}

impl Rule {
    /// A rule for `subject` without traffic rules.
    pub(crate) fn new(subject: Subject) -> Self {
        Rule {
            subject,
            description: None,
            enable_default_deny: None,
            ingress: Vec::new(),
            egress: Vec::new(),
        }
    }

    /// Checks what the types leave open: peer lists are not empty, every `toPorts` item has
    /// 1 to 40 ports, DNS rules are not empty, and host policies (`nodeSelector`) carry no DNS
    /// rules.
    #[cfg(test)]
    pub(crate) fn validate(&self) -> Result<(), ModelError> {
        for (i, rule) in self.ingress.iter().enumerate() {
            rule.from
                .check()
                .map_err(|reason| error(format!("ingress[{i}]"), reason))?;
            for (j, ports) in rule.to_ports.iter().enumerate() {
                ports::check(&ports.ports)
                    .map_err(|reason| error(format!("ingress[{i}].toPorts[{j}]"), reason))?;
            }
        }
        for (i, rule) in self.egress.iter().enumerate() {
            rule.to
                .check()
                .map_err(|reason| error(format!("egress[{i}]"), reason))?;
            for (j, ports) in rule.to_ports.iter().enumerate() {
                let at = format!("egress[{i}].toPorts[{j}]");
                ports::check(&ports.ports).map_err(|reason| error(&at, reason))?;
                match &ports.rules {
                    Some(_) if matches!(self.subject, Subject::Nodes(_)) => {
                        return Err(error(
                            at,
                            "host policies (nodeSelector) cannot have L7 rules",
                        ));
                    }
                    Some(rules) if rules.dns.is_empty() => {
                        return Err(error(at, "an empty DNS rule list is no DNS rule"));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Rule", 5)?;
        if let Some(description) = &self.description {
            state.serialize_field("description", description)?;
        }
        match &self.subject {
            Subject::Endpoints(selector) => state.serialize_field("endpointSelector", selector)?,
            Subject::Nodes(selector) => state.serialize_field("nodeSelector", selector)?,
        }
        if let Some(default_deny) = &self.enable_default_deny {
            state.serialize_field("enableDefaultDeny", default_deny)?;
        }
        if !self.ingress.is_empty() {
            state.serialize_field("ingress", &self.ingress)?;
        }
        if !self.egress.is_empty() {
            state.serialize_field("egress", &self.egress)?;
        }
        state.end()
    }
}

/// Whom a rule applies to: the schema's `oneOf` of `endpointSelector` and `nodeSelector`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Subject {
    /// `endpointSelector`: the endpoints (pods) selected. In a namespaced policy Cilium adds the
    /// policy's namespace to the selector; `EndpointSelector::default()` selects every endpoint.
    Endpoints(EndpointSelector),
    /// `nodeSelector`: the nodes selected, for a host policy of a clusterwide policy.
    Nodes(EndpointSelector),
}

/// `enableDefaultDeny`: per direction, whether the subject drops what no policy allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DefaultDeny {
    /// `ingress`: deny incoming traffic that no policy allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ingress: Option<bool>,
    /// `egress`: deny outgoing traffic that no policy allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) egress: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{HostName, PortNumber};

    /// A rule as it serializes, and an empty peer list, which the types allow and validation
    /// refuses.
    #[test]
    fn a_rule_serializes_in_schema_order_and_empty_peers_fail_validation() {
        let mut rule = Rule::new(Subject::Endpoints(EndpointSelector::labels([(
            "app", "web",
        )])));
        rule.egress.push(EgressRule {
            to: EgressPeer::Fqdns(vec![FqdnSelector::Name(
                HostName::parse("example.com").unwrap(),
            )]),
            to_ports: vec![PortRule::new([PortProtocol::new(
                PortNumber::of(443),
                Protocol::Tcp,
            )])],
        });
        rule.validate().unwrap();
        assert_eq!(
            serde_json::to_string(&rule).unwrap(),
            r#"{"endpointSelector":{"matchLabels":{"app":"web"}},"egress":[{"toFQDNs":[{"matchName":"example.com"}],"toPorts":[{"ports":[{"port":"443","protocol":"TCP"}]}]}]}"#
        );

        // An empty peer list would admit every peer: the types allow it, validation does not.
        rule.egress[0].to = EgressPeer::Fqdns(Vec::new());
        assert_eq!(rule.validate().unwrap_err().path, "egress[0]");
    }
}
