//! From resources and cluster profile to the active flows: a pure function.
//!
//! [`build`] evaluates every row of the [table](super::TABLE) for the cluster, each DynaKube
//! and each EdgeConnect ([`Context`]); [`peers`] resolves the peers of a row into
//! [`Endpoint`]s; [`notes`] holds the remarks, as data.

mod notes;
pub(crate) use notes::{MEANINGS, Meaning};
mod peers;
mod release;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use super::releases::ReleaseFact;
use super::{
    Component, Condition, Direction, Endpoint, Flow, FlowRule, Level, Matrix, Note, Options,
    PortKind, Ports, RowId, Scope, TABLE, Workload, ZoneFallback,
};
use crate::advice::{Remedy, Setting};
use crate::cluster::ClusterProfile;
use crate::error::{Error, Location, Result};
use crate::resources::{Capability, DynaKube, DynaKubeVersion, EdgeConnect, Inputs, ResourceRef};
use crate::values::{HostPattern, Name, OperatorVersion};

/// Builds the matrix of `inputs` in the cluster described by `profile`.
///
/// Fails when the resources live in different namespaces, or in another namespace than the
/// profile's (the operator only manages resources of its own namespace); when two resources
/// are the same object; and when two workloads would have the same name.
///
/// With [`ZoneFallback::None`], every DynaKube with a `networkZone` must have an ActiveGate with
/// `routing`: its OneAgents have no other endpoint.
pub fn build(inputs: &Inputs, profile: &ClusterProfile, options: &Options) -> Result<Matrix> {
    let (namespace, namespace_note) = namespace(inputs, profile, options)?;
    unique_resources(inputs, &namespace)?;
    restricted_zones_route(inputs, profile, options)?;
    patterns_outside_the_cluster_domain(inputs, profile)?;
    let (operator, operator_note) = operator_release(inputs, profile)?;
    let inputs = &release::read_as(inputs, operator, profile)?;
    let mut builder = Builder {
        options,
        profile,
        operator,
        namespace: namespace.clone(),
        flows: BTreeMap::new(),
        notes: operator_note.into_iter().chain(namespace_note).collect(),
        assumed_endpoints: BTreeSet::new(),
        zone_rows: BTreeSet::new(),
    };
    for ctx in contexts(inputs) {
        builder.rows(&ctx);
        if let Context::DynaKube(dk) = ctx {
            builder.dynakube_notes(dk);
        }
    }
    builder.profile_notes();
    builder.input_notes(inputs);
    let flows = builder.flows();
    unique_workloads(inputs, &flows)?;
    let mut notes = builder.notes;
    notes.extend(notes::zone_notes(inputs, profile, options, &flows));
    notes.extend(every_address_in_the_profile(profile));
    Ok(Matrix {
        namespace,
        flows,
        notes: notes.into_iter().collect(),
        profile: profile.clone(),
        operator,
    })
}

/// The operator release: the profile's, which must serve every DynaKube's API version, with a
/// warning when its line is newer than every release known; else the newest release that
/// serves them all, with a note on the assumption.
fn operator_release(
    inputs: &Inputs,
    profile: &ClusterProfile,
) -> Result<(OperatorVersion, Option<Note>)> {
    if let Some(release) = profile.operator_version {
        if let Some(dk) = inputs.dynakubes.iter().find(|d| !release.serves(d.version)) {
            return Err(Error::invalid(
                dk.origin.join("apiVersion"),
                format!(
                    "`{}` is not served by operator {release}, which serves {}; convert the resource, or correct operatorVersion",
                    dk.version.api_version(),
                    release.served().join(", ")
                ),
            ));
        }
        return Ok((release, beyond_known(release)));
    }
    let versions: BTreeSet<DynaKubeVersion> = inputs.dynakubes.iter().map(|d| d.version).collect();
    let advice = "set `operatorVersion` in the cluster profile if the cluster runs another";
    let served = OperatorVersion::newest_serving(&versions);
    let (release, why) = match served {
        Some(release) if release == OperatorVersion::NEWEST => {
            (release, "the newest release this tool knows".to_string())
        }
        Some(release) => {
            let names: Vec<&str> = versions.iter().map(|v| v.api_version()).collect();
            (
                release,
                format!("the newest release that serves {}", names.join(" and ")),
            )
        }
        None => (
            OperatorVersion::NEWEST,
            "the newest release this tool knows, although no release serves all the DynaKubes' API versions"
                .to_string(),
        ),
    };
    let level = if served.is_some() {
        Level::Info
    } else {
        Level::Warning
    };
    let note = Note::new(
        level,
        &[],
        format!("assuming operator {release}, {why}; {advice}"),
    )
    .at("cluster profile operatorVersion");
    Ok((release, Some(note)))
}

