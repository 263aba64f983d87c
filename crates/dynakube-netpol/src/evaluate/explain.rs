//! One question answered: is a connection from one end to a port of another allowed, and what
//! decided each side? The ends and the port are read as `dynakube-netpol explain` takes them;
//! the answer is words for people ([`Explanation`]'s `Display`) or JSON for tools
//! ([`Explanation::to_json`]).

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::Decision;
use super::decision::Outcome;
use super::{Connection, ConnectionEnd, Index, NAMESPACE_NAME_LABEL, Query, Verdict};
use crate::advice::Setting;
use crate::error::{Error, Result};
use crate::matrix::Protocol;
use crate::values::{HostName, escape};

/// The answer to one question: the connection, the network plugin assumed, and each side's
/// decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The source, as named.
    from: String,
    /// The destination, as named (`NAME=IP` for a destination looked up by name).
    to: String,
    /// The DNS name the destination was looked up by.
    name: Option<String>,
    /// The destination port.
    port: u16,
    /// The protocol.
    protocol: Protocol,
    /// The network plugin.
    plugin: super::NetworkPlugin,
    /// The decision.
    verdict: Verdict,
    /// How the cluster enforces the policies otherwise than as written ([`Index::unenforced`]),
    /// and what the cluster dump leaves unknown of the ends.
    notes: Vec<String>,
    /// The policies deny the connection, and the cluster's Cilium agent, in audit mode, lets
    /// it through ([`Index::audits`]).
    audited: bool,
}

/// Answers whether the connection from `from` to `port` on `to` is allowed under the policies
/// of `index`, and what decided the source's egress and the destination's ingress.
///
/// An end is `NAMESPACE/POD` (a pod of the index), `node/NAME` (a node's host network), or an
/// IP address that is no pod's; the destination may also be `NAME=IP`, an address looked up by
/// the DNS name `NAME` (for ClusterNetworkPolicy `domainNames` and Cilium's `toFQDNs`). The
/// port is `NUMBER/PROTOCOL`: `443/TCP`, `53/UDP`, `9999/SCTP`. What the index does not know,
/// or what is not so written, is an [`Error::Setting`] naming the part of the question
/// ([`Setting::From`], [`Setting::To`] or [`Setting::Port`]), which a front end words as its own.
pub fn explain(index: &Index, from: &str, to: &str, port: &str) -> Result<Explanation> {
    let (source, _) = end(index, Setting::From, from, false)?;
    let (destination, name) = end(index, Setting::To, to, true)?;
    let (port, protocol) = port_protocol(port)?;
    let connection = Connection {
        from: source,
        to: destination,
        port,
        protocol,
    };
    let verdict = index.decide(&Query {
        connection: &connection,
        name: name.as_ref().map(HostName::as_str),
    });
    Ok(Explanation {
        from: index.end_name(&source),
        to: match &name {
            Some(name) => format!("{name}={}", index.end_name(&destination)),
            None => index.end_name(&destination),
        },
        name: name.map(|n| n.as_str().to_string()),
        port,
        protocol,
        plugin: index.network_plugin(),
        audited: index.audits() && !verdict.allowed(),
        verdict,
        notes: notes(index, &connection),
    })
}

