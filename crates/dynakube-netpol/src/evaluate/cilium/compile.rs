//! From the schema's types to compiled rules, refusing what Cilium's agent refuses.
//!
//! The agent's checks are those of `Rule.Sanitize` and the `sanitize` methods of
//! `pkg/policy/api/rule_validation.go`, and of `CiliumNetworkPolicy.Validate`
//! (`pkg/k8s/apis/cilium.io/v2/cnp_types.go`); each check below names the one it follows. The
//! selectors of peers are completed as the agent completes them when it reads a policy from
//! Kubernetes (`getEndpointSelector` in `pkg/k8s/apis/cilium.io/utils/utils.go`), see
//! [`peer_selector`].

use std::fmt;

use super::Options;
use super::fqdn::Fqdn;
use super::labels::{K8S, Key, NAMESPACE, NAMESPACE_LABELS, RESERVED, Requirement, Selector};
use super::ports::PortMatch;
use super::raw::{self, Entity};
use crate::error::{Error, Location};
use crate::evaluate::sets::AddressSet;

/// The two kinds of Cilium policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    /// `CiliumNetworkPolicy`, in a namespace.
    Namespaced,
    /// `CiliumClusterwideNetworkPolicy`.
    Clusterwide,
}

impl Kind {
    /// The kind's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Namespaced => "CiliumNetworkPolicy",
            Kind::Clusterwide => "CiliumClusterwideNetworkPolicy",
        }
    }
}

/// A policy by kind, namespace and name: `CiliumNetworkPolicy shop/db`,
/// `CiliumClusterwideNetworkPolicy lock-down`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PolicyRef {
    /// The kind.
    pub(crate) kind: Kind,
    /// The namespace of a namespaced policy.
    pub(crate) namespace: Option<String>,
    /// The name.
    pub(crate) name: String,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind.name(), self.name),
            None => write!(f, "{} {}", self.kind.name(), self.name),
        }
    }
}

/// One rule of a policy: `CiliumNetworkPolicy shop/db spec.ingress[0]`; for the rules that put
/// an endpoint into default deny, the rule (`spec`, `specs[1]`) itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RuleRef {
    /// The policy.
    pub(crate) policy: PolicyRef,
    /// The field of the rule in the policy.
    pub(crate) field: String,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.policy, self.field)
    }
}

/// A compiled policy.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// Its kind, namespace and name.
    pub(crate) reference: PolicyRef,
    /// Its rules: `spec`, then the items of `specs`.
    pub(crate) rules: Vec<Rule>,
    /// Where it first selects peers by node labels (`fromNodes`, `toNodes`), which the agent
    /// allows only with `enable-node-selector-labels`.
    pub(crate) node_peers: Option<Location>,
}

impl Policy {
    /// Whether an egress rule of the policy names Services (`toServices`).
    pub(crate) fn names_services(&self) -> bool {
        (self.rules.iter()).any(|rule| rule.egress.iter().any(|e| !e.services.is_empty()))
    }
}

/// Whom a rule applies to.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    /// `endpointSelector`, completed with the policy's namespace for a namespaced policy.
    Endpoints(Selector),
    /// `nodeSelector`: host policies.
    Nodes(Selector),
}

/// One compiled rule (`spec` or an item of `specs`).
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// `spec` or `specs[i]`.
    pub(crate) field: String,
    /// Whom it applies to.
    pub(crate) subject: Subject,
    /// Whether it puts its subjects into default deny for ingress.
    pub(crate) default_deny_ingress: bool,
    /// Whether it puts its subjects into default deny for egress.
    pub(crate) default_deny_egress: bool,
    /// `ingress`.
    pub(crate) ingress: Vec<PeerRule>,
    /// `ingressDeny`.
    pub(crate) ingress_deny: Vec<PeerRule>,
    /// `egress`.
    pub(crate) egress: Vec<PeerRule>,
    /// `egressDeny`.
    pub(crate) egress_deny: Vec<PeerRule>,
    /// The `fromRequires` of its ingress rules.
    pub(crate) requires_ingress: Vec<Selector>,
    /// The `toRequires` of its egress rules.
    pub(crate) requires_egress: Vec<Selector>,
}

/// The peers of one allow or deny rule.
#[derive(Debug, Clone)]
pub(crate) enum Peers {
    /// Every peer: a rule without peers of its own that has `toPorts` (layer4.rst: "to any
    /// layer 3 destination").
    All,
    /// Any of these.
    Any(Vec<Peer>),
    /// No peer: a rule with neither peers nor ports (`egress: [{}]`, which layer3.rst uses to
    /// put an endpoint into default deny "without whitelisting other peers").
    Nothing,
}

