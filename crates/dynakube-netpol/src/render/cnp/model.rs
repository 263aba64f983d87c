//! Typed `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicy objects: the part of the
//! network-policy-api v0.2.0 CRD (`fixtures/schemas/network-policy-api/v0.2.0/`) that this
//! flavor writes, and nothing else.
//!
//! The types keep the CRD's rules by construction where types can: every field has the
//! schema's name; the `subject`, each peer and each protocol are enums, so exactly one field of
//! each is set (the schema's `minProperties`/`maxProperties` of 1); actions, tiers and
//! protocols are the schema's enums; CIDRs are [`Cidr`]s and domain names [`DomainName`]s,
//! which hold only what the schema's `isCIDR` and pattern accept; priorities are checked
//! against the schema's bounds when made. What types leave open — at most 25 rules per
//! direction, peers per rule, protocols per rule and addresses or names per peer, non-empty
//! lists, rule names of at most 100 characters, the experimental peers only in the
//! experimental channel — is upheld by the renderer (`policy.rs`) and checked against the CRDs
//! themselves by the tests.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::values::{Cidr, HostName, HostPattern, PortNumber};

/// The `apiVersion` of the kind.
pub(crate) const API_VERSION: &str = "policy.networking.k8s.io/v1alpha2";
/// The kind.
pub(crate) const KIND: &str = "ClusterNetworkPolicy";

/// The most rules of one direction, peers of one rule, protocols of one rule, and CIDRs or
/// domain names of one peer the schema allows (`maxItems: 25` each).
pub(crate) const MAX_ITEMS: usize = 25;
/// The longest rule name the schema allows.
pub(crate) const MAX_RULE_NAME: usize = 100;
/// The highest priority the schema allows (the lowest precedence).
pub(crate) const MAX_PRIORITY: u16 = 1000;

/// A ClusterNetworkPolicy: cluster-scoped, so its metadata has no namespace.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClusterNetworkPolicy {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: Spec,
}

impl ClusterNetworkPolicy {
    /// The policy of `spec`; any namespace in `metadata` is dropped.
    pub(crate) fn new(mut metadata: ObjectMeta, spec: Spec) -> Self {
        metadata.namespace = None;
        ClusterNetworkPolicy {
            api_version: API_VERSION,
            kind: KIND,
            metadata,
            spec,
        }
    }

    /// The name.
    pub(crate) fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }
}

/// The spec: tier, priority, subject and the rules of one or both directions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Spec {
    pub(crate) tier: Tier,
    pub(crate) priority: u16,
    pub(crate) subject: Subject,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ingress: Vec<Rule<IngressPeer>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) egress: Vec<Rule<EgressPeer>>,
}

/// The tier of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub(crate) enum Tier {
    /// Before the NetworkPolicies: its decisions hold whatever they say.
    Admin,
    /// After the NetworkPolicies: it decides only for pods no NetworkPolicy isolates.
    Baseline,
}

/// A mapping of one entry: how the schema's one-of objects (subject, peers, protocols) are
/// written. Its length is not given: serde_yaml writes a mapping said to have one entry, as it
/// writes serde's enums, as a YAML tag.
fn one<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry(key, value)?;
    map.end()
}

/// The pods a policy applies to (host-network pods never are).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Subject {
    /// Every pod of the namespaces selected.
    Namespaces(LabelSelector),
    /// The pods selected in the namespaces selected.
    Pods(NamespacedPod),
}

/// Pods by namespace and pod labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NamespacedPod {
    pub(crate) namespace_selector: LabelSelector,
    pub(crate) pod_selector: LabelSelector,
}

/// What a rule does with what it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) enum Action {
    /// Allowed; no later rule or tier is asked.
    Accept,
    /// Dropped; no later rule or tier is asked.
    Deny,
}

/// One rule: its name, action, peers (`from` for ingress, `to` for egress) and protocols
/// (every port of every protocol when empty).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule<P> {
    pub(crate) name: String,
    pub(crate) action: Action,
    pub(crate) peers: Vec<P>,
    pub(crate) protocols: Vec<Protocol>,
}

/// The field a direction's rules name their peers in.
pub(crate) trait PeerField {
    /// `from` or `to`.
    const FIELD: &'static str;
}

impl<P: Serialize + PeerField> Serialize for Rule<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("action", &self.action)?;
        map.serialize_entry(P::FIELD, &self.peers)?;
        if !self.protocols.is_empty() {
            map.serialize_entry("protocols", &self.protocols)?;
        }
        map.end()
    }
}

impl Serialize for Subject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Subject::Namespaces(selector) => one(serializer, "namespaces", selector),
            Subject::Pods(pods) => one(serializer, "pods", pods),
        }
    }
}