/// The notes of an answer: how the cluster enforces the policies otherwise than as written,
/// then what the cluster dump leaves unknown of each end, each once.
fn notes(index: &Index, connection: &Connection) -> Vec<String> {
    let mut notes = index.unenforced().to_vec();
    for end in [connection.from, connection.to] {
        for note in unknown(index, end) {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    notes
}

/// What the cluster dump leaves unknown of `end`, in words: the labels of a pod's namespace
/// that it does not list; the addresses and labels of a pod's node that it does not list;
/// whether an address is a node's, where it lists no nodes at all.
fn unknown(index: &Index, end: ConnectionEnd) -> Vec<String> {
    match end {
        ConnectionEnd::Pod(pod) => {
            let namespace = index.implied_namespace(pod).map(|namespace| {
                format!(
                    "namespace {namespace} is not in the cluster dump: its only label is taken to be {NAMESPACE_NAME_LABEL}={namespace}, the one the API server gives every namespace"
                )
            });
            let node = index.unlisted_node(pod).map(|node| {
                format!(
                    "node {node} is not in the cluster dump: its addresses and labels are not known, so connections with its host network are not recognised as such"
                )
            });
            namespace.into_iter().chain(node).collect()
        }
        ConnectionEnd::Ip(address) if !index.nodes_listed() => vec![format!(
            "the cluster dump lists no nodes: {address} is taken for an address outside the cluster, though it may be a node's"
        )],
        ConnectionEnd::Ip(_) | ConnectionEnd::Node(_) => Vec::new(),
    }
}

/// The error of the question's part `part`.
fn invalid(part: Setting, reason: String) -> Error {
    Error::Setting {
        setting: part,
        reason,
    }
}

/// The end `text` names, and for a destination `NAME=IP`, the name.
fn end(
    index: &Index,
    option: Setting,
    text: &str,
    named: bool,
) -> Result<(ConnectionEnd, Option<HostName>)> {
    let shown = escape(text);
    if let Some((name, address)) = text.split_once('=') {
        if !named {
            return Err(invalid(
                option,
                format!("`{shown}`: only a destination can be NAME=IP"),
            ));
        }
        let name = HostName::parse(name)
            .map_err(|e| invalid(option, format!("`{}` {e}", escape(name))))?;
        let address: IpAddr = address.parse().map_err(|_| {
            invalid(
                option,
                format!("`{}` is not an IP address (NAME=IP)", escape(address)),
            )
        })?;
        return Ok((address_end(index, option, address)?, Some(name)));
    }
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok((address_end(index, option, address)?, None));
    }
    let Some((namespace, name)) = text.split_once('/') else {
        return Err(invalid(
            option,
            format!("`{shown}` is neither NAMESPACE/POD, node/NAME nor an IP address"),
        ));
    };
    let pod = index.pod_id(namespace, name);
    let node = (namespace == "node").then(|| index.node_id(name)).flatten();
    match (pod, node) {
        (Some(_), Some(_)) => Err(invalid(
            option,
            format!("`{shown}` names both a pod of namespace node and a node"),
        )),
        (Some(id), None) => Ok((ConnectionEnd::Pod(id), None)),
        (None, Some(id)) => Ok((ConnectionEnd::Node(id), None)),
        (None, None) if namespace == "node" => Err(invalid(
            option,
            format!("`{shown}`: the cluster dump lists no node {}", escape(name)),
        )),
        (None, None) => Err(invalid(
            option,
            match index.ended_pod(namespace, name) {
                Some(ended) => format!(
                    "`{shown}` has ended (status.phase {}): an ended pod makes and takes no \
                     connections, and its address may be another pod's now",
                    ended.phase()
                ),
                None => format!("`{shown}`: the cluster dump lists no such pod"),
            },
        )),
    }
}

/// An address as an end: not the address of a pod outside the host network, which is to be
/// named as the pod, nor a Service's cluster IP, which kube-proxy or Cilium translates to an
/// endpoint's address before any policy sees the connection.
fn address_end(index: &Index, option: Setting, address: IpAddr) -> Result<ConnectionEnd> {
    if let Some(service) = index.service_at(&address) {
        return Err(invalid(
            option,
            format!(
                "{address} is the cluster IP of Service {}: policies decide the connection at \
                 the endpoint it is sent to; name one of its pods",
                escape(service)
            ),
        ));
    }
    match index.pod_at(&address) {
        Some(id) => Err(invalid(
            option,
            format!(
                "{address} is the address of pod {}: name the pod",
                escape(&index.end_name(&ConnectionEnd::Pod(id)))
            ),
        )),
        None => Ok(ConnectionEnd::Ip(address)),
    }
}

/// `443/TCP` as a port and protocol.
fn port_protocol(text: &str) -> Result<(u16, Protocol)> {
    let shown = escape(text);
    let wrong = || {
        invalid(
            Setting::Port,
            format!("`{shown}` is not PORT/PROTOCOL such as 443/TCP, 53/UDP or 9999/SCTP"),
        )
    };
    let (number, protocol) = text.split_once('/').ok_or_else(wrong)?;
    let protocol = Protocol::parse(&protocol.to_ascii_uppercase()).ok_or_else(wrong)?;
    let port = number
        .parse::<u16>()
        .ok()
        .filter(|&n| n != 0 && number.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            invalid(
                Setting::Port,
                format!("`{}` is not a port number from 1 to 65535", escape(number)),
            )
        })?;
    Ok((port, protocol))
}

