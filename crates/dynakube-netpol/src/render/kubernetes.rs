//! The Kubernetes flavor: `networking.k8s.io/v1` NetworkPolicies from the matrix.
//!
//! One default-deny policy for the namespace, then one allow policy per (workload, direction,
//! peer group). A connection between two Dynatrace workloads becomes the egress rule of its
//! source and the ingress rule of its destination. Hosts become IP blocks from [`Addresses`].
//!
//! Architecture invariant: every rule names its peers — a rule without `from`/`to` ("all" in
//! Kubernetes) is never written. A rule without `ports` is written only where the flow's
//! reference gives no port (EdgeConnect hosts). Where the cluster profile lacks the addresses of
//! nodes, control plane or kube-apiserver, the rule admits every address (`0.0.0.0/0`, `::/0`)
//! on the flow's ports only, and a warning says so.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::matrix::{self, Options};
//! use dynakube_netpol::Flavor;
//! use k8s_openapi::api::networking::v1::NetworkPolicy;
//! use dynakube_netpol::resolve::{Fallback, FixedHosts, resolve};
//! use dynakube_netpol::resources::Inputs;
//!
//! let yaml = "\
//! apiVersion: dynatrace.com/v1beta6
//! kind: DynaKube
//! metadata: {name: dk, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.live.dynatrace.com/api
//!   activeGate: {capabilities: [routing]}
//! ";
//! let mut inputs = Inputs::default();
//! parse_into(&mut inputs, "dk.yaml", yaml, &ParseOptions::default())?;
//! let matrix = matrix::build(&inputs, &ClusterProfile::default(), &Options::default())?;
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]")?;
//! let addresses = resolve(&matrix, &hosts, Fallback::Fail, &Default::default())?;
//!
//! let rendered = Flavor::Kubernetes.render(&matrix, &addresses);
//! assert_eq!(rendered.policies[0].name, "default-deny");
//! let tenant: NetworkPolicy = rendered
//!     .policies
//!     .iter()
//!     .find(|p| p.name == "dk-activegate-egress-communication-endpoints")
//!     .unwrap()
//!     .parse()?;
//! let spec = tenant.spec.as_ref().unwrap();
//! let rule = &spec.egress.as_ref().unwrap()[0];
//! let peer = &rule.to.as_ref().unwrap()[0];
//! assert_eq!(peer.ip_block.as_ref().unwrap().cidr, "203.0.113.10/32");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::{BTreeMap, BTreeSet};

use super::{Policy, PolicyGroup, Rendered, Unexpressed, annotations, group_of};
use crate::advice::{Cause, Setting};
use crate::evaluate::NAMESPACE_NAME_LABEL;
use crate::matrix::{
    ApiServer, Direction, Endpoint, Flow, Level, Matrix, Note, Port, Ports, RowId, Selection,
    Selector, Workload,
};
use crate::resolve::{Addresses, public_internet};
use crate::resources::ResourceRef;
use crate::values::Cidr;

/// The Kubernetes flavor in the registry ([`crate::flavor`]).
pub(crate) const UNIT: crate::flavor::Unit = crate::flavor::Unit {
    name: "kubernetes",
    summary: "networking.k8s.io/v1 NetworkPolicies (hosts as IP blocks)",
    kinds: &[KIND],
    settings: &[],
    hosts: |matrix, _| crate::lock::needed_hosts(matrix),
    needs_every_address: true,
    render: |matrix, addresses, _| render(matrix, addresses),
};

/// What this flavor writes.
const KIND: (&str, &str) = ("networking.k8s.io/v1", "NetworkPolicy");

/// A rule peer in the making: a form that sorts and compares, turned into
/// [`NetworkPolicyPeer`] at the end (as [`PolicyDraft`] is turned into a policy).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PeerDraft {
    /// Pods: `namespace` `None` is the policy's own namespace, an empty map every namespace;
    /// `pods` `None` is every pod of the selected namespaces.
    Pods {
        namespace: Option<BTreeMap<String, String>>,
        pods: Option<Selector>,
    },
    /// An IP block.
    Block { cidr: Cidr, except: Vec<Cidr> },
}

/// The peers of one rule; never empty.
type PeerDrafts = BTreeSet<PeerDraft>;

