//! The Cilium flavor: `cilium.io/v2` CiliumNetworkPolicies from the same matrix as the
//! Kubernetes flavor, naming hosts with `toFQDNs` and cluster peers with entities.
//!
//! Per workload, direction and peer group there is one policy, named like its Kubernetes
//! counterpart. Hosts become `toFQDNs` (with the DNS rule Cilium needs to learn their
//! addresses), kube-apiserver the `kube-apiserver` entity, kubelet probes the `host` entity,
//! host-network OneAgents `host` and `remote-node`. Optional clusterwide policies cover the
//! host-network OneAgent (host firewall) and the egress of injected application pods; both only
//! add allows and never switch their subjects into default deny.
//!
//! DNS rules: each workload may resolve the names of the hosts it reaches (`matchName`) and
//! names under the cluster domain (`matchPattern: "*.<clusterDomain>"`), which covers every
//! search-path expansion a pod tries first. Cilium's DNS proxy refuses other names, so a pod
//! cannot use DNS to reach hosts outside its matrix. Application pods (opt-in clusterwide
//! policy) get `matchPattern: "*"`: their own lookups are not ours to restrict.

pub mod model;

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use self::model::{
    CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy, DefaultDeny, EgressPeer, EgressRule,
    EndpointSelector, Entity, FqdnSelector, IngressRule, L4PortRule, LabelSelectorRequirement,
    NAMESPACE_LABEL, NAMESPACE_LABELS_PREFIX, Peer, PortProtocol, PortRule, Rule, Subject,
};
use super::{PREFIX, PolicyGroup, annotations, group_of, renders};
use crate::cluster::DnsProvider;
use crate::matrix::{
    Component, Direction, Endpoint, Flow, INSTANCE_NAMESPACE_LABEL, Matrix, Note, Port, Ports,
    Protocol, Workload,
};
use crate::model::ResourceRef;
use crate::resolve::Addresses;
use crate::values::{Cidr, Host, HostPattern};

/// One object of the Cilium flavor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CiliumObject {
    /// A namespaced policy.
    Namespaced(CiliumNetworkPolicy),
    /// A clusterwide policy (host firewall, application namespaces).
    Clusterwide(CiliumClusterwideNetworkPolicy),
}

impl CiliumObject {
    /// The object's name.
    pub fn name(&self) -> String {
        let metadata = match self {
            CiliumObject::Namespaced(p) => p.metadata(),
            CiliumObject::Clusterwide(p) => p.metadata(),
        };
        metadata.name.clone().unwrap_or_default()
    }

    /// The object's rule.
    pub fn spec(&self) -> &Rule {
        match self {
            CiliumObject::Namespaced(p) => p.spec(),
            CiliumObject::Clusterwide(p) => p.spec(),
        }
    }
}

/// The policies of the Cilium flavor: default deny, then per workload, then clusterwide ones.
pub type Rendered = super::Rendered<CiliumObject>;

/// Who a policy applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    /// A namespaced Dynatrace workload.
    Workload(PolicyGroup),
    /// The nodes, for a host-network workload (host firewall).
    Host(Workload),
    /// The injected application namespaces of a DynaKube.
    Apps(Workload),
}

#[derive(Debug, Default)]
struct Draft {
    ingress: BTreeSet<(Ingress, Ports)>,
    egress: BTreeSet<(Egress, Ports)>,
    refs: BTreeSet<&'static str>,
    purposes: BTreeSet<&'static str>,
    sources: BTreeSet<ResourceRef>,
}

/// An ingress peer in a form that sorts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ingress {
    Endpoints(EndpointSelector),
    Entities(Vec<Entity>),
}

/// An egress peer in a form that sorts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Egress {
    Endpoints(EndpointSelector),
    Entities(Vec<Entity>),
    Cidrs(Vec<IpNet>),
    Fqdn(String),
    Pattern(String),
    /// The cluster DNS, with the names the owner may resolve.
    Dns(Vec<EndpointSelector>, Vec<IpNet>),
}

/// Renders the matrix as Cilium policies. `addresses` gives IP-literal hosts and, for the host
/// firewall, the addresses of hosts (host policies cannot name hosts).
pub fn render(matrix: &Matrix, addresses: &Addresses) -> Rendered {
    let mut renderer = Renderer {
        matrix,
        addresses,
        drafts: BTreeMap::new(),
        notes: BTreeSet::new(),
    };
    for flow in &matrix.flows {
        renderer.flow(flow);
    }
    renderer.finish()
}

struct Renderer<'a> {
    matrix: &'a Matrix,
    addresses: &'a Addresses,
    drafts: BTreeMap<Owner, Draft>,
    notes: BTreeSet<Note>,
}