/// The warning on a release of a minor or major line newer than the newest one known (see
/// [`OperatorVersion::beyond_known`]: an unknown patch of the newest line gets none).
fn beyond_known(release: OperatorVersion) -> Option<Note> {
    let newest = OperatorVersion::NEWEST;
    release.beyond_known().then(|| {
        Note::new(
            Level::Warning,
            &[],
            format!(
                "operator {release} is newer than the newest release this tool knows, {newest}: the policies follow the labels, ports and fields of {newest}; a newer version of this tool may know more"
            ),
        )
        .at("cluster profile operatorVersion")
    })
}

/// The resource rows are evaluated for: the cluster, or one DynaKube or EdgeConnect.
#[derive(Clone, Copy)]
enum Context<'a> {
    Cluster,
    DynaKube(&'a DynaKube),
    EdgeConnect(&'a EdgeConnect),
}

impl<'a> Context<'a> {
    fn scope(self) -> Scope {
        match self {
            Context::Cluster => Scope::Cluster,
            Context::DynaKube(_) => Scope::DynaKube,
            Context::EdgeConnect(_) => Scope::EdgeConnect,
        }
    }

    fn dynakube(self) -> Option<&'a DynaKube> {
        match self {
            Context::DynaKube(dk) => Some(dk),
            _ => None,
        }
    }

    fn edgeconnect(self) -> Option<&'a EdgeConnect> {
        match self {
            Context::EdgeConnect(ec) => Some(ec),
            _ => None,
        }
    }

    /// The resource, for the provenance of flows.
    fn resource(self) -> Option<ResourceRef> {
        match self {
            Context::Cluster => None,
            Context::DynaKube(dk) => Some(dk.resource()),
            Context::EdgeConnect(ec) => Some(ec.resource()),
        }
    }
}

fn contexts(inputs: &Inputs) -> Vec<Context<'_>> {
    let mut contexts = vec![Context::Cluster];
    contexts.extend(inputs.dynakubes.iter().map(Context::DynaKube));
    contexts.extend(inputs.edgeconnects.iter().map(Context::EdgeConnect));
    contexts
}

