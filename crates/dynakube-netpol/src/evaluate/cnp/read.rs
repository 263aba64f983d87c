//! Reading `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicies as strictly as the API
//! server with the v0.2.0 CRD (`fixtures/schemas/network-policy-api/v0.2.0/`): a field the
//! schema does not declare, a missing required field, a value outside the schema's enums,
//! bounds, patterns and list rules, and a broken CEL rule are errors naming the field.
//!
//! The reader knows the fields of the experimental channel (`nodes` and `domainNames` peers);
//! a policy that uses them needs that channel's CRD, so its CEL rule (no named port in an
//! egress rule with `networks`, `nodes` or `domainNames` peers) holds for it. A policy
//! without them is read as the standard channel reads it, which has no such rule.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use serde::Deserialize;

use super::{ClusterNetworkPolicy, DomainPattern, PeerSpec, PortSpec, RuleSpec, Subject};
use crate::error::{Error, Location, Result};
use crate::evaluate::decision::{Action, Tier};
use crate::evaluate::labels::{Interner, Selector};
use crate::evaluate::meta;
use crate::matrix::Protocol;
use crate::source::Object;

/// The group of the API.
pub(crate) const GROUP: &str = "policy.networking.k8s.io";
/// The version the v0.2.0 CRD serves.
pub(crate) const VERSION: &str = "v1alpha2";
/// The kind.
pub(crate) const KIND: &str = "ClusterNetworkPolicy";

/// The most rules of one direction, peers of one rule, protocols of one rule, and CIDRs or
/// domain names of one peer (`MaxItems=25` throughout the CRD).
const MAX_ITEMS: usize = 25;
/// The longest rule name (`MaxLength=100`).
const MAX_RULE_NAME: usize = 100;
/// The longest CIDR (`MaxLength=43`).
const MAX_CIDR: usize = 43;
/// The highest priority (`Maximum=1000`).
const MAX_PRIORITY: i64 = 1000;

/// Reads one object of kind ClusterNetworkPolicy whose `apiVersion` is in the group.
pub(crate) fn policy(object: Object) -> Result<ClusterNetworkPolicy> {
    let Object {
        location,
        api_version,
        value,
        ..
    } = object;
    if api_version != format!("{GROUP}/{VERSION}") {
        return Err(Error::invalid(
            location.join("apiVersion"),
            format!(
                "`{}` is not served for {KIND}: the network-policy-api v0.2.0 CRD serves {GROUP}/{VERSION}",
                crate::values::escape(&api_version)
            ),
        ));
    }
    let raw: Raw = serde_path_to_error::deserialize(value)
        .map_err(|error| crate::error::field_error(&location, error))?;
    let at = |field: &str| location.join(field);
    let kind = (meta::Scope::Cluster, meta::NameRule::Subdomain);
    let name = meta::check(&location, &meta::Metadata::of(&raw.metadata), kind)?.0;
    let name = name.to_string();
    let spec = raw
        .spec
        .ok_or_else(|| Error::invalid(at("spec"), "is missing"))?;
    let (tier, priority) = tier_and_priority(&location, &spec)?;
    let subject = subject(&location, spec.subject)?;
    let ingress = rules(&location, "ingress", spec.ingress, |rule| {
        let peers = rule.from.map(|peers| {
            peers
                .into_iter()
                .map(|p| RawPeer {
                    namespaces: p.namespaces,
                    pods: p.pods,
                    ..RawPeer::default()
                })
                .collect()
        });
        (rule.name, rule.action, "from", peers, rule.protocols)
    })?;
    let egress = rules(&location, "egress", spec.egress, |rule| {
        (rule.name, rule.action, "to", rule.to, rule.protocols)
    })?;
    let experimental = egress.iter().any(|rule| {
        rule.peers
            .iter()
            .any(|p| matches!(p, PeerSpec::Nodes(_) | PeerSpec::DomainNames(_)))
    });
    if experimental {
        named_ports_need_pods(&location, &egress)?;
    }
    Ok(ClusterNetworkPolicy {
        name,
        location,
        tier,
        priority,
        subject,
        ingress,
        egress,
    })
}

