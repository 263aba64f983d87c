//! What ClusterNetworkPolicy rules admit, as sets, and the tiers as sets: for one pod and
//! direction, the connections each deciding rule allows, as `Index::evaluate` decides them.
//!
//! The tiers are followed over sets of connections instead of one connection: what a rule
//! matches of what is still undecided is decided by it (Accept: allowed, attributed to it;
//! Deny: denied; Pass: on to the next tier); the NetworkPolicies decide all that reaches them for
//! a pod they isolate; what no tier decides is allowed by default. Where policies of one priority
//! decide a connection differently, the connection is counted as allowed when any of them
//! allows it (the side is undefined, and may let it through). `domainNames` peers of Accept
//! rules admit every address looked up by a matching name (a named part of the sets); those of
//! Deny and Pass rules (which the API supports for Accept only) match nothing here, so what
//! they take away by name is not taken from the sets ([`Index::names_not_followed`]).

use super::compile::{Matches, Peer, Rule};
use crate::evaluate::RuleRef;
use crate::evaluate::admitted::{Among, ports_set};
use crate::evaluate::compile::Namespaces;
use crate::evaluate::decision::Dialect;
use crate::evaluate::sets::{AddressSet, Names, PodSet, PortSet, Space};
use crate::evaluate::tiers::NetworkPolicySets;
use crate::evaluate::{Index, PodInfo, Tier, rules_of};
use crate::matrix::Direction;

/// The connections one pod's side allows, each part with the rule that allows it (none for
/// what no tier decides, which the default allows).
pub(crate) type Allowed = Vec<(Option<RuleRef>, Space)>;

