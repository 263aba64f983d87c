//! Deciding one side of a connection.
//!
//! Documentation: `Documentation/security/policy/intro.rst` ("Endpoint default policy", "Rule
//! Basics"), `deny.rst`, `layer3.rst` ("DNS based"), `layer4.rst`. The order of the decision:
//!
//! 1. Traffic that never meets policy: an end to itself; with `allow-localhost` (the default),
//!    a node to the pods on it ([`Side::Local`]), unless a deny rule of the pod matches its
//!    node (the agent adds the node's access as an allow rule, which denies beat).
//! 2. The rules selecting the subject in this direction: for a pod, the rules whose
//!    `endpointSelector` selects its identity labels; for a node or host-network pod, the
//!    rules whose `nodeSelector` selects the node's labels. An address is no subject.
//! 3. A deny rule matching the peer and port denies ([`Side::Denied`]); deny.rst: "Deny
//!    policies take precedence over allow policies".
//! 4. Otherwise an allow rule matching them allows ([`Side::Allowed`]): "If there is an
//!    intersection between two or more rules, then traffic matching the union of those rules
//!    will be allowed". `fromRequires`/`toRequires` of any rule selecting the subject must also
//!    hold for the peer (layer3.rst, "Additional Label Requirements": they "apply to all rules
//!    that share the same endpoint selector").
//! 5. Otherwise the subject denies when a selecting rule put it into default deny, or the
//!    agent's `enable-policy: always` did ([`Side::DefaultDenied`]), and lets the connection
//!    through when none did ([`Side::NotSelected`]).
//!
//! `toFQDNs` admits an address only for a name the source looked it up by, and only when that
//! lookup went through Cilium's DNS proxy and was allowed (layer3.rst, "DNS based": "In order
//! to associate domain names with IP addresses, Cilium intercepts DNS responses per-Endpoint
//! using a DNS Proxy. This requires ... an L7 policy allowing DNS requests"; "The IP addresses
//! provided in DNS responses are allowed by Cilium"): see [`Evaluator::lookup_allowed`].

use super::compile::{Peer as RulePeer, PeerRule, Peers, Ports, Rule, RuleRef, Subject};
use super::fqdn::Fqdn;
use super::identity::{Peer, Who};
use super::labels::Selector;
use super::ports::NamedPort;
use super::raw::Entity;
use super::{Decider, End, Evaluator, Side, Verdict};
use crate::evaluate::Side as NetworkPolicySide;
use crate::matrix::{Direction, Protocol};

/// The port of a connection and the named ports of its destination.
#[derive(Clone, Copy)]
pub(super) struct Port<'a> {
    /// The port number.
    pub(super) number: u16,
    /// The protocol.
    pub(super) protocol: Protocol,
    /// The destination's named ports.
    pub(super) named: &'a [NamedPort<'a>],
}

/// A rule selecting a subject, with the index of its policy.
pub(super) type Selecting<'a> = Vec<(usize, &'a Rule)>;

impl Evaluator {
    /// Decides the connection from `from` to port `port` of `protocol` on `to`.
    pub(crate) fn evaluate(&self, from: &End, to: &End, port: u16, protocol: Protocol) -> Verdict {
        Verdict {
            egress: self.side(Direction::Egress, from, to, port, protocol),
            ingress: self.side(Direction::Ingress, to, from, port, protocol),
        }
    }

    /// Decides the `direction` side of `subject` (the source for egress, the destination for
    /// ingress) on a connection with `peer` to `port` of `protocol`.
    pub(crate) fn side(
        &self,
        direction: Direction,
        subject: &End,
        peer: &End,
        port: u16,
        protocol: Protocol,
    ) -> Side {
        let (me, other) = (self.who(subject), self.who(peer));
        let local = self.local(direction, me, other);
        // The local host's access to a pod is an allow rule the agent adds to the pod's
        // ingress rules (`LabelsLocalHostIngress`, `computePolicyEnforcementAndRules` in
        // `pkg/policy/repository.go`): the pod's deny rules still beat it.
        let host_access = matches!((me, other), (Who::Endpoint(..), Who::Host(_)));
        if local && !host_access {
            return Side::Local;
        }
        let Some(selecting) = self.selecting(me) else {
            return if local { Side::Local } else { Side::NotSubject };
        };
        let destination = match direction {
            Direction::Egress => other,
            Direction::Ingress => me,
        };
        let named = named_ports(destination);
        let port = Port {
            number: port,
            protocol,
            named: &named,
        };
        let seen = self.peer(other, self.node_of(me));
        let requires = requirements(&selecting, direction);
        if local {
            let denied = self.denied(direction, me, (&selecting, &requires), &seen, port);
            return denied.unwrap_or(Side::Local);
        }
        self.decide(direction, me, (&selecting, &requires), &seen, port)
    }