/// One kind of peer, as one field of a rule lists them.
#[derive(Debug, Clone)]
pub(crate) enum Peer {
    /// `fromEndpoints`, `toEndpoints`, completed.
    Endpoints(Selector),
    /// `fromEntities`, `toEntities`.
    Entities(Entity),
    /// `fromCIDR`, `fromCIDRSet`, `toCIDR`, `toCIDRSet`: the blocks less their exceptions.
    Cidrs(AddressSet),
    /// `toFQDNs`.
    Fqdns(Vec<Fqdn>),
    /// `fromNodes`, `toNodes`.
    Nodes(Selector),
}

/// The ports of one rule.
#[derive(Debug, Clone)]
pub(crate) enum Ports {
    /// No `toPorts` and no `icmps`: every port of every protocol.
    All,
    /// `icmps`: ICMP only, so no TCP, UDP or SCTP port.
    Icmp,
    /// The items of `toPorts`.
    Items(Vec<PortItem>),
}

/// One item of `toPorts`.
#[derive(Debug, Clone)]
pub(crate) struct PortItem {
    /// The ports; empty for every port of every protocol.
    pub(crate) ports: Vec<PortMatch>,
    /// The DNS rules on these ports, when the item has some.
    pub(crate) dns: Option<Vec<Fqdn>>,
    /// Where its L7 rules are, when it has some (the agent needs its L7 proxy for them).
    pub(crate) l7: Option<Location>,
    /// Where a port is left out, when one is (the agent needs its
    /// `enable-extended-ip-protocols` option for it).
    pub(crate) port_left_out: Option<Location>,
}

/// One allow or deny rule.
#[derive(Debug, Clone)]
pub(crate) struct PeerRule {
    /// Its index in its list.
    pub(crate) index: usize,
    /// Its peers.
    pub(crate) peers: Peers,
    /// Its ports.
    pub(crate) ports: Ports,
    /// Whether it requires an authentication that always fails (`test-always-fail`).
    pub(crate) never_authenticated: bool,
    /// Whether it sets an authentication mode that succeeds (`disabled`, or `required`, which
    /// the evaluator assumes succeeds): where it is the most specific, its mode stands (see
    /// `decide`).
    pub(crate) sets_authentication: bool,
    /// The Services it names (`toServices`), whose peers [`super::services::resolve`] adds to
    /// `peers` once the cluster is known.
    pub(crate) services: Vec<super::services::ServiceRef>,
    /// The CiliumCIDRGroups it names, whose addresses [`super::cidr_groups::resolve`] adds to
    /// `peers` once every policy file is read.
    pub(crate) cidr_groups: Vec<super::cidr_groups::GroupRef>,
}

/// What compiling one policy needs to know.
pub(crate) struct Context<'a> {
    /// The policy's namespace, for a namespaced policy.
    pub(crate) namespace: Option<&'a str>,
    /// The choices.
    pub(crate) options: &'a Options,
    /// Where the policy first selects peers by node labels (`fromNodes`, `toNodes`), once
    /// found.
    pub(crate) node_peers: std::cell::RefCell<Option<Location>>,
}

/// Refuses a `log` value the API server refuses: the CRD allows at most 32 characters, none of
/// Unicode's "other" categories (`^\PC*$`): control, format, private use, unassigned. Decision:
/// of the unassigned code points only the noncharacters are refused, as telling the others
/// apart needs Unicode's tables for a field that changes no verdict; a test checks the rest
/// against a regular expression engine's tables.
fn check_log(log: Option<&raw::Log>, location: &Location) -> Result<(), Error> {
    let Some(value) = log.and_then(|log| log.value.as_deref()) else {
        return Ok(());
    };
    if value.chars().count() > 32 || !value.chars().all(printable) {
        return Err(Error::invalid(
            location.join("log.value"),
            format!(
                "`{}` is not at most 32 printable characters",
                crate::values::Shown(value)
            ),
        ));
    }
    Ok(())
}