impl Index {
    /// What `rule` (a ClusterNetworkPolicy rule) matches on the `direction` side of `subject`.
    fn cluster_rule_space(
        &self,
        rule: &Rule,
        direction: Direction,
        (subject, among): (&PodInfo, Among<'_>),
    ) -> Space {
        let (peers, ports) = match &rule.matches {
            Matches::Nothing => return Space::empty(),
            Matches::Everything => return self.everything(),
            Matches::Peers(peers, ports) => (peers, ports),
        };
        let mut pods = Vec::new();
        let mut addresses = AddressSet::empty();
        for peer in peers {
            match peer {
                Peer::Pods {
                    namespaces,
                    pods: selector,
                } if matches!(among, Among::Pods(_)) => {
                    pods.extend(self.selected_among(among, (namespaces, None), selector));
                }
                Peer::Pods {
                    namespaces,
                    pods: selector,
                } => {
                    for (namespace, ids) in self.namespace_pods.iter().enumerate() {
                        let selected = match namespaces {
                            Namespaces::Own => false,
                            Namespaces::All => true,
                            Namespaces::Set(set) => set.contains(namespace),
                        };
                        if selected {
                            pods.extend(ids.iter().copied().filter(|&id| {
                                let info = &self.infos[id];
                                !info.by_address && selector.matches(&info.labels)
                            }));
                        }
                    }
                }
                Peer::Networks(nets) => {
                    for net in nets {
                        let (more, set) =
                            self.block_peers(self.behaviour.networks, AddressSet::net(net), among);
                        pods.extend(more);
                        addresses = addresses.union(&set);
                    }
                }
                Peer::Nodes(ips) => {
                    addresses = addresses.union(&AddressSet::addresses(ips.iter().copied()));
                }
                Peer::DomainNames(_) => {}
            }
        }
        let pods: PodSet = pods.into_iter().collect();
        let mut space = self.space(&pods, addresses, ports.as_deref(), direction, subject);
        if let Some(lookups) = rule
            .lookups
            .as_ref()
            .filter(|_| direction == Direction::Egress)
        {
            let select =
                |among| self.selected_among(among, (&Namespaces::All, None), &lookups.pods);
            let servers: PodSet = match among {
                Among::Pods(_) => select(among).collect(),
                Among::All => (lookups.servers)
                    .get_or_init(|| select(Among::All).collect())
                    .clone(),
            };
            let empty = AddressSet::empty();
            let served = self.space(&servers, empty, Some(&lookups.ports), direction, subject);
            space = space.union(&served);
        }
        // An Accept rule admits any address looked up by a name its `domainNames` match.
        let names = rule.accepted_names.get_or_init(|| {
            Names::of(peers.iter().flat_map(|peer| match peer {
                Peer::DomainNames(patterns) if rule.action == super::Action::Accept => {
                    patterns.iter().map(super::DomainPattern::pattern).collect()
                }
                _ => Vec::new(),
            }))
        });
        if direction == Direction::Egress && !names.is_empty() {
            let ports = ports_set(ports.as_deref(), None);
            return space.union(&Space::named(names.clone(), AddressSet::all(), ports));
        }
        space
    }

    /// Whether a ClusterNetworkPolicy Deny or Pass rule has `domainNames` peers, whose
    /// decisions by name the sets do not follow.
    pub(crate) fn names_not_followed(&self) -> bool {
        self.cluster.iter().any(|policy| {
            policy.egress.iter().any(|rule| {
                rule.action != super::Action::Accept
                    && matches!(&rule.matches, Matches::Peers(peers, _)
                        if peers.iter().any(|p| matches!(p, Peer::DomainNames(_))))
            })
        })
    }

    /// What the `direction` side of pod `id` allows of `universe`, through every tier.
    ///
    /// # Panics
    ///
    /// When `id` is not a pod of this index.
    pub(crate) fn allowed_in_tiers(
        &self,
        id: usize,
        direction: Direction,
        universe: Space,
    ) -> Allowed {
        let info = &self.infos[id];
        // A universe of few pods: the rules' sets are computed of its pods only.
        let few = Among::few_of(self, Some(&universe));
        let among = Among::of(few.as_ref());
        let mut allowed = Allowed::new();
        // The pod with itself is not subject to ClusterNetworkPolicies (`tiers`).
        let hairpin = universe.intersection(&Space::pods([(id, PortSet::all())]));
        let (mut rest, passed) = self.tier_sets(
            &self.tier_subjects(Tier::Admin, info),
            (direction, info, among),
            universe.difference(&hairpin),
            &mut allowed,
        );
        rest = rest.union(&passed).union(&hairpin);
        let isolating = match direction {
            Direction::Ingress => &info.ingress,
            Direction::Egress => &info.egress,
        };
        let mut network_policy = NetworkPolicySets {
            isolating: !isolating.is_empty(),
            rules: Vec::new(),
        };
        for &number in isolating {
            let policy = &self.policies[number as usize];
            for (index, rule) in rules_of(policy, direction).iter().enumerate() {
                let space = self.rule_space(policy, rule, direction, (info, among));
                let reference = RuleRef::new(
                    Dialect::Kubernetes,
                    policy.reference.to_string(),
                    direction,
                    index,
                );
                network_policy.rules.push((reference, space));
            }
        }
        if let Some(dialect) = &self.namespaced {
            // The policies the plugin enforces with the NetworkPolicies decide the tier.
            let tier = dialect.tier_sets(direction, id, &rest, &network_policy);
            allowed.extend(tier.allowed.into_iter().map(|(r, s)| (Some(r), s)));
            rest = rest.difference(&tier.decided);
        } else if network_policy.isolating {
            for (reference, space) in network_policy.rules {
                let part = space.intersection(&rest);
                if !part.is_empty() {
                    allowed.push((Some(reference), part));
                }
            }
            return allowed;
        }
        let baseline = self.tier_subjects(Tier::Baseline, info);
        let hairpin = rest.intersection(&hairpin);
        let (rest, passed) = self.tier_sets(
            &baseline,
            (direction, info, among),
            rest.difference(&hairpin),
            &mut allowed,
        );
        let rest = rest.union(&passed).union(&hairpin);
        if !rest.is_empty() {
            allowed.push((None, rest));
        }
        allowed
    }

    /// The tier of the policies `list` (by priority) over `rest`: what its Accept rules allow
    /// goes to `allowed`; returns what it leaves undecided and what it passes on.
    fn tier_sets(
        &self,
        list: &[u32],
        (direction, info, among): (Direction, &PodInfo, Among<'_>),
        mut rest: Space,
        allowed: &mut Allowed,
    ) -> (Space, Space) {
        let mut passed = Space::empty();
        let mut start = 0;
        while start < list.len() {
            let priority = self.cluster[list[start] as usize].priority;
            let end = start
                + list[start..]
                    .iter()
                    .take_while(|&&n| self.cluster[n as usize].priority == priority)
                    .count();
            let mut matched = Space::empty();
            for &n in &list[start..end] {
                let policy = &self.cluster[n as usize];
                let rules = match direction {
                    Direction::Ingress => &policy.ingress,
                    Direction::Egress => &policy.egress,
                };
                let mut open = rest.clone();
                for (index, rule) in rules.iter().enumerate() {
                    let part = self
                        .cluster_rule_space(rule, direction, (info, among))
                        .intersection(&open);
                    if part.is_empty() {
                        continue;
                    }
                    open = open.difference(&part);
                    matched = matched.union(&part);
                    match rule.action {
                        super::Action::Accept => {
                            let reference = RuleRef::new(
                                Dialect::Cluster,
                                format!("ClusterNetworkPolicy {}", policy.name),
                                direction,
                                index,
                            );
                            allowed.push((Some(reference), part));
                        }
                        super::Action::Pass => passed = passed.union(&part),
                        super::Action::Deny => {}
                    }
                }
            }
            rest = rest.difference(&matched);
            start = end;
        }
        (rest, passed)
    }
}
