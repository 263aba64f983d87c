//! Compiling a `networking.k8s.io/v1` NetworkPolicy into the form the evaluator matches fast,
//! rejecting what the API server would reject.

use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::PolicyRef;
use super::labels::{Interner, LabelSet, Selector};
use crate::error::{Error, Location};
use crate::matrix::Protocol;

/// A set of namespaces by index, as a bit set.
#[derive(Debug, Clone)]
pub(super) struct NamespaceSet {
    words: Vec<u64>,
}

impl NamespaceSet {
    /// Whether namespace `id` is in the set.
    pub(super) fn contains(&self, id: usize) -> bool {
        self.words
            .get(id / 64)
            .is_some_and(|word| word & (1 << (id % 64)) != 0)
    }
}

/// Which namespaces a selector peer admits.
#[derive(Debug, Clone)]
pub(super) enum Namespaces {
    /// The policy's own namespace (no `namespaceSelector`).
    Own,
    /// Every namespace (`namespaceSelector: {}`).
    All,
    /// The namespaces whose labels the `namespaceSelector` matched.
    Set(NamespaceSet),
}

/// An `ipBlock`: the CIDR minus its exceptions.
#[derive(Debug, Clone)]
pub(super) struct Block {
    /// The CIDR, host bits cleared.
    pub(super) cidr: IpNet,
    /// The exceptions, each within the CIDR.
    pub(super) except: Vec<IpNet>,
}

impl Block {
    /// Whether `address` is in the CIDR and in none of the exceptions.
    pub(super) fn contains(&self, address: &IpAddr) -> bool {
        self.cidr.contains(address) && !self.except.iter().any(|e| e.contains(address))
    }
}

/// One element of `from` or `to`.
#[derive(Debug, Clone)]
pub(super) enum PeerMatch {
    /// Pods chosen by namespace and pod selectors (an absent `podSelector` is the empty one).
    Pods {
        /// The namespaces.
        namespaces: Namespaces,
        /// The pods within them.
        pods: Selector,
    },
    /// Addresses.
    Block(Block),
}

/// The port part of one element of `ports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PortSpec {
    /// No `port`: every port of the protocol.
    Any,
    /// `port` with an optional `endPort`, inclusive.
    Range(u16, u16),
    /// A named port (interned name), resolved on the destination pod.
    Named(u32),
}

/// One element of `ports`.
#[derive(Debug, Clone, Copy)]
pub(super) struct PortMatch {
    /// The protocol, TCP when not given.
    pub(super) protocol: Protocol,
    /// The ports.
    pub(super) port: PortSpec,
}

/// One ingress or egress rule.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    /// The peers; `None` when `from`/`to` is absent or empty, which admits every peer.
    pub(super) peers: Option<Vec<PeerMatch>>,
    /// The ports; `None` when `ports` is absent or empty, which admits every port and protocol.
    pub(super) ports: Option<Vec<PortMatch>>,
}

/// A compiled policy.
#[derive(Debug, Clone)]
pub(super) struct Policy {
    /// Its namespace and name.
    pub(super) reference: PolicyRef,
    /// The index of its namespace.
    pub(super) namespace: usize,
    /// Its `podSelector`.
    pub(super) selector: Selector,
    /// Its ingress rules when its policy types include Ingress.
    pub(super) ingress: Option<Vec<Rule>>,
    /// Its egress rules when its policy types include Egress.
    pub(super) egress: Option<Vec<Rule>>,
}

/// What compiling needs to know about the cluster.
pub(super) struct Context<'a> {
    /// The interner shared with the pods.
    pub(super) interner: &'a mut Interner,
    /// The labels of every namespace, by index.
    pub(super) namespace_labels: &'a [LabelSet],
    /// The namespaces of the namespace selectors met so far: many policies repeat one.
    pub(super) resolved: foldhash::HashMap<Selector, Namespaces>,
    /// Whether Cilium enforces the policies (see [`pod_selector`]).
    pub(super) cilium: bool,
}

/// The label by which Cilium knows an endpoint's namespace.
const CILIUM_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";

