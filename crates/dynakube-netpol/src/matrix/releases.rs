//! What differs between Dynatrace Operator releases, as data: the labels of each component's
//! pods, the names of its controllers, the DynaKube versions served, and the features that
//! came or changed with a release.
//!
//! Facts were read from the operator's source at the release tags v1.4.0 to v1.10.2. A
//! selector for a component covers the labels of every release where one selector can do so
//! without admitting another component's pods (see [`selector`]), so that policies keep
//! working across an operator upgrade; the release itself ([`OperatorVersion`], from the
//! cluster profile or inferred from the resources) decides which features exist and how the
//! resources read.

use std::collections::{BTreeMap, BTreeSet};

use super::Component;
use crate::resources::DynaKubeVersion;
pub(crate) use crate::values::OperatorVersion;

const fn v(major: u16, minor: u16, patch: u16) -> OperatorVersion {
    OperatorVersion::new(major, minor, patch)
}

impl OperatorVersion {
    /// The oldest release this tool knows.
    pub(crate) const OLDEST: OperatorVersion = v(1, 4, 0);
    /// The newest release this tool was checked against; newer ones are read as this one.
    pub(crate) const NEWEST: OperatorVersion = v(1, 10, 2);

    /// The release whose facts apply: this one, or the newest known for newer ones.
    pub(crate) fn known(self) -> OperatorVersion {
        self.min(Self::NEWEST)
    }

    /// Whether the release is of a minor (or major) line newer than [`Self::NEWEST`]'s, such
    /// as 1.11.0 or 2.0; it is then read as [`Self::NEWEST`], with a warning.
    ///
    /// An unknown patch of the newest line (1.10.3, or `1.10`, which means its newest patch)
    /// is not: patch releases fix bugs and do not change the labels, ports and fields the
    /// policies follow, so a warning for each would be noise.
    pub(crate) fn beyond_known(self) -> bool {
        (self.major, self.minor) > (Self::NEWEST.major, Self::NEWEST.minor)
    }

    /// Whether the release serves DynaKubes of `version`.
    pub(crate) fn serves(self, version: DynaKubeVersion) -> bool {
        SERVED.iter().any(|(served, first, end)| {
            *served == version && *first <= self && end.is_none_or(|end| self < end)
        })
    }

    /// Whether the operator of this release runs `component` at all.
    pub(crate) fn has(self, component: Component) -> bool {
        SCHEMES
            .iter()
            .any(|s| s.component == component && s.since <= self.known())
            || !SCHEMES.iter().any(|s| s.component == component)
    }

    /// Whether `fact` holds for this release.
    pub(crate) fn holds(self, fact: ReleaseFact) -> bool {
        let (since, until) = fact.releases();
        since <= self && until.is_none_or(|until| self < until)
    }

    /// The newest release that serves every one of `versions`, if one does.
    pub(crate) fn newest_serving(versions: &BTreeSet<DynaKubeVersion>) -> Option<OperatorVersion> {
        RELEASES
            .iter()
            .rev()
            .copied()
            .find(|release| versions.iter().all(|&v| release.serves(v)))
    }

    /// The DynaKube versions the release serves, for messages.
    pub(crate) fn served(self) -> Vec<&'static str> {
        [
            DynaKubeVersion::V1beta3,
            DynaKubeVersion::V1beta4,
            DynaKubeVersion::V1beta5,
            DynaKubeVersion::V1beta6,
        ]
        .into_iter()
        .filter(|&version| self.serves(version))
        .map(DynaKubeVersion::api_version)
        .collect()
    }
}

/// The last release of each minor line this tool knows, oldest first.
const RELEASES: [OperatorVersion; 7] = [
    v(1, 4, 2),
    v(1, 5, 1),
    v(1, 6, 3),
    v(1, 7, 3),
    v(1, 8, 1),
    v(1, 9, 0),
    v(1, 10, 2),
];