/// `spec.tier` and `spec.priority`, both required.
fn tier_and_priority(location: &Location, spec: &RawSpec) -> Result<(Tier, u16)> {
    let at = |field: &str| location.join(field);
    let tier = match spec.tier.as_deref() {
        None => return Err(Error::invalid(at("spec.tier"), "is missing")),
        Some("Admin") => Tier::Admin,
        Some("Baseline") => Tier::Baseline,
        Some(other) => {
            return Err(Error::invalid(
                at("spec.tier"),
                format!(
                    "`{}` is not a tier (Admin, Baseline)",
                    crate::values::escape(other)
                ),
            ));
        }
    };
    let priority = match spec.priority {
        None => return Err(Error::invalid(at("spec.priority"), "is missing")),
        Some(p) if (0..=MAX_PRIORITY).contains(&p) => u16::try_from(p).unwrap_or_default(),
        Some(p) => {
            return Err(Error::invalid(
                at("spec.priority"),
                format!("{p} is not a priority from 0 to {MAX_PRIORITY}"),
            ));
        }
    };
    Ok((tier, priority))
}

/// The experimental channel's CEL rule on egress rules: "networks/nodes/domainNames peer
/// cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames".
fn named_ports_need_pods(location: &Location, egress: &[RuleSpec]) -> Result<()> {
    for (i, rule) in egress.iter().enumerate() {
        let addresses = rule.peers.iter().any(|p| {
            matches!(
                p,
                PeerSpec::Networks(_) | PeerSpec::Nodes(_) | PeerSpec::DomainNames(_)
            )
        });
        let named = rule
            .protocols
            .iter()
            .flatten()
            .any(|p| matches!(p, PortSpec::Named(_)));
        if addresses && named {
            return Err(Error::invalid(
                location.join(&format!("spec.egress[{i}]")),
                "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames (the experimental CRD's rule)",
            ));
        }
    }
    Ok(())
}

/// The subject: exactly one of `namespaces` and `pods`.
fn subject(location: &Location, raw: Option<RawSubject>) -> Result<Subject> {
    let field = "spec.subject";
    let raw = raw.ok_or_else(|| Error::invalid(location.join(field), "is missing"))?;
    match (raw.namespaces, raw.pods) {
        (Some(namespaces), None) => Ok(Subject::Namespaces(selector(
            location,
            &format!("{field}.namespaces"),
            namespaces,
        )?)),
        (None, Some(pods)) => {
            let (namespaces, pods) = namespaced_pod(location, &format!("{field}.pods"), pods)?;
            Ok(Subject::Pods { namespaces, pods })
        }
        _ => Err(Error::invalid(
            location.join(field),
            "needs exactly one of namespaces and pods",
        )),
    }
}

/// `namespaceSelector` (empty when absent: every namespace) and the required `podSelector`.
fn namespaced_pod(
    location: &Location,
    field: &str,
    raw: RawNamespacedPod,
) -> Result<(LabelSelector, LabelSelector)> {
    let namespaces = match raw.namespace_selector {
        Some(s) => selector(location, &format!("{field}.namespaceSelector"), s)?,
        None => LabelSelector::default(),
    };
    let pods = raw.pod_selector.ok_or_else(|| {
        Error::invalid(location.join(&format!("{field}.podSelector")), "is missing")
    })?;
    let pods = selector(location, &format!("{field}.podSelector"), pods)?;
    Ok((namespaces, pods))
}

/// The parts of a rule of either direction.
type RuleParts = (
    Option<String>,
    Option<String>,
    &'static str,
    Option<Vec<RawPeer>>,
    Option<Vec<RawProtocol>>,
);