/// Whether `c` is of none of Unicode's "other" categories but unassigned code points that are
/// not noncharacters (see [`check_log`]).
fn printable(c: char) -> bool {
    /// The format characters (category Cf).
    const FORMAT: &[(u32, u32)] = &[
        (0xAD, 0xAD),
        (0x600, 0x605),
        (0x61C, 0x61C),
        (0x6DD, 0x6DD),
        (0x70F, 0x70F),
        (0x890, 0x891),
        (0x8E2, 0x8E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    let n = u32::from(c);
    let private_use = (0xE000..=0xF8FF).contains(&n) || n >= 0xF0000;
    let noncharacter = (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE;
    !(c.is_control()
        || private_use
        || noncharacter
        || FORMAT.iter().any(|&(a, b)| (a..=b).contains(&n)))
}

/// Compiles the rule `raw` found at `location`, whose field in its policy is `field` (`spec` or
/// `specs[i]`).
pub(crate) fn rule(
    context: &Context<'_>,
    raw: &raw::Rule,
    location: &Location,
    field: &str,
) -> Result<Rule, Error> {
    check_log(raw.log.as_ref(), location)?;
    let subject = subject(context, raw, location)?;
    let host = matches!(subject, Subject::Nodes(_));
    let init = match &subject {
        Subject::Endpoints(selector) => {
            selector.has_key(|k| k.source.as_deref() == Some(RESERVED) && k.name == "init")
        }
        Subject::Nodes(_) => false,
    };
    let peers = Completion {
        namespace: context.namespace,
        init,
    };
    let mut compiled = Rule {
        field: field.to_string(),
        subject,
        default_deny_ingress: false,
        default_deny_egress: false,
        ingress: Vec::new(),
        ingress_deny: Vec::new(),
        egress: Vec::new(),
        egress_deny: Vec::new(),
        requires_ingress: Vec::new(),
        requires_egress: Vec::new(),
    };
    for (i, item) in raw.ingress.iter().flatten().enumerate() {
        let at = location.join(&format!("ingress[{i}]"));
        let (rule, requires) = super::peers::ingress(context, &peers, item, host, &at, i)?;
        compiled.ingress.push(rule);
        compiled.requires_ingress.extend(requires);
    }
    for (i, item) in raw.ingress_deny.iter().flatten().enumerate() {
        let at = location.join(&format!("ingressDeny[{i}]"));
        compiled
            .ingress_deny
            .push(super::peers::ingress_deny(context, &peers, item, &at, i)?);
    }
    for (i, item) in raw.egress.iter().flatten().enumerate() {
        let at = location.join(&format!("egress[{i}]"));
        let (rule, requires) = super::peers::egress(context, &peers, item, host, &at, i)?;
        compiled.egress.push(rule);
        compiled.requires_egress.extend(requires);
    }
    for (i, item) in raw.egress_deny.iter().flatten().enumerate() {
        let at = location.join(&format!("egressDeny[{i}]"));
        compiled
            .egress_deny
            .push(super::peers::egress_deny(context, &peers, item, &at, i)?);
    }
    // `Rule.Sanitize`: without `enableDefaultDeny`, a direction is in default deny when the
    // rule has allow or deny rules for it; `false` leaves the direction alone (intro.rst:
    // "Rules with EnableDefaultDeny disabled are ignored when determining the default mode").
    let defaults = raw.enable_default_deny.unwrap_or_default();
    compiled.default_deny_ingress = defaults
        .ingress
        .unwrap_or(!compiled.ingress.is_empty() || !compiled.ingress_deny.is_empty());
    compiled.default_deny_egress = defaults
        .egress
        .unwrap_or(!compiled.egress.is_empty() || !compiled.egress_deny.is_empty());
    Ok(compiled)
}

/// The subject of `raw`: exactly one of `endpointSelector` and `nodeSelector` (the schema's
/// `oneOf`), and no `nodeSelector` in a namespaced policy (`CiliumNetworkPolicy.Validate`:
/// "rule cannot have NodeSelector"). A namespaced policy's `endpointSelector` applies in its
/// namespace only (kubernetes.rst, "Namespaces": "The endpointSelector always applies to pods
/// in the namespace associated with the CiliumNetworkPolicy resource itself"); the agent sets
/// the namespace label to the policy's namespace, replacing one the selector names.
fn subject(context: &Context<'_>, raw: &raw::Rule, location: &Location) -> Result<Subject, Error> {
    match (&raw.endpoint_selector, &raw.node_selector) {
        (Some(selector), None) => {
            let at = location.join("endpointSelector");
            let mut selector = Selector::compile(selector, &at)?;
            if let Some(namespace) = context.namespace {
                selector.requirements.retain(|r| {
                    !matches!(r, Requirement::In(key, _) if key.source.as_deref() == Some(K8S) && key.name == NAMESPACE)
                });
                selector.requirements.push(namespace_is(namespace));
            }
            Ok(Subject::Endpoints(selector))
        }
        (None, Some(selector)) if context.namespace.is_some() => Err(Error::invalid(
            location.join("nodeSelector"),
            "only a CiliumClusterwideNetworkPolicy can select nodes (a host policy)",
        )),
        (None, Some(selector)) => Ok(Subject::Nodes(Selector::compile(
            selector,
            &location.join("nodeSelector"),
        )?)),
        (Some(_), Some(_)) => Err(Error::invalid(
            location.clone(),
            "has both endpointSelector and nodeSelector; a rule has exactly one",
        )),
        (None, None) => Err(Error::invalid(
            location.clone(),
            "needs an endpointSelector or a nodeSelector",
        )),
    }
}

/// `k8s:io.kubernetes.pod.namespace = namespace`.
fn namespace_is(namespace: &str) -> Requirement {
    Requirement::In(
        Key {
            source: Some(K8S.into()),
            name: NAMESPACE.into(),
        },
        vec![namespace.to_string()],
    )
}

/// How the selectors of `fromEndpoints`, `toEndpoints`, `fromRequires` and `toRequires` are
/// completed.
pub(crate) struct Completion<'a> {
    /// The namespace of a namespaced policy.
    pub(crate) namespace: Option<&'a str>,
    /// Whether the rule's subject names the `reserved:init` label.
    pub(crate) init: bool,
}

/// Completes the selector of a peer as the agent does (`getEndpointSelector`):
///
/// - a selector naming a reserved label (`reserved:host`) is left alone;
/// - a selector naming the namespace label (`k8s:io.kubernetes.pod.namespace` or
///   `io.kubernetes.pod.namespace`) is left alone: it chooses its namespaces (kubernetes.rst,
///   "Specifying the namespace by way of the label `k8s:io.kubernetes.pod.namespace` in the
///   `fromEndpoints` and `toEndpoints` fields is supported");
/// - in a clusterwide policy, other selectors select pods only, in every namespace: the agent
///   adds `k8s:io.kubernetes.pod.namespace Exists` ("even if a wildcard is provided in the
///   selector we don't proceed with a truly empty (allow all) endpoint selector"), except when
///   the rule's subject names `reserved:init`;
/// - in a namespaced policy, a selector naming a namespace label
///   (`k8s:io.cilium.k8s.namespace.labels.*`) selects in every namespace whose labels match,
///   and any other selects in the policy's namespace only. The documentation said namespace
///   labels were ignored in a CiliumNetworkPolicy until 2026 (kubernetes.rst, corrected by
///   cilium/cilium pull request 44922 after issue 44532); the agent has honoured them since
///   pull request 30650 (Cilium 1.16), which this follows.
pub(crate) fn peer_selector(completion: &Completion<'_>, mut selector: Selector) -> Selector {
    if selector.has_key(|k| k.source.as_deref() == Some(RESERVED)) {
        return selector;
    }
    if selector.has_key(|k| k.is_k8s(NAMESPACE)) {
        return selector;
    }
    match completion.namespace {
        None if completion.init => {}
        None => selector.requirements.push(Requirement::Exists(Key {
            source: Some(K8S.into()),
            name: NAMESPACE.into(),
        })),
        Some(namespace) => {
            let labels_key = |k: &Key| {
                k.source.as_deref().is_none_or(|s| s == K8S) && k.name.starts_with(NAMESPACE_LABELS)
            };
            if !selector.has_key(labels_key) {
                selector.requirements.push(namespace_is(namespace));
            }
        }
    }
    selector
}

impl PeerRule {
    /// Whether its ports are given (every item of `toPorts` lists ports): its entries in the
    /// agent's policy map are then more specific than those of rules for every port.
    pub(crate) fn port_specific(&self) -> bool {
        matches!(&self.ports, Ports::Items(items) if items.iter().all(|item| !item.ports.is_empty()))
    }
}

impl Policy {
    /// The items of `toPorts` of its rules, allows and denies.
    fn port_items(&self) -> impl Iterator<Item = &PortItem> {
        (self.rules.iter())
            .flat_map(|rule| {
                (rule.ingress.iter().chain(&rule.egress))
                    .chain(rule.ingress_deny.iter().chain(&rule.egress_deny))
            })
            .filter_map(|item| match &item.ports {
                Ports::Items(items) => Some(items),
                Ports::All | Ports::Icmp => None,
            })
            .flatten()
    }

    /// Where its first L7 rule is, if it has one.
    pub(crate) fn first_l7(&self) -> Option<&Location> {
        self.port_items().find_map(|item| item.l7.as_ref())
    }

    /// Where its first port left out is, if it has one.
    pub(crate) fn first_port_left_out(&self) -> Option<&Location> {
        self.port_items()
            .find_map(|item| item.port_left_out.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `printable` is `\PC` of a regular expression engine's Unicode tables, but for the
    /// unassigned code points that are not noncharacters.
    #[test]
    fn printable_is_not_of_the_other_categories() {
        let other = regex::Regex::new(r"^\pC$").unwrap();
        let unassigned = regex::Regex::new(r"^\p{Cn}$").unwrap();
        let mut differ = Vec::new();
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let text = c.to_string();
            if printable(c) == other.is_match(&text) && !unassigned.is_match(&text) {
                differ.push(format!("U+{:04X}", u32::from(c)));
            }
        }
        assert!(differ.is_empty(), "{differ:?}");
        assert!(printable('a') && printable('é') && printable('漢') && printable(' '));
        for c in [
            '\n',
            '\u{200B}',
            '\u{E000}',
            '\u{FFFF}',
            '\u{FDD0}',
            '\u{E0041}',
        ] {
            assert!(!printable(c), "{c:?}");
        }
    }
}