    /// Step 3 of the decision: the deny rules of `selecting` that match `peer` and `port`, and
    /// the allow rules whose authentication never succeeds (`test-always-fail`) where it is the
    /// connection's (see [`Evaluator::failing`]).
    fn denied(
        &self,
        direction: Direction,
        me: Who<'_>,
        (selecting, requires): (&Selecting<'_>, &[&Selector]),
        peer: &Peer<'_>,
        port: Port<'_>,
    ) -> Option<Side> {
        let section = section(direction);
        let mut denied = Vec::new();
        for &(policy, rule) in selecting {
            let denies = match direction {
                Direction::Ingress => &rule.ingress_deny,
                Direction::Egress => &rule.egress_deny,
            };
            let denying = (denies.iter())
                .filter(|item| self.rule_matches(me, item, peer, port, &[]))
                .map(|item| format!("{}.{section}Deny[{}]", rule.field, item.index));
            denied.extend(denying.map(|field| self.decider(policy, field)));
        }
        let failing = self.failing(direction, me, selecting, peer, port, requires);
        denied.extend(failing.into_iter().map(|(policy, rule, item)| {
            self.decider(policy, format!("{}.{section}[{}]", rule.field, item.index))
        }));
        (!denied.is_empty()).then_some(Side::Denied { by: denied })
    }

    /// Rule `field` of policy `policy`, as a decider.
    fn decider(&self, policy: usize, field: String) -> Decider {
        Decider::Cilium(RuleRef {
            policy: self.policies[policy].reference.clone(),
            field,
        })
    }

    /// The allow rules matching `peer` and `port` whose authentication never succeeds, where
    /// theirs is the authentication the datapath asks of the connection: the most specific
    /// entry of the agent's policy map decides (a port over every port), and an entry that
    /// sets no authentication of its own inherits that of the entries covering it
    /// (`pkg/policy/mapstate.go`). So such a rule for some ports drops what it matches on
    /// them; one for every port drops what it matches unless a rule for the port sets an
    /// authentication that succeeds. Cilium's `Test_MergeL3`: an allow-all beside such a rule
    /// for one peer drops that peer; a rule for port 80 that requires authentication lets it
    /// through on port 80. Decision: a peer named by selector and every peer are not told
    /// apart.
    fn failing<'a>(
        &'a self,
        direction: Direction,
        me: Who<'a>,
        selecting: &'a Selecting<'a>,
        peer: &'a Peer<'a>,
        port: Port<'a>,
        requires: &'a [&'a Selector],
    ) -> Vec<(usize, &'a Rule, &'a PeerRule)> {
        let matching: Vec<(usize, &Rule, &PeerRule)> = (selecting.iter())
            .flat_map(|&(policy, rule)| {
                let items = match direction {
                    Direction::Ingress => &rule.ingress,
                    Direction::Egress => &rule.egress,
                };
                items.iter().map(move |item| (policy, rule, item))
            })
            .filter(|(_, _, item)| self.rule_matches(me, item, peer, port, requires))
            .collect();
        let failing = |specific: bool| -> Vec<(usize, &Rule, &PeerRule)> {
            (matching.iter().copied())
                .filter(|(_, _, item)| item.never_authenticated && item.port_specific() == specific)
                .collect()
        };
        let specific = failing(true);
        if !specific.is_empty() {
            return specific;
        }
        let stands =
            (matching.iter()).any(|(_, _, item)| item.sets_authentication && item.port_specific());
        if stands { Vec::new() } else { failing(false) }
    }

    /// Steps 3 to 5 of the decision.
    fn decide(
        &self,
        direction: Direction,
        me: Who<'_>,
        (selecting, requires): (&Selecting<'_>, &[&Selector]),
        peer: &Peer<'_>,
        port: Port<'_>,
    ) -> Side {
        let reference = |policy: usize, field: String| RuleRef {
            policy: self.policies[policy].reference.clone(),
            field,
        };
        let section = section(direction);
        if let Some(denied) = self.denied(direction, me, (selecting, requires), peer, port) {
            return denied;
        }
        let allowed: Vec<Decider> = self
            .admitting(me, selecting, direction, peer, port, requires)
            .map(|(policy, rule, item)| {
                self.decider(policy, format!("{}.{section}[{}]", rule.field, item.index))
            })
            .collect();
        if !allowed.is_empty() {
            return Side::Allowed { by: allowed };
        }
        let defaults: Vec<Decider> = selecting
            .iter()
            .filter(|(_, rule)| match direction {
                Direction::Ingress => rule.default_deny_ingress,
                Direction::Egress => rule.default_deny_egress,
            })
            .map(|&(policy, rule)| self.decider(policy, rule.field.clone()))
            .collect();
        if defaults.is_empty() && !self.always_denies(me) {
            Side::NotSelected
        } else {
            let mut by = defaults;
            if direction == Direction::Egress {
                let unused = self.not_looked_up(me, selecting, peer, port, requires);
                by.extend(unused.map(|(policy, rule, item)| {
                    let field = format!("{}.{section}[{}]", rule.field, item.index);
                    Decider::NotLookedUp(reference(policy, field))
                }));
            }
            Side::DefaultDenied { by }
        }
    }

    /// Whether the agent's `enable-policy: always` puts `me` into default deny: an endpoint, or
    /// a node's host where the host firewall is on.
    pub(super) fn always_denies(&self, me: Who<'_>) -> bool {
        self.options.enforce_always
            && match me {
                Who::Endpoint(..) => true,
                Who::Host(_) | Who::Unlisted(_) => self.options.host_firewall,
                Who::Outside(..) => false,
            }
    }

    /// The egress allow rules of `selecting` that would admit `peer` on `port` by the name it
    /// was looked up by, had Cilium's DNS proxy let the lookup through: what a reader of the
    /// rules takes to allow a connection that `toFQDNs` cannot (see [`Evaluator::lookup_allowed`]).
    fn not_looked_up<'a>(
        &'a self,
        me: Who<'a>,
        selecting: &'a Selecting<'a>,
        peer: &'a Peer<'a>,
        port: Port<'a>,
        requires: &'a [&'a Selector],
    ) -> impl Iterator<Item = (usize, &'a Rule, &'a PeerRule)> + 'a {
        let named = (peer.name)
            .filter(|_| !peer.cidr_addresses.is_empty())
            .filter(|name| !self.lookup_allowed(me, name));
        let names_peer = move |item: &PeerRule| {
            let (Some(name), Peers::Any(list)) = (named, &item.peers) else {
                return false;
            };
            list.iter()
                .any(|p| matches!(p, RulePeer::Fqdns(names) if self.names_match(names, name)))
        };
        let admits = move |item: &PeerRule| {
            !item.never_authenticated
                && ports_match(&item.ports, port)
                && requires.iter().all(|s| s.matches(&peer.labels))
        };
        selecting.iter().flat_map(move |&(policy, rule)| {
            (rule.egress.iter())
                .filter(move |item| names_peer(item) && admits(item))
                .map(move |item| (policy, rule, item))
        })
    }

    /// The allow rules of `selecting` that admit `peer` on `port`, with their policy and rule.
    pub(super) fn admitting<'a>(
        &'a self,
        me: Who<'a>,
        selecting: &'a Selecting<'a>,
        direction: Direction,
        peer: &'a Peer<'a>,
        port: Port<'a>,
        requires: &'a [&'a Selector],
    ) -> impl Iterator<Item = (usize, &'a Rule, &'a PeerRule)> + 'a {
        selecting.iter().flat_map(move |&(policy, rule)| {
            let items = match direction {
                Direction::Ingress => &rule.ingress,
                Direction::Egress => &rule.egress,
            };
            items
                .iter()
                .filter(move |item| {
                    !item.never_authenticated && self.rule_matches(me, item, peer, port, requires)
                })
                .map(move |item| (policy, rule, item))
        })
    }

    /// Whether traffic between `me` and `other` never meets policy in `direction`.
    fn local(&self, direction: Direction, me: Who<'_>, other: Who<'_>) -> bool {
        match (me, other) {
            (Who::Endpoint(a, _), Who::Endpoint(b, _)) => a == b,
            (Who::Host(Some(a)), Who::Host(Some(b))) => a == b,
            (Who::Unlisted(a), Who::Unlisted(b)) => a == b,
            // layer3.rst: "Kubernetes will automatically allow all communication from the
            // local host of all local endpoints".
            (Who::Endpoint(..), Who::Host(node)) => {
                direction == Direction::Ingress
                    && self.options.allow_localhost
                    && node.is_some()
                    && node == self.node_of(me)
            }
            _ => false,
        }
    }

    /// The rules selecting pod `id` as an endpoint, by policy and rule number (none for a pod
    /// in the host network, which is its node's host).
    pub(crate) fn rule_numbers(&self, id: usize) -> Vec<(u32, u32)> {
        let pod = &self.cluster.pods[id];
        if pod.host_network {
            return Vec::new();
        }
        self.selecting[id]
            .get_or_init(|| self.endpoint_rules(id, pod))
            .clone()
    }

    /// The rules selecting `me`, or `None` when it is no subject: of the rules that may select
    /// it (`Rules`), those whose selector does, in the order of the policies and their rules;
    /// found once for a pod.
    pub(super) fn selecting<'a>(&'a self, me: Who<'a>) -> Option<Selecting<'a>> {
        let found;
        let numbers: &[(u32, u32)] = match me {
            Who::Endpoint(id, pod) => {
                self.selecting[id].get_or_init(|| self.endpoint_rules(id, pod))
            }
            // A node the cluster does not list has no labels known: host policies select it
            // when they select every node.
            Who::Host(_) | Who::Unlisted(_) => {
                let node = match me {
                    Who::Host(node) => node,
                    _ => None,
                };
                let labels = self.node_labels(node);
                found = (self.rules.hosts.iter().copied())
                    .filter(|&number| self.rule(number).subject_selects(true, &labels))
                    .collect::<Vec<_>>();
                &found
            }
            Who::Outside(..) => return None,
        };
        Some(
            numbers
                .iter()
                .map(|&(p, r)| (p as usize, self.rule((p, r))))
                .collect(),
        )
    }

    /// Rule `rule` of policy `policy`.
    /// The keys of the labels that the endpoint selectors among the `direction` peers of the
    /// rules `numbers` (allows and denies) look at: an endpoint's identity labels are matched
    /// by these selectors only, its reserved labels and its namespace's aside.
    pub(crate) fn peer_label_keys(
        &self,
        direction: Direction,
        numbers: &[(u32, u32)],
    ) -> std::collections::BTreeSet<&str> {
        let mut keys = std::collections::BTreeSet::new();
        for &number in numbers {
            let rule = self.rule(number);
            let lists = match direction {
                Direction::Ingress => [&rule.ingress, &rule.ingress_deny],
                Direction::Egress => [&rule.egress, &rule.egress_deny],
            };
            for item in lists.into_iter().flatten() {
                if let super::compile::Peers::Any(peers) = &item.peers {
                    for peer in peers {
                        if let super::compile::Peer::Endpoints(selector) = peer {
                            let requirements = selector.requirements.iter();
                            keys.extend(requirements.map(|r| r.key().name.as_str()));
                        }
                    }
                }
            }
        }
        keys
    }

    fn rule(&self, (policy, rule): (u32, u32)) -> &Rule {
        &self.policies[policy as usize].rules[rule as usize]
    }

    /// The rules selecting the endpoint `pod`, by policy and rule number in their order: the
    /// clusterwide ones and those of the namespaces its identity labels name (its own, and any
    /// a label of the same key names), whose selector selects its identity labels.
    fn endpoint_rules(&self, id: usize, pod: &super::Pod) -> Vec<(u32, u32)> {
        let labels = &self.identity(id, pod);
        let mut candidates: Vec<(u32, u32)> = self.rules.clusterwide.clone();
        let mut namespaces = vec![pod.namespace.as_str()];
        namespaces.extend(labels.0.iter().filter_map(|l| {
            (l.source == super::labels::K8S && &*l.key == super::labels::NAMESPACE)
                .then_some(&*l.value)
        }));
        namespaces.sort_unstable();
        namespaces.dedup();
        for namespace in namespaces {
            candidates.extend(self.rules.namespaced.get(namespace).into_iter().flatten());
        }
        candidates.sort_unstable();
        candidates.retain(|&number| self.rule(number).subject_selects(false, labels));
        candidates
    }

    /// Whether the allow or deny rule `item` of a rule selecting `me` matches `peer` on `port`,
    /// with `requires` to hold for the peer.
    pub(super) fn rule_matches(
        &self,
        me: Who<'_>,
        item: &PeerRule,
        peer: &Peer<'_>,
        port: Port<'_>,
        requires: &[&Selector],
    ) -> bool {
        ports_match(&item.ports, port)
            && requires.iter().all(|s| s.matches(&peer.labels))
            && match &item.peers {
                Peers::All => true,
                Peers::Nothing => false,
                Peers::Any(list) => list.iter().any(|p| self.peer_matches(me, p, peer)),
            }
    }

    /// Whether one peer of a rule matches `peer`.
    pub(super) fn peer_matches(&self, me: Who<'_>, rule: &RulePeer, peer: &Peer<'_>) -> bool {
        match rule {
            RulePeer::Endpoints(selector) => selector.matches(&peer.labels),
            RulePeer::Entities(entity) => self.entity_matches(*entity, peer),
            RulePeer::Cidrs(set) => peer.cidr_addresses.iter().any(|a| set.contains(*a)),
            RulePeer::Nodes(selector) => peer.node.is_some_and(|node| {
                let labels = super::labels::Labels(
                    node.labels
                        .iter()
                        .map(|(k, v)| super::labels::Label::new(super::labels::K8S, k, v))
                        .collect(),
                );
                selector.matches(&labels)
            }),
            RulePeer::Fqdns(names) => match (peer.name, peer.cidr_addresses.first()) {
                (Some(name), Some(_)) => {
                    self.names_match(names, name) && self.lookup_allowed(me, name)
                }
                _ => false,
            },
        }
    }

    /// Whether an entity selects `peer` (layer3.rst, "Entities based"; the selectors of
    /// `EntitySelectorMapping` in `pkg/policy/api/entity.go`: `cluster` is `host`,
    /// `remote-node`, `init`, `ingress`, `health`, `unmanaged`, `kube-apiserver` and the pods
    /// of the cluster; `all` is everything).
    fn entity_matches(&self, entity: Entity, peer: &Peer<'_>) -> bool {
        let has = |name: &str| peer.labels.has_reserved(name);
        match entity {
            Entity::All => true,
            Entity::None => false,
            Entity::World => has("world"),
            Entity::Host => has("host"),
            Entity::RemoteNode => has("remote-node"),
            Entity::KubeApiserver => has("kube-apiserver"),
            Entity::Init => has("init"),
            Entity::Ingress => has("ingress"),
            Entity::Health => has("health"),
            Entity::Unmanaged => has("unmanaged"),
            Entity::Cluster => {
                [
                    "host",
                    "remote-node",
                    "init",
                    "ingress",
                    "health",
                    "unmanaged",
                    "kube-apiserver",
                ]
                .into_iter()
                .any(has)
                    || peer.labels.0.iter().any(|l| {
                        l.source == super::labels::K8S
                            && &*l.key == super::labels::CLUSTER
                            && *l.value == *self.options.cluster_name
                    })
            }
        }
    }

    /// Whether one of `names` (of `toFQDNs`, or of DNS rules) matches `name`, with the agent's
    /// pattern rules.
    fn names_match(&self, names: &[Fqdn], name: &str) -> bool {
        names.iter().any(|n| n.matches(name, self.options.patterns))
    }

    /// Whether the lookup of `name` by `me` went through Cilium's DNS proxy and was allowed:
    /// for some DNS server of the cluster, an egress of `me` to the server's port over UDP
    /// that no deny rule matches, admitted by allow rules of which some carry DNS rules on that
    /// port (so the proxy sees the lookup), whose names include `name`. An allow rule without
    /// DNS rules on that port admits every name (its rules merge with the DNS rules, layer7.rst
    /// "Layer 7 Policies": an L4 allow on the same port allows all at L7). NetworkPolicies'
    /// allows are not considered here: they only add names, so the answer can be narrower than
    /// Cilium's, never wider.
    pub(super) fn lookup_allowed(&self, me: Who<'_>, name: &str) -> bool {
        let Some(selecting) = self.selecting(me) else {
            return false;
        };
        let requires: Vec<&Selector> = selecting
            .iter()
            .flat_map(|(_, rule)| requires(rule, Direction::Egress))
            .collect();
        self.cluster.dns.iter().any(|server| {
            let who = self.who(&server.end);
            if matches!(who, Who::Outside(_, Some(_))) {
                return false;
            }
            let named = named_ports(who);
            let port = Port {
                number: server.port,
                protocol: Protocol::Udp,
                named: &named,
            };
            let peer = self.peer(who, self.node_of(me));
            let denied = selecting.iter().any(|(_, rule)| {
                rule.egress_deny
                    .iter()
                    .any(|item| self.rule_matches(me, item, &peer, port, &[]))
            });
            if denied {
                return false;
            }
            let mut proxied = false;
            let mut every_name = false;
            let mut allowed = false;
            for (_, _, item) in
                self.admitting(me, &selecting, Direction::Egress, &peer, port, &requires)
            {
                match &item.ports {
                    Ports::Items(items) => {
                        for port_item in items.iter().filter(|i| item_matches(i, port)) {
                            match &port_item.dns {
                                Some(names) => {
                                    proxied = true;
                                    allowed |= self.names_match(names, name);
                                }
                                None => every_name = true,
                            }
                        }
                    }
                    Ports::All => every_name = true,
                    Ports::Icmp => {}
                }
            }
            proxied && (allowed || every_name)
        })
    }
}