/// The rules of `direction` (`ingress` or `egress`), each taken apart by `parts`.
fn rules<R>(
    location: &Location,
    direction: &str,
    raw: Option<Vec<R>>,
    parts: impl Fn(R) -> RuleParts,
) -> Result<Vec<RuleSpec>> {
    let raw = raw.unwrap_or_default();
    let field = format!("spec.{direction}");
    if raw.len() > MAX_ITEMS {
        return Err(too_many(location, &field, raw.len()));
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, rule)| rule_spec(location, &format!("{field}[{i}]"), parts(rule)))
        .collect()
}

fn rule_spec(location: &Location, field: &str, parts: RuleParts) -> Result<RuleSpec> {
    let (name, action, peer_field, peers, protocols) = parts;
    let at = |f: &str| location.join(&format!("{field}.{f}"));
    if let Some(name) = &name
        && name.chars().count() > MAX_RULE_NAME
    {
        return Err(Error::invalid(
            at("name"),
            format!("is longer than {MAX_RULE_NAME} characters"),
        ));
    }
    let action = match action.as_deref() {
        None => return Err(Error::invalid(at("action"), "is missing")),
        Some("Accept") => Action::Accept,
        Some("Deny") => Action::Deny,
        Some("Pass") => Action::Pass,
        Some(other) => {
            return Err(Error::invalid(
                at("action"),
                format!(
                    "`{}` is not an action (Accept, Deny, Pass)",
                    crate::values::escape(other)
                ),
            ));
        }
    };
    let peers = peers.ok_or_else(|| Error::invalid(at(peer_field), "is missing"))?;
    check_count(location, &format!("{field}.{peer_field}"), peers.len())?;
    let peers = peers
        .into_iter()
        .enumerate()
        .map(|(j, peer)| peer_spec(location, &format!("{field}.{peer_field}[{j}]"), peer))
        .collect::<Result<Vec<_>>>()?;
    let protocols = match protocols {
        None => None,
        Some(list) => {
            check_count(location, &format!("{field}.protocols"), list.len())?;
            Some(
                list.into_iter()
                    .enumerate()
                    .map(|(k, p)| port_spec(location, &format!("{field}.protocols[{k}]"), p))
                    .collect::<Result<Vec<_>>>()?,
            )
        }
    };
    Ok(RuleSpec {
        name: name.filter(|n| !n.is_empty()),
        action,
        peers,
        protocols,
    })
}

/// A list of at least one and at most 25 items.
fn check_count(location: &Location, field: &str, count: usize) -> Result<()> {
    if count == 0 {
        return Err(Error::invalid(
            location.join(field),
            "needs at least one item",
        ));
    }
    if count > MAX_ITEMS {
        return Err(too_many(location, field, count));
    }
    Ok(())
}

fn too_many(location: &Location, field: &str, count: usize) -> Error {
    Error::invalid(
        location.join(field),
        format!("has {count} items, at most {MAX_ITEMS} are allowed"),
    )
}

/// One peer: exactly one of its fields.
fn peer_spec(location: &Location, field: &str, raw: RawPeer) -> Result<PeerSpec> {
    let at = |f: &str| format!("{field}.{f}");
    let set = [
        raw.namespaces.is_some(),
        raw.pods.is_some(),
        raw.nodes.is_some(),
        raw.networks.is_some(),
        raw.domain_names.is_some(),
    ];
    if set.iter().filter(|s| **s).count() != 1 {
        return Err(Error::invalid(
            location.join(field),
            "needs exactly one field (namespaces, pods, and for egress networks, nodes or domainNames)",
        ));
    }
    if let Some(s) = raw.namespaces {
        return Ok(PeerSpec::Namespaces(selector(
            location,
            &at("namespaces"),
            s,
        )?));
    }
    if let Some(pods) = raw.pods {
        let (namespaces, pods) = namespaced_pod(location, &at("pods"), pods)?;
        return Ok(PeerSpec::Pods { namespaces, pods });
    }
    if let Some(s) = raw.nodes {
        return Ok(PeerSpec::Nodes(selector(location, &at("nodes"), s)?));
    }
    if let Some(networks) = raw.networks {
        return networks_spec(location, &at("networks"), networks);
    }
    let names = raw.domain_names.unwrap_or_default();
    check_count(location, &at("domainNames"), names.len())?;
    unique(location, &at("domainNames"), &names)?;
    let mut patterns = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        patterns.push(DomainPattern::parse(name).ok_or_else(|| {
            Error::invalid(
                location.join(&format!("{}[{i}]", at("domainNames"))),
                format!(
                    "`{}` is not a domain name or a `*.` wildcard of one (the CRD's pattern)",
                    crate::values::escape(name)
                ),
            )
        })?);
    }
    Ok(PeerSpec::DomainNames(patterns))
}