/// One policy in the making.
#[derive(Debug, Default)]
struct PolicyDraft {
    /// Peers per port set, merged: rules with the same ports share one entry.
    rules: BTreeMap<Ports, PeerDrafts>,
    refs: BTreeSet<RowId>,
    purposes: BTreeSet<&'static str>,
    sources: BTreeSet<ResourceRef>,
}

/// Renders the matrix as Kubernetes NetworkPolicies.
///
/// `addresses` must hold every host of the matrix (see [`crate::resolve::resolve`]).
pub(crate) fn render(matrix: &Matrix, addresses: &Addresses) -> Rendered {
    let typed = network_policies(matrix, addresses);
    let policies = typed.policies.into_iter().map(|(policy, sources)| {
        let name = policy.metadata.name.clone().unwrap_or_default();
        Policy::new(&policy, KIND, name, sources)
    });
    Rendered {
        policies: policies.collect(),
        notes: typed.notes,
    }
}

/// The policies of [`render`] as k8s-openapi values, each with the resources it comes from.
pub(crate) struct Typed {
    pub(crate) policies: Vec<(NetworkPolicy, BTreeSet<ResourceRef>)>,
    pub(crate) notes: Vec<Note>,
}

/// The work of [`render`], before the policies are serialized.
pub(crate) fn network_policies(matrix: &Matrix, addresses: &Addresses) -> Typed {
    let mut renderer = Renderer {
        matrix,
        addresses,
        drafts: BTreeMap::new(),
        notes: BTreeSet::new(),
        warnings: BTreeMap::new(),
        cdns: BTreeMap::new(),
    };
    for flow in &matrix.flows {
        let mut rendered = false;
        if let Some(source) = flow.from.policy_subject() {
            rendered |= renderer.add(source, Direction::Egress, &flow.to, flow);
        }
        if let Some(destination) = flow.to.policy_subject() {
            rendered |= renderer.add(destination, Direction::Ingress, &flow.from, flow);
        }
        if !rendered {
            renderer.unrendered(flow);
        }
    }
    renderer.cdn_warnings();
    for ((text, cause), refs) in std::mem::take(&mut renderer.warnings) {
        let mut warning = Note::new(Level::Warning, &[], text);
        warning.refs = refs;
        warning.cause = Some(cause);
        renderer.notes.insert(warning);
    }
    let namespace = matrix.namespace.as_str();
    let mut policies = vec![(default_deny(namespace), BTreeSet::new())];
    for (group, draft) in renderer.drafts {
        let from = draft.sources.clone();
        if let Some(policy) = policy(namespace, &group, draft) {
            policies.push((policy, from));
        }
    }
    Typed {
        policies,
        notes: renderer.notes.into_iter().collect(),
    }
}

struct Renderer<'a> {
    matrix: &'a Matrix,
    addresses: &'a Addresses,
    drafts: BTreeMap<PolicyGroup, PolicyDraft>,
    notes: BTreeSet<Note>,
    /// Widening warnings by text and the input that caused them, with the rows each
    /// concerns.
    warnings: BTreeMap<(String, Cause), BTreeSet<RowId>>,
    /// CDN hosts without addresses, by source and ports, with the rows they concern.
    cdns: BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<RowId>)>,
}