/// A source of ingress: pods only, in both channels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IngressPeer {
    /// Every pod of the namespaces selected.
    Namespaces(LabelSelector),
    /// The pods selected in the namespaces selected.
    Pods(NamespacedPod),
}

impl PeerField for IngressPeer {
    const FIELD: &'static str = "from";
}

impl Serialize for IngressPeer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IngressPeer::Namespaces(selector) => one(serializer, "namespaces", selector),
            IngressPeer::Pods(pods) => one(serializer, "pods", pods),
        }
    }
}

/// A destination of egress.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EgressPeer {
    /// Every pod of the namespaces selected.
    Namespaces(LabelSelector),
    /// The pods selected in the namespaces selected.
    Pods(NamespacedPod),
    /// Address blocks (pods' addresses too, as the API says).
    Networks(Vec<Cidr>),
    /// The addresses of the nodes selected (experimental channel).
    Nodes(LabelSelector),
    /// Hosts by name (experimental channel, Accept rules only).
    DomainNames(Vec<DomainName>),
}

impl PeerField for EgressPeer {
    const FIELD: &'static str = "to";
}

impl Serialize for EgressPeer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EgressPeer::Namespaces(selector) => one(serializer, "namespaces", selector),
            EgressPeer::Pods(pods) => one(serializer, "pods", pods),
            EgressPeer::Networks(cidrs) => {
                let cidrs: Vec<String> = cidrs.iter().map(ToString::to_string).collect();
                one(serializer, "networks", &cidrs)
            }
            EgressPeer::Nodes(selector) => one(serializer, "nodes", selector),
            EgressPeer::DomainNames(names) => one(serializer, "domainNames", names),
        }
    }
}

/// A domain name the CRD's pattern accepts: at least two labels, optionally `*.` first, which
/// matches one or more labels (network-policy-api v0.2.0, `DomainName`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct DomainName(String);

impl DomainName {
    /// The domain name of a host or host pattern; `None` for what the pattern refuses (a
    /// single label, an IP address) or cannot mean (`*.` matches labels below a domain of at
    /// least two labels).
    pub(crate) fn of(pattern: &HostPattern) -> Option<Self> {
        let (wildcard, name) = match pattern {
            HostPattern::Name(name) => ("", name),
            HostPattern::Below(domain) => ("*.", domain),
            HostPattern::Ip(_) => return None,
        };
        pattern_accepts(name).then(|| DomainName(format!("{wildcard}{name}")))
    }
}

/// Whether the CRD's pattern (`([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+` and a last label
/// alike) accepts `name`: two labels or more, of letters, digits, `-` and `_`, starting with a
/// letter or digit and ending with one. A [`HostName`]'s labels are RFC 1123 labels, which it
/// accepts; a host name of one label it refuses.
fn pattern_accepts(name: &HostName) -> bool {
    let labels: Vec<&str> = name.as_str().split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            let bytes = label.as_bytes();
            let alnum = |b: &u8| b.is_ascii_alphanumeric();
            bytes.first().is_some_and(alnum)
                && bytes.last().is_some_and(alnum)
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        })
}

impl Serialize for DomainName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl std::fmt::Display for DomainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The transport protocols of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Transport {
    Tcp,
    Udp,
    Sctp,
}

impl Transport {
    fn field(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Sctp => "sctp",
        }
    }
}

/// One protocol match: a transport protocol and a destination port or range (`start` before
/// `end`, as the schema's rule `self.start < self.end` wants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Protocol {
    transport: Transport,
    first: PortNumber,
    last: PortNumber,
}

impl Protocol {
    /// The ports `first` to `last` of `transport`; one port when they are equal. `None` when
    /// `last` is before `first`.
    pub(crate) fn new(transport: Transport, first: PortNumber, last: PortNumber) -> Option<Self> {
        (first <= last).then_some(Protocol {
            transport,
            first,
            last,
        })
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// `destinationPort`: a number or a range.
        struct Port(PortNumber, PortNumber);
        impl Serialize for Port {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #[derive(Serialize)]
                struct Range {
                    start: u16,
                    end: u16,
                }
                match self {
                    Port(first, last) if first == last => one(serializer, "number", &first.get()),
                    Port(first, last) => one(
                        serializer,
                        "range",
                        &Range {
                            start: first.get(),
                            end: last.get(),
                        },
                    ),
                }
            }
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Match {
            destination_port: Port,
        }
        let port = Port(self.first, self.last);
        one(
            serializer,
            self.transport.field(),
            &Match {
                destination_port: port,
            },
        )
    }
}