/// `networks`: CIDRs (`isCIDR`, at most 43 characters), a set.
fn networks_spec(location: &Location, field: &str, networks: Vec<String>) -> Result<PeerSpec> {
    check_count(location, field, networks.len())?;
    unique(location, field, &networks)?;
    let mut nets = Vec::with_capacity(networks.len());
    for (i, text) in networks.iter().enumerate() {
        let at = location.join(&format!("{field}[{i}]"));
        if text.len() > MAX_CIDR {
            return Err(Error::invalid(
                at,
                format!("is longer than {MAX_CIDR} characters"),
            ));
        }
        nets.push(cidr(text).ok_or_else(|| {
            Error::invalid(
                at,
                format!(
                    "`{}` is not a CIDR such as 10.0.0.0/8 or fd00::/8 (Invalid CIDR format provided)",
                    crate::values::escape(text)
                ),
            )
        })?);
    }
    Ok(PeerSpec::Networks(nets))
}

/// A CIDR as the API server's CEL `isCIDR` reads it: an address and a prefix length within
/// its family, host bits allowed; no IPv4-mapped IPv6 address and no zone.
fn cidr(text: &str) -> Option<IpNet> {
    let net: IpNet = text.parse().ok()?;
    if let IpNet::V6(v6) = net
        && v6.addr().to_ipv4_mapped().is_some()
    {
        return None;
    }
    Some(net.trunc())
}

/// Fails on the first item of a `listType=set` list that repeats an earlier one.
fn unique(location: &Location, field: &str, items: &[String]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item) {
            return Err(Error::invalid(
                location.join(&format!("{field}[{i}]")),
                format!("`{}` is given twice", crate::values::escape(item)),
            ));
        }
    }
    Ok(())
}

/// One protocol match: exactly one of `tcp`, `udp`, `sctp` and `destinationNamedPort`.
fn port_spec(location: &Location, field: &str, raw: RawProtocol) -> Result<PortSpec> {
    let set = [
        raw.tcp.is_some(),
        raw.udp.is_some(),
        raw.sctp.is_some(),
        raw.destination_named_port.is_some(),
    ];
    if set.iter().filter(|s| **s).count() != 1 {
        return Err(Error::invalid(
            location.join(field),
            "needs exactly one of tcp, udp, sctp and destinationNamedPort",
        ));
    }
    if let Some(name) = raw.destination_named_port {
        if name.is_empty() {
            return Err(Error::invalid(
                location.join(&format!("{field}.destinationNamedPort")),
                "is empty",
            ));
        }
        return Ok(PortSpec::Named(name));
    }
    let (protocol, key, ports) = match (raw.tcp, raw.udp, raw.sctp) {
        (Some(p), _, _) => (Protocol::Tcp, "tcp", p),
        (_, Some(p), _) => (Protocol::Udp, "udp", p),
        (_, _, Some(p)) => (Protocol::Sctp, "sctp", p),
        (None, None, None) => {
            return Err(Error::invalid(location.join(field), "needs a protocol"));
        }
    };
    let field = format!("{field}.{key}");
    let port = ports.destination_port.ok_or_else(|| {
        Error::invalid(
            location.join(&format!("{field}.destinationPort")),
            "is missing",
        )
    })?;
    let field = format!("{field}.destinationPort");
    let number = |value: i64, name: &str| -> Result<u16> {
        u16::try_from(value)
            .ok()
            .filter(|&n| n != 0)
            .ok_or_else(|| {
                Error::invalid(
                    location.join(&format!("{field}.{name}")),
                    format!("{value} is not a port number from 1 to 65535"),
                )
            })
    };
    match (port.number, port.range) {
        (Some(n), None) => {
            let n = number(n, "number")?;
            Ok(PortSpec::Ports(protocol, n, n))
        }
        (None, Some(range)) => {
            let start = range.start.ok_or_else(|| {
                Error::invalid(location.join(&format!("{field}.range.start")), "is missing")
            })?;
            let end = range.end.ok_or_else(|| {
                Error::invalid(location.join(&format!("{field}.range.end")), "is missing")
            })?;
            let (start, end) = (number(start, "range.start")?, number(end, "range.end")?);
            if start >= end {
                return Err(Error::invalid(
                    location.join(&format!("{field}.range")),
                    format!(
                        "start {start} is not less than end {end} (Start port must be less than End port)"
                    ),
                ));
            }
            Ok(PortSpec::Ports(protocol, start, end))
        }
        _ => Err(Error::invalid(
            location.join(&field),
            "needs exactly one of number and range",
        )),
    }
}