/// Which releases serve which DynaKube version: from the first, up to (not including) the
/// second, if any.
const SERVED: [(DynaKubeVersion, OperatorVersion, Option<OperatorVersion>); 4] = [
    (DynaKubeVersion::V1beta3, v(1, 4, 0), Some(v(1, 8, 0))),
    (DynaKubeVersion::V1beta4, v(1, 5, 0), Some(v(1, 10, 0))),
    (DynaKubeVersion::V1beta5, v(1, 6, 0), None),
    (DynaKubeVersion::V1beta6, v(1, 8, 0), None),
];

/// A behaviour of the operator that holds for a range of releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReleaseFact {
    /// Feature flags are read with Go's `strconv.ParseBool` (`1`, `t`, `TRUE`, ...), falling
    /// back to the default on other values; before, only the exact strings `true` and
    /// `false` counted.
    ParseBoolFlags,
    /// The annotation `feature.dynatrace.com/public-registry` switches to the public registry.
    PublicRegistryFlag,
    /// The annotation `feature.dynatrace.com/use-public-registry`, or a platform token, switches
    /// to the public registry.
    UsePublicRegistryFlag,
    /// Helm upgrades run the CRD storage migration Job.
    CrdMigrationJob,
    /// The OpenTelemetry collector has kubelet probes on its health-check port (with telemetry
    /// ingest).
    OtelCollectorProbes,
    /// DynaKube names are limited further by the names of the workloads they create: 32
    /// characters with extensions, 38 with telemetry ingest, 35 with KSPM.
    StatefulSetNameLimits,
    /// As [`ReleaseFact::StatefulSetNameLimits`], one shorter for StatefulSets: 31 and 37.
    ShorterStatefulSetNameLimits,
    /// The EdgeConnect `oauth.endpoint` must be `https` on one of Dynatrace's SSO hosts.
    SsoHostCheck,
    /// The annotation `feature.dynatrace.com/node-image-pull` exists.
    NodeImagePullFlag,
    /// The CSI driver downloads code modules from the tenant even with the public registry:
    /// it pulls an image only for `codeModulesImage` or `node-image-pull`
    /// (`pkg/controllers/csi/provisioner/install.go`, `getInstaller`, 1.5.0 to 1.9.x).
    CsiIgnoresPublicRegistry,
}

impl ReleaseFact {
    /// Every fact, in the order of the generated table.
    pub(crate) const ALL: [ReleaseFact; 10] = [
        ReleaseFact::ParseBoolFlags,
        ReleaseFact::NodeImagePullFlag,
        ReleaseFact::CsiIgnoresPublicRegistry,
        ReleaseFact::PublicRegistryFlag,
        ReleaseFact::UsePublicRegistryFlag,
        ReleaseFact::CrdMigrationJob,
        ReleaseFact::OtelCollectorProbes,
        ReleaseFact::StatefulSetNameLimits,
        ReleaseFact::ShorterStatefulSetNameLimits,
        ReleaseFact::SsoHostCheck,
    ];

    /// The releases it holds for: from the first, up to (not including) the second, if any.
    pub(crate) fn releases(self) -> (OperatorVersion, Option<OperatorVersion>) {
        match self {
            ReleaseFact::ParseBoolFlags => (v(1, 6, 0), None),
            ReleaseFact::NodeImagePullFlag => (v(1, 5, 0), None),
            ReleaseFact::CsiIgnoresPublicRegistry => (v(1, 5, 0), Some(v(1, 10, 0))),
            ReleaseFact::PublicRegistryFlag => (v(1, 4, 0), Some(v(1, 9, 0))),
            ReleaseFact::UsePublicRegistryFlag | ReleaseFact::SsoHostCheck => (v(1, 10, 0), None),
            ReleaseFact::CrdMigrationJob => (v(1, 7, 3), None),
            ReleaseFact::OtelCollectorProbes => (v(1, 10, 0), None),
            ReleaseFact::StatefulSetNameLimits => (v(1, 9, 0), Some(v(1, 10, 0))),
            ReleaseFact::ShorterStatefulSetNameLimits => (v(1, 10, 0), None),
        }
    }