impl Renderer<'_> {
    fn flow(&mut self, flow: &Flow) {
        let cilium = &self.matrix.profile.cilium;
        let purpose = flow.rule().purpose;
        let mut rendered = false;
        if let Some(source) = flow.from.workload() {
            let owner = if renders(source) {
                Some(Owner::Workload(group_of(
                    source,
                    Direction::Egress,
                    &flow.to,
                )))
            } else if source.component.host_network() && cilium.host_firewall {
                Some(Owner::Host(source.clone()))
            } else if source.component == Component::InjectedApps && cilium.app_egress {
                Some(Owner::Apps(source.clone()))
            } else {
                None
            };
            if let Some(owner) = owner {
                let host = matches!(owner, Owner::Host(_));
                if let Some(peer) = self.egress_peer(&flow.to, host) {
                    let ports = self.egress_ports(flow);
                    let draft = self.drafts.entry(owner).or_default();
                    draft.egress.insert((peer, ports));
                    draft.refs.extend(flow.refs.iter().copied());
                    draft.sources.extend(flow.sources.iter().cloned());
                    draft.purposes.insert(purpose);
                    rendered = true;
                }
            }
        }
        if let Some(destination) = flow.to.workload().filter(|w| renders(w))
            && let Some(peer) = self.ingress_peer(&flow.from)
        {
            let owner = Owner::Workload(group_of(destination, Direction::Ingress, &flow.from));
            let draft = self.drafts.entry(owner).or_default();
            draft.ingress.insert((peer, flow.ports.clone()));
            draft.refs.extend(flow.refs.iter().copied());
            draft.sources.extend(flow.sources.iter().cloned());
            draft.purposes.insert(purpose);
            rendered = true;
        }
        if !rendered {
            self.unrendered(flow);
        }
    }

    /// kube-apiserver is reached through its Service: Cilium sees the endpoint port.
    fn egress_ports(&self, flow: &Flow) -> Ports {
        match (&flow.to, &flow.ports) {
            (Endpoint::KubeApiServer, Ports::List(list)) => {
                let mut list = list.clone();
                list.extend(
                    self.matrix
                        .profile
                        .api_server
                        .ports
                        .iter()
                        .map(|&p| Port::tcp_of(p)),
                );
                Ports::List(list)
            }
            (_, ports) => ports.clone(),
        }
    }

    fn ingress_peer(&self, endpoint: &Endpoint) -> Option<Ingress> {
        let profile = &self.matrix.profile;
        Some(match endpoint {
            Endpoint::Workload(w) if w.component == Component::InjectedApps => {
                Ingress::Endpoints(injected_namespaces(w))
            }
            Endpoint::Workload(w) if w.component.host_network() => {
                Ingress::Entities(vec![Entity::Host, Entity::RemoteNode])
            }
            Endpoint::Workload(w) => Ingress::Endpoints(workload_selector(w)),
            // Kubelet probes come from the local node only.
            Endpoint::Nodes => Ingress::Entities(vec![Entity::Host]),
            Endpoint::KubeApiServer if profile.cilium.control_plane_host_network => {
                Ingress::Entities(vec![
                    Entity::Host,
                    Entity::RemoteNode,
                    Entity::KubeApiserver,
                ])
            }
            Endpoint::KubeApiServer => Ingress::Entities(vec![Entity::KubeApiserver]),
            Endpoint::Prometheus => {
                let prometheus = profile.prometheus.as_ref()?;
                let mut labels: BTreeMap<String, String> = prometheus
                    .pod_labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                labels.insert(NAMESPACE_LABEL.into(), prometheus.namespace.to_string());
                Ingress::Endpoints(EndpointSelector::labels(labels))
            }
            Endpoint::AllPods => Ingress::Endpoints(EndpointSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![LabelSelectorRequirement::exists(NAMESPACE_LABEL)],
            }),
            Endpoint::Dns
            | Endpoint::Host { .. }
            | Endpoint::HostPattern(_)
            | Endpoint::Unbounded(_) => return None,
        })
    }

    /// The egress peer; `host` for host policies, which cannot name hosts or use DNS rules.
    fn egress_peer(&self, endpoint: &Endpoint, host: bool) -> Option<Egress> {
        let profile = &self.matrix.profile;
        Some(match endpoint {
            Endpoint::Workload(w)
                if w.component.host_network() || w.component == Component::InjectedApps =>
            {
                return None;
            }
            Endpoint::Workload(w) => Egress::Endpoints(workload_selector(w)),
            // The kubelet API of the pod's own node.
            Endpoint::Nodes => Egress::Entities(vec![Entity::Host]),
            Endpoint::KubeApiServer => Egress::Entities(vec![Entity::KubeApiserver]),
            Endpoint::Dns => {
                let selector = match profile.dns.provider {
                    DnsProvider::Openshift => EndpointSelector::labels([
                        (NAMESPACE_LABEL, "openshift-dns"),
                        ("dns.operator.openshift.io/daemonset-dns", "default"),
                    ]),
                    DnsProvider::KubeDns | DnsProvider::NodeLocal => EndpointSelector::labels([
                        (NAMESPACE_LABEL, "kube-system"),
                        ("k8s-app", "kube-dns"),
                    ]),
                };
                let cidrs = profile
                    .dns
                    .node_local_address()
                    .map(IpNet::from)
                    .into_iter()
                    .collect();
                Egress::Dns(vec![selector], cidrs)
            }
            Endpoint::Host { host: target, .. } if host => Egress::Cidrs(
                self.addresses
                    .of_host(target)?
                    .iter()
                    .map(Cidr::net)
                    .collect(),
            ),
            Endpoint::Host {
                host: Host::Ip(ip), ..
            } => Egress::Cidrs(vec![IpNet::from(*ip)]),
            Endpoint::Host {
                host: Host::Name(name),
                ..
            } => Egress::Fqdn(name.to_string()),
            Endpoint::HostPattern(HostPattern::Ip(ip)) => Egress::Cidrs(vec![IpNet::from(*ip)]),
            Endpoint::HostPattern(_) if host => return None,
            Endpoint::HostPattern(HostPattern::Name(name)) => Egress::Fqdn(name.to_string()),
            Endpoint::HostPattern(pattern) => Egress::Pattern(pattern.to_string()),
            Endpoint::Prometheus | Endpoint::AllPods | Endpoint::Unbounded(_) => return None,
        })
    }

    fn unrendered(&mut self, flow: &Flow) {
        let text = match flow.from.workload() {
            Some(w) if w.component.host_network() && self.matrix.profile.cilium.host_firewall => {
                format!(
                    "{w} runs in the host network: host policies cannot name hosts, so its traffic to {} ({}) needs the host's addresses in the hosts file",
                    flow.to, flow.ports
                )
            }
            Some(w) if w.component.host_network() => format!(
                "{w} runs in the host network: its traffic to {} ({}) is covered only by a host policy; set `cilium.hostFirewall` in the cluster profile when Cilium's host firewall is on",
                flow.to, flow.ports
            ),
            Some(w) if w.component == Component::InjectedApps => format!(
                "application pods in namespaces labelled {INSTANCE_NAMESPACE_LABEL}={} need egress to {} ({}) wherever their namespace restricts egress; set `cilium.appEgress` in the cluster profile to write a clusterwide policy for it",
                w.instance.as_ref().map_or("", |n| n.as_str()),
                flow.to,
                flow.ports
            ),
            _ => format!(
                "{} reaches {} on {} ports: no fixed peer; not allowed",
                flow.from, flow.to, flow.ports
            ),
        };
        self.notes.insert(Note::on_flow(flow, text));
    }

    fn finish(self) -> Rendered {
        let namespace = self.matrix.namespace.as_str();
        let domain = &self.matrix.profile.cluster_domain;
        // The names each owner resolves: its hosts and the cluster domain.
        let mut policies: Vec<CiliumObject> = default_deny(namespace)
            .map(CiliumObject::Namespaced)
            .into_iter()
            .collect();
        let mut clusterwide = Vec::new();
        let mut sources = BTreeMap::new();
        let mut notes = self.notes.clone();
        let fqdns_of =
            |workload: &Workload, drafts: &BTreeMap<Owner, Draft>| -> BTreeSet<FqdnSelector> {
                let mut names = BTreeSet::from([FqdnSelector::pattern(format!("*.{domain}"))]);
                for (owner, draft) in drafts {
                    let same = match owner {
                        Owner::Workload(g) => &g.workload == workload,
                        Owner::Apps(w) | Owner::Host(w) => w == workload,
                    };
                    if same {
                        for (peer, _) in &draft.egress {
                            match peer {
                                Egress::Fqdn(name) => names.insert(FqdnSelector::name(name)),
                                Egress::Pattern(pattern) => {
                                    names.insert(FqdnSelector::pattern(pattern))
                                }
                                _ => false,
                            };
                        }
                    }
                }
                names
            };
        for (owner, draft) in &self.drafts {
            let (workload, name, subject, direction_labels) = match owner {
                Owner::Workload(group) => (
                    &group.workload,
                    group.name(),
                    Subject::Endpoints(EndpointSelector::labels(group.workload.pod_labels())),
                    Some(group),
                ),
                Owner::Host(w) => (
                    w,
                    format!("{namespace}-{}-host-egress", w.name()),
                    Subject::Nodes(EndpointSelector::default()),
                    None,
                ),
                Owner::Apps(w) => (
                    w,
                    format!("{namespace}-{}-egress", w.name()),
                    Subject::Endpoints(injected_namespaces(w)),
                    None,
                ),
            };
            let host = matches!(owner, Owner::Host(_));
            let apps = matches!(owner, Owner::Apps(_));
            let mut egress = draft.egress.clone();
            // Application pods have no DNS flow of their own, but `toFQDNs` needs a DNS rule.
            let names_hosts = egress
                .iter()
                .any(|(p, _)| matches!(p, Egress::Fqdn(_) | Egress::Pattern(_)));
            if apps
                && names_hosts
                && let Some(dns) = self.egress_peer(&Endpoint::Dns, false)
            {
                let port = match self.matrix.profile.dns.provider {
                    DnsProvider::Openshift => 5353,
                    DnsProvider::KubeDns | DnsProvider::NodeLocal => 53,
                };
                egress.insert((dns, Ports::list([Port::udp(port), Port::tcp(port)])));
            }
            let mut rule = Rule::new(subject);
            for (peer, ports) in merge_ports(&draft.ingress) {
                rule.ingress.push(IngressRule {
                    from: match peer {
                        Ingress::Endpoints(s) => Peer::Endpoints(vec![s.clone()]),
                        Ingress::Entities(e) => Peer::Entities(e.clone()),
                    },
                    to_ports: l4_ports(&ports),
                });
            }
            for (peer, ports) in merge_ports(&egress) {
                let ports = &ports;
                let port_rules: Vec<PortRule> = l4_ports(ports)
                    .into_iter()
                    .map(|p| PortRule::new(p.ports))
                    .collect();
                let to = match peer {
                    Egress::Endpoints(s) => EgressPeer::Endpoints(vec![s.clone()]),
                    Egress::Entities(e) => EgressPeer::Entities(e.clone()),
                    Egress::Cidrs(c) => EgressPeer::Cidrs(c.clone()),
                    Egress::Fqdn(n) => EgressPeer::Fqdns(vec![FqdnSelector::name(n)]),
                    Egress::Pattern(p) => EgressPeer::Fqdns(vec![FqdnSelector::pattern(p)]),
                    Egress::Dns(selectors, cidrs) => {
                        // DNS goes through Cilium's DNS proxy, limited to the names the owner
                        // needs; host policies cannot carry DNS rules.
                        let dns_ports: Vec<PortRule> = if host {
                            port_rules
                        } else if apps {
                            // Application pods resolve names of their own: never restrict them.
                            let any = [FqdnSelector::pattern("*")];
                            l4_ports(ports)
                                .into_iter()
                                .map(|p| PortRule::dns(p.ports, any.clone()))
                                .collect()
                        } else {
                            let names: Vec<FqdnSelector> =
                                fqdns_of(workload, &self.drafts).into_iter().collect();
                            l4_ports(ports)
                                .into_iter()
                                .map(|p| PortRule::dns(p.ports, names.clone()))
                                .collect()
                        };
                        if !cidrs.is_empty() {
                            rule.egress.push(EgressRule {
                                to: EgressPeer::Cidrs(cidrs.clone()),
                                to_ports: dns_ports.clone(),
                            });
                        }
                        rule.egress.push(EgressRule {
                            to: EgressPeer::Endpoints(selectors.clone()),
                            to_ports: dns_ports,
                        });
                        continue;
                    }
                };
                rule.egress.push(EgressRule {
                    to,
                    to_ports: port_rules,
                });
            }
            let (labels, mut annotations) = match direction_labels {
                Some(group) => annotations(group, &draft.refs, &draft.purposes),
                None => {
                    let group = PolicyGroup {
                        workload: workload.clone(),
                        direction: Direction::Egress,
                        peers: "clusterwide".into(),
                    };
                    annotations(&group, &draft.refs, &draft.purposes)
                }
            };
            rule.description = annotations.remove(&format!("{PREFIX}/description"));
            let metadata = |namespace: Option<&str>| ObjectMeta {
                name: Some(name.clone()),
                namespace: namespace.map(String::from),
                labels: Some(labels.clone()),
                annotations: Some(annotations.clone()),
                ..ObjectMeta::default()
            };
            let object = match owner {
                Owner::Workload(_) => CiliumNetworkPolicy::new(metadata(Some(namespace)), rule)
                    .map(CiliumObject::Namespaced),
                Owner::Host(_) | Owner::Apps(_) => {
                    // Only allows: the subjects keep whatever default they have.
                    rule.enable_default_deny = Some(DefaultDeny {
                        ingress: Some(false),
                        egress: Some(false),
                    });
                    CiliumClusterwideNetworkPolicy::new(metadata(None), rule)
                        .map(CiliumObject::Clusterwide)
                }
            };
            // Every value in a rule is validated when read, so the model accepts it; should it
            // not, the policy is left out and the reason said, rather than written wrong.
            match object {
                Ok(object) => {
                    sources.insert(object.name(), draft.sources.clone());
                    match object {
                        CiliumObject::Namespaced(_) => policies.push(object),
                        CiliumObject::Clusterwide(_) => clusterwide.push(object),
                    }
                }
                Err(error) => {
                    notes.insert(Note::new(
                        crate::matrix::Level::Warning,
                        &draft.refs.iter().copied().collect::<Vec<_>>(),
                        format!("policy {name} is not written: {error}"),
                    ));
                }
            }
        }
        policies.extend(clusterwide);
        Rendered {
            policies,
            sources,
            notes: notes.into_iter().collect(),
        }
    }
}

