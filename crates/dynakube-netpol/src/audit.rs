//! The injection audit: the pods the operator's webhook left uninjected, and what brings them
//! back.
//!
//! The webhook marks a pod it did not (fully) inject with a pair of annotations,
//! `<prefix>.dynatrace.com/injected: "false"` and `<prefix>.dynatrace.com/reason: <Reason>`; the
//! prefixes are `oneagent` (code modules), `dynakube` (the bootstrapper), `metadata-enrichment`
//! and `otlp-exporter-configuration`. In a network zone whose ActiveGate is not up yet, pods
//! start without code modules (`EmptyConnectionInfo` up to operator 1.6, `DynaKubeStatusNotReady`
//! from 1.8) and stay so until their owner restarts them. The audit reads a pod dump, classifies
//! every pair, groups the pods by owner and gives one restart command per owner that a restart
//! would fix.
//!
//! Reasons are classified from the operator's constants of every release (1.4 to 1.10); a reason
//! this table does not know is reported as it is, never dropped.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::audit::{Class, audit};
//! use dynakube_netpol::source::Limits;
//!
//! let pods = r#"
//! apiVersion: v1
//! kind: List
//! items:
//! - apiVersion: v1
//!   kind: Pod
//!   metadata:
//!     name: web-5d8c9b7f6-abcde
//!     namespace: shop
//!     labels: {pod-template-hash: 5d8c9b7f6}
//!     annotations:
//!       oneagent.dynatrace.com/injected: "false"
//!       oneagent.dynatrace.com/reason: DynaKubeStatusNotReady
//!     ownerReferences: [{kind: ReplicaSet, name: web-5d8c9b7f6, controller: true}]
//! - apiVersion: v1
//!   kind: Pod
//!   metadata:
//!     name: db-0
//!     namespace: shop
//!     annotations: {oneagent.dynatrace.com/injected: "true"}
//! "#;
//! let report = audit(&[("pods.yaml".into(), pods.into())], &[], &Limits::default())?;
//! assert_eq!(report.pods, 2);
//! assert!(report.needs_attention());
//! let group = &report.groups[0];
//! assert_eq!((group.owner.kind.as_str(), group.owner.name.as_str()), ("Deployment", "web"));
//! assert_eq!(group.class, Class::Transient);
//! assert_eq!(group.restart.as_deref(), Some("kubectl rollout restart deployment/web -n shop"));
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};
use crate::resources::DynaKube;
use crate::source::Limits;
use crate::values::{Name, Shown};

/// What a skipped-injection reason asks of the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Class {
    /// A restart of the pod's owner fixes it once the DynaKube is ready (ActiveGate up,
    /// connection info in its status).
    Transient,
    /// The configuration must be fixed first; a restart alone does not help.
    NeedsFix,
    /// A reason this tool does not know: look at it.
    Unknown,
    /// Nothing to do: the pod needed no injection.
    Informational,
}

impl Class {
    /// The class of a reason, from the constants of every operator release.
    pub(crate) fn of(reason: &str) -> Class {
        match reason {
            "EmptyConnectionInfo"
            | "EmptyTenantUUID"
            | "MissingTenantUUID"
            | "DynaKubeStatusNotReady"
            | "NoBootstrapperConfig"
            | "IngestEndpointUnavailable"
            | "NoOTLPExporterConfigSecret"
            | "NoOTLPExporterActiveGateCertSecret" => Class::Transient,
            "UnknownCodeModule"
            | "NoCodeModulesImage"
            | "InvalidInstallPath"
            | "ConflictingVolumeType"
            | "OwnerLookupFailed" => Class::NeedsFix,
            "NoMutationNeeded" => Class::Informational,
            _ => Class::Unknown,
        }
    }

    /// Which class decides for a pod with several pairs: a needed fix first (a restart would
    /// not help), then unknown reasons, then a restart.
    fn precedence(self) -> u8 {
        match self {
            Class::NeedsFix => 0,
            Class::Unknown => 1,
            Class::Transient => 2,
            Class::Informational => 3,
        }
    }

    /// In words, for the report's headings.
    pub(crate) fn heading(self) -> &'static str {
        match self {
            Class::Transient => "Transient: restart once the DynaKube is ready",
            Class::NeedsFix => "Needs a configuration fix first (a restart alone does not help)",
            Class::Unknown => "Reasons this tool does not know (reported as found)",
            Class::Informational => "Informational: no injection was needed",
        }
    }
}

/// One skipped-injection pair of a pod.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skip {
    /// The annotation prefix: `oneagent`, `dynakube`, `metadata-enrichment`, ...
    pub prefix: String,
    /// The reason, as written (empty when the pod has no reason annotation).
    pub reason: String,
    /// What it asks of the user.
    pub class: Class,
}