    /// The fact in words, for the generated table.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            ReleaseFact::ParseBoolFlags => {
                "feature flags read like Go's ParseBool (`1`, `t`, `TRUE`, ...); unreadable values give the default"
            }
            ReleaseFact::PublicRegistryFlag => {
                "`feature.dynatrace.com/public-registry` selects the public registry"
            }
            ReleaseFact::UsePublicRegistryFlag => {
                "`feature.dynatrace.com/use-public-registry` or a platform token selects the public registry"
            }
            ReleaseFact::CrdMigrationJob => "Helm upgrades run the CRD storage migration Job",
            ReleaseFact::OtelCollectorProbes => {
                "the OpenTelemetry collector has kubelet probes (I16)"
            }
            ReleaseFact::StatefulSetNameLimits => {
                "DynaKube names: at most 32 characters with extensions, 38 with telemetry ingest, 35 with KSPM"
            }
            ReleaseFact::ShorterStatefulSetNameLimits => {
                "DynaKube names: at most 31 characters with extensions, 37 with telemetry ingest, 35 with KSPM"
            }
            ReleaseFact::SsoHostCheck => {
                "EdgeConnect `oauth.endpoint` must be https on a Dynatrace SSO host"
            }
            ReleaseFact::CsiIgnoresPublicRegistry => {
                "the CSI driver downloads code modules from the tenant even with the public registry (an image only for `codeModulesImage` or `node-image-pull`)"
            }
            ReleaseFact::NodeImagePullFlag => {
                "`feature.dynatrace.com/node-image-pull`: the CSI driver pulls the code-modules image instead of downloading it"
            }
        }
    }
}