/// The entries of a draft with one rule per peer: the ports of a peer joined.
fn merge_ports<P: Ord + Clone>(entries: &BTreeSet<(P, Ports)>) -> BTreeMap<P, Ports> {
    let mut merged: BTreeMap<P, Ports> = BTreeMap::new();
    for (peer, ports) in entries {
        let joined = match (merged.remove(peer), ports) {
            (None, ports) => ports.clone(),
            (Some(Ports::List(mut a)), Ports::List(b)) => {
                a.extend(b.iter().copied());
                Ports::List(a)
            }
            (Some(_), _) => Ports::Any,
        };
        merged.insert(peer.clone(), joined);
    }
    merged
}

/// The endpoints of a Dynatrace workload: its stable labels in its namespace.
fn workload_selector(workload: &Workload) -> EndpointSelector {
    let mut labels = workload.pod_labels();
    labels.insert(NAMESPACE_LABEL.into(), workload.namespace.to_string());
    EndpointSelector::labels(labels)
}

/// Every pod of the namespaces the operator labelled for a DynaKube.
fn injected_namespaces(workload: &Workload) -> EndpointSelector {
    EndpointSelector::labels([(
        format!("{NAMESPACE_LABELS_PREFIX}{INSTANCE_NAMESPACE_LABEL}"),
        workload
            .instance
            .as_ref()
            .map_or_else(String::new, ToString::to_string),
    )])
}