/// What owns a pod, as far as a restart goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Owner {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `CronJob` (a Job named `<cronjob>-<minutes>`),
    /// `Job`, `ReplicaSet` (without a Deployment), another controller's kind, or `Pod` for a
    /// bare pod.
    pub kind: String,
    /// The namespace.
    pub namespace: String,
    /// The owner's name (the pod's for a bare pod).
    pub name: String,
}

impl Owner {
    /// The command that restarts the owner's pods; None when a name is not a Kubernetes name
    /// (it is then never put into a command).
    pub(crate) fn restart(&self, pods: &[String]) -> Option<String> {
        let valid = |name: &str| Name::parse_subdomain(name, 253).is_ok();
        if !valid(&self.namespace) || !valid(&self.name) {
            return None;
        }
        let namespace = &self.namespace;
        Some(match self.kind.as_str() {
            // Its next run starts new pods; the old Job's pods are done or nearly so.
            "CronJob" => format!(
                "# the next run of cronjob/{} in {namespace} is injected; nothing to restart",
                self.name
            ),
            "Deployment" | "StatefulSet" | "DaemonSet" => format!(
                "kubectl rollout restart {}/{} -n {namespace}",
                self.kind.to_ascii_lowercase(),
                self.name
            ),
            _ => {
                if !pods.iter().all(|p| valid(p)) {
                    return None;
                }
                format!("kubectl delete pod {} -n {namespace}", pods.join(" "))
            }
        })
    }
}

/// The skipped pods of one owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The owner.
    pub owner: Owner,
    /// Its pods' names.
    pub pods: Vec<String>,
    /// Every pair of its pods, without repeats.
    pub skips: BTreeSet<Skip>,
    /// The class that decides what to do: a fix first, then unknown reasons, then a restart.
    pub class: Class,
    /// The restart command, for transient groups.
    pub restart: Option<String>,
    /// The pod dumps its pods were read from, in the order given (for the CI formats, which
    /// point at files).
    #[serde(skip)]
    pub files: Vec<String>,
}

/// Whether a DynaKube's status says that restarting pods now would inject them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// The DynaKube.
    pub dynakube: String,
    /// How many OneAgent communication endpoints its status names.
    pub endpoints: usize,
    /// Whether the connection info is there, so that a restart injects.
    pub ready: bool,
}

impl Readiness {
    /// Whether a restart injects now, in words.
    pub(crate) fn state(&self) -> String {
        if self.ready {
            format!(
                "connection info present ({} OneAgent endpoints): restarting now injects",
                self.endpoints
            )
        } else {
            "no connection info in its status yet: wait for the ActiveGate (and the zone), then restart"
                .to_string()
        }
    }
}

/// The audit of a pod dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// How many pods were read.
    pub pods: usize,
    /// How many of them carry skipped-injection annotations but have ended (`status.phase`
    /// `Succeeded` or `Failed`): they are left out of the groups, as nothing is to be done
    /// about them. Their containers run no more, a restart of their owner does not touch them,
    /// and what their owner starts next (a Deployment's replacement for an evicted pod, a
    /// CronJob's next Job) is injected anew.
    pub ended: usize,
    /// The owners with skipped pods, by class, then namespace, kind and name.
    pub groups: Vec<Group>,
    /// The DynaKubes given, and whether a restart would inject now.
    pub dynakubes: Vec<Readiness>,
}

impl Audit {
    /// Whether some pod needs attention (anything but informational pairs).
    pub fn needs_attention(&self) -> bool {
        self.groups.iter().any(|g| g.class != Class::Informational)
    }

