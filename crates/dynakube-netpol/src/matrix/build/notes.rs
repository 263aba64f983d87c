//! The remarks of the matrix, as data: a table of notes on DynaKubes and on the cluster
//! profile, each with the rows it concerns (typed, so a mistyped row does not compile), and the
//! notes derived from the rows they explain (which rows assumed the tenant's endpoints, which a
//! network zone narrowed).

use super::{Builder, Context};
use crate::cluster::ClusterProfile;
use crate::matrix::RowId::{self, *};
use crate::matrix::{Condition, Level, Note, ZoneFallback};
use crate::resources::{Capability, DynaKube, Inputs};

/// How many of the documents of other kinds the note on them names: a rendered Helm chart has
/// dozens, and the first few tell what was skipped.
const SKIPPED_SHOWN: usize = 5;

/// What a DynaKube note is decided on.
struct About<'a> {
    dk: &'a DynaKube,
    fallback: ZoneFallback,
    /// Whether the CSI driver pulls code modules from a registry (`E6` holds).
    pulls_images: bool,
}

/// A note on a DynaKube: when it applies, the rows it concerns, and its text.
struct DynaKubeNote {
    level: Level,
    refs: &'static [RowId],
    /// The field of the DynaKube that causes it (empty: none in particular).
    field: &'static str,
    applies: fn(&About<'_>) -> bool,
    text: fn(&About<'_>) -> String,
}

/// The notes on a DynaKube whose rows are fixed.
const DYNAKUBE_NOTES: &[DynaKubeNote] = &[
    DynaKubeNote {
        level: Level::Info,
        refs: &[E8, E11, E12, E14],
        field: "spec.networkZone",
        applies: |a| a.dk.network_zone.is_some() && a.fallback != ZoneFallback::None,
        text: |a| {
            format!(
                "DynaKube {}: network zone `{}` can route OneAgents to other ActiveGates; unless the zone's fallback is NONE they may also use tenant endpoints",
                a.dk.name,
                a.dk.network_zone.as_ref().map_or("", |z| z.as_str())
            )
        },
    },
    DynaKubeNote {
        level: Level::Warning,
        refs: &[],
        field: "spec.networkZone",
        applies: |a| a.dk.network_zone.is_none() && a.fallback == ZoneFallback::None,
        text: |a| {
            format!(
                "DynaKube {} has no networkZone: the zone fallback NONE does not apply to it",
                a.dk.name
            )
        },
    },
    DynaKubeNote {
        level: Level::Warning,
        refs: &[E16],
        field: "spec.kspm",
        applies: |a| a.dk.kspm && !a.dk.has_capability(Capability::KubernetesMonitoring),
        text: |a| {
            format!(
                "DynaKube {}: kspm needs an ActiveGate with kubernetes-monitoring, which this DynaKube lacks",
                a.dk.name
            )
        },
    },
    DynaKubeNote {
        level: Level::Info,
        refs: &[E9],
        field: "spec.activeGate.capabilities",
        applies: |a| a.dk.has_capability(Capability::KubernetesMonitoring),
        text: |a| {
            format!(
                "DynaKube {}: the ActiveGate may read node metrics from the kubelet ({}) directly instead of through kube-apiserver; no source settles this, so only kube-apiserver is allowed",
                a.dk.name,
                crate::matrix::components::KUBELET.number
            )
        },
    },
    // The operator rolls out the log-monitoring DaemonSet only when `IsStandalone()`: with
    // `logMonitoring` set and no OneAgent DaemonSet (`SetHostAgentDependency` with
    // `IsDaemonsetRequired()`: classicFullStack, cloudNativeFullStack or hostMonitoring;
    // `pkg/api/latest/dynakube/logmonitoring_props.go` and the check in `Reconcile` of
    // `pkg/controllers/dynakube/logmonitoring/daemonset/reconciler.go`, v1.5.0 to v1.10.2;
    // v1.4.0 with `NeedsOneAgent()`, the same three modes). The OneAgent then monitors the logs.
    DynaKubeNote {
        level: Level::Info,
        refs: &[E14, E15],
        field: "spec.logMonitoring",
        applies: |a| a.dk.log_monitoring && a.dk.mode().is_some_and(|m| m.has_daemonset()),
        text: |a| {
            format!(
                "DynaKube {}: `logMonitoring` beside `{}` starts no log-monitoring DaemonSet: the OneAgent DaemonSet monitors the logs itself, so the field changes no traffic (no E14, E15)",
                a.dk.name,
                a.dk.mode().map_or("", |m| m.field())
            )
        },
    },
    // The collector's ClusterRole grants `nodes/metrics`, not `nodes/proxy` (see
    // `PeerKind::PrometheusExtension`): it reads the kubelets directly, on their port.
    DynaKubeNote {
        level: Level::Info,
        refs: &[E21],
        field: "spec.extensions",
        applies: |a| a.dk.extensions.prometheus,
        text: |a| {
            format!(
                "DynaKube {}: the OpenTelemetry collector scrapes what the tenant's Prometheus extensions configure; its ClusterRole grants `nodes/metrics` (not `nodes/proxy`), so it may read every kubelet's metrics directly: egress to the nodes on 10250 (the kubelet default) is allowed",
                a.dk.name
            )
        },
    },
    DynaKubeNote {
        level: Level::Info,
        refs: &[E6],
        field: "spec.oneAgent",
        applies: |a| a.pulls_images,
        text: |a| {
            format!(
                "DynaKube {}: registries may redirect layer downloads to CDN hosts that no source names; add them if pulls fail",
                a.dk.name
            )
        },
    },
    DynaKubeNote {
        level: Level::Info,
        refs: &[],
        field: "",
        applies: |a| {
            a.dk.feature_flags.node_image_pull
                || a.dk.mode().is_some()
                || a.dk.active_gate_enabled()
        },
        text: |_| {
            "image pulls are made by the kubelet and container runtime on the node, not by pods; namespaced policies do not govern them".into()
        },
    },
    DynaKubeNote {
        level: Level::Info,
        refs: &[],
        field: "spec.enableIstio",
        applies: |a| a.dk.enable_istio,
        text: |a| {
            format!(
                "DynaKube {}: enableIstio makes the operator create ServiceEntries and VirtualServices for the same external hosts; sidecars then send this traffic through the mesh",
                a.dk.name
            )
        },
    },
    DynaKubeNote {
        level: Level::Info,
        refs: &[E30],
        field: "metadata.annotations",
        applies: |a| {
            a.dk.feature_flags.activegate_ignore_proxy || a.dk.feature_flags.oneagent_ignore_proxy
        },
        text: |a| {
            format!(
                "DynaKube {}: deprecated *-ignore-proxy feature flags send those components direct",
                a.dk.name
            )
        },
    },
];

/// A note on the cluster profile.
struct ProfileNote {
    refs: &'static [RowId],
    /// The field of the profile that causes it.
    field: &'static str,
    applies: fn(&ClusterProfile) -> bool,
    text: &'static str,
}

const PROFILE_NOTES: &[ProfileNote] = &[
    ProfileNote {
        refs: &[I2, I5, I8, I9],
        field: "prometheus",
        applies: |p| p.prometheus.is_none(),
        text: "no `prometheus` in the cluster profile: metrics ports get no ingress",
    },
    ProfileNote {
        refs: &[I6, I7, I8, I9, E7],
        field: "csiDriver",
        applies: |p| !p.csi_driver,
        text: "cluster profile says the CSI driver is not installed",
    },
];

impl Builder<'_> {
    /// The notes on `dk`: those of the table, those derived from its rows, and the fields
    /// and values that were read but change nothing.
    pub(super) fn dynakube_notes(&mut self, dk: &DynaKube) {
        let about = About {
            dk,
            fallback: super::fallback(self.profile, self.options, dk),
            pulls_images: self.holds(Condition::CodeModulesRegistry, Context::DynaKube(dk)),
        };
        for note in DYNAKUBE_NOTES.iter().filter(|n| (n.applies)(&about)) {
            let mut entry = Note::new(note.level, note.refs, (note.text)(&about));
            if !note.field.is_empty() {
                entry = entry.at(format!("{} {}", dk.resource(), note.field));
            }
            self.notes.insert(entry);
        }
        self.derived_notes(dk);
        for warning in &dk.warnings {
            self.notes.insert(
                Note::new(
                    Level::Warning,
                    &[],
                    format!("DynaKube {}: {warning}", dk.name),
                )
                .at(dk.resource().to_string()),
            );
        }
    }

    /// The notes on the rows of `dk` that assumed the tenant's communication endpoints, and
    /// on those its network zone narrowed to the ActiveGate; `dk` is the DynaKube whose rows
    /// were just built, and the rows collected for it are cleared.
    fn derived_notes(&mut self, dk: &DynaKube) {
        let assumed: Vec<RowId> = std::mem::take(&mut self.assumed_endpoints)
            .into_iter()
            .collect();
        let zone_rows: Vec<RowId> = std::mem::take(&mut self.zone_rows).into_iter().collect();
        if !assumed.is_empty() {
            self.notes.insert(Note::new(
                Level::Info,
                &assumed,
                format!(
                    "DynaKube {}: communication endpoints are learnt from the tenant at runtime; without them (the DynaKube's status, as `kubectl get dynakube -o yaml` prints it, or `communicationEndpoints` in the cluster profile) the policies assume {} (the apiUrl host and port, where a SaaS tenant serves them)",
                    dk.name, dk.api_url.api
                ),
            ).at(format!("{} status", dk.resource())));
        }
        let shown = |endpoints: &[crate::values::HostPort]| {
            endpoints
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (rows, endpoints, whose) in [
            (&[E8][..], &dk.status.active_gate_endpoints, "ActiveGate"),
            (
                &[E11, E12, E14][..],
                &dk.status.one_agent_endpoints,
                "OneAgent",
            ),
        ] {
            if !endpoints.is_empty() {
                self.notes.insert(
                    Note::new(
                        Level::Info,
                        rows,
                        format!(
                            "DynaKube {}: {whose} communication endpoints from its status: {}",
                            dk.name,
                            shown(endpoints)
                        ),
                    )
                    .at(format!("{} status", dk.resource())),
                );
            }
        }
        let fallback = super::fallback(self.profile, self.options, dk);
        if let (Some(zone), ZoneFallback::None) = (&dk.network_zone, fallback) {
            self.notes.insert(Note::new(
                Level::Info,
                &zone_rows,
                format!(
                    "DynaKube {}: network zone `{zone}` with fallback NONE: OneAgents, code modules and log monitoring reach the in-cluster ActiveGate only; the zone must exist in the tenant with that fallback",
                    dk.name
                ),
            ).at(format!("{} spec.networkZone", dk.resource())));
        }
    }

    /// The notes on the EdgeConnects' ignored fields and on the documents of other kinds.
    pub(super) fn input_notes(&mut self, inputs: &Inputs) {
        for ec in &inputs.edgeconnects {
            for warning in &ec.warnings {
                self.notes.insert(
                    Note::new(
                        Level::Warning,
                        &[],
                        format!("EdgeConnect {}: {warning}", ec.name),
                    )
                    .at(ec.resource().to_string()),
                );
            }
        }
        if !inputs.skipped.is_empty() {
            let mut shown: Vec<String> = inputs
                .skipped
                .iter()
                .take(SKIPPED_SHOWN)
                .map(ToString::to_string)
                .collect();
            let more = inputs.skipped.len() - shown.len();
            if more > 0 {
                shown.push(format!("and {more} more"));
            }
            self.notes.insert(Note::new(
                Level::Info,
                &[],
                format!(
                    "skipped {} document(s) of other kinds: {}",
                    inputs.skipped.len(),
                    shown.join(", ")
                ),
            ));
        }
    }

    pub(super) fn profile_notes(&mut self) {
        for note in PROFILE_NOTES.iter().filter(|n| (n.applies)(self.profile)) {
            self.notes.insert(
                Note::new(Level::Info, note.refs, note.text)
                    .at(format!("cluster profile {}", note.field)),
            );
        }
        let endpoints: Vec<String> = self
            .profile
            .communication_endpoints
            .iter()
            .map(|e| e.0.to_string())
            .collect();
        if !endpoints.is_empty() {
            self.notes.insert(Note::new(
                Level::Info,
                &[E8, E11, E12, E14],
                format!(
                    "communication endpoints from the cluster profile, for DynaKubes whose status names none: {}",
                    endpoints.join(", ")
                ),
            ).at("cluster profile communicationEndpoints"));
        }
    }
}

/// The notes on network zones: zones of the profile that no DynaKube uses, and for each
/// DynaKube whose zone has fallback NONE, what still leaves the cluster and why, and how its
/// proxy is used.
pub(super) fn zone_notes(
    inputs: &Inputs,
    profile: &ClusterProfile,
    options: &super::Options,
    flows: &[crate::matrix::Flow],
) -> Vec<Note> {
    use crate::matrix::Endpoint;
    let mut notes = Vec::new();
    for zone in profile.network_zones.keys() {
        if !inputs
            .dynakubes
            .iter()
            .any(|dk| dk.network_zone.as_ref() == Some(zone))
        {
            notes.push(
                Note::new(
                    Level::Warning,
                    &[],
                    format!("cluster profile `networkZones` names zone `{zone}`, which is the networkZone of no DynaKube"),
                )
                .at(format!("cluster profile networkZones.{zone}")),
            );
        }
    }
    for dk in &inputs.dynakubes {
        let Some(zone) = &dk.network_zone else {
            continue;
        };
        if super::fallback(profile, options, dk) != ZoneFallback::None {
            continue;
        }
        let resource = dk.resource();
        let mut exits: Vec<String> = Vec::new();
        let mut refs = std::collections::BTreeSet::new();
        for flow in flows.iter().filter(|f| f.sources.contains(&resource)) {
            if matches!(
                flow.to,
                Endpoint::Host { .. } | Endpoint::HostPattern(_) | Endpoint::Blocks(_)
            ) {
                exits.push(format!(
                    "{} to {} ({}, {}: {})",
                    flow.from, flow.to, flow.ports, flow.id, flow.purpose
                ));
                refs.insert(flow.id);
            }
        }
        exits.dedup();
        if !exits.is_empty() {
            let refs: Vec<RowId> = refs.into_iter().collect();
            notes.push(Note::new(
                Level::Info,
                &refs,
                format!(
                    "DynaKube {}: in zone `{zone}` with fallback NONE these still leave the cluster, since no ActiveGate carries them: {}",
                    dk.name,
                    exits.join("; ")
                ),
            ).at(format!("{} spec.networkZone", dk.resource())));
        }
        if let Some(proxy) = &dk.proxy {
            notes.push(Note::new(
                Level::Info,
                &[E11, E12, E14, E30],
                format!(
                    "DynaKube {}: in zone `{zone}` with fallback NONE the OneAgents, code modules and log monitoring reach the in-cluster ActiveGate directly (the operator adds its Service to their no-proxy list); the proxy {} carries only what still leaves the cluster",
                    dk.name, proxy.address
                ),
            ).at(format!("{} spec.proxy", dk.resource())));
        }
    }
    notes
}

/// What a kind of note on rows means, for the reader who looks a row up (`dynakube-netpol
/// matrix E9`): its level, the rows it can concern, words of the note as it is printed (to
/// know it by), and what it means and asks for. Every note on rows that a fixture gets has its
/// meaning here (`every_note_on_rows_has_a_meaning`).
pub(crate) struct Meaning {
    /// The note's level.
    pub(crate) level: Level,
    /// The rows it can concern.
    pub(crate) rows: &'static [RowId],
    /// Words of the note as printed.
    pub(crate) says: &'static str,
    /// What it means, and what to do about it.
    pub(crate) means: &'static str,
}

/// The rows whose peer is a host outside the cluster, which take addresses, and the other
/// sides they implement.
const TO_HOSTS: &[RowId] = &[
    I11, I14, E2, E5, E6, E8, E11, E12, E13, E14, E19, E22, E23, E24, E26, E27, E28, E29, E30,
];

/// The meaning of every kind of note on rows, those of the matrix and those of the flavors.
pub(crate) const MEANINGS: &[Meaning] = &[
    Meaning {
        level: Level::Info,
        rows: &[I3, I4, I11, E1, E4, E11, E30],
        says: "runs in the host network",
        means: "the workload (the OneAgent DaemonSet, or the webhook with Helm's `webhook.hostNetwork`) runs in its node's network, where no namespaced policy selects it: these policies neither allow nor deny its traffic, which flows unless a host firewall stops it (Cilium's, with `cilium.hostFirewall` in the cluster profile, gets a host policy)",
    },
    Meaning {
        level: Level::Info,
        rows: &[I11, E1, E12, E13, E29, E30],
        says: "need egress to",
        means: "application pods (injected with code modules, or those of `classicFullStackNamespaces`) live outside the operator namespace these policies cover: where a policy of their own namespace restricts egress, it must allow this traffic, or the code modules cannot start or report (in the Cilium flavor, `cilium.appEgress` writes that policy)",
    },
    Meaning {
        level: Level::Info,
        rows: &[I14, E6, E10, E21, E22, E26, E28],
        says: "not allowed",
        means: "the peer has no fixed address or port (pods annotated for scraping, targets the tenant configures, user databases, hosts without addresses): a rule would admit far more than the flow, so none is written and the connections are denied; name the peers in the cluster profile (`prometheusTargets`, `databases`) or their addresses in the hosts file to allow them",
    },
    Meaning {
        level: Level::Info,
        rows: &[E26],
        says: "reaches hosts matching",
        means: "the EdgeConnect forwards to hosts matching a wildcard pattern, which no NetworkPolicy can name: give the addresses behind the pattern in the hosts file to allow them",
    },
    Meaning {
        level: Level::Warning,
        rows: &[E6, E28],
        says: "downloads image data from",
        means: "the registry redirects layer downloads to CDN hosts whose addresses change, which a NetworkPolicy cannot follow: give their addresses in the hosts file or the lock file, or pull from a registry that serves the layers itself",
    },
    Meaning {
        level: Level::Info,
        rows: &[E6],
        says: "may redirect layer downloads to CDN hosts",
        means: "registries may send the layers of the code-modules image from hosts no source names; if pulls fail, add those hosts",
    },
    Meaning {
        level: Level::Info,
        rows: &[E8, E11, E12, E14],
        says: "can route OneAgents to other ActiveGates",
        means: "in a network zone whose fallback is not NONE, OneAgents may use the zone's other ActiveGates and the tenant's endpoints: the policies allow the endpoints the DynaKube's status (or the profile) names; set the zone's fallback (`networkZones`, `--zone-fallback`) if it is NONE",
    },
    Meaning {
        level: Level::Warning,
        rows: &[E16],
        says: "kspm needs an ActiveGate with kubernetes-monitoring",
        means: "KSPM sends its findings through an ActiveGate with `kubernetes-monitoring`, which this DynaKube lacks: add the capability, or the node collectors have nowhere to report",
    },
    Meaning {
        level: Level::Info,
        rows: &[E9],
        says: "may read node metrics from the kubelet",
        means: "no source settles whether the ActiveGate's Kubernetes monitoring reads node metrics from each kubelet (port 10250) or through kube-apiserver; the policies allow kube-apiserver only. Acknowledge the row once the cluster's node metrics arrive; if they do not, the kubelet path is needed",
    },
    Meaning {
        level: Level::Info,
        rows: &[E14, E15],
        says: "starts no log-monitoring DaemonSet",
        means: "beside a OneAgent DaemonSet, `logMonitoring` changes no traffic: the OneAgent monitors the logs itself, so these rows have no flow",
    },
    Meaning {
        level: Level::Info,
        rows: &[E21],
        says: "scrapes what the tenant's Prometheus extensions configure",
        means: "the OpenTelemetry collector scrapes what the tenant's Prometheus extensions configure, and reads every kubelet's metrics directly: egress to the nodes on 10250 is allowed; name the other targets in the cluster profile's `prometheusTargets`",
    },
    Meaning {
        level: Level::Info,
        rows: &[E30],
        says: "ignore-proxy feature flags",
        means: "the deprecated `*-ignore-proxy` feature flags send the ActiveGate's or OneAgents' traffic past the proxy, straight to the tenant: the policies follow them",
    },
    Meaning {
        level: Level::Info,
        rows: &[E8, E11, E12, E14],
        says: "communication endpoints are learnt from the tenant at runtime",
        means: "the tenant hands out communication endpoints when the components connect; without the DynaKube's status (`kubectl get dynakube -o yaml`) or `communicationEndpoints` in the cluster profile, the policies assume the apiUrl host, which is right for SaaS tenants; give the status for Managed or Environment ActiveGates",
    },
    Meaning {
        level: Level::Info,
        rows: &[E8, E11, E12, E14],
        says: "communication endpoints from its status",
        means: "the endpoints come from the DynaKube's status: regenerate the policies when the status changes (a new Environment ActiveGate, say)",
    },
    Meaning {
        level: Level::Info,
        rows: &[E8, E11, E12, E14],
        says: "communication endpoints from the cluster profile",
        means: "the endpoints come from `communicationEndpoints` in the cluster profile, for DynaKubes whose status names none: keep the list as the tenant's",
    },
    Meaning {
        level: Level::Info,
        rows: &[E11, E12, E14],
        says: "reach the in-cluster ActiveGate only",
        means: "with the zone's fallback NONE, OneAgents, code modules and log monitoring reach the in-cluster ActiveGate only: the zone must exist in the tenant with that fallback before the DynaKube is applied (`dynakube-netpol zone-plan`)",
    },
    Meaning {
        level: Level::Info,
        rows: &[E2, E5, E6, E8, E13, E19, E29],
        says: "these still leave the cluster",
        means: "even with the zone's fallback NONE, these flows go out of the cluster, since no ActiveGate carries them: the operator, the CSI driver, the bootstrapper and the ActiveGate itself reach the tenant or registries directly",
    },
    Meaning {
        level: Level::Info,
        rows: &[E11, E12, E14, E30],
        says: "carries only what still leaves the cluster",
        means: "with the zone's fallback NONE, the proxy carries only the flows that still leave the cluster; the OneAgents reach the in-cluster ActiveGate directly",
    },
    Meaning {
        level: Level::Info,
        rows: &[I2, I5, I8, I9],
        says: "no `prometheus` in the cluster profile",
        means: "without `prometheus` in the cluster profile, nothing may scrape the metrics ports: name the Prometheus (namespace, pod labels) to open them",
    },
    Meaning {
        level: Level::Info,
        rows: &[I6, I7, I8, I9, E7],
        says: "says the CSI driver is not installed",
        means: "the cluster profile says `csiDriver: false`, so the CSI driver's rows have no flow",
    },
    Meaning {
        level: Level::Warning,
        rows: &[E10, E21, E22],
        says: "cannot be named, so the policies do not allow them",
        means: "the row's peers are pods or databases only the cluster profile can name (`prometheusTargets`, `databases`): until it does, the row stays closed",
    },
    Meaning {
        level: Level::Warning,
        rows: &[I11, E12],
        says: "the host agent instruments processes in every pod",
        means: "a classic full-stack OneAgent instruments processes in every pod, so the routing ActiveGate admits every pod on its port: list the application namespaces in `classicFullStackNamespaces` to narrow it",
    },
    Meaning {
        level: Level::Warning,
        rows: &[I1, I3, I6, I7, I10, I11, I13, I14, I15, I16, E11, E15, E21],
        says: "has no nodeCIDRs",
        means: "without `nodeCIDRs`, the rules for kubelet probes and host-network traffic admit any address on their ports: give the nodes' addresses (single addresses where pods share the nodes' subnets)",
    },
    Meaning {
        level: Level::Warning,
        rows: &[I4],
        says: "has no controlPlaneCIDRs",
        means: "without `controlPlaneCIDRs`, kube-apiserver's calls to the webhook are admitted from any address on the webhook port: give the control plane's addresses",
    },
    Meaning {
        level: Level::Warning,
        rows: &[I4],
        says: "entities that name every node",
        means: "with `cilium.controlPlaneHostNetwork`, Cilium sees kube-apiserver's calls to the webhook as from `host` or `remote-node`, which no entity narrows to the control-plane nodes: the webhook port admits every node's host network",
    },
    Meaning {
        level: Level::Warning,
        rows: &[E3, E4, E7, E9, E18, E20, E25],
        says: "has no apiServer.endpointCIDRs",
        means: "without `apiServer.endpointCIDRs`, egress to kube-apiserver is allowed to any address on its ports: give the endpoints of the `kubernetes` Service",
    },
    Meaning {
        level: Level::Warning,
        rows: &[
            I1, I3, I4, I6, I7, I10, I11, I13, I14, I15, I16, E3, E4, E7, E9, E10, E11, E12, E15,
            E18, E20, E21, E22, E25,
        ],
        says: "no cluster profile",
        means: "without a cluster profile, every rule that needs addresses of the nodes, the control plane or kube-apiserver admits any address on its ports, and rows whose peers only the profile names stay closed: write one",
    },
    Meaning {
        level: Level::Warning,
        rows: TO_HOSTS,
        says: "its port is allowed to every public address",
        means: "with `--fqdn-fallback public-internet`, a host without addresses is allowed on its port to every public address: give its addresses (hosts file, lock) to narrow the rule",
    },
    Meaning {
        level: Level::Warning,
        rows: TO_HOSTS,
        says: "admits the internet and the whole cluster network",
        means: "addresses accepted with `--allow-any-address` add up to every address: the rules with them admit everything on their ports",
    },
    Meaning {
        level: Level::Info,
        rows: &[
            I1, I2, I3, I4, I5, I6, I7, I8, I9, I10, I11, I12, I13, I14, I15, I16, I17, E11,
        ],
        says: "ClusterNetworkPolicy ingress rules name pods only",
        means: "ClusterNetworkPolicies cannot name nodes, kube-apiserver or other addresses as sources: the cluster-network-policy flavor writes NetworkPolicies beside them for the ingress of the Dynatrace workloads, as the kubernetes flavor writes it, so that connections from there are admitted as the matrix needs and refused otherwise (with the workloads' ingress from pods, as a NetworkPolicy that isolates a pod decides before the Baseline tier)",
    },
    Meaning {
        level: Level::Info,
        rows: &[I11, I12, I17, E1, E12, E13, E29, E30],
        says: "In the Admin tier the connections these policies accept",
        means: "the ClusterNetworkPolicies of application pods (code modules, their download, OTLP export, telemetry to the collector, DNS) are in the Admin tier: they hold whatever the application namespaces' own NetworkPolicies say, and only the cluster's Admin-tier policies of lower priority numbers decide before them",
    },
    Meaning {
        level: Level::Info,
        rows: &[I11, I12, I17, E1, E12, E13, E29, E30],
        says: "In the Baseline tier the NetworkPolicies of an application namespace decide first",
        means: "the ClusterNetworkPolicies of application pods are in the Baseline tier: an application namespace whose NetworkPolicies isolate its pods must allow these connections itself; generate in the Admin tier to keep them whatever those policies say (tier `admin`)",
    },
    Meaning {
        level: Level::Info,
        rows: &[I14, E22],
        says: "by address: its DNS rule lets it resolve only the names",
        means: "Cilium's DNS proxy lets the executor resolve only the names its policies list: a connection string that names a database by host fails its lookup though the address is allowed; give such databases by `hosts` in `databases`",
    },
];
