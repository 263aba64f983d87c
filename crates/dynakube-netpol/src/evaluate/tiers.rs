//! How a cluster combines its dialects on one side of a connection: the Admin tier of
//! ClusterNetworkPolicies, then the NetworkPolicies (with the policies the network plugin
//! enforces together with them), then the Baseline tier, then the Kubernetes default.
//!
//! network-policy-api v0.2.0, `ClusterNetworkPolicySpec.Tier`: "Policy tiers are evaluated in
//! the following order: Admin tier, NetworkPolicy tier, Baseline tier". "If Admin tier has
//! made a final decision (Accept or Deny) on a connection, then no further evaluation is done."
//! "v1.NetworkPolicy always makes a final decision for selected pods. Further evaluation only
//! happens for Pods not selected by a v1.NetworkPolicy." "If a given connection wasn't allowed
//! or denied by any of the tiers, the default kubernetes policy is applied, which says that
//! all pods can communicate with each other." A Pass "passes evaluation to the next tier"
//! (`ClusterNetworkPolicyRuleActionPass`: "if an Admin tier CNP uses Pass action,
//! NetworkPolicy evaluation will happen next").
//!
//! Where a tier's policies of equal priority decide differently ("the implementation can apply
//! any of the matching policies to the connection, and there is no way for the user to reliably
//! determine which one it will choose", `Priority`), every choice is followed to the end: when
//! all end alike the side is decided as the first (by policy name) decides it, else it is
//! undefined, naming the rules that disagree.
//!
//! A pod connecting to its own address is not subject to ClusterNetworkPolicies (the API
//! overview of network-policy-api after v0.2.0, "ClusterNetworkPolicy is logically enforced
//! outside the Pod network namespace": "A Pod connecting to its own Pod IP is not subject to
//! CNP"); both tiers let it through to the next, and the NetworkPolicies decide it as any other.
//!
//! The NetworkPolicy tier is where a network plugin's own namespaced policies take part: Cilium
//! enforces its policies and the NetworkPolicies as one set of rules, allows unioned and denies
//! over allows. Such a dialect implements [`Namespaced`] and decides the tier given what the
//! NetworkPolicies alone decide.

use std::fmt;

use super::Decision;
use super::cnp::TierResult;
use super::decision::{Action, Decider, Outcome, Tier};
use super::sets::{PortSet, Space};
use super::{Connection, ConnectionEnd, Index, NodeId, PodId, PodInfo, RuleRef, Side, Verdict};
use crate::matrix::Direction;

/// A connection to decide, and what the source knows of its destination.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query<'a> {
    /// The connection.
    pub(crate) connection: &'a Connection,
    /// The DNS name the source looked the destination up by (`toFQDNs`, `domainNames`).
    pub(crate) name: Option<&'a str>,
}

/// What the NetworkPolicies alone admit on one side of a pod, as sets: whether they isolate
/// it, and what each of their rules admits.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetworkPolicySets {
    /// Whether a NetworkPolicy isolates the pod on this side.
    pub(crate) isolating: bool,
    /// What each rule of the isolating policies admits.
    pub(crate) rules: Vec<(RuleRef, Space)>,
}

/// What the NetworkPolicy tier decides of a set of connections.
#[derive(Debug, Clone, Default)]
pub(crate) struct TierSets {
    /// What it allows, each part with the rule that allows it.
    pub(crate) allowed: Vec<(RuleRef, Space)>,
    /// What it decides, allowed or denied (traffic the plugin always allows too); the rest goes
    /// on to the Baseline tier.
    pub(crate) decided: Space,
}

/// A dialect the network plugin enforces together with the NetworkPolicies, in their tier
/// (Cilium's CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy).
pub(crate) trait Namespaced: fmt::Debug + Send + Sync {
    /// [`Namespaced::decide`] over the connections of `rest` on the `direction` side of pod
    /// `subject`, given what the NetworkPolicies alone admit there. Traffic the plugin always
    /// allows (a pod with itself, a node to its pods) is decided and allowed by no rule.
    fn tier_sets(
        &self,
        direction: Direction,
        subject: PodId,
        rest: &Space,
        network_policy: &NetworkPolicySets,
    ) -> TierSets;

    /// The rules of the dialect that select pod `subject` (outside the host network), by
    /// policy and rule number: what its side depends on of the subject, beside its node.
    fn subject_rules(&self, subject: PodId) -> Vec<(u32, u32)>;

    /// The keys of the pod labels that the `direction` rules of `rules` (as
    /// [`Namespaced::subject_rules`] gives them) look at in a peer pod: a peer's other labels
    /// change nothing these rules decide.
    fn peer_label_keys(&self, direction: Direction, rules: &[(u32, u32)]) -> Vec<String>;

    /// Whether the dialect's rules have anything to say on the `direction` side of a pod that
    /// the NetworkPolicies do not select (one in the host network, whose node's host Cilium's
    /// host policies select).
    fn has_side(&self, direction: Direction, subject: PodId) -> bool;

    /// The ports the `direction` side of node `node`'s host network (`None`: a node the
    /// cluster does not list, at an address of its node blocks) admits on connections with pod
    /// `pod`; `None` when nothing in the dialect restricts that side (every port).
    fn node_ports(&self, direction: Direction, node: Option<NodeId>, pod: PodId)
    -> Option<PortSet>;

    /// The keys of the node labels that the dialect's rules look at: nodes whose labels agree
    /// on them are alike to it.
    fn node_label_keys(&self) -> std::collections::BTreeSet<String>;

