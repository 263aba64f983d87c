//! Deciding one tier (Admin or Baseline) of one side: the policies whose subject the pod is, by
//! priority; in each, its first rule matching the connection.

use super::compile::{Compiled, Matches, Peer, Rule};
use crate::evaluate::decision::{Action, Decider, Dialect, Tier};
use crate::evaluate::{Index, PodInfo, Query, View, ports_admit};
use crate::matrix::Direction;

/// What a tier decides on one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TierResult {
    /// No rule of the tier matches: the next tier decides.
    NoMatch,
    /// The rules of the highest-priority policies that match agree on this action.
    Decided(Action, Vec<Decider>),
    /// Policies of the same priority match with different actions: each action with the
    /// rules taking it, in order of the policies' names.
    Conflict(Vec<(Action, Vec<Decider>)>),
}

impl Index {
    /// What the `tier` policies of `info` decide on its `direction` side of `query`, whose
    /// other end rules see as `other`.
    pub(in crate::evaluate) fn cluster_tier(
        &self,
        tier: Tier,
        info: &PodInfo,
        direction: Direction,
        query: &Query<'_>,
        other: View<'_>,
    ) -> TierResult {
        let list = self.tier_subjects(tier, info);
        let destination = match direction {
            Direction::Ingress => Some(info),
            Direction::Egress => self.destination(query.connection),
        };
        let mut start = 0;
        while start < list.len() {
            let priority = self.cluster[list[start] as usize].priority;
            let end = start
                + list[start..]
                    .iter()
                    .take_while(|&&n| self.cluster[n as usize].priority == priority)
                    .count();
            let mut matched: Vec<(Action, Decider)> = Vec::new();
            for &n in &list[start..end] {
                let policy = &self.cluster[n as usize];
                let rules = match direction {
                    Direction::Ingress => &policy.ingress,
                    Direction::Egress => &policy.egress,
                };
                let first = rules.iter().enumerate().find(|(_, rule)| {
                    self.rule_matches(rule, direction, query, other, destination)
                });
                if let Some((index, rule)) = first {
                    matched.push((rule.action, decider(policy, direction, index, rule)));
                }
            }
            if !matched.is_empty() {
                return decided(matched);
            }
            start = end;
        }
        TierResult::NoMatch
    }

    /// Whether `rule` matches the connection of `query` with `other`, named ports resolving on
    /// `destination`.
    fn rule_matches(
        &self,
        rule: &Rule,
        direction: Direction,
        query: &Query<'_>,
        other: View<'_>,
        destination: Option<&PodInfo>,
    ) -> bool {
        match &rule.matches {
            Matches::Nothing => false,
            Matches::Everything => true,
            Matches::Peers(peers, ports) => {
                let peers_match = ports_admit(ports.as_deref(), query.connection, destination)
                    && peers
                        .iter()
                        .any(|peer| self.peer_matches(peer, direction, query, other));
                let lookup = rule.lookups.as_ref().is_some_and(|lookups| {
                    direction == Direction::Egress
                        && matches!(other, View::Pod(_, info) if lookups.pods.matches(&info.labels))
                        && ports_admit(Some(&lookups.ports), query.connection, destination)
                });
                peers_match || lookup
            }
        }
    }

    /// Whether `peer` matches the other end of the connection.
    fn peer_matches(
        &self,
        peer: &Peer,
        direction: Direction,
        query: &Query<'_>,
        other: View<'_>,
    ) -> bool {
        match (peer, other) {
            (Peer::Pods { namespaces, pods }, View::Pod(_, info)) => {
                let namespace = match namespaces {
                    crate::evaluate::compile::Namespaces::Own => false,
                    crate::evaluate::compile::Namespaces::All => true,
                    crate::evaluate::compile::Namespaces::Set(set) => set.contains(info.namespace),
                };
                namespace && pods.matches(&info.labels)
            }
            (Peer::Pods { .. }, View::Addresses(..)) => false,
            (Peer::Networks(nets), other) => {
                self.block_matches(other, self.behaviour.networks, |a| {
                    nets.iter().any(|net| net.contains(a))
                })
            }
            (Peer::Nodes(addresses), View::Addresses(ips, _)) => {
                ips.iter().any(|ip| addresses.binary_search(ip).is_ok())
            }
            (Peer::Nodes(_), View::Pod(..)) => false,
            (Peer::DomainNames(patterns), View::Addresses(..)) => {
                direction == Direction::Egress
                    && query
                        .name
                        .is_some_and(|name| patterns.iter().any(|p| p.matches(name)))
            }
            (Peer::DomainNames(_), View::Pod(..)) => false,
        }
    }
}

/// Rule `index` of `policy` in `direction`, as a decider.
fn decider(policy: &Compiled, direction: Direction, index: usize, rule: &Rule) -> Decider {
    Decider {
        dialect: Dialect::Cluster,
        namespace: None,
        name: policy.name.clone(),
        priority: Some(policy.priority),
        rule: Some(format!("spec.{}[{index}]", direction.name())),
        rule_name: rule.name.clone(),
        action: Some(rule.action),
        note: rule.note,
    }
}

/// The decision of the matching rules of one priority: one action, or a conflict.
fn decided(matched: Vec<(Action, Decider)>) -> TierResult {
    let mut groups: Vec<(Action, Vec<Decider>)> = Vec::new();
    for (action, decider) in matched {
        match groups.iter_mut().find(|(a, _)| *a == action) {
            Some((_, deciders)) => deciders.push(decider),
            None => groups.push((action, vec![decider])),
        }
    }
    if groups.len() == 1 {
        let (action, deciders) = groups.remove(0);
        TierResult::Decided(action, deciders)
    } else {
        TierResult::Conflict(groups)
    }
}
