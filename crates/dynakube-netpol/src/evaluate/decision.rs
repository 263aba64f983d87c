//! What one side of a connection decides, and what decided it: the dialect, tier, policy and
//! rule, in words for people and as JSON for tools.

use std::fmt;

use serde::Serialize;

use super::{Decision, PolicyRef};
use crate::matrix::Direction;

/// The tiers a cluster evaluates a side in, in this order (network-policy-api v0.2.0,
/// `ClusterNetworkPolicySpec.Tier`: "Policy tiers are evaluated in the following order: Admin
/// tier, NetworkPolicy tier, Baseline tier").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Tier {
    /// ClusterNetworkPolicies of tier Admin.
    Admin,
    /// NetworkPolicies, and the policies a network plugin enforces together with them
    /// (Cilium's).
    NetworkPolicy,
    /// ClusterNetworkPolicies of tier Baseline.
    Baseline,
}

impl Tier {
    /// `Admin`, `NetworkPolicy` or `Baseline`, as the API names them.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tier::Admin => "Admin",
            Tier::NetworkPolicy => "NetworkPolicy",
            Tier::Baseline => "Baseline",
        }
    }
}

/// The kind of policy a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Dialect {
    /// `networking.k8s.io/v1` NetworkPolicy.
    Kubernetes,
    /// `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicy.
    Cluster,
    /// `cilium.io/v2` CiliumNetworkPolicy.
    Cilium,
    /// `cilium.io/v2` CiliumClusterwideNetworkPolicy.
    CiliumClusterwide,
}

impl Dialect {
    /// The kind.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dialect::Kubernetes => "NetworkPolicy",
            Dialect::Cluster => "ClusterNetworkPolicy",
            Dialect::Cilium => "CiliumNetworkPolicy",
            Dialect::CiliumClusterwide => "CiliumClusterwideNetworkPolicy",
        }
    }
}

/// What a ClusterNetworkPolicy rule does with the traffic it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Action {
    /// Accepted; no further rule is evaluated.
    Accept,
    /// Dropped; no further rule is evaluated.
    Deny,
    /// The rest of the tier is skipped; the next tier decides.
    Pass,
}

impl Action {
    /// `Accept`, `Deny` or `Pass`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Accept => "Accept",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        }
    }
}

/// A policy, or one rule of it, that took part in a decision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Decider {
    /// The kind of the policy.
    pub(crate) dialect: Dialect,
    /// Its namespace, for namespaced kinds.
    pub(crate) namespace: Option<String>,
    /// Its name.
    pub(crate) name: String,
    /// Its priority within its tier (ClusterNetworkPolicy).
    pub(crate) priority: Option<u16>,
    /// The rule, as the field it is at (`spec.egress[0]`); none when the policy decided as a
    /// whole (isolating a pod no rule of it admits).
    pub(crate) rule: Option<String>,
    /// The rule's own name (ClusterNetworkPolicy `name`).
    pub(crate) rule_name: Option<String>,
    /// What the rule does (ClusterNetworkPolicy).
    pub(crate) action: Option<Action>,
    /// Why the rule acts otherwise than it reads (a peer the plugin does not implement).
    pub(crate) note: Option<&'static str>,
}

impl Decider {
    /// A NetworkPolicy, or one of its rules (`index` in `direction`).
    pub(crate) fn network_policy(policy: &PolicyRef, rule: Option<(Direction, usize)>) -> Decider {
        Decider {
            dialect: Dialect::Kubernetes,
            namespace: Some(policy.namespace.clone()),
            name: policy.name.clone(),
            priority: None,
            rule: rule.map(|(direction, index)| format!("spec.{}[{index}]", direction.name())),
            rule_name: None,
            action: None,
            note: None,
        }
    }

    /// The policy as `namespace/name`, or `name` for a cluster-wide kind.
    pub(crate) fn policy(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The policy in words: `a/x` for a NetworkPolicy (as verify has always named them),
    /// `ClusterNetworkPolicy x` and so on for other kinds.
    fn policy_words(&self) -> String {
        match self.dialect {
            Dialect::Kubernetes => self.policy(),
            other => format!("{} {}", other.name(), self.policy()),
        }
    }

    /// The decider in full: kind, policy, rule, its name, priority and action.
    pub(crate) fn full(&self) -> String {
        let mut out = format!("{} {}", self.dialect.name(), self.policy());
        if let Some(priority) = self.priority {
            out.push_str(&format!(" (priority {priority})"));
        }
        if let Some(rule) = &self.rule {
            out.push_str(&format!(" {rule}"));
        }
        if let Some(name) = &self.rule_name {
            out.push_str(&format!(" \"{name}\""));
        }
        if let Some(action) = self.action {
            out.push_str(&format!(": {}", action.name()));
        }
        if let Some(note) = self.note {
            out.push_str(&format!(" ({note})"));
        }
        out
    }

    /// The decider as JSON.
    pub(crate) fn to_json(&self) -> DeciderJson<'_> {
        DeciderJson {
            dialect: self.dialect.name(),
            policy: self.policy(),
            priority: self.priority,
            rule: self.rule.as_deref(),
            rule_name: self.rule_name.as_deref(),
            action: self.action.map(Action::name),
            note: self.note,
        }
    }
}

/// A decider as JSON, its fields in this order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeciderJson<'a> {
    dialect: &'static str,
    policy: String,
    priority: Option<u16>,
    rule: Option<&'a str>,
    rule_name: Option<&'a str>,
    action: Option<&'static str>,
    note: Option<&'static str>,
}

/// A side as JSON, its fields in this order.
#[derive(Debug, Serialize)]
pub(crate) struct SideJson<'a> {
    allowed: bool,
    verdict: &'static str,
    reason: &'static str,
    tier: Option<&'static str>,
    by: Vec<DeciderJson<'a>>,
    passed: Vec<DeciderJson<'a>>,
    text: String,
}