    /// Decides the NetworkPolicy tier of the `direction` side of `subject` (the source for
    /// egress, the destination for ingress), whose other end is `peer`, given what the
    /// NetworkPolicies alone decide there (`network_policy`: their side and the policies and
    /// rules behind it; none when the subject is no pod they can select). `None` when nothing
    /// in the tier isolates the subject or denies the connection, so that the Baseline tier
    /// decides.
    fn decide(
        &self,
        index: &Index,
        direction: Direction,
        sides: (&ConnectionEnd, &ConnectionEnd),
        query: &Query<'_>,
        network_policy: Option<(&Side, &[Decider])>,
    ) -> Option<Decision>;
}

/// Where the evaluation of a side goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The Admin tier.
    Admin,
    /// The NetworkPolicy tier.
    NetworkPolicy,
    /// The Baseline tier.
    Baseline,
    /// The Kubernetes default.
    Default,
}

/// One side to decide.
struct SideQuery<'a> {
    direction: Direction,
    subject: &'a ConnectionEnd,
    peer: &'a ConnectionEnd,
    /// The subject, when it is a pod that NetworkPolicies and ClusterNetworkPolicies select.
    pod: Option<(PodId, &'a PodInfo)>,
    query: &'a Query<'a>,
}

impl Index {
    /// Decides both sides of `query`.
    pub(crate) fn decide(&self, query: &Query<'_>) -> Verdict {
        let connection = query.connection;
        Verdict {
            egress: self.decide_side(Direction::Egress, query, &connection.from, &connection.to),
            ingress: self.decide_side(Direction::Ingress, query, &connection.to, &connection.from),
        }
    }

    /// Decides the `direction` side of `subject`, whose other end is `peer`.
    pub(crate) fn decide_side(
        &self,
        direction: Direction,
        query: &Query<'_>,
        subject: &ConnectionEnd,
        peer: &ConnectionEnd,
    ) -> Decision {
        let side = SideQuery {
            direction,
            subject,
            peer,
            pod: self.subject(subject),
            query,
        };
        self.decide_from(Stage::Admin, &side)
    }

    /// The decision from `stage` on.
    fn decide_from(&self, stage: Stage, side: &SideQuery<'_>) -> Decision {
        match stage {
            Stage::Admin => self.cluster_stage(Tier::Admin, Stage::NetworkPolicy, side),
            Stage::NetworkPolicy => self
                .network_policy_tier(side)
                .unwrap_or_else(|| self.decide_from(Stage::Baseline, side)),
            Stage::Baseline => self.cluster_stage(Tier::Baseline, Stage::Default, side),
            Stage::Default => Decision::plain(if side.pod.is_some() {
                Outcome::NotIsolated
            } else {
                Outcome::NotSubject
            }),
        }
    }

    /// The decision of a ClusterNetworkPolicy tier, and of `next` where it does not decide.
    fn cluster_stage(&self, tier: Tier, next: Stage, side: &SideQuery<'_>) -> Decision {
        let Some((id, info)) = side.pod else {
            return self.decide_from(next, side);
        };
        if *side.peer == ConnectionEnd::Pod(id) {
            // A pod to its own address is not subject to ClusterNetworkPolicies.
            return self.decide_from(next, side);
        }
        let other = self.view(side.peer);
        match self.cluster_tier(tier, info, side.direction, side.query, other) {
            TierResult::NoMatch => self.decide_from(next, side),
            TierResult::Decided(action, by) => self.act(action, by, tier, next, side),
            TierResult::Conflict(choices) => {
                let decisions: Vec<Decision> = choices
                    .iter()
                    .map(|(action, by)| self.act(*action, by.clone(), tier, next, side))
                    .collect();
                let first = decisions[0].allows();
                if decisions.iter().all(|d| d.allows() == first) {
                    return decisions
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| Decision::plain(Outcome::NotIsolated));
                }
                Decision::by(
                    Outcome::Undefined,
                    tier,
                    choices.into_iter().flat_map(|(_, by)| by).collect(),
                )
            }
        }
    }

    /// The decision when rules `by` of `tier` take `action`.
    fn act(
        &self,
        action: Action,
        by: Vec<Decider>,
        tier: Tier,
        next: Stage,
        side: &SideQuery<'_>,
    ) -> Decision {
        match action {
            Action::Accept => Decision::by(Outcome::Allowed, tier, by),
            Action::Deny => Decision::by(Outcome::Denied, tier, by),
            Action::Pass => {
                let mut decision = self.decide_from(next, side);
                decision.passed.splice(0..0, by);
                decision
            }
        }
    }

    /// The decision of the NetworkPolicy tier; `None` when nothing there isolates the subject.
    fn network_policy_tier(&self, side: &SideQuery<'_>) -> Option<Decision> {
        let network_policy = side.pod.map(|(_, info)| {
            self.network_policy_side(side.direction, info, side.query.connection, side.peer)
        });
        if let Some(dialect) = &self.namespaced {
            let given = network_policy
                .as_ref()
                .map(|(side, deciders)| (side, deciders.as_slice()));
            return dialect.decide(
                self,
                side.direction,
                (side.subject, side.peer),
                side.query,
                given,
            );
        }
        match network_policy? {
            (Side::NotIsolated | Side::NotSubject, _) => None,
            (Side::Allowed { .. }, by) => {
                Some(Decision::by(Outcome::Allowed, Tier::NetworkPolicy, by))
            }
            // What NetworkPolicies cannot block: the pod with itself and with its own node.
            (Side::Denied { .. }, _)
                if side
                    .pod
                    .is_some_and(|(id, _)| self.local_exempt(id, side.direction, side.peer)) =>
            {
                Some(Decision::by(
                    Outcome::Local,
                    Tier::NetworkPolicy,
                    Vec::new(),
                ))
            }
            (Side::Denied { .. }, by) => {
                Some(Decision::by(Outcome::Isolated, Tier::NetworkPolicy, by))
            }
        }
    }
}