impl Renderer<'_> {
    /// Adds the rule for `peer` to the policy of `workload`; false when it cannot be expressed.
    fn add(
        &mut self,
        workload: &Workload,
        direction: Direction,
        peer: &Endpoint,
        flow: &Flow,
    ) -> bool {
        let Some(rules) = self.peers(peer, direction, &flow.ports, &flow.refs) else {
            return false;
        };
        let group = group_of(workload, direction, peer);
        let draft = self.drafts.entry(group).or_default();
        for (ports, peers) in rules {
            draft.rules.entry(ports).or_default().extend(peers);
        }
        draft.refs.extend(flow.refs.iter().copied());
        draft.sources.extend(flow.sources.iter().cloned());
        draft.purposes.insert(flow.purpose);
        true
    }

    /// The rules that admit `endpoint` on `ports`: usually one; kube-apiserver egress has two.
    /// `None` when the endpoint cannot be expressed in a NetworkPolicy.
    fn peers(
        &mut self,
        endpoint: &Endpoint,
        direction: Direction,
        ports: &Ports,
        refs: &BTreeSet<RowId>,
    ) -> Option<Vec<(Ports, PeerDrafts)>> {
        let one = |peers: BTreeSet<PeerDraft>| Some(vec![(ports.clone(), peers)]);
        match endpoint {
            Endpoint::Workload(w) => match &w.selection {
                Selection::Pods(selector) => one(BTreeSet::from([PeerDraft::Pods {
                    namespace: (w.namespace != self.matrix.namespace)
                        .then(|| label(NAMESPACE_NAME_LABEL, w.namespace.as_str())),
                    pods: Some(selector.clone()),
                }])),
                Selection::HostNetwork(_) => self.nodes(ports, refs),
                Selection::Namespaces { key, value } => one(BTreeSet::from([PeerDraft::Pods {
                    namespace: Some(label(key, value)),
                    pods: None,
                }])),
            },
            Endpoint::Pods(pods) => one(BTreeSet::from([PeerDraft::Pods {
                namespace: Some(match &pods.namespace {
                    Some(namespace) => label(NAMESPACE_NAME_LABEL, namespace.as_str()),
                    None => BTreeMap::new(),
                }),
                pods: (!pods.labels.is_empty()).then(|| Selector::labels(pods.labels.clone())),
            }])),
            Endpoint::Nodes(_) => self.nodes(ports, refs),
            Endpoint::KubeApiServer(api) if direction == Direction::Ingress => {
                if api.control_plane.is_empty() {
                    self.warn(
                        refs,
                        Cause::Profile("controlPlaneCIDRs".into()),
                        "the cluster profile has no controlPlaneCIDRs: kube-apiserver calls to the webhook are allowed from any address on the webhook port",
                    );
                    return one(anywhere());
                }
                one(blocks(&api.control_plane))
            }
            Endpoint::KubeApiServer(api) => Some(self.api_server_egress(api, ports, refs)),
            Endpoint::Dns(dns) => {
                let cache = dns.cache.map(|address| PeerDraft::Block {
                    cidr: Cidr::of_ip(address),
                    except: Vec::new(),
                });
                let pods = PeerDraft::Pods {
                    namespace: Some(label(NAMESPACE_NAME_LABEL, dns.namespace)),
                    pods: Some(Selector::labels(dns.labels.clone())),
                };
                one(cache.into_iter().chain([pods]).collect())
            }
            Endpoint::Host { host, .. } => {
                if let Some(name) = host.name()
                    && self.addresses.public_internet.contains(name)
                {
                    self.warn(
                        refs,
                        Cause::Setting(Setting::FqdnFallback),
                        format!(
                            "no addresses for {name}: its port is allowed to every public address"
                        ),
                    );
                    return one(public_internet()
                        .into_iter()
                        .map(|(cidr, except)| PeerDraft::Block { cidr, except })
                        .collect());
                }
                // Without addresses (only when the caller skipped resolution) the flow stays
                // unrendered, and a note says so.
                let nets = self.addresses.of_host(host)?;
                one(blocks(&nets))
            }
            Endpoint::HostPattern(pattern) => {
                let nets = self.addresses.hosts.get(pattern)?.clone();
                one(blocks(&nets))
            }
            Endpoint::Blocks(b) => one(blocks(&b.cidrs)),
            Endpoint::Unbounded(_) => None,
        }
    }

    /// Egress to kube-apiserver: to the Service on the flow's port and to the endpoints on
    /// their ports, so that it works whether the plugin checks before or after the Service is
    /// translated.
    fn api_server_egress(
        &mut self,
        api: &ApiServer,
        ports: &Ports,
        refs: &BTreeSet<RowId>,
    ) -> Vec<(Ports, PeerDrafts)> {
        let endpoint_ports = Ports::list(api.endpoint_ports.iter().map(|&p| Port::tcp_of(p)));
        let mut rules = Vec::new();
        if !api.service.is_empty() {
            rules.push((ports.clone(), blocks(&api.service)));
        }
        if api.endpoints.is_empty() {
            self.warn(
                refs,
                Cause::Profile("apiServer.endpointCIDRs".into()),
                "the cluster profile has no apiServer.endpointCIDRs: kube-apiserver egress is allowed to any address on the apiServer ports",
            );
            rules.push((union(ports, &endpoint_ports), anywhere()));
        } else {
            rules.push((endpoint_ports, blocks(&api.endpoints)));
        }
        rules
    }

    /// The nodes: kubelet and host-network pods.
    fn nodes(&mut self, ports: &Ports, refs: &BTreeSet<RowId>) -> Option<Vec<(Ports, PeerDrafts)>> {
        let cidrs = &self.matrix.profile.node_cidrs;
        if cidrs.is_empty() {
            self.warn(
                refs,
                Cause::Profile("nodeCIDRs".into()),
                "the cluster profile has no nodeCIDRs: kubelet and host-network traffic is allowed from any address on its ports",
            );
            return Some(vec![(ports.clone(), anywhere())]);
        }
        Some(vec![(ports.clone(), blocks(cidrs))])
    }

    /// One warning per text, listing every row it concerns.
    fn warn(&mut self, refs: &BTreeSet<RowId>, cause: Cause, text: impl Into<String>) {
        self.warnings
            .entry((text.into(), cause))
            .or_default()
            .extend(refs.iter().copied());
    }

    /// One warning per source for the CDN hosts it could not be allowed to reach.
    fn cdn_warnings(&mut self) {
        for ((from, ports), (hosts, refs)) in std::mem::take(&mut self.cdns) {
            let hosts: Vec<String> = hosts.into_iter().collect();
            let text = format!(
                "{from} downloads image data from {} ({ports}), where the registry redirects it; a NetworkPolicy cannot name CDN hosts and their addresses change: give them in the hosts file, or use an image from another registry",
                hosts.join(", ")
            );
            self.warn(&refs, Cause::Setting(Setting::Hosts), text);
        }
    }

    /// Records why a flow has no rule at all.
    fn unrendered(&mut self, flow: &Flow) {
        let note = match Unexpressed::of(flow) {
            Unexpressed::CdnWithoutAddresses(host) => {
                let (hosts, refs) = self
                    .cdns
                    .entry((flow.from.to_string(), flow.ports.to_string()))
                    .or_default();
                hosts.insert(host.to_string());
                refs.extend(flow.refs.iter().copied());
                return;
            }
            Unexpressed::HostNetworkSource(w) => Note::listing(
                flow,
                format!("{}: its traffic to ", super::in_host_network(w)),
                super::peer_on_ports(&flow.to, flow),
                " needs a host firewall",
            ),
            Unexpressed::HostNetworkDestination(w) => super::to_host_network(w, flow),
            Unexpressed::AppSource(w) => super::apps_need_egress(
                &super::injected_apps(w),
                flow,
                &format!(
                    "; these policies cover only namespace {}",
                    self.matrix.namespace
                ),
            ),
            Unexpressed::AppPods(pods) => super::apps_need_egress(
                &pods.describe(),
                flow,
                &format!(
                    "; these policies cover only namespace {}",
                    self.matrix.namespace
                ),
            ),
            Unexpressed::PatternWithoutAddresses(pattern) => Note::on_flow(
                flow,
                format!(
                    "{} reaches hosts matching {pattern} on any port; give their addresses in the hosts file to allow them",
                    flow.from
                ),
            ),
            Unexpressed::NoFixedPeer => Note::on_flow(
                flow,
                format!(
                    "{} reaches {} on {} ports: not expressible as a NetworkPolicy; not allowed",
                    flow.from, flow.to, flow.ports
                ),
            ),
        };
        self.notes.insert(note);
    }
}