impl Explanation {
    /// Whether the connection goes through: both sides allow it, or the policies deny it and
    /// the cluster's Cilium agent only audits.
    pub fn allowed(&self) -> bool {
        self.verdict.allowed() || self.audited
    }

    /// Whether the policies deny the connection and the cluster's Cilium agent, in audit mode,
    /// lets it through: the sides say what they would drop.
    pub fn audited(&self) -> bool {
        self.audited
    }

    /// `allowed`, `denied` (a side denies), or `undefined` (no side denies, and policies of
    /// the same priority leave a side undefined).
    fn verdict(&self) -> &'static str {
        let sides = [&self.verdict.egress, &self.verdict.ingress];
        if self.allowed() {
            "allowed"
        } else if sides.iter().any(|s| s.verdict() == "denied") {
            "denied"
        } else {
            "undefined"
        }
    }

    /// The answer as JSON: `{"allowed": bool, "egress": {...}, "ingress": {...}}`, with the
    /// overall `verdict` and the connection; each side has `allowed`, `verdict` (`allowed`, `denied` or `undefined`),
    /// `reason` (`rule`, `isolated`, `not-isolated`, `not-subject`, `conflict` or `local`),
    /// `tier`,
    /// the deciding rules in `by` (each with `dialect`, `policy`, `priority`, `rule`,
    /// `ruleName`, `action` and `note`), the Pass rules on the way in `passed`, and `text`;
    /// `notes`, where there are any, says which policies given the cluster does not enforce
    /// and what the cluster dump leaves unknown of the ends (a namespace's labels, a node);
    /// `audited` is there, true, where the policies deny the connection and the cluster's
    /// Cilium agent lets it through in audit mode.
    pub fn to_json(&self) -> String {
        let value = ExplanationJson {
            allowed: self.allowed(),
            audited: self.audited,
            verdict: self.verdict(),
            from: &self.from,
            to: &self.to,
            name: self.name.as_deref(),
            port: self.port,
            protocol: self.protocol.name(),
            network_plugin: self.plugin.name(),
            egress: self.verdict.egress.to_json(),
            ingress: self.verdict.ingress.to_json(),
            notes: &self.notes,
        };
        serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
    }
}

/// The answer as JSON, its fields in this order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExplanationJson<'a> {
    allowed: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    audited: bool,
    verdict: &'static str,
    from: &'a str,
    to: &'a str,
    name: Option<&'a str>,
    port: u16,
    protocol: &'static str,
    network_plugin: &'static str,
    egress: super::decision::SideJson<'a>,
    ingress: super::decision::SideJson<'a>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

/// One side in words, with every rule that decided it on a line of its own.
fn side(f: &mut fmt::Formatter<'_>, what: &str, decision: &Decision) -> fmt::Result {
    let tier = decision
        .tier
        .map(|t| format!(" in the {} tier", t.name()))
        .unwrap_or_default();
    match decision.outcome {
        Outcome::NotSubject => writeln!(f, "{what}: allowed, not subject to policy")?,
        Outcome::NotIsolated => writeln!(f, "{what}: allowed, no policy isolates it")?,
        Outcome::Local => writeln!(
            f,
            "{what}: allowed, local traffic the network plugin always allows"
        )?,
        Outcome::Allowed => writeln!(f, "{what}: allowed{tier} by")?,
        Outcome::Denied => writeln!(f, "{what}: denied{tier} by")?,
        // Isolated by no policy: the network plugin's enforcement mode (see the notes).
        Outcome::Isolated if decision.by.is_empty() => writeln!(
            f,
            "{what}: denied{tier}: isolated by the network plugin's enforcement mode, and no rule allows it"
        )?,
        Outcome::Isolated => writeln!(
            f,
            "{what}: denied{tier}: isolated, and no rule of these policies allows it"
        )?,
        Outcome::Undefined => writeln!(
            f,
            "{what}: undefined{tier}: policies of the same priority decide differently"
        )?,
    }
    for decider in &decision.by {
        writeln!(f, "  {}", escape(&decider.full()))?;
    }
    for decider in &decision.passed {
        writeln!(f, "  after Pass by {}", escape(&decider.full()))?;
    }
    Ok(())
}

