//! ClusterNetworkPolicy, `policy.networking.k8s.io/v1alpha2` (network-policy-api v0.2.0):
//! reading, compiling against a cluster, and deciding one tier of one side.
//!
//! # Semantics
//!
//! Each rule follows the API's own documentation (`apis/v1alpha2/clusternetworkpolicy_types.go`
//! at v0.2.0, quoted here) and its conformance tests:
//!
//! - **Tiers** (`ClusterNetworkPolicySpec.Tier`): "Policy tiers are evaluated in the following
//!   order: Admin tier, NetworkPolicy tier, Baseline tier". "If Admin tier has made a final
//!   decision (Accept or Deny) on a connection, then no further evaluation is done";
//!   "v1.NetworkPolicy always makes a final decision for selected pods. Further evaluation only
//!   happens for Pods not selected by a v1.NetworkPolicy"; "If a given connection wasn't
//!   allowed or denied by any of the tiers, the default kubernetes policy is applied, which
//!   says that all pods can communicate with each other." (see `Index::decide`).
//! - **Priority** (`Priority`): "a value from 0 to 1000 ... Policies with lower priority values
//!   have higher precedence". "If two (or more) policies in the same tier with the same
//!   priority could match a connection, then the implementation can apply any of the matching
//!   policies to the connection": when they would decide the connection differently, the side
//!   is undefined and names them; when they agree, it is decided.
//! - **Rules in order** (`Ingress`, `Egress`): "a rule that appears at the top of the ingress
//!   rules would take the highest precedence"; "CNPs with no ingress rules do not affect
//!   ingress traffic". A policy's decision is that of its first rule matching the connection.
//! - **Actions** (`ClusterNetworkPolicyRuleAction`): Accept and Deny are final; Pass "Skips all
//!   further ClusterNetworkPolicy rules in the current tier for the selected traffic, and
//!   passes evaluation to the next tier" (Admin to NetworkPolicy, Baseline to the default).
//! - **Subjects** (`ClusterNetworkPolicySubject`): `namespaces` selects every pod of the
//!   matching namespaces, `pods` the pods matching `podSelector` in the namespaces matching
//!   `namespaceSelector` (empty or absent: every namespace). "host-networked pods are not
//!   included in subject selection".
//! - **Peers**: a rule matches when any of its peers matches ("If any element matches the
//!   source of incoming traffic then the specified action is applied"). `namespaces` and
//!   `pods` as the subject's, host-network pods excluded ("Note that host-networked pods are
//!   not included in this type of peer"); `networks` by address ("cluster-internal traffic will
//!   be checked against the rule as well"; the plugin decides, see `plugin`); `nodes` "selects
//!   the nodeIPs as the peer type by matching on the IPs present in the node.Status.Addresses
//!   field of the node", so a host-network pod is matched by its node's addresses;
//!   `domainNames` match a destination looked up by a name that matches ("`*.kubernetes.io`
//!   matches subdomains of kubernetes.io ... "latest.blog.kubernetes.io" match, however
//!   "kubernetes.io" ... do not"; "DomainNames is only supported for Accept rules" is a note to
//!   administrators, not a schema rule, and a Deny or Pass rule with domain names is read as
//!   written). Ingress peers are pods only: an address outside the cluster is never matched on
//!   ingress.
//! - **Unknown peers** (`ClusterNetworkPolicyEgressPeer`): a peer the implementation does not
//!   know fails closed: "For "Accept" rules, "fail closed" means: "treat the rule as matching no
//!   traffic". For "Deny" and "Pass" rules, "fail closed" means: "treat the rule as a 'Deny all'
//!   rule"". The reader refuses fields the CRD does not have; a peer the chosen network plugin
//!   does not implement (`nodes` and `domainNames` on Calico) is such a peer.
//! - **Protocols** (`ClusterNetworkPolicyProtocol`): without `protocols` every port of every
//!   protocol; `tcp`, `udp`, `sctp` with a `number` or an inclusive `range`;
//!   `destinationNamedPort` "selects a destination port on a pod based on the ContainerPort
//!   name" (whatever the protocol of that container port), never an address.

mod compile;
mod decide;
mod read;
mod sets;
#[cfg(test)]
mod tests;

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

pub(crate) use self::compile::{Compiled, Matches, NodeLabels, Peer, Rule, compile};
pub(crate) use self::decide::TierResult;
pub(crate) use self::read::{GROUP, KIND, policy as read_policy};
use super::decision::{Action, Tier};
use crate::error::Location;
use crate::matrix::Protocol;

