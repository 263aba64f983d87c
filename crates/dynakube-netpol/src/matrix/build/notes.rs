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