fn label(key: &str, value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_string(), value.to_string())])
}

fn blocks(nets: &[Cidr]) -> BTreeSet<PeerDraft> {
    nets.iter()
        .map(|&cidr| PeerDraft::Block {
            cidr,
            except: Vec::new(),
        })
        .collect()
}

/// Every IPv4 and IPv6 address: the fallback for node and control-plane addresses the cluster
/// profile does not give, always announced by a warning.
fn anywhere() -> BTreeSet<PeerDraft> {
    ["0.0.0.0/0", "::/0"]
        .into_iter()
        .filter_map(|cidr| Cidr::parse(cidr).ok())
        .map(|cidr| PeerDraft::Block {
            cidr,
            except: Vec::new(),
        })
        .collect()
}

fn union(a: &Ports, b: &Ports) -> Ports {
    match (a, b) {
        (Ports::List(a), Ports::List(b)) => Ports::List(a.union(b).copied().collect()),
        _ => Ports::Any,
    }
}

fn default_deny(namespace: &str) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some("default-deny".into()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([(
                crate::stream::MANAGED_BY.0.into(),
                crate::stream::MANAGED_BY.1.into(),
            )])),
            annotations: Some(BTreeMap::from([(
                super::DESCRIPTION_ANNOTATION.into(),
                format!(
                    "Denies all ingress and egress of pods in {namespace} that no other policy allows."
                ),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..NetworkPolicySpec::default()
        }),
    }
}

