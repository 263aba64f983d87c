//! Compiling a ClusterNetworkPolicy against a cluster: namespace selectors resolved to sets of
//! namespaces, node selectors to the nodes' addresses, label selectors on interned labels, and
//! peers the network plugin does not implement turned into what the API says of unknown peers.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{ClusterNetworkPolicy, DomainPattern, PeerSpec, PortSpec, RuleSpec, Subject};
use crate::error::Result;
use crate::evaluate::compile::{self as np, Context, Namespaces, PortMatch};
use crate::evaluate::decision::{Action, Tier};
use crate::evaluate::labels::{LabelSet, Selector};
use crate::evaluate::plugin::Behaviour;
use crate::matrix::Protocol;

/// A compiled ClusterNetworkPolicy.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    /// `metadata.name`.
    pub(crate) name: String,
    /// `spec.tier`.
    pub(crate) tier: Tier,
    /// `spec.priority`.
    pub(crate) priority: u16,
    /// The namespaces of the subject.
    pub(crate) namespaces: Namespaces,
    /// The pods of the subject within them.
    pub(crate) pods: Selector,
    /// `spec.ingress`, in order.
    pub(crate) ingress: Vec<Rule>,
    /// `spec.egress`, in order.
    pub(crate) egress: Vec<Rule>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// `name`.
    pub(crate) name: Option<String>,
    /// What the rule does with what it matches: its `action`, or Deny where a peer the plugin
    /// does not implement makes a Pass rule deny everything.
    pub(crate) action: Action,
    /// What it matches.
    pub(crate) matches: Matches,
    /// Why it acts otherwise than it reads, when it does.
    pub(crate) note: Option<&'static str>,
    /// The names whose lookups an Accept rule's `domainNames` admit, found on first use (the
    /// sets of every pod a rule selects share them).
    pub(crate) accepted_names: std::sync::OnceLock<crate::evaluate::sets::Names>,
    /// What else the rule accepts: on Cilium, an Accept rule with `domainNames` peers also
    /// accepts its subject's lookups at the cluster DNS.
    pub(crate) lookups: Option<Lookups>,
}

/// The lookups Cilium adds to an Accept rule with `domainNames` peers, at the rule's tier and
/// priority, so that its DNS proxy sees them (`ParseClusterNetworkPolicy`,
/// `pkg/k8s/cluster_network_policy.go`): the pods labelled `k8s-app=kube-dns` in any
/// namespace, on their ports named `dns` and `dns-tcp`, of any protocol.
#[derive(Debug, Clone)]
pub(crate) struct Lookups {
    /// `k8s-app=kube-dns`.
    pub(crate) pods: Selector,
    /// The ports named `dns` and `dns-tcp`, of each protocol.
    pub(crate) ports: Vec<PortMatch>,
    /// The pods `pods` selects of the whole cluster, found on first use.
    pub(crate) servers: std::sync::OnceLock<crate::evaluate::sets::PodSet>,
}

impl Lookups {
    /// The lookups of an Accept rule, interned.
    fn of(interner: &mut crate::evaluate::labels::Interner) -> Lookups {
        let pods = Selector::label(interner, "k8s-app", "kube-dns");
        let ports = ["dns", "dns-tcp"]
            .into_iter()
            .flat_map(|name| {
                let name = interner.id(name);
                [Protocol::Tcp, Protocol::Udp, Protocol::Sctp].map(|protocol| PortMatch {
                    protocol,
                    port: np::PortSpec::Named(name),
                })
            })
            .collect();
        Lookups {
            pods,
            ports,
            servers: std::sync::OnceLock::new(),
        }
    }
}

/// What a rule matches.
#[derive(Debug, Clone)]
pub(crate) enum Matches {
    /// Connections with one of these peers, on one of these ports (every port when `None`).
    Peers(Vec<Peer>, Option<Vec<PortMatch>>),
    /// Every connection: a Deny or Pass rule with a peer the plugin does not implement.
    Everything,
    /// No connection: an Accept rule with a peer the plugin does not implement.
    Nothing,
}

/// A compiled peer.
#[derive(Debug, Clone)]
pub(crate) enum Peer {
    /// Pods outside the host network, by namespace and labels.
    Pods {
        /// The namespaces.
        namespaces: Namespaces,
        /// The pods within them.
        pods: Selector,
    },
    /// Addresses in these networks (pods' and nodes' as the plugin decides).
    Networks(Vec<IpNet>),
    /// The addresses of the nodes matching, sorted.
    Nodes(Vec<IpAddr>),
    /// Destinations looked up by a matching DNS name.
    DomainNames(Vec<DomainPattern>),
}

/// The cluster's nodes as `nodes` peers see them: labels and addresses.
pub(crate) struct NodeLabels<'a> {
    /// Each node's interned labels and its addresses.
    pub(crate) nodes: &'a [(LabelSet, Vec<IpAddr>)],
}