/// A label selector checked as the evaluator compiles it (operators, values), converted.
fn selector(location: &Location, field: &str, raw: RawSelector) -> Result<LabelSelector> {
    let selector = LabelSelector {
        match_labels: raw.match_labels,
        match_expressions: raw.match_expressions.map(|expressions| {
            expressions
                .into_iter()
                .map(|e| LabelSelectorRequirement {
                    key: e.key,
                    operator: e.operator,
                    values: e.values,
                })
                .collect()
        }),
    };
    Selector::compile(&mut Interner::default(), &selector, &location.join(field))?;
    Ok(selector)
}

/// The object as the CRD declares it; `status` is the implementation's and not read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Raw {
    #[allow(dead_code, reason = "checked by the caller")]
    api_version: String,
    #[allow(dead_code, reason = "checked by the caller")]
    kind: String,
    #[serde(default)]
    metadata: ObjectMeta,
    spec: Option<RawSpec>,
    #[allow(dead_code, reason = "the implementation's, not read")]
    status: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSpec {
    tier: Option<String>,
    priority: Option<i64>,
    subject: Option<RawSubject>,
    ingress: Option<Vec<RawIngressRule>>,
    egress: Option<Vec<RawEgressRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSubject {
    namespaces: Option<RawSelector>,
    pods: Option<RawNamespacedPod>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawNamespacedPod {
    namespace_selector: Option<RawSelector>,
    pod_selector: Option<RawSelector>,
}

/// A `metav1.LabelSelector`, strictly: a misspelt `matchLabel` would otherwise leave an
/// empty selector, which selects everything.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSelector {
    match_labels: Option<BTreeMap<String, String>>,
    match_expressions: Option<Vec<RawRequirement>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    key: String,
    operator: String,
    values: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawIngressRule {
    name: Option<String>,
    action: Option<String>,
    from: Option<Vec<RawIngressPeer>>,
    protocols: Option<Vec<RawProtocol>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEgressRule {
    name: Option<String>,
    action: Option<String>,
    to: Option<Vec<RawPeer>>,
    protocols: Option<Vec<RawProtocol>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawIngressPeer {
    namespaces: Option<RawSelector>,
    pods: Option<RawNamespacedPod>,
}

/// An egress peer; an ingress peer has only its first two fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPeer {
    namespaces: Option<RawSelector>,
    pods: Option<RawNamespacedPod>,
    nodes: Option<RawSelector>,
    networks: Option<Vec<String>>,
    domain_names: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawProtocol {
    tcp: Option<RawPorts>,
    udp: Option<RawPorts>,
    sctp: Option<RawPorts>,
    destination_named_port: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPorts {
    destination_port: Option<RawPort>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPort {
    number: Option<i64>,
    range: Option<RawRange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    start: Option<i64>,
    end: Option<i64>,
}