    /// The report as JSON.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the audit serializes") + "\n"
    }

    /// How many pods were read and skipped, in how many owners: the report's first line.
    pub(crate) fn summary(&self) -> String {
        let skipped: usize = self.groups.iter().map(|g| g.pods.len()).sum();
        let ended = match self.ended {
            0 => String::new(),
            1 => " 1 pod that has ended carries them too and is left out: it runs no more."
                .to_owned(),
            n => format!(
                " {n} pods that have ended carry them too and are left out: they run no more."
            ),
        };
        format!(
            "Read {} pods; {skipped} carry skipped-injection annotations, in {} owners.{ended}",
            self.pods,
            self.groups.len()
        )
    }

    /// The report for people.
    pub(crate) fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = self.summary() + "\n";
        for class in [
            Class::Transient,
            Class::NeedsFix,
            Class::Unknown,
            Class::Informational,
        ] {
            let groups: Vec<&Group> = self.groups.iter().filter(|g| g.class == class).collect();
            if groups.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{}:", class.heading());
            for group in groups {
                let skips: Vec<String> = group
                    .skips
                    .iter()
                    .map(|s| format!("{} {}", Shown(&s.prefix), Shown(&s.reason)))
                    .collect();
                let _ = writeln!(
                    out,
                    "  {} {}/{} ({} pod{}): {}",
                    group.owner.kind.to_ascii_lowercase(),
                    Shown(&group.owner.namespace),
                    Shown(&group.owner.name),
                    group.pods.len(),
                    if group.pods.len() == 1 { "" } else { "s" },
                    skips.join(", ")
                );
                if let Some(command) = &group.restart {
                    let _ = writeln!(out, "    {command}");
                }
            }
        }
        if !self.dynakubes.is_empty() {
            out.push_str("\nDynaKubes:\n");
            for dk in &self.dynakubes {
                let _ = writeln!(out, "  {}: {}", dk.dynakube, dk.state());
            }
        }
        out
    }
}

/// A document of a pod dump: a pod, or a list of them.
#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Meta>,
    #[serde(default)]
    items: Option<Vec<Doc>>,
    #[serde(default)]
    status: Option<PodStatus>,
}

/// `status` of a pod, as far as the audit reads it.
#[derive(Deserialize)]
struct PodStatus {
    #[serde(default)]
    phase: Option<String>,
}

/// How many pods were read, and how many of those with skipped-injection pairs have ended.
#[derive(Default)]
struct Counts {
    read: usize,
    ended: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    owner_references: Option<Vec<OwnerRef>>,
}

#[derive(Deserialize)]
struct OwnerRef {
    kind: String,
    name: String,
    #[serde(default)]
    controller: Option<bool>,
}

/// A pod as the audit reads it.
struct Pod {
    name: String,
    owner: Owner,
    skips: Vec<Skip>,
}

/// Reads the pods of `text` (`kubectl get pods -A -o yaml` or `-o json`: a List, a single pod,
/// or several YAML documents) into `pods`, counting every pod in `count` (see [`add_doc`]).
fn read_pods(
    file: &str,
    text: &str,
    limits: &Limits,
    pods: &mut Vec<Pod>,
    count: &mut Counts,
) -> Result<()> {
    let text = crate::source::check(file, text, limits)?;
    let mut add = |doc: Doc| add_doc(doc, pods, count);
    if text.trim_start().starts_with('{') {
        let doc: Doc = serde_json::from_str(text).map_err(|e| {
            Error::invalid(
                Location::new(file, None, ""),
                format!("not a pod list: {e}"),
            )
        })?;
        add(doc);
        return Ok(());
    }
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let location = Location::new(file, Some(index + 1), "");
        let doc: Option<Doc> = Deserialize::deserialize(document)
            .map_err(|e| Error::invalid(location, format!("not a pod list: {e}")))?;
        if let Some(doc) = doc {
            add(doc);
        }
    }
    Ok(())
}

/// Adds the pods of `doc` with skipped-injection pairs to `pods`, but those that have ended,
/// which are only counted.
fn add_doc(doc: Doc, pods: &mut Vec<Pod>, count: &mut Counts) {
    if let Some(items) = doc.items {
        for item in items {
            add_doc(item, pods, count);
        }
        return;
    }
    if doc.kind.as_deref().is_some_and(|k| k != "Pod") {
        return;
    }
    let Some(meta) = doc.metadata else {
        return;
    };
    count.read += 1;
    let annotations = meta.annotations.unwrap_or_default();
    let skips = skips(&annotations);
    if skips.is_empty() {
        return;
    }
    let phase = doc.status.and_then(|status| status.phase);
    if matches!(phase.as_deref(), Some("Succeeded" | "Failed")) {
        count.ended += 1;
        return;
    }
    let name = meta.name.unwrap_or_default();
    let namespace = meta.namespace.unwrap_or_else(|| "default".to_owned());
    let labels = meta.labels.unwrap_or_default();
    let owner = owner(
        &name,
        &namespace,
        &labels,
        meta.owner_references.unwrap_or_default(),
    );
    pods.push(Pod { name, owner, skips });
}

/// The skipped-injection pairs of a pod's annotations.
fn skips(annotations: &BTreeMap<String, String>) -> Vec<Skip> {
    annotations
        .iter()
        .filter(|(_, value)| value.as_str() == "false")
        .filter_map(|(key, _)| key.strip_suffix(".dynatrace.com/injected"))
        .map(|prefix| {
            let reason = annotations
                .get(&format!("{prefix}.dynatrace.com/reason"))
                .cloned()
                .unwrap_or_default();
            Skip {
                prefix: prefix.to_owned(),
                class: Class::of(&reason),
                reason,
            }
        })
        .collect()
}

