//! The notes of the ClusterNetworkPolicy flavor: what it leaves to NetworkPolicies, what it
//! cannot write, where it had to widen, and what its tier means for the application
//! namespaces.

use std::collections::{BTreeMap, BTreeSet};

use super::model::Tier;
use super::settings::{Channel, Options};
use crate::advice::{Cause, Setting};
use crate::cluster::{ClusterProfile, Plugin};
use crate::matrix::{Endpoint, Flow, HostRole, Level, Note, RowId, Selection, Workload};
use crate::render::{peer_on_ports, to_host_network};
use crate::values::HostName;

/// A rule that admits every address for lack of a field of the cluster profile.
#[derive(Debug, Clone, Copy)]
pub(super) enum Widened {
    /// No `nodeCIDRs`.
    Nodes,
    /// No `apiServer.endpointCIDRs`.
    ApiServer,
}

/// The notes of one rendering: warnings gathered by text, with every row they concern.
#[derive(Debug, Default)]
pub(super) struct Notes {
    notes: BTreeSet<Note>,
    warnings: BTreeMap<(String, Cause), BTreeSet<RowId>>,
    /// The connections to Dynatrace workloads from outside the pod network the matrix
    /// needs, in words, and their rows.
    outside: (BTreeSet<String>, BTreeSet<RowId>),
    /// CDN hosts without addresses, by source and ports, with the rows they concern.
    cdns: CdnHosts,
    /// Whether a rule names hosts with `domainNames`.
    pub(super) by_name: bool,
}

/// CDN hosts by source and ports, with their rows.
type CdnHosts = BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<RowId>)>;

impl Notes {
    /// A connection to a Dynatrace workload from what ingress rules cannot name (nodes,
    /// host-network pods, kube-apiserver, addresses): admitted by a NetworkPolicy beside.
    pub(super) fn left_to_network_policies(&mut self, flow: &Flow, destination: &Workload) {
        self.outside
            .0
            .insert(format!("{} to {destination} ({})", flow.from, flow.ports));
        self.outside.1.extend(flow.refs.iter().copied());
    }

    /// The note that NetworkPolicies beside these isolate the Dynatrace workloads for ingress
    /// and admit what the matrix needs from outside the pod network; when there are policies
    /// for Dynatrace workloads.
    pub(super) fn outside_pods(&mut self, workloads: bool) {
        let (needed, refs) = std::mem::take(&mut self.outside);
        if !workloads {
            return;
        }
        let needed: Vec<String> = needed.into_iter().collect();
        let admit = if needed.is_empty() {
            "admit nothing from there, as no row needs it".to_string()
        } else {
            format!("admit {} from there", needed.join(", "))
        };
        let refs: Vec<RowId> = refs.into_iter().collect();
        self.notes.insert(Note::new(
            Level::Info,
            &refs,
            format!(
                "ClusterNetworkPolicy ingress rules name pods only: NetworkPolicies beside these (named `dynakube-netpol.<workload>-ingress...`) isolate the Dynatrace workloads for ingress from outside the pod network and {admit}, as the kubernetes flavor writes them, with the workloads' ingress from pods (a NetworkPolicy that isolates a pod decides before the Baseline tier)"
            ),
        ));
    }

    /// Why `flow` got no rule at all.
    pub(super) fn unwritten(&mut self, flow: &Flow, named: bool) {
        let host_network = |e: &Endpoint| {
            e.workload()
                .filter(|w| matches!(w.selection, Selection::HostNetwork(_)))
                .cloned()
        };
        let note = if let Some(w) = host_network(&flow.to) {
            to_host_network(&w, flow)
        } else if let Some(w) = host_network(&flow.from) {
            Note::listing(
                flow,
                format!(
                    "{w} runs in the host network, which no ClusterNetworkPolicy selects: its traffic to "
                ),
                peer_on_ports(&flow.to, flow),
                " needs a host firewall",
            )
        } else if let Endpoint::Host {
            host,
            role: HostRole::RegistryCdn,
        } = &flow.to
        {
            // One warning per source and ports, listing the CDN hosts.
            let (hosts, refs) = self
                .cdns
                .entry((flow.from.to_string(), flow.ports.to_string()))
                .or_default();
            hosts.insert(host.to_string());
            refs.extend(flow.refs.iter().copied());
            return;
        } else {
            self.unnamed(flow, named)
        };
        self.notes.insert(note);
    }