/// Fails when an EdgeConnect host pattern would match every name of the cluster's own DNS
/// domain (`*.cluster.local`, `*.svc.cluster.local`, `*.local`): its forwarding rule would
/// reach every Service and pod of the cluster on every port. Patterns below a public suffix
/// are refused when they are read ([`crate::values::HostPattern::parse`]).
fn patterns_outside_the_cluster_domain(inputs: &Inputs, profile: &ClusterProfile) -> Result<()> {
    let domain = profile.cluster_domain.as_str();
    let services = format!("svc.{domain}");
    for ec in &inputs.edgeconnects {
        let fields = (ec.host_patterns.iter().enumerate())
            .map(|(i, p)| (format!("spec.hostPatterns[{i}]"), p))
            .chain(
                ec.host_restrictions
                    .iter()
                    .map(|p| ("spec.hostRestrictions".to_string(), p)),
            );
        for (field, pattern) in fields {
            let HostPattern::Below(below) = pattern else {
                continue;
            };
            let below = below.as_str();
            let covers = below == domain
                || below == services
                || domain
                    .strip_suffix(below)
                    .is_some_and(|rest| rest.ends_with('.'));
            if covers {
                return Err(Error::invalid(
                    ec.origin.join(&field),
                    format!(
                        "`{pattern}` would match every name of the cluster domain `{domain}` (clusterDomain in the cluster profile): the forwarding rule would reach every Service and pod on every port; name the hosts, or a domain below one namespace"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Warnings for the fields of the cluster profile whose blocks add up to every address (which
/// only `--allow-any-address` lets through): every rule with them admits the internet and
/// the whole cluster network.
fn every_address_in_the_profile(profile: &ClusterProfile) -> Vec<Note> {
    let api = &profile.api_server;
    let fields = [
        ("nodeCIDRs", &profile.node_cidrs),
        ("controlPlaneCIDRs", &profile.control_plane_cidrs),
        ("apiServer.endpointCIDRs", &api.endpoint_cidrs),
        ("apiServer.serviceCIDRs", &api.service_cidrs),
    ];
    let databases = (profile.databases.iter().enumerate())
        .map(|(i, db)| (format!("databases[{i}].cidrs"), &db.cidrs));
    fields
        .into_iter()
        .map(|(field, cidrs)| (field.to_string(), cidrs))
        .chain(databases)
        .filter_map(|(field, cidrs)| {
            let what = crate::guard::covers_everything(cidrs)?;
            Some(
                Note::new(
                    Level::Warning,
                    &[],
                    format!(
                        "the cluster profile's {field} cover {what}, as allowed: every rule with them admits the internet and the whole cluster network"
                    ),
                )
                .at(format!("cluster profile {field}")),
            )
        })
        .collect()
}

/// The operator namespace: the profile's, else the one all resources share, else `dynatrace`
/// with a note (a manifest without namespaces, as Helm charts often render them, lands in
/// whatever namespace it is applied to, which the inputs cannot tell).
fn namespace(
    inputs: &Inputs,
    profile: &ClusterProfile,
    options: &Options,
) -> Result<(Name, Option<Note>)> {
    let resources = inputs
        .dynakubes
        .iter()
        .map(|d| (&d.namespace, &d.origin))
        .chain(
            inputs
                .edgeconnects
                .iter()
                .map(|e| (&e.namespace, &e.origin)),
        );
    let mut chosen: Option<(Name, Location)> = profile
        .namespace
        .clone()
        .map(|ns| (ns, Location::new("the cluster profile", None, "namespace")));
    for (ns, origin) in resources {
        let Some(ns) = ns else { continue };
        match &chosen {
            None => chosen = Some((ns.clone(), origin.join("metadata.namespace"))),
            Some((expected, from)) if expected != ns => {
                let from = match from.document {
                    None => from.file.clone(),
                    Some(_) => from.at("").origin(),
                };
                return Err(Error::invalid(
                    origin.join("metadata.namespace"),
                    format!(
                        "`{ns}` differs from `{expected}` ({from}); the operator manages only resources in its own namespace"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((ns, from)) = chosen {
        return shared(ns, &from, options);
    }
    let note = Note::new(
        Level::Warning,
        &[],
        "neither the cluster profile nor any resource names a namespace: the policies assume the operator runs in `dynatrace`; set `namespace` in the cluster profile if it runs elsewhere",
    )
    .at("cluster profile namespace");
    let default = Name::parse("dynatrace").expect("a valid constant name");
    Ok((default, Some(note)))
}

/// `namespace` (read at `from`) as the operator namespace: refused when the cluster or other
/// software shares it, unless the options accept that, with a warning then.
fn shared(namespace: Name, from: &Location, options: &Options) -> Result<(Name, Option<Note>)> {
    let Some(why) = super::shared_namespace(namespace.as_str()) else {
        return Ok((namespace, None));
    };
    if !options.shared_namespace {
        return Err(Error::invalid_unless(
            from.clone(),
            format!(
                "`{namespace}` is {why}: the policies put every pod of the operator namespace into default deny, and here that cuts off pods that are not Dynatrace's"
            ),
            vec![
                Remedy::Do("run the operator in a namespace of its own (such as `dynatrace`)"),
                Remedy::set_when(
                    Setting::AllowSharedNamespace,
                    "to isolate every pod of the namespace all the same",
                ),
            ],
        ));
    }
    let note = Note::new(
        Level::Warning,
        &[],
        format!(
            "the operator namespace `{namespace}` is {why}: default-deny isolates every pod in it, and only the Dynatrace components' traffic is allowed"
        ),
    )
    .by(Setting::AllowSharedNamespace);
    Ok((namespace, Some(note)))
}

/// Fails when two resources are the same object: same kind and name in the operator
/// namespace. The API server would keep only one of them, so the policies of either would be
/// wrong.
fn unique_resources(inputs: &Inputs, namespace: &Name) -> Result<()> {
    let mut seen: BTreeMap<ResourceRef, &Location> = BTreeMap::new();
    let resources = inputs
        .dynakubes
        .iter()
        .map(|d| (d.resource(), &d.origin))
        .chain(
            inputs
                .edgeconnects
                .iter()
                .map(|e| (e.resource(), &e.origin)),
        );
    for (mut resource, origin) in resources {
        resource.namespace = Some(namespace.clone());
        if let Some(first) = seen.get(&resource) {
            return Err(Error::invalid(
                origin.join("metadata.name"),
                format!(
                    "{resource} appears twice: here and in {}; the cluster holds one object per kind, namespace and name",
                    first.origin()
                ),
            ));
        }
        seen.insert(resource, origin);
    }
    Ok(())
}

/// The fallback mode of `dk`'s network zone: the profile's for that zone, else the default
/// of the options (`--zone-fallback`).
pub(super) fn fallback(profile: &ClusterProfile, options: &Options, dk: &DynaKube) -> ZoneFallback {
    dk.network_zone
        .as_ref()
        .and_then(|zone| profile.network_zones.get(zone))
        .copied()
        .unwrap_or(options.zone_fallback)
}

/// With zone fallback NONE, the OneAgents of a DynaKube in a zone have no endpoint but the
/// zone's ActiveGates: the in-cluster one must route, and run.
fn restricted_zones_route(
    inputs: &Inputs,
    profile: &ClusterProfile,
    options: &Options,
) -> Result<()> {
    for dk in &inputs.dynakubes {
        let Some(zone) = &dk.network_zone else {
            continue;
        };
        if fallback(profile, options, dk) != ZoneFallback::None {
            continue;
        }
        if !dk.has_capability(Capability::Routing) {
            return Err(Error::invalid(
                dk.origin.join("spec.activeGate.capabilities"),
                format!(
                    "network zone `{zone}` has fallback NONE, which leaves the OneAgents of DynaKube {} no endpoint but the zone's ActiveGates: add the `routing` capability",
                    dk.name
                ),
            ));
        }
        if dk.active_gate.as_ref().and_then(|ag| ag.replicas) == Some(0) {
            return Err(Error::invalid(
                dk.origin.join("spec.activeGate.replicas"),
                format!(
                    "is 0: network zone `{zone}` has fallback NONE, so the OneAgents of DynaKube {} would have no ActiveGate to reach",
                    dk.name
                ),
            ));
        }
    }
    Ok(())
}

/// Fails when two workloads would have the same name, such as an EdgeConnect named
/// `dk-activegate` beside the ActiveGate of DynaKube `dk`: their policies would have the same
/// names and one would overwrite the other.
fn unique_workloads(inputs: &Inputs, flows: &[Flow]) -> Result<()> {
    let origin_of = |workload: &Workload| -> Option<&Location> {
        let instance = workload.instance.as_ref()?;
        match workload.component.scope() {
            Scope::EdgeConnect => inputs
                .edgeconnects
                .iter()
                .find(|e| &e.name == instance)
                .map(|e| &e.origin),
            _ => inputs
                .dynakubes
                .iter()
                .find(|d| &d.name == instance)
                .map(|d| &d.origin),
        }
    };
    let describe = |workload: &Workload| -> String {
        let owner = match (workload.component.scope(), &workload.instance) {
            (Scope::EdgeConnect, Some(name)) => format!("EdgeConnect {name}"),
            (_, Some(name)) => format!("the {} of DynaKube {name}", workload.component),
            (_, None) => format!("the cluster's {}", workload.component),
        };
        match origin_of(workload) {
            Some(origin) => format!("{owner} ({})", origin.origin()),
            None => owner,
        }
    };
    let mut seen: BTreeMap<String, &Workload> = BTreeMap::new();
    let workloads = flows
        .iter()
        .flat_map(|f| [&f.from, &f.to])
        .filter_map(Endpoint::workload);
    for workload in workloads {
        let name = workload.name();
        match seen.get(&name) {
            Some(&other) if other != workload => {
                let at = origin_of(workload)
                    .or_else(|| origin_of(other))
                    .map_or_else(|| Location::new("", None, ""), |l| l.join("metadata.name"));
                return Err(Error::invalid(
                    at,
                    format!(
                        "{} and {} would both be named `{name}`, so their policies would collide; rename one of them",
                        describe(other),
                        describe(workload),
                    ),
                ));
            }
            Some(_) => {}
            None => {
                seen.insert(name, workload);
            }
        }
    }
    Ok(())
}

type FlowKey = (RowId, Endpoint, Endpoint, Ports);

/// A flow in the making: what it collects while the rows are evaluated.
#[derive(Default)]
struct FlowDraft {
    refs: BTreeSet<RowId>,
    sources: BTreeSet<ResourceRef>,
    purpose: &'static str,
}

struct Builder<'a> {
    options: &'a Options,
    profile: &'a ClusterProfile,
    /// The operator release.
    operator: OperatorVersion,
    namespace: Name,
    /// Flows by identity.
    flows: BTreeMap<FlowKey, FlowDraft>,
    notes: BTreeSet<Note>,
    /// The rows of the DynaKube being built that assume the tenant's communication endpoints.
    assumed_endpoints: BTreeSet<RowId>,
    /// The rows of the DynaKube being built narrowed to the zone's ActiveGates.
    zone_rows: BTreeSet<RowId>,
}

/// One peer of a row, made concrete: the endpoint, its ports, and extra references (E30).
struct ConcretePeer {
    endpoint: Endpoint,
    ports: Ports,
    refs: &'static [RowId],
}

impl ConcretePeer {
    fn plain(endpoint: Endpoint, ports: Ports) -> Self {
        ConcretePeer {
            endpoint,
            ports,
            refs: &[],
        }
    }
}

impl Builder<'_> {
    /// Whether the DynaKube's OneAgents reach only the in-cluster ActiveGate.
    fn restricted(&self, dk: &DynaKube) -> bool {
        fallback(self.profile, self.options, dk) == ZoneFallback::None && dk.network_zone.is_some()
    }

    /// The workload of `component` in the context: cluster components have no instance.
    fn workload(&self, component: Component, ctx: Context<'_>) -> Workload {
        let instance = match component.scope() {
            Scope::Cluster | Scope::EveryWorkload => None,
            Scope::DynaKube => ctx.dynakube().map(|d| d.name.clone()),
            Scope::EdgeConnect => ctx.edgeconnect().map(|e| e.name.clone()),
        };
        let mut workload = Workload::new(component, instance, self.namespace.clone());
        // Helm's `webhook.hostNetwork`: its pods are the nodes' network, as the OneAgent's.
        if component == Component::Webhook
            && self.profile.helm.webhook.host_network
            && let crate::matrix::Selection::Pods(selector) = workload.selection
        {
            workload.selection = crate::matrix::Selection::HostNetwork(selector);
        }
        workload
    }

    /// Whether `component` runs, given the resource of the context and the operator release.
    fn runs(&self, component: Component, ctx: Context<'_>) -> bool {
        self.operator.has(component) && self.configured(component, ctx)
    }

    /// Whether the resource of the context (or the profile) asks for `component`.
    fn configured(&self, component: Component, ctx: Context<'_>) -> bool {
        let dk = ctx.dynakube();
        let daemonset = dk
            .and_then(DynaKube::mode)
            .is_some_and(|m| m.has_daemonset());
        match component {
            Component::Operator | Component::Webhook | Component::CrdMigration => true,
            Component::CsiDriver => self.profile.csi_driver,
            Component::EdgeConnect => ctx.edgeconnect().is_some(),
            Component::ActiveGate => dk.is_some_and(DynaKube::active_gate_enabled),
            Component::OneAgent => daemonset,
            // `IsStandalone()` in every release: beside a OneAgent DaemonSet, the OneAgent
            // monitors the logs (see the note on `spec.logMonitoring`).
            Component::LogMonitoring => dk.is_some_and(|d| d.log_monitoring && !daemonset),
            Component::Kspm => dk.is_some_and(|d| d.kspm),
            Component::ExtensionController => dk.is_some_and(|d| d.extensions.enabled()),
            Component::SqlExecutor => dk.is_some_and(|d| !d.extensions.databases.is_empty()),
            Component::OtelCollector => {
                dk.is_some_and(|d| d.telemetry_ingest.is_some() || d.extensions.prometheus)
            }
            Component::InjectedApps => dk.is_some_and(DynaKube::labels_namespaces),
            Component::ClassicApps => {
                dk.and_then(DynaKube::mode)
                    == Some(crate::resources::OneAgentMode::ClassicFullStack)
            }
        }
    }

    fn holds(&self, condition: Condition, ctx: Context<'_>) -> bool {
        let dk = ctx.dynakube();
        let ec = ctx.edgeconnect();
        let injects = dk
            .and_then(DynaKube::mode)
            .is_some_and(|m| m.injects_code_modules());
        let registry = dk.map(DynaKube::code_modules_from_registry);
        let node_pull = dk.is_some_and(|d| d.feature_flags.node_image_pull);
        // In migration mode the CSI driver only cleans up; new pods get the bootstrapper.
        let migration = self.profile.csi_driver && self.profile.helm.csidriver.migration_mode;
        match condition {
            Condition::Always => true,
            Condition::PrometheusConfigured => self.profile.prometheus.is_some(),
            Condition::CodeModulesDownload => {
                injects && registry == Some(false) && !node_pull && !migration
            }
            Condition::CodeModulesRegistry => {
                injects && registry == Some(true) && !node_pull && !migration
            }
            Condition::KubernetesMonitoring => {
                dk.is_some_and(|d| d.has_capability(Capability::KubernetesMonitoring))
            }
            Condition::CodeModulesInjection => injects,
            Condition::ClassicFullStack => {
                dk.and_then(DynaKube::mode)
                    == Some(crate::resources::OneAgentMode::ClassicFullStack)
            }
            Condition::Bootstrapper => {
                injects && (!self.profile.csi_driver || migration) && registry == Some(false)
            }
            Condition::TelemetryIngest => dk.is_some_and(|d| d.telemetry_ingest.is_some()),
            Condition::TelemetryIngestProbes => {
                dk.is_some_and(|d| d.telemetry_ingest.is_some())
                    && self.operator.holds(ReleaseFact::OtelCollectorProbes)
            }
            Condition::MetricsIngest => {
                dk.is_some_and(|d| d.has_capability(Capability::MetricsIngest))
            }
            Condition::PrometheusExtensions => dk.is_some_and(|d| d.extensions.prometheus),
            Condition::OtlpExporter => dk.is_some_and(|d| d.otlp_exporter),
            Condition::KubernetesAutomation => ec.is_some_and(|e| e.kubernetes_automation),
            Condition::Provisioning => ec.is_some_and(|e| e.provisioner || e.kubernetes_automation),
            Condition::DefaultEdgeConnectImage => ec.is_some_and(|e| e.image.is_none()),
        }
    }

    /// Whether `rule` is evaluated for `component` in the context: rows of the context's
    /// scope for their components (cluster components included: the operator calls every
    /// DynaKube's API), and rows of every workload for the context's own components.
    fn applies(&self, rule: &FlowRule, component: Component, ctx: Context<'_>) -> bool {
        let scope = ctx.scope();
        let evaluated = match rule.scope {
            Scope::EveryWorkload => component.scope() == scope,
            rule_scope => rule_scope == scope,
        };
        evaluated && self.runs(component, ctx)
    }

    fn rows(&mut self, ctx: &Context<'_>) {
        let ctx = *ctx;
        for rule in TABLE {
            if !self.holds(rule.when, ctx) {
                continue;
            }
            for &component in rule.components {
                if self.applies(rule, component, ctx) {
                    self.add(rule, component, ctx);
                }
            }
        }
    }

    /// The endpoints that stand for `component` in the context: its workload, or for
    /// classic full-stack applications the pods of the profile.
    fn subjects(&self, component: Component, ctx: Context<'_>) -> Vec<Endpoint> {
        match component {
            Component::ClassicApps => self.classic_pods(),
            _ => vec![Endpoint::Workload(self.workload(component, ctx))],
        }
    }

    fn add(&mut self, rule: &'static FlowRule, component: Component, ctx: Context<'_>) {
        let subjects = self.subjects(component, ctx);
        for peer in self.peers(rule, ctx) {
            let ports = match rule.ports {
                PortKind::Fixed(ports) => Ports::list(ports.iter().copied()),
                PortKind::OfPeer => peer.ports,
                PortKind::TelemetryProtocols => peers::telemetry_ports(ctx.dynakube()),
                PortKind::Webhook(port) => Ports::list([crate::matrix::Port::tcp_of(
                    self.profile.helm.webhook.ports.of(port),
                )]),
            };
            for me in &subjects {
                let (from, to) = match rule.direction {
                    Direction::Ingress => (peer.endpoint.clone(), me.clone()),
                    Direction::Egress => (me.clone(), peer.endpoint.clone()),
                };
                let key = (rule.id, from, to, ports.clone());
                let facts = self.flows.entry(key).or_default();
                facts.refs.insert(rule.id);
                facts.refs.extend(rule.also.iter().copied());
                facts.refs.extend(peer.refs.iter().copied());
                facts.sources.extend(ctx.resource());
                facts.purpose = rule.purpose;
            }
        }
    }

    /// The flows in the table's order, then by identity.
    fn flows(&mut self) -> Vec<Flow> {
        let order: BTreeMap<RowId, usize> = TABLE
            .iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (r.id, i))
            .collect();
        let mut flows: Vec<Flow> = std::mem::take(&mut self.flows)
            .into_iter()
            .map(|((id, from, to, ports), facts)| Flow {
                id,
                from,
                to,
                ports,
                refs: facts.refs,
                sources: facts.sources,
                purpose: facts.purpose,
            })
            .collect();
        flows.sort_by(|a, b| order[&a.id].cmp(&order[&b.id]).then_with(|| a.cmp(b)));
        flows
    }
}