/// Compiles a pod selector that selects in the policy's own namespace only (the policy's
/// `podSelector`, a peer's without `namespaceSelector`), found at `location`, after checking
/// its keys and values as the API server does ([`super::meta::check_selector`]).
///
/// Cilium makes such a selector its own namespace's by setting the namespace label in its
/// `matchLabels` (`parsePodSelector`, `pkg/k8s/network_policy.go`), over any value the policy
/// gives it; the evaluator drops that requirement, leaving the namespace to the policy's.
fn pod_selector(
    context: &mut Context<'_>,
    selector: &LabelSelector,
    location: &Location,
) -> Result<Selector, Error> {
    super::meta::check_selector(location, selector)?;
    let names_namespace = (selector.match_labels.as_ref())
        .is_some_and(|labels| labels.contains_key(CILIUM_NAMESPACE_LABEL));
    if context.cilium && names_namespace {
        let mut selector = selector.clone();
        if let Some(labels) = selector.match_labels.as_mut() {
            labels.remove(CILIUM_NAMESPACE_LABEL);
        }
        return Selector::compile(context.interner, &selector, location);
    }
    Selector::compile(context.interner, selector, location)
}

/// The namespace and name of a policy, checked, and the location its errors name.
pub(super) fn identify(policy: &NetworkPolicy) -> Result<(PolicyRef, Location), Error> {
    let namespace = policy.metadata.namespace.clone().unwrap_or_default();
    let name = policy.metadata.name.clone().unwrap_or_default();
    let shown = |s: &str| {
        if s.is_empty() {
            "?".to_string()
        } else {
            s.to_string()
        }
    };
    let location = Location::new(
        format!("NetworkPolicy {}/{}", shown(&namespace), shown(&name)),
        None,
        "",
    );
    if name.is_empty() {
        return Err(Error::invalid(location.at("metadata.name"), "is missing"));
    }
    if namespace.is_empty() {
        return Err(Error::invalid(
            location.at("metadata.namespace"),
            "is missing",
        ));
    }
    Ok((PolicyRef { namespace, name }, location))
}

/// Compiles `policy`, whose namespace has index `namespace`.
pub(super) fn policy(
    context: &mut Context<'_>,
    policy: &NetworkPolicy,
    namespace: usize,
) -> Result<Policy, Error> {
    let (reference, location) = identify(policy)?;
    let spec = policy
        .spec
        .as_ref()
        .ok_or_else(|| Error::invalid(location.at("spec"), "is missing"))?;
    // An absent (or null) `podSelector` is the empty selector: the API server decodes it so
    // (the field is a struct, not a pointer), and the API reference says since Kubernetes 1.34
    // "This field is optional. If it is not specified, it defaults to an empty selector."
    let selector = match &spec.pod_selector {
        Some(selector) => pod_selector(context, selector, &location.at("spec.podSelector"))?,
        None => Selector::default(),
    };

    // The API server's defaulting: without policy types, Ingress always, Egress when the
    // policy has at least one egress rule.
    let (mut affects_ingress, mut affects_egress) = (false, false);
    match spec.policy_types.as_deref() {
        None | Some([]) => {
            affects_ingress = true;
            affects_egress = spec.egress.as_ref().is_some_and(|rules| !rules.is_empty());
        }
        Some(types) => {
            // `ValidateNetworkPolicySpec`: at most two, each once.
            if types.len() > 2 {
                return Err(Error::invalid(
                    location.at("spec.policyTypes"),
                    format!(
                        "lists {} policy types: there are two (Ingress, Egress)",
                        types.len()
                    ),
                ));
            }
            for (i, kind) in types.iter().enumerate() {
                if types[..i].contains(kind) {
                    return Err(Error::invalid(
                        location.at(format!("spec.policyTypes[{i}]")),
                        format!("`{kind}` is listed twice"),
                    ));
                }
                match kind.as_str() {
                    "Ingress" => affects_ingress = true,
                    "Egress" => affects_egress = true,
                    other => {
                        return Err(Error::invalid(
                            location.at(format!("spec.policyTypes[{i}]")),
                            format!("`{other}` is not a policy type (Ingress, Egress)"),
                        ));
                    }
                }
            }
        }
    }

    // Rules of a direction the policy does not affect are still checked, as the API server does.
    let mut ingress = Vec::new();
    for (i, rule) in spec.ingress.iter().flatten().enumerate() {
        let at = format!("spec.ingress[{i}]");
        ingress.push(compile_rule(
            context,
            &location,
            (&at, "from", rule.from.as_deref()),
            rule.ports.as_deref(),
        )?);
    }
    let mut egress = Vec::new();
    for (i, rule) in spec.egress.iter().flatten().enumerate() {
        let at = format!("spec.egress[{i}]");
        egress.push(compile_rule(
            context,
            &location,
            (&at, "to", rule.to.as_deref()),
            rule.ports.as_deref(),
        )?);
    }
    Ok(Policy {
        reference,
        namespace,
        selector,
        ingress: affects_ingress.then_some(ingress),
        egress: affects_egress.then_some(egress),
    })
}