impl fmt::Display for Explanation {
    /// The verdict and the connection on the first line, then each side and what decided it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}{}: {} -> {} {}/{} (network plugin {})",
            self.verdict(),
            if self.audited {
                " (audited: the policies deny it, the Cilium agent only logs it)"
            } else {
                ""
            },
            escape(&self.from),
            escape(&self.to),
            self.port,
            self.protocol.name(),
            self.plugin.name()
        )?;
        side(
            f,
            &format!("egress of {}", escape(&self.from)),
            &self.verdict.egress,
        )?;
        side(
            f,
            &format!("ingress of {}", escape(&self.to)),
            &self.verdict.ingress,
        )?;
        self.notes
            .iter()
            .try_for_each(|note| writeln!(f, "note: {}", escape(note)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{Options, read_cluster, read_policies};
    use crate::source::Limits;

    const CLUSTER: &str = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
- {apiVersion: v1, kind: Node, metadata: {name: n1}, status: {addresses: [{type: InternalIP, address: 192.0.2.1}]}}
- {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop, labels: {app: web}}, status: {podIP: 10.0.0.1}}
- {apiVersion: v1, kind: Pod, metadata: {name: old-db, namespace: shop, labels: {app: db}}, status: {phase: Succeeded, podIP: 10.0.0.2}}
- {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: shop, labels: {app: db}}, status: {phase: Running, podIP: 10.0.0.2}}
- {apiVersion: v1, kind: Pod, metadata: {name: report, namespace: shop, labels: {app: db}}, status: {phase: Failed, podIP: 10.0.0.9}}
- {apiVersion: v1, kind: Service, metadata: {name: db, namespace: shop}, spec: {selector: {app: db}, clusterIP: 10.96.0.20}}
- {apiVersion: v1, kind: Service, metadata: {name: db-headless, namespace: shop}, spec: {selector: {app: db}, clusterIP: None}}
- {apiVersion: v1, kind: Pod, metadata: {name: probe, namespace: tools}, status: {podIP: 10.0.0.5}}
- {apiVersion: v1, kind: Pod, metadata: {name: prober, namespace: tools}, spec: {nodeName: n2}, status: {podIP: 10.0.0.6}}
- {apiVersion: v1, kind: Pod, metadata: {name: agent, namespace: infra}, spec: {hostNetwork: true, nodeName: n1}, status: {podIP: 192.0.2.1}}
"#;

    const POLICIES: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: egress}