/// What a restart goes through: a ReplicaSet's Deployment (its name without the pod template
/// hash), the controller itself, or the pod.
fn owner(
    pod: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    references: Vec<OwnerRef>,
) -> Owner {
    let controller = references
        .into_iter()
        .find(|r| r.controller.unwrap_or(false));
    let (kind, name) = match controller {
        None => ("Pod".to_owned(), pod.to_owned()),
        Some(r) if r.kind == "ReplicaSet" => {
            let deployment = labels
                .get("pod-template-hash")
                .and_then(|hash| r.name.strip_suffix(&format!("-{hash}")));
            match deployment {
                Some(deployment) => ("Deployment".to_owned(), deployment.to_owned()),
                None => (r.kind, r.name),
            }
        }
        // A CronJob names its Jobs `<cronjob>-<scheduled time in minutes>`.
        Some(r) if r.kind == "Job" => match r.name.rsplit_once('-') {
            Some((cronjob, minutes))
                if minutes.len() >= 8 && minutes.bytes().all(|b| b.is_ascii_digit()) =>
            {
                ("CronJob".to_owned(), cronjob.to_owned())
            }
            _ => (r.kind, r.name),
        },
        Some(r) => (r.kind, r.name),
    };
    Owner {
        kind,
        namespace: namespace.to_owned(),
        name,
    }
}

