//! The peers of Cilium rules: endpoint selectors, entities, address blocks and DNS names.

use std::collections::BTreeMap;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::ports::{L4PortRule, PortRule};
use crate::values::{Cidr, HostName};

/// A Cilium endpoint selector (`endpointSelector`, `nodeSelector`, `fromEndpoints`,
/// `toEndpoints`): a Kubernetes label selector over Cilium labels, whose keys may carry a source
/// prefix such as `k8s:` (see [`NAMESPACE_LABEL`](super::NAMESPACE_LABEL)). All conditions must
/// hold; the empty selector selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EndpointSelector {
    /// `matchLabels`: labels that must have these values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) match_labels: BTreeMap<String, String>,
    /// `matchExpressions`: further conditions on labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) match_expressions: Vec<LabelSelectorRequirement>,
}

impl EndpointSelector {
    /// The selector of endpoints that carry the labels of `selector`, in namespace
    /// `namespace` when one is given.
    pub(crate) fn of(selector: &crate::matrix::Selector, namespace: Option<&str>) -> Self {
        let mut match_labels = selector.labels.clone();
        if let Some(namespace) = namespace {
            match_labels.insert(super::NAMESPACE_LABEL.into(), namespace.into());
        }
        EndpointSelector {
            match_labels,
            match_expressions: selector
                .one_of
                .iter()
                .map(|(key, values)| LabelSelectorRequirement::one_of(key, values.clone()))
                .collect(),
        }
    }

    /// The selector of endpoints that carry all these labels.
    pub(crate) fn labels<K, V>(labels: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        EndpointSelector {
            match_labels: labels
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            match_expressions: Vec::new(),
        }
    }
}

/// One condition of a label selector (`matchExpressions` item): the label exists, or has one
/// of some values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct LabelSelectorRequirement {
    /// `key`: the label.
    pub(crate) key: String,
    /// `values` of operator `In`; `None` for operator `Exists`.
    pub(crate) values: Option<std::collections::BTreeSet<String>>,
}

impl LabelSelectorRequirement {
    /// `key Exists`.
    pub(crate) fn exists(key: impl Into<String>) -> Self {
        LabelSelectorRequirement {
            key: key.into(),
            values: None,
        }
    }

    /// `key In values`.
    pub(crate) fn one_of(
        key: impl Into<String>,
        values: std::collections::BTreeSet<String>,
    ) -> Self {
        LabelSelectorRequirement {
            key: key.into(),
            values: Some(values),
        }
    }
}

impl Serialize for LabelSelectorRequirement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("LabelSelectorRequirement", 3)?;
        state.serialize_field("key", &self.key)?;
        match &self.values {
            None => state.serialize_field("operator", "Exists")?,
            Some(values) => {
                state.serialize_field("operator", "In")?;
                state.serialize_field("values", values)?;
            }
        }
        state.end()
    }
}

/// A special identity (`fromEntities`, `toEntities`): the schema's values this tool writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub(crate) enum Entity {
    /// `host`: the local node, and every host-network endpoint on it.
    #[serde(rename = "host")]
    Host,
    /// `remote-node`: the other nodes of the cluster.
    #[serde(rename = "remote-node")]
    RemoteNode,
    /// `none`: nothing; a section that admits only it switches the direction to default deny.
    #[serde(rename = "none")]
    None,
    /// `kube-apiserver`: the cluster's API server, wherever it runs.
    #[serde(rename = "kube-apiserver")]
    KubeApiserver,
}

/// A DNS name or pattern (`toFQDNs` item, DNS rule): the schema's `oneOf` of `matchName` and
/// `matchPattern`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum FqdnSelector {
    /// `matchName`: exactly this name.
    Name(HostName),
    /// `matchPattern`: names matching a wildcard pattern.
    Pattern(FqdnPattern),
}

/// A `matchPattern`: every name, or every name below a domain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum FqdnPattern {
    /// `*`: every name.
    Any,
    /// `*.<domain>`: every name below the domain.
    Below(HostName),
}