/// Port rules for `ports`: none for any port, else one per 40 ports (Cilium's limit).
fn l4_ports(ports: &Ports) -> Vec<L4PortRule> {
    match ports {
        Ports::Any => Vec::new(),
        Ports::List(list) => list
            .iter()
            .map(|p| {
                let protocol = match p.protocol {
                    Protocol::Tcp => model::Protocol::Tcp,
                    Protocol::Udp => model::Protocol::Udp,
                    Protocol::Sctp => model::Protocol::Sctp,
                };
                PortProtocol::new(p.number.get(), protocol)
            })
            .collect::<Vec<_>>()
            .chunks(model::MAX_PORTS)
            .map(|chunk| L4PortRule::new(chunk.to_vec()))
            .collect(),
    }
}

/// The default deny of the namespace; `None` only if the model refused it, which its tests
/// rule out.
fn default_deny(namespace: &str) -> Option<CiliumNetworkPolicy> {
    let mut rule = Rule::new(Subject::Endpoints(EndpointSelector::default()));
    rule.description = Some(format!(
        "Denies all ingress and egress of endpoints in {namespace} that no other policy allows."
    ));
    rule.enable_default_deny = Some(DefaultDeny {
        ingress: Some(true),
        egress: Some(true),
    });
    // A rule without ingress and egress sections has no effect in Cilium: sections that admit
    // only the `none` entity switch both directions into default deny and allow nothing.
    rule.ingress.push(IngressRule {
        from: Peer::Entities(vec![Entity::None]),
        to_ports: Vec::new(),
    });
    rule.egress.push(EgressRule {
        to: EgressPeer::Entities(vec![Entity::None]),
        to_ports: Vec::new(),
    });
    let metadata = ObjectMeta {
        name: Some("default-deny".into()),
        namespace: Some(namespace.into()),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/managed-by".into(),
            PREFIX.into(),
        )])),
        ..ObjectMeta::default()
    };
    CiliumNetworkPolicy::new(metadata, rule).ok()
}