/// How a side ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Outcome {
    /// The end is not subject to policy: an address, or a host-network pod.
    NotSubject,
    /// No tier decided: allowed, as Kubernetes allows everything by default.
    NotIsolated,
    /// A rule allowed it.
    Allowed,
    /// A rule denied it (a Deny rule, a Cilium deny).
    Denied,
    /// Policies isolate the end and none of their rules allows it.
    Isolated,
    /// Rules of the same priority decide differently, and the API leaves the choice open.
    Undefined,
    /// Traffic the network plugin always allows, whatever the policies say: Cilium's from a
    /// node to its own pods and of a pod to itself.
    Local,
}

impl Decision {
    /// A side with `outcome` and nothing that decided it.
    pub(crate) fn plain(outcome: Outcome) -> Decision {
        Decision {
            outcome,
            tier: None,
            by: Vec::new(),
            passed: Vec::new(),
        }
    }

    /// A side decided by `by` in `tier`.
    pub(crate) fn by(outcome: Outcome, tier: Tier, by: Vec<Decider>) -> Decision {
        Decision {
            outcome,
            tier: Some(tier),
            by,
            passed: Vec::new(),
        }
    }

    /// Whether this side lets the connection through. An undefined side does not: the cluster
    /// may drop it.
    pub(crate) fn allows(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::NotSubject | Outcome::NotIsolated | Outcome::Allowed | Outcome::Local
        )
    }

    /// `allowed`, `denied` or `undefined`.
    pub(crate) fn verdict(&self) -> &'static str {
        match self.outcome {
            Outcome::NotSubject | Outcome::NotIsolated | Outcome::Allowed | Outcome::Local => {
                "allowed"
            }
            Outcome::Denied | Outcome::Isolated => "denied",
            Outcome::Undefined => "undefined",
        }
    }

    /// Why: `rule`, `isolated`, `not-isolated`, `not-subject`, `conflict` or `local`.
    pub(crate) fn reason(&self) -> &'static str {
        match self.outcome {
            Outcome::NotSubject => "not-subject",
            Outcome::NotIsolated => "not-isolated",
            Outcome::Allowed | Outcome::Denied => "rule",
            Outcome::Isolated => "isolated",
            Outcome::Undefined => "conflict",
            Outcome::Local => "local",
        }
    }

    /// The policies that decided, each once, in order: where a denied connection points.
    pub(crate) fn policies(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for decider in &self.by {
            let policy = decider.policy();
            if !seen.contains(&policy) {
                seen.push(policy);
            }
        }
        seen
    }

    /// The side as JSON: `allowed`, `verdict`, `reason`, `tier`, `by`, `passed` and `text`.
    pub(crate) fn to_json(&self) -> SideJson<'_> {
        SideJson {
            allowed: self.allows(),
            verdict: self.verdict(),
            reason: self.reason(),
            tier: self.tier.map(Tier::name),
            by: self.by.iter().map(Decider::to_json).collect(),
            passed: self.passed.iter().map(Decider::to_json).collect(),
            text: self.to_string(),
        }
    }

    /// The deciders in words: each policy with the rule that decided (`a/x spec.egress[0]`,
    /// `CiliumNetworkPolicy a/y spec.egress[1]`), or the policy alone where it decided as a
    /// whole (isolating).
    fn deciders(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        for decider in &self.by {
            let mut word = match &decider.rule {
                Some(rule) => format!("{} {rule}", decider.policy_words()),
                None => decider.policy_words(),
            };
            if let Some(note) = decider.note {
                word.push_str(&format!(" ({note})"));
            }
            if !words.contains(&word) {
                words.push(word);
            }
        }
        words.join(", ")
    }

    /// The tier and priority of a ClusterNetworkPolicy decision: ` (Admin tier, priority 5)`.
    fn tier_words(&self) -> String {
        match (self.tier, self.by.first().and_then(|d| d.priority)) {
            (Some(tier @ (Tier::Admin | Tier::Baseline)), Some(priority)) => {
                format!(" ({} tier, priority {priority})", tier.name())
            }
            _ => String::new(),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome {
            Outcome::NotSubject => f.write_str("not subject to policy")?,
            Outcome::NotIsolated => f.write_str("not isolated")?,
            Outcome::Local => f.write_str("always allowed (local traffic)")?,
            Outcome::Allowed => write!(f, "allowed by {}{}", self.deciders(), self.tier_words())?,
            Outcome::Denied => write!(f, "denied by {}{}", self.deciders(), self.tier_words())?,
            Outcome::Isolated if self.by.is_empty() => {
                f.write_str("denied (isolated by the network plugin's enforcement mode)")?;
            }
            Outcome::Isolated => write!(f, "denied (isolated by {})", self.deciders())?,
            Outcome::Undefined => {
                let rules: Vec<String> = self
                    .by
                    .iter()
                    .map(|d| {
                        let action = d.action.map_or("", Action::name);
                        format!(
                            "{} {} ({action})",
                            d.policy_words(),
                            d.rule.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                let tier = self.tier.map_or("", Tier::name);
                let priority = self.by.first().and_then(|d| d.priority).unwrap_or_default();
                write!(
                    f,
                    "undefined: {} share priority {priority} of the {tier} tier and decide differently",
                    rules.join(" and ")
                )?;
            }
        }
        if !self.passed.is_empty() {
            let passed: Vec<String> = self
                .passed
                .iter()
                .map(|d| format!("{} {}", d.policy_words(), d.rule.as_deref().unwrap_or("")))
                .collect();
            write!(f, " (after Pass by {})", passed.join(", "))?;
        }
        Ok(())
    }
}