spec:
  tier: Admin
  priority: 3
  subject: {namespaces: {}}
  egress:
  - {name: docs, action: Accept, to: [{domainNames: ["*.example.com"]}]}
  - {action: Deny, to: [{networks: [0.0.0.0/0]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}
"#;

    fn index() -> Index {
        let cluster = read_cluster("pods.yaml", CLUSTER, &Limits::default()).unwrap();
        let files = read_policies("policies.yaml", POLICIES, &Limits::default()).unwrap();
        Index::with_options(cluster, &files, Options::default()).unwrap()
    }

    #[test]
    fn answers_in_words_and_json() {
        let index = index();
        let answer = explain(&index, "shop/web", "shop/db", "5432/TCP").unwrap();
        assert!(answer.allowed());
        assert_eq!(
            answer.to_string(),
            "allowed: shop/web -> shop/db 5432/TCP (network plugin generic)\negress of shop/web: allowed, no policy isolates it\ningress of shop/db: allowed in the NetworkPolicy tier by\n  NetworkPolicy shop/db spec.ingress[0]\n"
        );
        let answer = explain(&index, "shop/db", "docs.example.com=203.0.113.9", "443/tcp").unwrap();
        assert!(answer.allowed());
        let json: serde_json::Value = serde_json::from_str(&answer.to_json()).unwrap();
        assert_eq!(json["allowed"], true);
        assert_eq!(json["to"], "docs.example.com=203.0.113.9");
        assert_eq!(json["egress"]["tier"], "Admin");
        assert_eq!(json["egress"]["by"][0]["dialect"], "ClusterNetworkPolicy");
        assert_eq!(json["egress"]["by"][0]["rule"], "spec.egress[0]");
        assert_eq!(json["egress"]["by"][0]["ruleName"], "docs");
        assert_eq!(json["egress"]["by"][0]["action"], "Accept");
        assert_eq!(json["ingress"]["reason"], "not-subject");
        // Without the name, the Deny rule decides.
        let answer = explain(&index, "shop/db", "203.0.113.9", "443/TCP").unwrap();
        assert!(!answer.allowed());
        assert!(answer.to_string().starts_with("denied: "), "{answer}");
        let json: serde_json::Value = serde_json::from_str(&answer.to_json()).unwrap();
        assert_eq!(json["verdict"], "denied");
        assert_eq!(json["egress"]["by"][0]["rule"], "spec.egress[1]");
        // The address of a pod that has ended, which no running pod has: an address outside
        // the pods, which the policies of the pods labelled as it was do not isolate.
        let answer = explain(&index, "shop/web", "10.0.0.9", "5432/TCP").unwrap();
        assert!(answer.allowed());
        assert_eq!(
            answer.to_string().lines().nth(2),
            Some("ingress of 10.0.0.9: allowed, not subject to policy")
        );
        // A node's host network.
        let answer = explain(&index, "node/n1", "shop/web", "8080/TCP").unwrap();
        assert!(answer.allowed());
        assert_eq!(
            answer.to_string().lines().nth(1),
            Some("egress of node/n1: allowed, not subject to policy")
        );
    }

    /// A pod's namespace that the dump does not list has only the label the API server gives
    /// it, and a pod's node that the dump does not list has no known addresses; an answer
    /// about the pod says so, once, but not of the namespace of a pod in the host network,
    /// which selectors do not see by labels.
    #[test]
    fn an_end_of_a_namespace_or_node_not_listed_is_noted() {
        let index = index();
        let namespace = "note: namespace tools is not in the cluster dump: its only label is taken to be kubernetes.io/metadata.name=tools, the one the API server gives every namespace\n";
        let node = "note: node n2 is not in the cluster dump: its addresses and labels are not known, so connections with its host network are not recognised as such\n";
        for (from, to, notes) in [
            ("shop/web", "tools/probe", &[namespace][..]),
            ("tools/probe", "tools/prober", &[namespace, node]),
            ("tools/prober", "shop/db", &[namespace, node]),
            ("shop/web", "shop/db", &[]),
            ("infra/agent", "shop/web", &[]),
            ("shop/web", "infra/agent", &[]),
        ] {
            let answer = explain(&index, from, to, "8080/TCP").unwrap();
            let text = answer.to_string();
            let noted: Vec<&str> = text
                .split_inclusive('\n')
                .filter(|l| l.starts_with("note: "))
                .collect();
            assert_eq!(noted, notes, "{text}");
            let json: serde_json::Value = serde_json::from_str(&answer.to_json()).unwrap();
            assert_eq!(json["notes"].as_array().map_or(0, Vec::len), notes.len());
        }
        // An address, where the cluster lists nodes, is outside it; where it lists none, it
        // may be a node's.
        let answer = explain(&index, "192.0.2.7", "shop/web", "8080/TCP").unwrap();
        assert!(!answer.to_string().contains("note: "), "{answer}");
        let cluster = "{apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop}, spec: {nodeName: n1}, status: {podIP: 10.0.0.1}}]}";
        let cluster = read_cluster("pods.yaml", cluster, &Limits::default()).unwrap();
        let files = read_policies("policies.yaml", POLICIES, &Limits::default()).unwrap();
        let index = Index::with_options(cluster, &files, Options::default()).unwrap();
        let answer = explain(&index, "192.0.2.7", "8.8.8.8", "443/TCP").unwrap();
        let text = answer.to_string();
        let noted: Vec<&str> = (text.lines())
            .filter(|l| l.starts_with("note: the cluster dump lists no nodes: "))
            .map(|l| l.rsplit_once(": ").unwrap().1)
            .collect();
        assert_eq!(
            noted,
            [
                "192.0.2.7 is taken for an address outside the cluster, though it may be a node's",
                "8.8.8.8 is taken for an address outside the cluster, though it may be a node's",
            ]
        );
    }

    #[allow(
        clippy::too_many_lines,
        reason = "a table of cases, one per line of thought"
    )]
    #[test]
    fn questions_it_cannot_answer_name_the_option() {
        let index = index();
        for (from, to, port, option, reason) in [
            (
                "shop/nope",
                "shop/db",
                "80/TCP",
                Setting::From,
                "`shop/nope`: the cluster dump lists no such pod",
            ),
            (
                "shop/web",
                "shop/report",
                "80/TCP",
                Setting::To,
                "`shop/report` has ended (status.phase Failed): an ended pod makes and takes no connections, and its address may be another pod's now",
            ),
            (
                "shop/old-db",
                "shop/web",
                "80/TCP",
                Setting::From,
                "`shop/old-db` has ended (status.phase Succeeded): an ended pod makes and takes no connections, and its address may be another pod's now",
            ),
            (
                "shop/web",
                "10.96.0.20",
                "5432/TCP",
                Setting::To,
                "10.96.0.20 is the cluster IP of Service shop/db: policies decide the connection at the endpoint it is sent to; name one of its pods",
            ),
            (
                "shop/web",
                "db.shop.svc.cluster.local=10.96.0.20",
                "5432/TCP",
                Setting::To,
                "10.96.0.20 is the cluster IP of Service shop/db: policies decide the connection at the endpoint it is sent to; name one of its pods",
            ),
            (
                "shop/web",
                "node/n9",
                "80/TCP",
                Setting::To,
                "`node/n9`: the cluster dump lists no node n9",
            ),
            (
                "shop/web",
                "db",
                "80/TCP",
                Setting::To,
                "`db` is neither NAMESPACE/POD, node/NAME nor an IP address",
            ),
            (
                "a.example=1.2.3.4",
                "shop/db",
                "80/TCP",
                Setting::From,
                "`a.example=1.2.3.4`: only a destination can be NAME=IP",
            ),
            (
                "shop/web",
                "10.0.0.2",
                "80/TCP",
                Setting::To,
                "10.0.0.2 is the address of pod shop/db: name the pod",
            ),
            (
                "shop/web",
                "x_y=1.2.3.4",
                "80/TCP",
                Setting::To,
                "`x_y` is not a host name (RFC 1123: labels of letters, digits and `-`, at most 63 characters, not starting or ending with `-`)",
            ),
            (
                "shop/web",
                "shop/db",
                "80",
                Setting::Port,
                "`80` is not PORT/PROTOCOL such as 443/TCP, 53/UDP or 9999/SCTP",
            ),
            (
                "shop/web",
                "shop/db",
                "80/ICMP",
                Setting::Port,
                "`80/ICMP` is not PORT/PROTOCOL such as 443/TCP, 53/UDP or 9999/SCTP",
            ),
            (
                "shop/web",
                "shop/db",
                "0/TCP",
                Setting::Port,
                "`0` is not a port number from 1 to 65535",
            ),
            (
                "shop/web",
                "shop/db",
                "+80/TCP",
                Setting::Port,
                "`+80` is not a port number from 1 to 65535",
            ),
        ] {
            match explain(&index, from, to, port) {
                Err(error @ Error::Setting { setting, .. }) => {
                    assert_eq!(setting, option);
                    let neutral = format!("the setting `{}`: {reason}", option.name());
                    assert_eq!(error.to_string(), neutral);
                }
                other => panic!("{from} {to} {port}: {other:?}"),
            }
        }
    }
}