    /// Why a flow to `flow.to` got no rule: its peer has no fixed name or addresses.
    fn unnamed(&mut self, flow: &Flow, named: bool) -> Note {
        match &flow.to {
            Endpoint::HostPattern(pattern) => Note::on_flow(
                flow,
                if named {
                    format!(
                        "{} reaches hosts matching {pattern} on any port; the CRD's domainNames take no such pattern (a wildcard needs a domain of two labels or more): give their addresses in the hosts file to allow them",
                        flow.from
                    )
                } else {
                    format!(
                        "{} reaches hosts matching {pattern} on any port; give their addresses in the hosts file to allow them",
                        flow.from
                    )
                },
            ),
            Endpoint::Host { host, .. } => Note::on_flow(
                flow,
                format!(
                    "{} reaches {host} ({}): no addresses for it, so it is not allowed",
                    flow.from, flow.ports
                ),
            ),
            _ => Note::on_flow(
                flow,
                format!(
                    "{} reaches {} on {} ports: not expressible as a ClusterNetworkPolicy; not allowed",
                    flow.from, flow.to, flow.ports
                ),
            ),
        }
    }

    /// A host without addresses allowed every public address, as the fallback says.
    pub(super) fn public_internet(&mut self, name: &HostName, refs: &BTreeSet<RowId>) {
        self.warn(
            refs,
            Cause::Setting(Setting::FqdnFallback),
            format!("no addresses for {name}: its port is allowed to every public address"),
        );
    }

    /// A rule widened to every address for lack of a profile field.
    pub(super) fn widened(&mut self, what: Widened, refs: &BTreeSet<RowId>) {
        let (field, text) = match what {
            Widened::Nodes => (
                "nodeCIDRs",
                "the cluster profile has no nodeCIDRs: egress to the kubelet and host-network pods is allowed to any address on their ports, pods' too (`networks` match pod addresses); or name the nodes with the `nodes` peer of the experimental channel",
            ),
            Widened::ApiServer => (
                "apiServer.endpointCIDRs",
                "the cluster profile has no apiServer.endpointCIDRs: kube-apiserver egress is allowed to any address on the apiServer ports, pods' too (`networks` match pod addresses)",
            ),
        };
        self.warn(refs, Cause::Profile(field.into()), text);
    }

    fn warn(&mut self, refs: &BTreeSet<RowId>, cause: Cause, text: impl Into<String>) {
        self.warnings
            .entry((text.into(), cause))
            .or_default()
            .extend(refs.iter().copied());
    }

    /// What the tier means for the policies of application pods (`apps`: their rows and who
    /// they are, in words), and for the Dynatrace workloads.
    pub(super) fn tier(&mut self, options: &Options, apps: &BTreeMap<String, BTreeSet<RowId>>) {
        let first = options.priorities.first;
        if !apps.is_empty() {
            let who: Vec<&str> = apps.keys().map(String::as_str).collect();
            let who = who.join(", ");
            let refs: Vec<RowId> = apps.values().flatten().copied().collect();
            let text = match options.tier {
                Tier::Admin => format!(
                    "In the Admin tier the connections these policies accept for {who} hold whatever the NetworkPolicies of their namespaces say; only Admin-tier policies of the cluster with priorities before {first} decide before them"
                ),
                Tier::Baseline => format!(
                    "In the Baseline tier the NetworkPolicies of an application namespace decide first: where they isolate the egress of {who} (a default deny), these connections are denied unless those policies allow them too; the Admin tier accepts them whatever the namespaces' policies say"
                ),
            };
            self.notes.insert(Note::new(Level::Info, &refs, text));
        }
        if options.tier == Tier::Baseline {
            self.notes.insert(Note::new(
                Level::Info,
                &[],
                "In the Baseline tier these policies decide only for Dynatrace pods that no NetworkPolicy isolates: NetworkPolicies of the operator namespace (such as the kubernetes flavor's) decide for the pods they select",
            ));
        }
    }