/// A ClusterNetworkPolicy as read: every field checked, selectors not yet resolved against a
/// cluster.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterNetworkPolicy {
    /// `metadata.name`.
    pub(crate) name: String,
    /// Where it was read.
    pub(crate) location: Location,
    /// `spec.tier`.
    pub(crate) tier: Tier,
    /// `spec.priority`.
    pub(crate) priority: u16,
    /// `spec.subject`.
    pub(crate) subject: Subject,
    /// `spec.ingress`.
    pub(crate) ingress: Vec<RuleSpec>,
    /// `spec.egress`.
    pub(crate) egress: Vec<RuleSpec>,
}

/// The pods a policy applies to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Subject {
    /// Every pod of the namespaces matching.
    Namespaces(LabelSelector),
    /// The pods matching `pods` in the namespaces matching `namespaces`.
    Pods {
        /// `namespaceSelector`.
        namespaces: LabelSelector,
        /// `podSelector`.
        pods: LabelSelector,
    },
}

/// One rule as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleSpec {
    /// `name`.
    pub(crate) name: Option<String>,
    /// `action`.
    pub(crate) action: Action,
    /// `from` or `to`.
    pub(crate) peers: Vec<PeerSpec>,
    /// `protocols`; none when absent.
    pub(crate) protocols: Option<Vec<PortSpec>>,
}

/// One peer as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PeerSpec {
    /// `namespaces`.
    Namespaces(LabelSelector),
    /// `pods`.
    Pods {
        /// `namespaceSelector`.
        namespaces: LabelSelector,
        /// `podSelector`.
        pods: LabelSelector,
    },
    /// `nodes` (experimental).
    Nodes(LabelSelector),
    /// `networks`, host bits cleared.
    Networks(Vec<IpNet>),
    /// `domainNames` (experimental).
    DomainNames(Vec<DomainPattern>),
}

/// One protocol match as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortSpec {
    /// `tcp`, `udp` or `sctp` with a port or an inclusive range.
    Ports(Protocol, u16, u16),
    /// `destinationNamedPort`.
    Named(String),
}

/// A `domainNames` entry: a name, or `*.` and a name that one or more labels complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DomainPattern {
    /// Whether it starts with `*.`.
    wildcard: bool,
    /// The name after `*.`, lowercase, without a trailing dot.
    name: String,
}

impl DomainPattern {
    /// Reads `text` as the CRD's pattern allows it:
    /// `^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$`
    /// (two labels at least; `A-z`, as written there, also admits `[`, `\`, `]`, `^`, `_` and
    /// `` ` `` as a label's first character).
    pub(crate) fn parse(text: &str) -> Option<DomainPattern> {
        let (wildcard, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let name = rest.strip_suffix('.').unwrap_or(rest);
        let labels: Vec<&str> = name.split('.').collect();
        let first = |b: u8| b.is_ascii_alphanumeric() || (b'A'..=b'z').contains(&b);
        let inner = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        let label_ok = |label: &str| match label.as_bytes() {
            [] => false,
            [only] => first(*only),
            [head, middle @ .., last] => {
                first(*head) && middle.iter().all(|b| inner(*b)) && last.is_ascii_alphanumeric()
            }
        };
        (labels.len() >= 2 && labels.iter().all(|l| label_ok(l))).then(|| DomainPattern {
            wildcard,
            name: name.to_ascii_lowercase(),
        })
    }

    /// The names it matches, as a pattern of the sets.
    pub(crate) fn pattern(&self) -> crate::evaluate::sets::Pattern {
        use crate::evaluate::sets::Pattern;
        if self.wildcard {
            Pattern::Below(self.name.clone())
        } else {
            Pattern::Name(self.name.clone())
        }
    }

    /// Whether the DNS name `query` matches: exactly, or for a wildcard, as the name with one
    /// or more labels before it. Case and a trailing dot do not matter.
    pub(crate) fn matches(&self, query: &str) -> bool {
        let query = query
            .strip_suffix('.')
            .unwrap_or(query)
            .to_ascii_lowercase();
        if self.wildcard {
            query
                .strip_suffix(&self.name)
                .and_then(|head| head.strip_suffix('.'))
                .is_some_and(|head| !head.is_empty() && head.split('.').all(|l| !l.is_empty()))
        } else {
            query == self.name
        }
    }
}