/// Compiles `policy` against the namespaces and nodes of `context` and `nodes`, for a plugin
/// that behaves as `behaviour`.
pub(crate) fn compile(
    context: &mut Context<'_>,
    nodes: &NodeLabels<'_>,
    behaviour: Behaviour,
    policy: &ClusterNetworkPolicy,
) -> Result<Compiled> {
    let location = &policy.location;
    let (namespaces, pods) = match &policy.subject {
        Subject::Namespaces(selector) => (
            np::namespaces(context, selector, &location.join("spec.subject.namespaces"))?,
            Selector::default(),
        ),
        Subject::Pods { namespaces, pods } => (
            np::namespaces(
                context,
                namespaces,
                &location.join("spec.subject.pods.namespaceSelector"),
            )?,
            Selector::compile(
                context.interner,
                pods,
                &location.join("spec.subject.pods.podSelector"),
            )?,
        ),
    };
    let mut rules = |specs: &[RuleSpec]| -> Result<Vec<Rule>> {
        specs
            .iter()
            .map(|spec| rule(context, nodes, behaviour, policy, spec))
            .collect()
    };
    let ingress = rules(&policy.ingress)?;
    let egress = rules(&policy.egress)?;
    Ok(Compiled {
        name: policy.name.clone(),
        tier: policy.tier,
        priority: policy.priority,
        namespaces,
        pods,
        ingress,
        egress,
    })
}

/// Compiles one rule.
fn rule(
    context: &mut Context<'_>,
    nodes: &NodeLabels<'_>,
    behaviour: Behaviour,
    policy: &ClusterNetworkPolicy,
    spec: &RuleSpec,
) -> Result<Rule> {
    let location = &policy.location;
    let unknown = spec.peers.iter().find_map(|peer| match peer {
        PeerSpec::Nodes(_) if !behaviour.nodes_peer => {
            Some("the network plugin does not implement nodes peers, which fail closed")
        }
        PeerSpec::DomainNames(_) if !behaviour.domain_names_peer => {
            Some("the network plugin does not implement domainNames peers, which fail closed")
        }
        _ => None,
    });
    if let Some(note) = unknown {
        let (action, matches) = match spec.action {
            Action::Accept => (Action::Accept, Matches::Nothing),
            Action::Deny | Action::Pass => (Action::Deny, Matches::Everything),
        };
        return Ok(Rule {
            name: spec.name.clone(),
            action,
            matches,
            note: Some(note),
            accepted_names: std::sync::OnceLock::new(),
            lookups: None,
        });
    }
    let mut peers = Vec::with_capacity(spec.peers.len());
    for peer in &spec.peers {
        peers.push(match peer {
            PeerSpec::Namespaces(selector) => Peer::Pods {
                namespaces: np::namespaces(context, selector, location)?,
                pods: Selector::default(),
            },
            PeerSpec::Pods { namespaces, pods } => Peer::Pods {
                namespaces: np::namespaces(context, namespaces, location)?,
                pods: Selector::compile(context.interner, pods, location)?,
            },
            PeerSpec::Nodes(selector) => {
                let selector = Selector::compile(context.interner, selector, location)?;
                let mut addresses: Vec<IpAddr> = nodes
                    .nodes
                    .iter()
                    .filter(|(labels, _)| selector.matches(labels))
                    .flat_map(|(_, addresses)| addresses.iter().copied())
                    .collect();
                addresses.sort_unstable();
                addresses.dedup();
                Peer::Nodes(addresses)
            }
            PeerSpec::Networks(nets) => Peer::Networks(nets.clone()),
            PeerSpec::DomainNames(patterns) => Peer::DomainNames(patterns.clone()),
        });
    }
    let ports = (spec.protocols.as_ref()).map(|protocols| port_matches(context, protocols));
    let names = peers
        .iter()
        .any(|peer| matches!(peer, Peer::DomainNames(_)));
    let lookups = (behaviour.domain_names_lookups && names && spec.action == Action::Accept)
        .then(|| Lookups::of(context.interner));
    Ok(Rule {
        name: spec.name.clone(),
        action: spec.action,
        matches: Matches::Peers(peers, ports),
        note: None,
        accepted_names: std::sync::OnceLock::new(),
        lookups,
    })
}

/// The port matches of `protocols`.
fn port_matches(context: &mut Context<'_>, protocols: &[PortSpec]) -> Vec<PortMatch> {
    protocols
        .iter()
        .flat_map(|protocol| match protocol {
            PortSpec::Ports(protocol, first, last) => vec![PortMatch {
                protocol: *protocol,
                port: np::PortSpec::Range(*first, *last),
            }],
            // A named port matches a container port of that name whatever its protocol:
            // one match per protocol, each requiring the container port's own.
            PortSpec::Named(name) => {
                let name = context.interner.id(name);
                [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
                    .into_iter()
                    .map(|protocol| PortMatch {
                        protocol,
                        port: np::PortSpec::Named(name),
                    })
                    .collect()
            }
        })
        .collect()
}