/// How the pods of a component are labelled in a range of releases.
#[derive(Debug, Clone, Copy)]
enum Labels {
    /// The operator's application labels: `app.kubernetes.io/name=<name>`, `created-by=<instance>`,
    /// `managed-by=dynatrace-operator`, and `component` (selected on only where it is stable).
    App {
        name: &'static str,
        component: Option<&'static str>,
    },
    /// The operator's core labels: `app.kubernetes.io/name=dynatrace-operator`,
    /// `created-by=<instance>`, `component=<component>`; no `managed-by`.
    Core { component: &'static str },
    /// The Helm chart's labels: the selected ones, and others the pods carry.
    Chart {
        selected: &'static [(&'static str, &'static str)],
        others: &'static [(&'static str, &'static str)],
    },
}

/// The name of a component's controller (Deployment, StatefulSet, DaemonSet, Job).
#[derive(Debug, Clone, Copy)]
enum Controller {
    /// A fixed name.
    Fixed(&'static str),
    /// The instance's name and this suffix.
    Suffix(&'static str),
    /// The instance's name and this infix, then a dash and an id of each (SQL executors).
    Infix(&'static str),
    /// The instance's own name (EdgeConnect).
    Instance,
}

/// One range of releases of one component: from `since` until the next row of the same
/// component.
#[derive(Debug, Clone, Copy)]
struct Scheme {
    component: Component,
    since: OperatorVersion,
    labels: Labels,
    controller: Controller,
}

const NAME: &str = "app.kubernetes.io/name";
const COMPONENT: &str = "app.kubernetes.io/component";
const CREATED_BY: &str = "app.kubernetes.io/created-by";
const MANAGED_BY: &str = crate::stream::MANAGED_BY.0;
const OPERATOR: &str = "dynatrace-operator";

const fn app(
    component: Component,
    since: OperatorVersion,
    name: &'static str,
    controller: Controller,
) -> Scheme {
    Scheme {
        component,
        since,
        labels: Labels::App {
            name,
            component: None,
        },
        controller,
    }
}

const fn chart(
    component: Component,
    selected: &'static [(&'static str, &'static str)],
    others: &'static [(&'static str, &'static str)],
    controller: &'static str,
) -> Scheme {
    Scheme {
        component,
        since: OperatorVersion::OLDEST,
        labels: Labels::Chart { selected, others },
        controller: Controller::Fixed(controller),
    }
}

/// The label schemes, by component and release.
#[rustfmt::skip]
const SCHEMES: &[Scheme] = &[
    chart(Component::Operator, &[(NAME, OPERATOR), (COMPONENT, "operator")], &[], "dynatrace-operator"),
    chart(Component::Webhook,
        &[("internal.dynatrace.com/app", "webhook"), ("internal.dynatrace.com/component", "webhook")],
        &[(NAME, OPERATOR), (COMPONENT, "webhook")], "dynatrace-webhook"),
    chart(Component::CsiDriver,
        &[("internal.oneagent.dynatrace.com/app", "csi-driver"), ("internal.oneagent.dynatrace.com/component", "csi-driver")],
        &[(NAME, OPERATOR), (COMPONENT, "csi-driver")], "dynatrace-oneagent-csi-driver"),
    Scheme {
        since: v(1, 7, 3),
        ..chart(Component::CrdMigration, &[(COMPONENT, "crd-storage-migration")], &[(NAME, OPERATOR)],
            "dynatrace-operator-crd-storage-migration")
    },
    app(Component::ActiveGate, v(1, 4, 0), "activegate", Controller::Suffix("-activegate")),
    app(Component::OneAgent, v(1, 4, 0), "oneagent", Controller::Suffix("-oneagent")),
    Scheme { component: Component::LogMonitoring, since: v(1, 4, 0),
        labels: Labels::Core { component: "logmonitoring" }, controller: Controller::Suffix("-logmonitoring") },
    Scheme { component: Component::LogMonitoring, since: v(1, 10, 0),
        labels: Labels::App { name: "logmonitoring", component: Some("logmonitoring") },
        controller: Controller::Suffix("-logmonitoring") },
    Scheme { component: Component::Kspm, since: v(1, 4, 0),
        labels: Labels::Core { component: "kspm" }, controller: Controller::Suffix("-node-config-collector") },
    Scheme { component: Component::Kspm, since: v(1, 10, 0),
        labels: Labels::App { name: "kspm", component: Some("kspm") },
        controller: Controller::Suffix("-node-config-collector") },
    app(Component::ExtensionController, v(1, 4, 0), "dynatrace-extensions-controller",
        Controller::Suffix("-extensions-controller")),
    app(Component::ExtensionController, v(1, 8, 0), "dynatrace-extension-controller",
        Controller::Suffix("-extension-controller")),
    app(Component::SqlExecutor, v(1, 8, 0), "dynatrace-sql-extension-executor",
        Controller::Infix("-sql-ext-exec")),
    app(Component::OtelCollector, v(1, 4, 0), "dynatrace-extensions-collector",
        Controller::Suffix("-extensions-collector")),
    app(Component::OtelCollector, v(1, 5, 0), "dynatrace-opentelemetry-collector",
        Controller::Suffix("-otel-collector")),
    app(Component::OtelCollector, v(1, 8, 0), "dynatrace-otel-collector",
        Controller::Suffix("-otel-collector")),
    app(Component::EdgeConnect, v(1, 4, 0), "edgeconnect", Controller::Instance),
];

impl Labels {
    /// The labels a selector may use, for `instance`.
    fn selected(self, instance: &str) -> BTreeMap<String, String> {
        let pairs: Vec<(&str, &str)> = match self {
            Labels::App { name, component } => {
                let mut pairs = vec![(NAME, name), (CREATED_BY, instance), (MANAGED_BY, OPERATOR)];
                pairs.extend(component.map(|c| (COMPONENT, c)));
                pairs
            }
            Labels::Core { component } => {
                vec![
                    (NAME, OPERATOR),
                    (CREATED_BY, instance),
                    (COMPONENT, component),
                ]
            }
            Labels::Chart { selected, .. } => selected.to_vec(),
        };
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Every stable label the pods carry (no version labels), for `instance`.
    fn carried(self, instance: &str) -> BTreeMap<String, String> {
        let mut labels = self.selected(instance);
        match self {
            Labels::App {
                name,
                component: None,
            } if name != "oneagent" => {
                labels.insert(COMPONENT.into(), name.into());
            }
            Labels::Chart { others, .. } => {
                labels.extend(others.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            }
            _ => {}
        }
        labels
    }
}

/// The schemes of `component`, oldest first.
fn schemes(component: Component) -> impl Iterator<Item = &'static Scheme> {
    SCHEMES.iter().filter(move |s| s.component == component)
}

/// The scheme of `component` in `release`, if the component exists there.
fn scheme(component: Component, release: OperatorVersion) -> Option<&'static Scheme> {
    schemes(component)
        .filter(|s| s.since <= release.known())
        .last()
}

/// The labels a selector of `component` uses: the label pairs every release's pods carry, and
/// for a label whose value changed between releases, the set of its values.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    /// Labels every selected pod has, with these values (`matchLabels`).
    pub labels: BTreeMap<String, String>,
    /// Labels every selected pod has, with one of these values (`matchExpressions` with
    /// operator `In`).
    pub one_of: BTreeMap<String, BTreeSet<String>>,
}

impl Selector {
    /// A selector of exactly these labels.
    pub(crate) fn labels(labels: BTreeMap<String, String>) -> Self {
        Selector {
            labels,
            one_of: BTreeMap::new(),
        }
    }

    /// Whether a pod with `labels` is selected.
    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self
                .one_of
                .iter()
                .all(|(k, values)| labels.get(k).is_some_and(|v| values.contains(v)))
    }
}

/// The selector of `component`'s pods for `instance`, valid for every release that has the
/// component: labels whose value changed become `In` over the values, labels some release
/// lacks are left out. Tests check that no selector admits another component's pods.
pub(crate) fn selector(component: Component, instance: &str) -> Selector {
    let sets: Vec<BTreeMap<String, String>> = schemes(component)
        .map(|s| s.labels.selected(instance))
        .collect();
    let Some(first) = sets.first() else {
        return Selector::default();
    };
    let mut selector = Selector::default();
    for key in first.keys() {
        let values: BTreeSet<String> = sets.iter().filter_map(|s| s.get(key).cloned()).collect();
        if !sets.iter().all(|s| s.contains_key(key)) {
            continue;
        }
        match values.len() {
            1 => {
                selector.labels.insert(key.clone(), first[key].clone());
            }
            _ => {
                selector.one_of.insert(key.clone(), values);
            }
        }
    }
    selector
}

/// The labels `component`'s pods carry in `release`, for `instance`; `None` where the release
/// has no such component.
pub(crate) fn pod_labels(
    component: Component,
    instance: &str,
    release: OperatorVersion,
) -> Option<BTreeMap<String, String>> {
    Some(scheme(component, release)?.labels.carried(instance))
}

/// The names `component`'s controller had in any release, for `instance`, and whether pods
/// add an id before their own suffix (SQL executors: the name ends with the dash before it).
pub(crate) fn controller_names(component: Component, instance: &str) -> BTreeSet<(String, bool)> {
    schemes(component)
        .map(|s| match s.controller {
            Controller::Infix(_) => (format!("{}-", s.controller.name(instance)), true),
            _ => (s.controller.name(instance), false),
        })
        .collect()
}

/// The name of `component`'s controller in the newest release, for `instance` (for SQL
/// executors, the name each executor's adds its id to); `None` for application pods, which no
/// controller of the operator runs.
pub(crate) fn controller_name(component: Component, instance: &str) -> Option<String> {
    Some(
        scheme(component, OperatorVersion::NEWEST)?
            .controller
            .name(instance),
    )
}

impl Controller {
    /// The name, for `instance`.
    fn name(self, instance: &str) -> String {
        match self {
            Controller::Fixed(name) => name.to_string(),
            Controller::Suffix(affix) | Controller::Infix(affix) => format!("{instance}{affix}"),
            Controller::Instance => instance.to_string(),
        }
    }
}

/// A range of releases in words: `1.6.0 and later`, `1.4.0 to before 1.9.0`.
fn range(since: OperatorVersion, until: Option<OperatorVersion>) -> String {
    match until {
        None => format!("{since} and later"),
        Some(until) => format!("{since} to before {until}"),
    }
}

/// The facts by release and the pod labels of the components whose labels changed, as
/// Markdown tables for `docs/releases.md` (`cargo xtask docs`).
pub fn markdown_table() -> String {
    let mut rows: Vec<(OperatorVersion, String, String)> = ReleaseFact::ALL
        .iter()
        .map(|fact| {
            let (since, until) = fact.releases();
            (since, range(since, until), fact.describe().to_string())
        })
        .collect();
    rows.extend(SERVED.iter().map(|(version, since, until)| {
        let fact = format!("serves DynaKube `{}`", version.api_version());
        (*since, range(*since, *until), fact)
    }));
    rows.sort();
    let mut out = String::from("| releases | fact |\n| --- | --- |\n");
    for (_, releases, fact) in rows {
        out.push_str(&format!("| {releases} | {fact} |\n"));
    }
    out.push_str(
        "\n| component | releases | labels selected on | controller |\n| --- | --- | --- | --- |\n",
    );
    for component in Component::ALL {
        let instance = match component {
            Component::EdgeConnect => "<ec>",
            _ => "<dk>",
        };
        let schemes: Vec<&Scheme> = schemes(component).collect();
        for (i, scheme) in schemes.iter().enumerate() {
            let until = schemes.get(i + 1).map(|next| next.since);
            let labels: Vec<String> = scheme
                .labels
                .selected(instance)
                .into_iter()
                .map(|(k, v)| format!("`{k}={v}`"))
                .collect();
            let controller = match scheme.controller {
                Controller::Infix(_) => format!("{}-<id>", scheme.controller.name(instance)),
                _ => scheme.controller.name(instance),
            };
            out.push_str(&format!(
                "| {component} | {} | {} | `{controller}` |\n",
                range(scheme.since, until),
                labels.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The module's example: releases by name, and one ActiveGate selector for every release.
    #[test]
    fn one_selector_covers_every_release() {
        let release = OperatorVersion::parse("v1.10.2").unwrap();
        assert_eq!(release, OperatorVersion::NEWEST);
        assert!(OperatorVersion::parse("1.3").is_err()); // older than every release known
        assert!(release.serves(DynaKubeVersion::V1beta5));

        // One selector for the ActiveGate's pods of every release.
        let activegate = selector(Component::ActiveGate, "dk");
        for release in [OperatorVersion::OLDEST, OperatorVersion::NEWEST] {
            let labels = pod_labels(Component::ActiveGate, "dk", release).unwrap();
            assert!(activegate.matches(&labels));
        }
        let webhook = pod_labels(Component::Webhook, "dk", OperatorVersion::NEWEST).unwrap();
        assert!(!activegate.matches(&webhook));
    }

    fn every_release() -> impl Iterator<Item = OperatorVersion> {
        RELEASES
            .into_iter()
            .chain([v(1, 4, 0), v(1, 7, 0), v(1, 8, 0), v(1, 10, 0)])
    }

    #[test]
    fn each_selector_selects_its_pods_in_every_release_and_no_other_pods() {
        for component in Component::ALL {
            if component.applications() {
                continue;
            }
            let selector = selector(component, "dk");
            for release in every_release() {
                if let Some(labels) = pod_labels(component, "dk", release) {
                    assert!(
                        selector.matches(&labels),
                        "{component} in {release}: {selector:?} misses {labels:?}"
                    );
                }
                for other in Component::ALL {
                    if other == component || other.applications() {
                        continue;
                    }
                    if let Some(labels) = pod_labels(other, "dk", release) {
                        assert!(
                            !selector.matches(&labels),
                            "{component}'s selector {selector:?} admits {other} of {release}: {labels:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn selectors_of_changed_schemes_use_in() {
        let logs = selector(Component::LogMonitoring, "dk");
        assert_eq!(
            logs.one_of[NAME],
            BTreeSet::from([OPERATOR.to_string(), "logmonitoring".to_string()])
        );
        assert_eq!(logs.labels[COMPONENT], "logmonitoring");
        assert!(!logs.labels.contains_key(MANAGED_BY));
        let otel = selector(Component::OtelCollector, "dk");
        assert_eq!(otel.one_of[NAME].len(), 3);
        let ag = selector(Component::ActiveGate, "dk");
        assert!(ag.one_of.is_empty());
        assert_eq!(ag.labels.len(), 3);
    }

    #[test]
    fn versions_parse_and_serve() {
        let release = |s: &str| OperatorVersion::parse(s).unwrap();
        assert!(release("1.7.3").serves(DynaKubeVersion::V1beta3));
        assert!(!release("1.8.0").serves(DynaKubeVersion::V1beta3));
        assert!(release("1.9.0").serves(DynaKubeVersion::V1beta4));
        assert!(!release("1.10.0").serves(DynaKubeVersion::V1beta4));
        assert!(release("2.0").serves(DynaKubeVersion::V1beta6));
        let three = BTreeSet::from([DynaKubeVersion::V1beta3]);
        assert_eq!(OperatorVersion::newest_serving(&three), Some(v(1, 7, 3)));
        let mixed = BTreeSet::from([DynaKubeVersion::V1beta3, DynaKubeVersion::V1beta6]);
        assert_eq!(OperatorVersion::newest_serving(&mixed), None);
    }

    #[test]
    fn only_newer_minor_or_major_lines_are_beyond_the_known_releases() {
        let release = |s: &str| OperatorVersion::parse(s).unwrap();
        for newer in ["9.9.9", "2.0", "1.11.0", "1.11"] {
            assert!(release(newer).beyond_known(), "{newer}");
        }
        for known in ["1.4.0", "1.9.0", "1.10.2", "1.10.3", "1.10"] {
            assert!(!release(known).beyond_known(), "{known}");
        }
    }

    #[test]
    fn workloads_are_named_as_their_controllers() {
        use crate::values::Name;
        let name = |s: &str| Name::parse(s).unwrap();
        for component in Component::ALL {
            let workload = super::super::Workload::new(component, Some(name("dk")), name("ns"));
            let shown = workload.name();
            if component.applications() {
                assert_eq!(shown, format!("dk-{component}"));
                continue;
            }
            let names = controller_names(component, "dk");
            assert!(
                names.iter().any(|(controller, with_id)| *controller
                    == if *with_id {
                        format!("{shown}-")
                    } else {
                        shown.clone()
                    }),
                "{component}: {shown} is none of {names:?}"
            );
        }
        let job = super::super::Workload::new(Component::CrdMigration, None, name("ns"));
        assert_eq!(job.name(), "dynatrace-operator-crd-storage-migration");
        let eec = super::super::Workload::new(
            Component::ExtensionController,
            Some(name("dk")),
            name("ns"),
        );
        assert_eq!(eec.name(), "dk-extension-controller");
    }

    #[test]
    fn components_come_and_controllers_rename() {
        let release = |s: &str| OperatorVersion::parse(s).unwrap();
        assert!(!release("1.7.3").has(Component::SqlExecutor));
        assert!(release("1.8").has(Component::SqlExecutor));
        assert!(!release("1.7.2").has(Component::CrdMigration));
        assert!(release("1.7.3").has(Component::CrdMigration));
        assert!(release("1.4").has(Component::InjectedApps));
        let names = controller_names(Component::ExtensionController, "dk");
        assert!(names.contains(&("dk-extensions-controller".to_string(), false)));
        assert!(names.contains(&("dk-extension-controller".to_string(), false)));
        let executors = controller_names(Component::SqlExecutor, "dk");
        assert_eq!(
            executors,
            BTreeSet::from([("dk-sql-ext-exec-".to_string(), true)])
        );
        assert_eq!(
            pod_labels(Component::Kspm, "dk", release("1.9")).unwrap()[NAME],
            OPERATOR
        );
        assert_eq!(
            pod_labels(Component::Kspm, "dk", release("1.10")).unwrap()[NAME],
            "kspm"
        );
    }
}