/// Compiles one rule at `rule_path`, whose peers are in field `peer_field`.
fn compile_rule(
    context: &mut Context<'_>,
    location: &Location,
    (rule_path, peer_field, peers): (&str, &str, Option<&[NetworkPolicyPeer]>),
    ports: Option<&[NetworkPolicyPort]>,
) -> Result<Rule, Error> {
    let peers = match peers {
        None | Some([]) => None,
        Some(peers) => Some(
            peers
                .iter()
                .enumerate()
                .map(|(j, peer)| {
                    let at = location.at(format!("{rule_path}.{peer_field}[{j}]"));
                    compile_peer(context, &at, peer)
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let ports = match ports {
        None | Some([]) => None,
        Some(ports) => Some(
            ports
                .iter()
                .enumerate()
                .map(|(k, port)| {
                    let at = location.at(format!("{rule_path}.ports[{k}]"));
                    compile_port(context.interner, &at, port)
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(Rule { peers, ports })
}

/// Compiles one peer found at `location`.
fn compile_peer(
    context: &mut Context<'_>,
    location: &Location,
    peer: &NetworkPolicyPeer,
) -> Result<PeerMatch, Error> {
    let field = |name: &str| location.at(format!("{}.{name}", location.field));
    if let Some(block) = &peer.ip_block {
        if peer.pod_selector.is_some() || peer.namespace_selector.is_some() {
            return Err(Error::invalid(
                location.clone(),
                "ipBlock cannot be combined with podSelector or namespaceSelector in one peer",
            ));
        }
        return compile_block(&field("ipBlock"), &block.cidr, block.except.as_deref());
    }
    let pods = match &peer.pod_selector {
        Some(selector) if peer.namespace_selector.is_none() => {
            pod_selector(context, selector, &field("podSelector"))?
        }
        Some(selector) => {
            let at = field("podSelector");
            super::meta::check_selector(&at, selector)?;
            Selector::compile(context.interner, selector, &at)?
        }
        None => Selector::default(),
    };
    let namespaces = match &peer.namespace_selector {
        None if peer.pod_selector.is_none() => {
            return Err(Error::invalid(
                location.clone(),
                "a peer needs podSelector, namespaceSelector or ipBlock",
            ));
        }
        None => Namespaces::Own,
        Some(selector) => {
            let at = field("namespaceSelector");
            super::meta::check_selector(&at, selector)?;
            namespaces(context, selector, &at)?
        }
    };
    Ok(PeerMatch::Pods { namespaces, pods })
}

/// The namespaces that `selector`, found at `location`, matches.
pub(super) fn namespaces(
    context: &mut Context<'_>,
    selector: &LabelSelector,
    location: &Location,
) -> Result<Namespaces, Error> {
    let selector = Selector::compile(context.interner, selector, location)?;
    if selector.is_everything() {
        return Ok(Namespaces::All);
    }
    if let Some(known) = context.resolved.get(&selector) {
        return Ok(known.clone());
    }
    let mut words = vec![0u64; context.namespace_labels.len().div_ceil(64)];
    for (id, labels) in context.namespace_labels.iter().enumerate() {
        if selector.matches(labels) {
            words[id / 64] |= 1 << (id % 64);
        }
    }
    let namespaces = Namespaces::Set(NamespaceSet { words });
    context.resolved.insert(selector, namespaces.clone());
    Ok(namespaces)
}

/// Compiles an `ipBlock` found at `location`.
fn compile_block(
    location: &Location,
    cidr: &str,
    except: Option<&[String]>,
) -> Result<PeerMatch, Error> {
    let parse = |text: &str, field: String| -> Result<IpNet, Error> {
        text.parse::<IpNet>().map(|net| net.trunc()).map_err(|_| {
            Error::invalid(
                location.at(field),
                format!("`{text}` is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32"),
            )
        })
    };
    let cidr = parse(cidr, format!("{}.cidr", location.field))?;
    let mut exceptions = Vec::new();
    for (i, text) in except.unwrap_or_default().iter().enumerate() {
        let field = format!("{}.except[{i}]", location.field);
        let net = parse(text, field.clone())?;
        // The API server requires each exception to be a strict subset of the CIDR
        // (`ValidateIPBlock`: within it, and with a longer prefix).
        if !cidr.contains(&net) {
            return Err(Error::invalid(
                location.at(field),
                format!("`{text}` is not within the cidr {cidr}"),
            ));
        }
        if net.prefix_len() <= cidr.prefix_len() {
            return Err(Error::invalid(
                location.at(field),
                format!(
                    "`{text}` is all of the cidr {cidr}: an exception must be a strict subset of it"
                ),
            ));
        }
        exceptions.push(net);
    }
    Ok(PeerMatch::Block(Block {
        cidr,
        except: exceptions,
    }))
}

/// Compiles one element of `ports`, found at `location`.
fn compile_port(
    interner: &mut Interner,
    location: &Location,
    port: &NetworkPolicyPort,
) -> Result<PortMatch, Error> {
    let field = |name: &str| location.at(format!("{}.{name}", location.field));
    let protocol = match port.protocol.as_deref() {
        None => Protocol::Tcp,
        Some(name) => Protocol::parse(name).ok_or_else(|| {
            Error::invalid(
                field("protocol"),
                format!("`{name}` is not a protocol (TCP, UDP, SCTP)"),
            )
        })?,
    };
    let number = |value: i32, name: &str| -> Result<u16, Error> {
        u16::try_from(value)
            .ok()
            .filter(|&n| n != 0)
            .ok_or_else(|| {
                Error::invalid(
                    field(name),
                    format!("{value} is not a port number from 1 to 65535"),
                )
            })
    };
    let spec = match (&port.port, port.end_port) {
        (None, None) => PortSpec::Any,
        (None, Some(_)) => {
            return Err(Error::invalid(field("endPort"), "needs a numeric port"));
        }
        (Some(IntOrString::Int(first)), end) => {
            let first = number(*first, "port")?;
            let last = match end {
                None => first,
                Some(end) => {
                    let last = number(end, "endPort")?;
                    if last < first {
                        return Err(Error::invalid(
                            field("endPort"),
                            format!("{last} is less than port {first}"),
                        ));
                    }
                    last
                }
            };
            PortSpec::Range(first, last)
        }
        (Some(IntOrString::String(name)), end) => {
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid(
                    field("port"),
                    format!(
                        "\"{name}\" is a string: a port number must be an integer, a port name must contain a letter"
                    ),
                ));
            }
            if !crate::values::is_port_name(name) {
                return Err(Error::invalid(
                    field("port"),
                    format!(
                        "`{name}` is not a port name (at most 15 lowercase letters, digits and single `-`, with a letter)"
                    ),
                ));
            }
            if end.is_some() {
                return Err(Error::invalid(
                    field("endPort"),
                    "cannot go with a named port",
                ));
            }
            PortSpec::Named(interner.id(name))
        }
    };
    Ok(PortMatch {
        protocol,
        port: spec,
    })
}