impl Rule {
    /// Whether the rule selects a subject of `labels`, a host when `host`.
    fn subject_selects(&self, host: bool, labels: &super::labels::Labels) -> bool {
        match &self.subject {
            Subject::Endpoints(selector) => !host && selector.matches(labels),
            Subject::Nodes(selector) => host && selector.matches(labels),
        }
    }
}

/// The `fromRequires` (ingress) or `toRequires` (egress) of every rule of `selecting`, which
/// hold for all of the subject's allow rules.
pub(super) fn requirements<'a>(
    selecting: &Selecting<'a>,
    direction: Direction,
) -> Vec<&'a Selector> {
    (selecting.iter())
        .flat_map(|(_, rule)| requires(rule, direction))
        .collect()
}

/// The field of a direction's allow rules.
fn section(direction: Direction) -> &'static str {
    match direction {
        Direction::Ingress => "ingress",
        Direction::Egress => "egress",
    }
}

/// The requirements of a rule in a direction.
pub(super) fn requires(rule: &Rule, direction: Direction) -> &[Selector] {
    match direction {
        Direction::Ingress => &rule.requires_ingress,
        Direction::Egress => &rule.requires_egress,
    }
}

/// The named ports of a destination: a pod's container ports; none for others.
pub(super) fn named_ports(destination: Who<'_>) -> Vec<NamedPort<'_>> {
    match destination {
        Who::Endpoint(_, pod) => pod
            .ports
            .iter()
            .filter_map(|p| Some((p.name.as_deref()?, p.port, p.protocol)))
            .collect(),
        Who::Host(_) | Who::Outside(..) | Who::Unlisted(_) => Vec::new(),
    }
}

/// Whether the ports of a rule admit `port`.
fn ports_match(ports: &Ports, port: Port<'_>) -> bool {
    match ports {
        Ports::All => true,
        Ports::Icmp => false,
        Ports::Items(items) => items.iter().any(|item| item_matches(item, port)),
    }
}

/// Whether an item of `toPorts` admits `port`.
pub(super) fn item_matches(item: &super::compile::PortItem, port: Port<'_>) -> bool {
    item.ports.is_empty()
        || item
            .ports
            .iter()
            .any(|p| p.matches(port.number, port.protocol, port.named))
}

/// One side as Cilium enforces its policies and Kubernetes NetworkPolicies together: Cilium
/// translates NetworkPolicies into rules of the same repository (kubernetes.rst; intro.rst,
/// "Policy Enforcement Modes"), so their allows join Cilium's, a NetworkPolicy isolating the
/// pod puts it into default deny for that direction, and Cilium's denies win over both
/// (deny.rst: "regardless of whether they are a Cilium Network Policy, a Clusterwide Cilium
/// Network Policy or even a Kubernetes Network Policy").
///
/// `network_policy` is the NetworkPolicy evaluator's decision on the same side, with the
/// choices Cilium makes where Kubernetes leaves them to the plugin (an `ipBlock` matches no
/// pod; host-network pods are not subject to NetworkPolicies).
pub(crate) fn combine(cilium: Side, network_policy: &NetworkPolicySide) -> Side {
    let policies = |refs: &[crate::evaluate::PolicyRef]| -> Vec<Decider> {
        refs.iter().cloned().map(Decider::NetworkPolicy).collect()
    };
    match (cilium, network_policy) {
        (side @ (Side::Local | Side::Denied { .. }), _) => side,
        (Side::Allowed { mut by }, NetworkPolicySide::Allowed { by: more }) => {
            by.extend(policies(more));
            Side::Allowed { by }
        }
        (side @ Side::Allowed { .. }, _) => side,
        (_, NetworkPolicySide::Allowed { by }) => Side::Allowed { by: policies(by) },
        (Side::DefaultDenied { mut by }, NetworkPolicySide::Denied { isolated_by }) => {
            by.extend(policies(isolated_by));
            Side::DefaultDenied { by }
        }
        (side @ Side::DefaultDenied { .. }, _) => side,
        (_, NetworkPolicySide::Denied { isolated_by }) => Side::DefaultDenied {
            by: policies(isolated_by),
        },
        (side, NetworkPolicySide::NotIsolated | NetworkPolicySide::NotSubject) => side,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{Index, Options, read_cluster, read_policies};
    use crate::synthetic::{Scale, large_files};

    #[test]
    fn the_rules_selecting_an_end_are_those_of_a_full_scan() {
        let scale = Scale {
            nodes: 4,
            namespaces: 9,
            pods: 120,
            network_policies: 0,
            cluster_network_policies: 0,
            cilium_policies: 80,
        };
        let files: std::collections::BTreeMap<String, String> =
            large_files(&scale, 4).into_iter().collect();
        let limits = crate::source::Limits {
            max_bytes: usize::MAX,
            ..Default::default()
        };
        let mut cluster = read_cluster("c", &files["cluster.json"], &limits).unwrap();
        // A pod whose labels name another namespace, as Cilium's identity labels do.
        let mut odd = cluster.pods[100].clone();
        odd.name = "odd".into();
        odd.labels
            .insert(super::super::labels::NAMESPACE.into(), "ns-0004".into());
        cluster.pods.push(odd);
        let policies = read_policies("p", &files["policies.json"], &limits).unwrap();
        let tier = crate::evaluate::cilium_tier::CiliumTier::new(
            policies.cilium_policies.clone(),
            Index::with_options(cluster.clone(), &policies, Options::default())
                .unwrap()
                .namespaces(),
            &cluster.pods.clone().into(),
            (&cluster.nodes, &crate::evaluate::sets::AddressSet::empty()),
            &cluster.api_server,
            &cluster.dns_caches,
            crate::evaluate::cilium::Options::default(),
        );
        let evaluator = tier.evaluator();
        let ends = (0..cluster.pods.len())
            .map(End::Pod)
            .chain((0..cluster.nodes.len()).map(End::Node));
        let mut selected = 0;
        for end in ends {
            let me = evaluator.who(&end);
            let labels = match me {
                Who::Endpoint(_, pod) => evaluator.endpoint_labels(pod),
                Who::Host(node) => evaluator.node_labels(node),
                Who::Outside(..) | Who::Unlisted(_) => unreachable!(),
            };
            let host = matches!(me, Who::Host(_));
            let scan: Vec<(usize, *const Rule)> = (evaluator.policies.iter().enumerate())
                .flat_map(|(n, policy)| policy.rules.iter().map(move |rule| (n, rule)))
                .filter(|(_, rule)| rule.subject_selects(host, &labels))
                .map(|(n, rule)| (n, std::ptr::from_ref(rule)))
                .collect();
            let indexed: Vec<(usize, *const Rule)> = (evaluator.selecting(me).unwrap().iter())
                .map(|&(n, rule)| (n, std::ptr::from_ref(rule)))
                .collect();
            assert_eq!(indexed, scan, "{end:?}");
            selected += scan.len();
        }
        assert!(selected > 100, "{selected} rules selected");
    }
}