impl Serialize for FqdnSelector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("FqdnSelector", 1)?;
        match self {
            FqdnSelector::Name(name) => state.serialize_field("matchName", name.as_str())?,
            FqdnSelector::Pattern(FqdnPattern::Any) => {
                state.serialize_field("matchPattern", "*")?
            }
            FqdnSelector::Pattern(FqdnPattern::Below(domain)) => {
                state.serialize_field("matchPattern", &format!("*.{domain}"))?;
            }
        }
        state.end()
    }
}

/// An `ingress` item: traffic from one kind of peer, to some ports of the subject. Written as
/// `fromEndpoints` or `fromEntities`, then `toPorts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IngressRule {
    /// The sources.
    pub(crate) from: IngressPeer,
    /// `toPorts`: the destination ports on the subject; empty for every port.
    pub(crate) to_ports: Vec<L4PortRule>,
}

/// An `egress` item: traffic from the subject to one kind of peer, on some ports. Written as
/// `toEndpoints`, `toEntities`, `toCIDR` or `toFQDNs`, then `toPorts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EgressRule {
    /// The destinations.
    pub(crate) to: EgressPeer,
    /// `toPorts`: the destination ports, with their DNS rules; empty for every port.
    pub(crate) to_ports: Vec<PortRule>,
}

/// The sources of an ingress rule: one kind, as Cilium requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IngressPeer {
    /// `fromEndpoints`: endpoints matching any of the selectors.
    Endpoints(Vec<EndpointSelector>),
    /// `fromEntities`: special identities.
    Entities(Vec<Entity>),
}

impl IngressPeer {
    #[cfg(test)]
    pub(super) fn check(&self) -> Result<(), String> {
        let empty = match self {
            IngressPeer::Endpoints(selectors) => selectors.is_empty(),
            IngressPeer::Entities(entities) => entities.is_empty(),
        };
        nonempty(empty)
    }
}

/// The destinations of an egress rule: one kind, as Cilium requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EgressPeer {
    /// `toEndpoints`: endpoints matching any of the selectors.
    Endpoints(Vec<EndpointSelector>),
    /// `toEntities`: special identities.
    Entities(Vec<Entity>),
    /// `toCIDR`: address blocks.
    Cidrs(Vec<Cidr>),
    /// `toFQDNs`: the addresses that DNS answers for these names carried, as observed by
    /// Cilium's DNS proxy; the subject also needs an egress rule to its DNS server with DNS
    /// rules, or Cilium learns no addresses.
    Fqdns(Vec<FqdnSelector>),
}

impl EgressPeer {
    #[cfg(test)]
    pub(super) fn check(&self) -> Result<(), String> {
        let empty = match self {
            EgressPeer::Endpoints(selectors) => selectors.is_empty(),
            EgressPeer::Entities(entities) => entities.is_empty(),
            EgressPeer::Cidrs(cidrs) => cidrs.is_empty(),
            EgressPeer::Fqdns(names) => names.is_empty(),
        };
        nonempty(empty)
    }
}

/// An empty peer list reads as an absent one: the rule would apply to every peer.
#[cfg(test)]
fn nonempty(empty: bool) -> Result<(), String> {
    if empty {
        Err("an empty peer list: Cilium would apply the rule to every peer".into())
    } else {
        Ok(())
    }
}

impl Serialize for IngressRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("IngressRule", 2)?;
        match &self.from {
            IngressPeer::Endpoints(selectors) => {
                state.serialize_field("fromEndpoints", selectors)?
            }
            IngressPeer::Entities(entities) => state.serialize_field("fromEntities", entities)?,
        }
        if !self.to_ports.is_empty() {
            state.serialize_field("toPorts", &self.to_ports)?;
        }
        state.end()
    }
}

impl Serialize for EgressRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("EgressRule", 2)?;
        match &self.to {
            EgressPeer::Endpoints(selectors) => state.serialize_field("toEndpoints", selectors)?,
            EgressPeer::Entities(entities) => state.serialize_field("toEntities", entities)?,
            EgressPeer::Cidrs(cidrs) => {
                let cidrs: Vec<String> = cidrs.iter().map(ToString::to_string).collect();
                state.serialize_field("toCIDR", &cidrs)?;
            }
            EgressPeer::Fqdns(names) => state.serialize_field("toFQDNs", names)?,
        }
        if !self.to_ports.is_empty() {
            state.serialize_field("toPorts", &self.to_ports)?;
        }
        state.end()
    }
}