/// The audit of the pod dumps `files` (name and text), with the readiness of `dynakubes`.
pub fn audit(files: &[(String, String)], dynakubes: &[DynaKube], limits: &Limits) -> Result<Audit> {
    let mut pods = Vec::new();
    // The index of the file each pod comes from.
    let mut sources = Vec::new();
    let mut count = Counts::default();
    for (index, (file, text)) in files.iter().enumerate() {
        read_pods(file, text, limits, &mut pods, &mut count)?;
        sources.resize(pods.len(), index);
    }
    type Found = (Vec<String>, BTreeSet<Skip>, BTreeSet<usize>);
    let mut by_owner: BTreeMap<Owner, Found> = BTreeMap::new();
    for (pod, source) in pods.into_iter().zip(sources) {
        let entry = by_owner.entry(pod.owner).or_default();
        entry.0.push(pod.name);
        entry.1.extend(pod.skips);
        entry.2.insert(source);
    }
    let mut groups: Vec<Group> = by_owner
        .into_iter()
        .map(|(owner, (mut pods, skips, sources))| {
            pods.sort();
            let class = skips
                .iter()
                .map(|s| s.class)
                .min_by_key(|c| c.precedence())
                .unwrap_or(Class::Informational);
            let restart = (class == Class::Transient)
                .then(|| owner.restart(&pods))
                .flatten();
            Group {
                owner,
                pods,
                skips,
                class,
                restart,
                files: sources.into_iter().map(|i| files[i].0.clone()).collect(),
            }
        })
        .collect();
    groups.sort_by(|a, b| (a.class, &a.owner).cmp(&(b.class, &b.owner)));
    let dynakubes = dynakubes
        .iter()
        .map(|dk| Readiness {
            dynakube: dk.name.to_string(),
            endpoints: dk.status.one_agent_endpoints.len(),
            ready: !dk.status.one_agent_endpoints.is_empty(),
        })
        .collect();
    Ok(Audit {
        pods: count.read,
        ended: count.ended,
        groups,
        dynakubes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d8c9b7f6-abcde
    namespace: shop
    labels: {pod-template-hash: 5d8c9b7f6}
    annotations:
      oneagent.dynatrace.com/injected: "false"
      oneagent.dynatrace.com/reason: EmptyConnectionInfo
    ownerReferences: [{kind: ReplicaSet, name: web-5d8c9b7f6, controller: true}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d8c9b7f6-fghij
    namespace: shop
    labels: {pod-template-hash: 5d8c9b7f6}
    annotations:
      oneagent.dynatrace.com/injected: "false"
      oneagent.dynatrace.com/reason: DynaKubeStatusNotReady
      metadata-enrichment.dynatrace.com/injected: "false"
      metadata-enrichment.dynatrace.com/reason: OwnerLookupFailed
    ownerReferences: [{kind: ReplicaSet, name: web-5d8c9b7f6, controller: true}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: db-0
    namespace: shop
    annotations:
      dynakube.dynatrace.com/injected: "false"
      dynakube.dynatrace.com/reason: NoBootstrapperConfig
    ownerReferences: [{kind: StatefulSet, name: db, controller: true}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: debug
    namespace: tools
    annotations:
      oneagent.dynatrace.com/injected: "false"
      oneagent.dynatrace.com/reason: SomethingNew
- apiVersion: v1
  kind: Pod
  metadata:
    name: fine
    namespace: shop
    annotations: {oneagent.dynatrace.com/injected: "true"}
"#;

    fn run(text: &str) -> Audit {
        audit(
            &[("pods.yaml".into(), text.into())],
            &[],
            &Limits::default(),
        )
        .unwrap()
    }

    #[test]
    fn pods_are_grouped_by_owner_and_classified() {
        let audit = run(DUMP);
        assert_eq!(audit.pods, 5);
        let summary: Vec<(String, Class, Option<String>)> = audit
            .groups
            .iter()
            .map(|g| {
                (
                    format!(
                        "{} {}/{} {}",
                        g.owner.kind,
                        g.owner.namespace,
                        g.owner.name,
                        g.pods.len()
                    ),
                    g.class,
                    g.restart.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "StatefulSet shop/db 1".to_string(),
                    Class::Transient,
                    Some("kubectl rollout restart statefulset/db -n shop".to_string())
                ),
                ("Deployment shop/web 2".to_string(), Class::NeedsFix, None),
                ("Pod tools/debug 1".to_string(), Class::Unknown, None),
            ]
        );
        assert!(audit.needs_attention());
        let text = audit.to_text();
        assert!(text.contains("oneagent SomethingNew"), "{text}");
    }

    /// Pods that have ended are counted and left out, whatever their annotations: a Job's pod
    /// that completed, a Deployment's pod that was evicted.
    #[test]
    fn pods_that_have_ended_need_no_attention() {
        let ended = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: report-28430400-x7k2p
    namespace: shop
    annotations:
      oneagent.dynatrace.com/injected: "false"
      oneagent.dynatrace.com/reason: DynaKubeStatusNotReady
    ownerReferences: [{kind: Job, name: report-28430400, controller: true}]
  status: {phase: Succeeded}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d8c9b7f6-evict
    namespace: shop
    labels: {pod-template-hash: 5d8c9b7f6}
    annotations:
      oneagent.dynatrace.com/injected: "false"
      oneagent.dynatrace.com/reason: UnknownCodeModule
    ownerReferences: [{kind: ReplicaSet, name: web-5d8c9b7f6, controller: true}]
  status: {phase: Failed, reason: Evicted}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d8c9b7f6-klmno
    namespace: shop
    labels: {pod-template-hash: 5d8c9b7f6}
    annotations: {oneagent.dynatrace.com/injected: "true"}
  status: {phase: Running}
"#;
        let audit = run(ended);
        assert_eq!((audit.pods, audit.ended), (3, 2));
        assert!(audit.groups.is_empty(), "{:?}", audit.groups);
        assert!(!audit.needs_attention());
        assert_eq!(
            audit.summary(),
            "Read 3 pods; 0 carry skipped-injection annotations, in 0 owners. 2 pods that have ended carry them too and are left out: they run no more."
        );
        // A running pod of the same owner is still reported.
        let running = ended.replacen("phase: Failed", "phase: Running", 1);
        let audit = run(&running);
        assert_eq!((audit.pods, audit.ended), (3, 1));
        assert_eq!(audit.groups.len(), 1);
        assert!(audit.needs_attention());
    }

    #[test]
    fn json_lists_and_bare_pods() {
        let json = r#"{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"p","namespace":"n","annotations":{"oneagent.dynatrace.com/injected":"false","oneagent.dynatrace.com/reason":"EmptyTenantUUID"}}}]}"#;
        let audit = run(json);
        assert_eq!(audit.groups.len(), 1);
        assert_eq!(
            audit.groups[0].restart.as_deref(),
            Some("kubectl delete pod p -n n")
        );
        let nothing = run("{\"kind\":\"List\",\"items\":[]}");
        assert!(!nothing.needs_attention());
    }

    #[test]
    fn names_that_are_no_kubernetes_names_never_reach_a_command() {
        let text = DUMP
            .replace("name: db-0", "name: \"db-0; rm -rf /\"")
            .replace("name: db,", "name: \"db; rm\",");
        let audit = run(&text);
        let db = audit
            .groups
            .iter()
            .find(|g| g.class == Class::Transient)
            .unwrap();
        assert_eq!(db.restart, None);
    }

    #[test]
    fn the_synthetic_dump_reads() {
        let audit = run(&crate::synthetic::pods(1000));
        assert_eq!(audit.pods, 1000);
        assert!(audit.groups.iter().any(|g| g.class == Class::NeedsFix));
    }
}