    /// What the network plugin the cluster profile names implements of these policies, or, when
    /// it names none, which plugins implement them (network-policy-api v0.2.0, April 2026).
    /// `named` says whether nodes and hosts are named with the experimental peers.
    pub(super) fn plugin(&mut self, options: &Options, profile: &ClusterProfile, named: bool) {
        let degraded = options.channel == Channel::Experimental && !named;
        let instead = if degraded {
            ": nodes and hosts are named by their addresses (`networks`) instead, as in the standard channel"
        } else {
            ""
        };
        let (level, text) = match profile.network_plugin {
            None => (
                Level::Info,
                "ClusterNetworkPolicy v1alpha2 is enforced by Calico 3.32, Cilium 1.20 (with `k8sClusterNetworkPolicy.enabled`), Antrea 2.7 (no nodes or domainNames peers) and Kube-OVN; OVN-Kubernetes and OpenShift implement only the v1alpha1 AdminNetworkPolicy and ignore these: name the cluster's plugin in the cluster profile's `networkPlugin`".to_string(),
            ),
            Some(Plugin::Calico) => (
                Level::Info,
                format!(
                    "Calico 3.32 enforces ClusterNetworkPolicies in its tiers, with the standard peers, `networks` and named ports, not the experimental `nodes` and `domainNames` peers{instead}"
                ),
            ),
            Some(Plugin::Antrea) => (
                Level::Info,
                format!(
                    "Antrea 2.7 enforces ClusterNetworkPolicies without the `nodes` and `domainNames` peers{instead}"
                ),
            ),
            Some(Plugin::Cilium) if !profile.cilium.cidr_match_nodes => (
                Level::Warning,
                "Cilium 1.20 enforces ClusterNetworkPolicies only with `k8sClusterNetworkPolicy.enabled` (off by default); its `networks`, and the NetworkPolicies' `ipBlock`s beside these, match no pod or node unless its `policy-cidr-match-mode` includes nodes: without it, egress to node addresses (unless the experimental channel names nodes with the `nodes` peer) and ingress from other nodes and from kube-apiserver on the nodes are refused; set `cilium.cidrMatchNodes: true` in the cluster profile once the agent runs with it".to_string(),
            ),
            Some(Plugin::Cilium) => (
                Level::Info,
                "Cilium 1.20 enforces ClusterNetworkPolicies only with `k8sClusterNetworkPolicy.enabled` (off by default); with `policy-cidr-match-mode: nodes`, its `networks` and the NetworkPolicies' `ipBlock`s beside these match node addresses".to_string(),
            ),
            Some(Plugin::KubeOvn) => (
                Level::Info,
                "Kube-OVN enforces ClusterNetworkPolicies".to_string(),
            ),
            Some(Plugin::OvnKubernetes) => (
                Level::Warning,
                "OVN-Kubernetes (and OpenShift) implements only the v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy: these ClusterNetworkPolicies are not enforced there; use the kubernetes flavor".to_string(),
            ),
            Some(Plugin::Other) => (
                Level::Warning,
                "the cluster profile's network plugin is none known to enforce ClusterNetworkPolicy v1alpha2 (Calico 3.32, Cilium 1.20, Antrea 2.7, Kube-OVN): make sure yours does, or these policies change nothing".to_string(),
            ),
        };
        let mut note = Note::new(level, &[], text);
        note.cause = Some(Cause::Profile("networkPlugin".into()));
        self.notes.insert(note);
    }

    /// The range of priorities holds too few for `count` policies: some share its last where
    /// they could decide differently.
    pub(super) fn crowded(&mut self, options: &Options, count: usize) {
        let (first, last) = (options.priorities.first, options.priorities.last);
        self.notes.insert(Note::new(
            Level::Warning,
            &[],
            format!(
                "the priorities {first}-{last} are too few for these {count} ClusterNetworkPolicies: the last share priority {last} where they could decide a connection differently, which the API leaves undefined; give a wider range of priorities"
            ),
        ));
    }

    /// Every note, the warnings with the rows they concern.
    pub(super) fn finish(mut self) -> Vec<Note> {
        if self.by_name {
            self.notes.insert(Note::new(
                Level::Info,
                &[],
                "hosts are named with `domainNames`, which the plugin matches to the addresses the pod's own DNS lookups of the name returned (NPEP-133: a pod must look the name up, through the DNS server the plugin watches, before it connects, and a cluster service's name is not a domain name for it); `*.example.com` matches names of one or more labels below the domain, where Cilium's `toFQDNs` pattern matches one",
            ));
        }
        for ((from, ports), (hosts, refs)) in std::mem::take(&mut self.cdns) {
            let hosts: Vec<String> = hosts.into_iter().collect();
            let text = format!(
                "{from} downloads image data from {} ({ports}), where the registry redirects it; a ClusterNetworkPolicy names such hosts only in the experimental channel (domainNames) and their addresses change: give them in the hosts file, or use an image from another registry",
                hosts.join(", ")
            );
            self.warn(&refs, Cause::Setting(Setting::Hosts), text);
        }
        for ((text, cause), refs) in std::mem::take(&mut self.warnings) {
            let mut warning = Note::new(Level::Warning, &[], text);
            warning.refs = refs;
            warning.cause = Some(cause);
            self.notes.insert(warning);
        }
        self.notes.into_iter().collect()
    }
}