/// The policy of one group; `None` when it would have no rule. A rule without peers or with an
/// empty port list would admit everything, so such entries are never written.
fn policy(namespace: &str, group: &PolicyGroup, draft: PolicyDraft) -> Option<NetworkPolicy> {
    type Rule = (
        Option<Vec<NetworkPolicyPort>>,
        Option<Vec<NetworkPolicyPeer>>,
    );
    let rules: Vec<Rule> = draft
        .rules
        .into_iter()
        .filter(|(ports, peers)| !peers.is_empty() && ports != &Ports::List(BTreeSet::new()))
        .map(|(ports, peers)| {
            (
                k8s_ports(&ports),
                Some(peers.into_iter().map(k8s_peer).collect()),
            )
        })
        .collect();
    if rules.is_empty() {
        return None;
    }
    let mut spec = NetworkPolicySpec {
        pod_selector: Some(
            group
                .workload
                .selection
                .pods()
                .map(label_selector)
                .unwrap_or_default(),
        ),
        policy_types: Some(vec![match group.direction {
            Direction::Ingress => "Ingress".into(),
            Direction::Egress => "Egress".into(),
        }]),
        ..NetworkPolicySpec::default()
    };
    match group.direction {
        Direction::Ingress => {
            spec.ingress = Some(
                rules
                    .into_iter()
                    .map(|(ports, from)| NetworkPolicyIngressRule { from, ports })
                    .collect(),
            )
        }
        Direction::Egress => {
            spec.egress = Some(
                rules
                    .into_iter()
                    .map(|(ports, to)| NetworkPolicyEgressRule { to, ports })
                    .collect(),
            )
        }
    }
    let (labels, annotations) = annotations(
        &group.whom(),
        group.direction,
        &group.peers,
        &draft.refs,
        &draft.purposes,
    );
    Some(NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(group.name()),
            namespace: Some(namespace.into()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
    })
}

fn k8s_ports(ports: &Ports) -> Option<Vec<NetworkPolicyPort>> {
    match ports {
        Ports::Any => None,
        Ports::List(list) => Some(
            list.iter()
                .map(|p| NetworkPolicyPort {
                    port: Some(IntOrString::Int(i32::from(p.number.get()))),
                    protocol: Some(p.protocol.name().into()),
                    end_port: None,
                })
                .collect(),
        ),
    }
}

/// `selector` as a label selector: `matchLabels`, and `In` expressions for labels with
/// several values.
pub(crate) fn label_selector(selector: &Selector) -> LabelSelector {
    let expressions: Vec<LabelSelectorRequirement> = selector
        .one_of
        .iter()
        .map(|(key, values)| LabelSelectorRequirement {
            key: key.clone(),
            operator: "In".into(),
            values: Some(values.iter().cloned().collect()),
        })
        .collect();
    LabelSelector {
        match_labels: (!selector.labels.is_empty()).then(|| selector.labels.clone()),
        match_expressions: (!expressions.is_empty()).then_some(expressions),
    }
}

fn k8s_peer(peer: PeerDraft) -> NetworkPolicyPeer {
    let selector = |labels: BTreeMap<String, String>| LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        ..LabelSelector::default()
    };
    match peer {
        PeerDraft::Pods { namespace, pods } => NetworkPolicyPeer {
            namespace_selector: namespace.map(selector),
            pod_selector: pods.as_ref().map(label_selector),
            ip_block: None,
        },
        PeerDraft::Block { cidr, except } => NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: cidr.to_string(),
                except: (!except.is_empty()).then(|| except.iter().map(Cidr::to_string).collect()),
            }),
            ..NetworkPolicyPeer::default()
        },
    }
}
