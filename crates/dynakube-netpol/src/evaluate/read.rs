//! Reading the evaluator's inputs: policies of every dialect it evaluates, and the namespaces,
//! pods and nodes of a cluster, from the YAML that `kubectl get ... -o yaml` prints.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess};
use serde_yaml::Value;

use super::{
    Cluster, ContainerPort, EndedPod, InitContainerPort, NAMESPACE_NAME_LABEL, Namespace, Node, Pod,
};
use super::{cilium, cnp};
use crate::discover::{Item, Key, PodParts};
use crate::error::{Error, Location, Result};
use crate::matrix::Protocol;
use crate::source::{Limits, Object};

/// What policy files held: the policies of the dialects the evaluator reads, and the objects
/// that were not read.
#[derive(Debug, Clone, Default)]
pub struct PolicyFiles {
    /// The `networking.k8s.io/v1` NetworkPolicies.
    pub policies: Vec<NetworkPolicy>,
    /// The `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicies, checked.
    pub(crate) cluster_network_policies: Vec<cnp::ClusterNetworkPolicy>,
    /// The `cilium.io/v2` CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies, compiled.
    pub(crate) cilium_policies: Vec<cilium::Policy>,
    /// The CiliumCIDRGroups the Cilium policies may name.
    pub(crate) cilium_cidr_groups: Vec<cilium::cidr_groups::CidrGroup>,
    /// Policies of other kinds (Calico's, the v1alpha1 AdminNetworkPolicy, ...), which the evaluator
    /// cannot evaluate: count by `Kind (apiVersion)`.
    pub unevaluated: BTreeMap<String, usize>,
    /// Objects that are no policies (a kustomization, say): count by `Kind (apiVersion)`.
    pub skipped: BTreeMap<String, usize>,
    /// The file each policy was read from, by `namespace/name` (`name` for a cluster-wide
    /// kind; the first file, when several hold one).
    pub files: BTreeMap<String, String>,
    /// How policies are read otherwise than written, in words: a namespaced policy that names
    /// no namespace (read in namespace `default`), an address block with bits set past its
    /// prefix (read as its network).
    pub(crate) notes: Vec<String>,
}

impl Extend<PolicyFiles> for PolicyFiles {
    /// Adds what other files held.
    fn extend<I: IntoIterator<Item = PolicyFiles>>(&mut self, others: I) {
        for other in others {
            self.add(other);
        }
    }
}

impl PolicyFiles {
    /// Fails when the files hold policies of kinds the evaluator cannot evaluate (counted in
    /// [`PolicyFiles::unevaluated`]): an answer would not account for them. `files` names the
    /// files in the error.
    pub fn evaluable(&self, files: &str) -> Result<()> {
        if self.unevaluated.is_empty() {
            return Ok(());
        }
        let kinds: Vec<String> = (self.unevaluated.iter())
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        Err(Error::invalid(
            Location::new(files, None, ""),
            format!(
                "the policies hold kinds explain cannot evaluate ({}): the answer would not account for them",
                kinds.join(", ")
            ),
        ))
    }

    /// Adds what another file held.
    fn add(&mut self, other: PolicyFiles) {
        self.policies.extend(other.policies);
        self.cluster_network_policies
            .extend(other.cluster_network_policies);
        self.cilium_policies.extend(other.cilium_policies);
        self.cilium_cidr_groups.extend(other.cilium_cidr_groups);
        self.notes.extend(other.notes);
        for (policy, file) in other.files {
            self.files.entry(policy).or_insert(file);
        }
        for (kind, count) in other.unevaluated {
            *self.unevaluated.entry(kind).or_default() += count;
        }
        for (kind, count) in other.skipped {
            *self.skipped.entry(kind).or_default() += count;
        }
    }
}

impl From<Vec<NetworkPolicy>> for PolicyFiles {
    /// NetworkPolicies alone, read from nowhere.
    fn from(policies: Vec<NetworkPolicy>) -> Self {
        PolicyFiles {
            policies,
            ..PolicyFiles::default()
        }
    }
}

/// Reads every `networking.k8s.io/v1` NetworkPolicy and `policy.networking.k8s.io/v1alpha2`
/// ClusterNetworkPolicy in the YAML `text` of `file`, strictly: a field the API does not have
/// (`form:` for `from:`) is an error, as with `kubectl apply`, since the API server would drop
/// it and leave a broader rule; so is a value the API server (or the CRD's schema and rules)
/// refuses.
///
/// The text may hold several documents; policies inside a `List` or `NetworkPolicyList` (what
/// `kubectl get networkpolicies -A -o yaml` prints) count too. Objects of other kinds are
/// counted in [`PolicyFiles`]. Errors name the file, the document and the field.
pub fn read_policies(file: &str, text: &str, limits: &Limits) -> Result<PolicyFiles> {
    let mut read = PolicyFiles::default();
    for object in crate::source::objects(file, text, limits)? {
        let Object {
            location,
            kind,
            api_version,
            mut value,
        } = object;
        let name = format!("{kind} ({api_version})");
        let dialect = policy_kind(&kind, &api_version);
        if matches!(
            dialect,
            Some(PolicyKind::NetworkPolicy | PolicyKind::Cilium(cilium::Kind::Namespaced))
        ) && let Some(words) = default_namespace(&mut value, &kind, file)
        {
            read.notes.push(words);
        }
        if dialect == Some(PolicyKind::NetworkPolicy) {
            let policy: NetworkPolicy = serde_path_to_error::deserialize(&value)
                .map_err(|error| crate::error::field_error(&location, error))?;
            strict(&location, &value, &policy)?;
            let metadata = &policy.metadata;
            check_metadata(&location, metadata)?;
            read.notes.extend(host_bits(&policy, file));
            let key = format!(
                "{}/{}",
                metadata.namespace.as_deref().unwrap_or_default(),
                metadata.name.as_deref().unwrap_or_default()
            );
            read.files.entry(key).or_insert_with(|| file.to_string());
            read.policies.push(policy);
        } else if dialect == Some(PolicyKind::ClusterNetworkPolicy) {
            let policy = cnp::read_policy(Object {
                location,
                kind,
                api_version,
                value,
            })?;
            read.files
                .entry(policy.name.clone())
                .or_insert_with(|| file.to_string());
            read.cluster_network_policies.push(policy);
        } else if let Some(PolicyKind::Cilium(_)) = dialect {
            // Read with the agent's default options, which the policies cannot change, but with
            // node selector labels: whether the cluster's agent allows them is known with the
            // cluster (`Index::with_options`).
            let options = cilium::Options {
                node_selector_labels: true,
                ..cilium::Options::default()
            };
            let policy = cilium::policy(
                Object {
                    location,
                    kind,
                    api_version,
                    value,
                },
                &options,
            )?;
            let reference = &policy.reference;
            let key = match &reference.namespace {
                Some(namespace) => format!("{namespace}/{}", reference.name),
                None => reference.name.clone(),
            };
            read.files.entry(key).or_insert_with(|| file.to_string());
            read.cilium_policies.push(policy);
        } else if dialect == Some(PolicyKind::CiliumCidrGroup) {
            let group = cilium::cidr_groups::read(location, &api_version, value)?;
            read.files
                .entry(group.name.clone())
                .or_insert_with(|| file.to_string());
            read.cilium_cidr_groups.push(group);
        } else if let Some(reason) = near_miss(&kind, &api_version) {
            return Err(Error::invalid(location.join("kind"), reason));
        } else if kind.ends_with("NetworkPolicy") {
            *read.unevaluated.entry(name).or_default() += 1;
        } else {
            *read.skipped.entry(name).or_default() += 1;
        }
    }
    Ok(read)
}

/// Checks the `metadata` of a NetworkPolicy found at `location` as the API server does.
fn check_metadata(
    location: &Location,
    metadata: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Result<()> {
    use super::meta::{self, NameRule, Scope};
    let given = meta::Metadata::of(metadata);
    meta::check(location, &given, (Scope::Namespaced, NameRule::Subdomain))?;
    Ok(())
}

/// Puts a namespaced policy that names no namespace (no `metadata.namespace`, or an empty one)
/// in namespace `default`, where `kubectl apply` without a namespace puts it, and says so; a
/// manifest as documentation pages print them often names none.
fn default_namespace(value: &mut serde_yaml::Value, kind: &str, file: &str) -> Option<String> {
    let metadata = value.get_mut("metadata")?.as_mapping_mut()?;
    let key = serde_yaml::Value::from("namespace");
    let named = metadata
        .get(&key)
        .is_some_and(|n| n.as_str().is_none_or(|n| !n.is_empty()));
    if named {
        return None;
    }
    metadata.insert(key, serde_yaml::Value::from("default"));
    let name = metadata
        .get("name")
        .and_then(serde_yaml::Value::as_str)
        .unwrap_or_default();
    Some(format!(
        "{kind} {} of {} names no namespace: read in namespace default, where kubectl applies it without one",
        crate::values::escape(name),
        crate::values::escape(file)
    ))
}

/// What the address blocks of `policy` (read from `file`) written with bits set past their
/// prefix (`10.0.0.1/24`) are read as, in words: their network (`10.0.0.0/24`), as Calico and
/// Cilium read them (Go's `ParseCIDR` and `netip.Prefix.Masked`). The API server refuses such
/// a block in a new object since Kubernetes 1.36 (its strict CIDR validation, KEP-4858) but
/// keeps it in an older one; whoever wrote `/24` after a host's address may have meant that
/// host alone, so the broader reading is said. A block that is no CIDR is refused later.
fn host_bits(policy: &NetworkPolicy, file: &str) -> Vec<String> {
    let Some(spec) = &policy.spec else {
        return Vec::new();
    };
    let ingress = (spec.ingress.iter().flatten()).flat_map(|rule| rule.from.iter().flatten());
    let egress = (spec.egress.iter().flatten()).flat_map(|rule| rule.to.iter().flatten());
    let blocks = ingress
        .chain(egress)
        .filter_map(|peer| peer.ip_block.as_ref());
    let texts =
        blocks.flat_map(|block| std::iter::once(&block.cidr).chain(block.except.iter().flatten()));
    let metadata = &policy.metadata;
    let name = format!(
        "{}/{}",
        metadata.namespace.as_deref().unwrap_or_default(),
        metadata.name.as_deref().unwrap_or_default()
    );
    let mut notes: Vec<String> = Vec::new();
    for text in texts {
        let Ok(net) = text.parse::<ipnet::IpNet>() else {
            continue;
        };
        if net.trunc() != net {
            let note = format!(
                "NetworkPolicy {} of {}: ipBlock {net} has bits set past its prefix: read as {}, as Calico and Cilium read it (the API server refuses it in a new object since Kubernetes 1.36)",
                crate::values::escape(&name),
                crate::values::escape(file),
                net.trunc()
            );
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    notes
}

/// A kind of policy the evaluator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PolicyKind {
    /// `networking.k8s.io/v1` NetworkPolicy.
    NetworkPolicy,
    /// ClusterNetworkPolicy of `policy.networking.k8s.io` (its version is checked on reading).
    ClusterNetworkPolicy,
    /// CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy of `cilium.io`.
    Cilium(cilium::Kind),
    /// CiliumCIDRGroup of `cilium.io`, which Cilium's policies name.
    CiliumCidrGroup,
}

/// The kind of policy the evaluator reads that objects of `kind` and `api_version` are; `None`
/// for other objects.
pub(super) fn policy_kind(kind: &str, api_version: &str) -> Option<PolicyKind> {
    let group = api_version.split('/').next();
    if kind == "NetworkPolicy" && api_version == "networking.k8s.io/v1" {
        Some(PolicyKind::NetworkPolicy)
    } else if kind == cnp::KIND && group == Some(cnp::GROUP) {
        Some(PolicyKind::ClusterNetworkPolicy)
    } else if group == cilium::API_VERSION.split('/').next() {
        if kind == cilium::cidr_groups::KIND {
            return Some(PolicyKind::CiliumCidrGroup);
        }
        cilium::kind_of(kind).map(PolicyKind::Cilium)
    } else {
        None
    }
}

/// The policy kinds of the groups whose policies the evaluator reads (and the v1alpha1 kinds
/// of network-policy-api, which it counts as not evaluated).
const POLICY_KINDS: [(&str, &[&str]); 3] = [
    ("networking.k8s.io", &["NetworkPolicy"]),
    (
        "policy.networking.k8s.io",
        &[
            "ClusterNetworkPolicy",
            "AdminNetworkPolicy",
            "BaselineAdminNetworkPolicy",
        ],
    ),
    (
        "cilium.io",
        &[
            "CiliumNetworkPolicy",
            "CiliumClusterwideNetworkPolicy",
            "CiliumCIDRGroup",
        ],
    ),
];

/// Why `kind` of `api_version` reads as a misspelt policy kind: any other kind of
/// network-policy-api's group (which holds policies only), or a kind of the other groups close
/// to one of their policy kinds. `None` for the kinds themselves and for unrelated kinds.
fn near_miss(kind: &str, api_version: &str) -> Option<String> {
    let group = api_version.split_once('/').map_or("", |(group, _)| group);
    let (_, kinds) = POLICY_KINDS.iter().find(|(g, _)| *g == group)?;
    if kinds.contains(&kind) {
        return None;
    }
    let near = crate::input::nearest(kind, kinds.iter().copied());
    let shown = crate::values::escape(kind);
    match near {
        Some(near) => Some(format!(
            "`{shown}` is no kind of {group}; did you mean `{near}`?"
        )),
        None if group == "policy.networking.k8s.io" => Some(format!(
            "`{shown}` is no kind of {group} ({})",
            kinds.join(", ")
        )),
        None => None,
    }
}

/// Fails on the first field of `input` that `typed` does not have: what the typed value
/// writes back lacks it. `status` is read-only and ignored; null values are absent values.
fn strict<T: serde::Serialize>(location: &Location, input: &Value, typed: &T) -> Result<()> {
    let Ok(written) = serde_yaml::to_value(typed) else {
        return Ok(());
    };
    match unknown_field(input, &written, "") {
        Some(path) if path != "status" => Err(Error::invalid(
            location.join(&path),
            "is not a field of this kind: the API server would refuse it (or drop it, and a rule without it may admit more)",
        )),
        _ => Ok(()),
    }
}

/// The path of the first key of `input` that `written` lacks.
fn unknown_field(input: &Value, written: &Value, path: &str) -> Option<String> {
    match (input, written) {
        (Value::Mapping(input), Value::Mapping(written)) => {
            for (key, value) in input {
                if value.is_null() {
                    continue;
                }
                let name = match key {
                    Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                let at = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                match written.get(key) {
                    None => return Some(at),
                    Some(inner) => {
                        if let Some(found) = unknown_field(value, inner, &at) {
                            return Some(found);
                        }
                    }
                }
            }
            None
        }
        (Value::Sequence(input), Value::Sequence(written)) => input
            .iter()
            .zip(written)
            .enumerate()
            .find_map(|(i, (a, b))| unknown_field(a, b, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// Reads the namespaces, pods and nodes in the YAML `text` of `file`.
///
/// The text is what `kubectl get namespaces,pods,nodes -A -o yaml` prints (a `v1` `List`), or
/// `PodList`, `NamespaceList` and `NodeList` documents, or single objects; other kinds are
/// skipped. A pod's addresses are `status.podIPs`, else `status.podIP` (which wins where the
/// two disagree, as the API server's conversion has it), and for a hostNetwork pod without
/// either, `status.hostIPs` or `status.hostIP` alike; its ports are those of
/// `spec.containers[].ports`, and those of `spec.initContainers[].ports` apart. A namespace
/// gets the `kubernetes.io/metadata.name` label when it lacks it, as the API server gives it. A node's addresses are those of `status.addresses`
/// of type `InternalIP` or `ExternalIP`. kube-apiserver's addresses are those of the
/// `kubernetes` Service of namespace `default`: its EndpointSlices (`discovery.k8s.io/v1`) or
/// Endpoints (`v1`), when the text holds them; the Services (`v1`) and the addresses their
/// EndpointSlices and Endpoints list are kept for Cilium's `toServices`.
///
/// Dumps are read fast: pods as they stream by, the few objects of the other kinds whole,
/// everything else skipped unread (`discover::objects`). Where that reader stops (on an error,
/// or on YAML merge keys), the text is read again thoroughly, as a tree of values, and that
/// reading's answer or error (naming the field) is the one given.
pub fn read_cluster(file: &str, text: &str, limits: &Limits) -> Result<Cluster> {
    if !text.contains("<<")
        && let Ok(cluster) = read_fast(file, text, limits)
    {
        return Ok(cluster);
    }
    read_thoroughly(file, text, limits)
}

/// [`read_cluster`] of the file at `path`, named `file` in messages (a regular file, as
/// [`crate::source::read_file`] reads it). A JSON dump (one object, a `List`, as `kubectl get
/// -o json` prints it) is read without holding its text, which is hundreds of megabytes for a
/// large cluster: runs of its items are cut out as the file is read and read by worker
/// threads, one a core, whose parts are put together in the order of the file; any other text,
/// or a dump that reading stops on, is read whole as [`read_cluster`] reads it, and that
/// reading's answer or error is the one given.
pub fn read_cluster_file(file: &str, path: &std::path::Path, limits: &Limits) -> Result<Cluster> {
    match streamed_parts::<Cluster>(file, path, limits, &|location, item, part| {
        add_fast(location, item, part)
    })? {
        Some(parts) => Ok(merged(parts)),
        None => read_cluster_whole(file, path, limits),
    }
}

/// The parts of the JSON dump at `path` (named `file`) read as it streams by, each object
/// handed to `add` with its part; `None` when it does not stream (see
/// [`read_cluster_file`]), when the caller reads it whole.
pub(super) fn streamed_parts<T: crate::discover::StreamPart>(
    file: &str,
    path: &std::path::Path,
    limits: &Limits,
    add: &crate::discover::Visit<RawPod, T>,
) -> Result<Option<Vec<T>>> {
    let (opened, _) = crate::source::open_file(file, path)?;
    Ok(crate::discover::stream_objects::<RawPod, T>(file, opened, limits, add).ok())
}

/// [`read_cluster`] of the whole text of the file at `path`, named `file`.
pub(super) fn read_cluster_whole(
    file: &str,
    path: &std::path::Path,
    limits: &Limits,
) -> Result<Cluster> {
    read_cluster(file, &crate::source::read_file(file, path, limits)?, limits)
}

/// The parts of a dump read one after the other, as one: addresses are listed once each, in
/// the order they were first read.
pub(super) fn merged(parts: Vec<Cluster>) -> Cluster {
    let mut cluster = Cluster {
        pods: Vec::with_capacity(parts.iter().map(|part| part.pods.len()).sum()),
        ..Cluster::default()
    };
    for part in parts {
        cluster.namespaces.extend(part.namespaces);
        cluster.pods.extend(part.pods);
        cluster.ended_pods.extend(part.ended_pods);
        cluster.nodes.extend(part.nodes);
        cluster.cilium_agents.extend(part.cilium_agents);
        cluster.services.extend(part.services);
        cluster.service_endpoints.extend(part.service_endpoints);
        for (from, into) in [
            (part.api_server, &mut cluster.api_server),
            (part.dns_caches, &mut cluster.dns_caches),
        ] {
            for ip in from {
                if !into.contains(&ip) {
                    into.push(ip);
                }
            }
        }
    }
    cluster
}

/// [`read_cluster`], fast: fails on anything it cannot read as the thorough reading does.
fn read_fast(file: &str, text: &str, limits: &Limits) -> Result<Cluster> {
    let mut cluster = Cluster::default();
    crate::discover::objects::<RawPod>(file, text, limits, &mut |location, item| {
        add_fast(location, item, &mut cluster)
    })?;
    Ok(cluster)
}

impl crate::discover::StreamPart for Cluster {}

/// A part of a dump read as it streams by, with the place of each of its pods, nodes and
/// namespaces and of the items every question needs (see [`super::prepared`]).
#[derive(Debug, Default)]
pub(super) struct StreamedDump {
    cluster: Cluster,
    /// The place of the item being read.
    at: std::ops::Range<u64>,
    items: Vec<super::prepared::DumpItem>,
}

impl crate::discover::StreamPart for StreamedDump {
    fn item(&mut self, range: std::ops::Range<u64>) {
        self.at = range;
    }
}

impl StreamedDump {
    /// Adds an object the fast reader read at `location`, and lists what it added.
    pub(super) fn add(&mut self, location: &Location, item: Item<RawPod>) -> Result<()> {
        use super::prepared::DumpItem;
        let counts = |c: &Cluster| {
            [
                c.pods.len(),
                c.nodes.len(),
                c.namespaces.len(),
                c.api_server.len() + c.dns_caches.len() + c.cilium_agents.len(),
                c.services.len() + c.service_endpoints.len(),
            ]
        };
        let (before, ended_before) = (counts(&self.cluster), self.cluster.ended_pods.len());
        let services_before = self.cluster.services.len();
        add_fast(location, item, &mut self.cluster)?;
        let after = counts(&self.cluster);
        let (cluster, at) = (&self.cluster, self.at.clone());
        // An ended pod is listed by its name alone, so that a question naming it is refused
        // as the whole dump refuses it.
        if cluster.ended_pods.len() > ended_before
            && let Some(ended) = cluster.ended_pods.last()
        {
            self.items.push(DumpItem::Pod {
                at: at.clone(),
                namespace: ended.namespace.clone(),
                name: ended.name.clone(),
                node: None,
                ips: Vec::new(),
                dns: false,
            });
        } else if let (true, Some(pod)) = (after[0] > before[0], cluster.pods.last()) {
            self.items.push(DumpItem::Pod {
                at: at.clone(),
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
                node: pod.node.clone(),
                ips: pod.ips.clone(),
                dns: super::cilium_tier::is_dns_pod(pod),
            });
        }
        if let (true, Some(node)) = (after[1] > before[1], cluster.nodes.last()) {
            self.items.push(DumpItem::Node {
                at: at.clone(),
                name: node.name.clone(),
                ips: node.addresses.clone(),
            });
        }
        if let (true, Some(namespace)) = (after[2] > before[2], cluster.namespaces.last()) {
            self.items.push(DumpItem::Namespace {
                at: at.clone(),
                name: namespace.name.clone(),
            });
        }
        if after[3] > before[3] {
            self.items.push(DumpItem::Always { at });
        } else if after[4] > before[4] {
            // A Service with its cluster IPs, which a question may name; the other objects
            // of Services with none.
            let ips = (cluster.services.get(services_before))
                .map(|service| service.cluster_ips.clone())
                .unwrap_or_default();
            self.items.push(DumpItem::Service { at, ips });
        }
        Ok(())
    }

    /// The cluster read, and the items listed.
    pub(super) fn into_parts(self) -> (Cluster, Vec<super::prepared::DumpItem>) {
        (self.cluster, self.items)
    }
}

/// Adds an object the fast reader read at `location` to `cluster`.
fn add_fast(location: &Location, item: Item<RawPod>, cluster: &mut Cluster) -> Result<()> {
    match item {
        Item::Pod {
            api_version,
            pod: raw,
        } => {
            if api_version == "v1" {
                add_pod(location, *raw, cluster)?;
            }
        }
        Item::Kept {
            kind,
            api_version,
            fields,
        } => {
            let value = serde_json::Value::Object(fields);
            kept(location, (&kind, &api_version), value, cluster)?;
        }
    }
    Ok(())
}

/// Adds an object of `kind` and `api_version` other than a pod, read fast, to `cluster`.
fn kept(
    location: &Location,
    (kind, api_version): (&str, &str),
    value: serde_json::Value,
    cluster: &mut Cluster,
) -> Result<()> {
    let fast = |e: serde_json::Error| Error::invalid(location.clone(), e.to_string());
    match (kind, api_version) {
        ("Node", "v1") => {
            let raw: RawNode = serde_json::from_value(value).map_err(fast)?;
            cluster.nodes.push(node(location, raw)?);
        }
        ("EndpointSlice", "discovery.k8s.io/v1") => {
            let raw: RawEndpointSlice = serde_json::from_value(value).map_err(fast)?;
            add_slice(location, &raw, cluster)?;
        }
        ("Endpoints", "v1") => {
            let raw: RawEndpoints = serde_json::from_value(value).map_err(fast)?;
            add_endpoints(location, &raw, cluster)?;
        }
        ("Service", "v1") => {
            let raw: RawService = serde_json::from_value(value).map_err(fast)?;
            cluster.services.push(service(location, raw)?);
        }
        ("Namespace", "v1") => {
            let raw: RawNamespace = serde_json::from_value(value).map_err(fast)?;
            cluster.namespaces.push(namespace(location, raw)?);
        }
        ("ConfigMap", "v1") => {
            let raw: RawConfigMap = serde_json::from_value(value).map_err(fast)?;
            add_config_map(location, &raw, cluster)?;
        }
        _ => {}
    }
    Ok(())
}

/// Adds the options of the Cilium agent that the ConfigMap `raw` at `location` gives, when it
/// is the agent's `cilium-config`.
fn add_config_map(location: &Location, raw: &RawConfigMap, cluster: &mut Cluster) -> Result<()> {
    check_metadata_of(location, &raw.metadata, super::meta::NameRule::Subdomain)?;
    let metadata = &raw.metadata;
    let named = (metadata.name.as_deref(), metadata.namespace.as_deref());
    let agent = super::CiliumAgent::of_config_map(location, named, raw.data.as_ref())?;
    cluster.cilium_agents.extend(agent);
    Ok(())
}

fn read_thoroughly(file: &str, text: &str, limits: &Limits) -> Result<Cluster> {
    let mut cluster = Cluster::default();
    for object in crate::source::objects(file, text, limits)? {
        let location = &object.location;
        match (object.kind.as_str(), object.api_version.as_str()) {
            ("Pod", "v1") => add_pod(location, typed(location, object.value)?, &mut cluster)?,
            ("Node", "v1") => (cluster.nodes).push(node(location, typed(location, object.value)?)?),
            ("EndpointSlice", "discovery.k8s.io/v1") => {
                let raw: RawEndpointSlice = typed(location, object.value)?;
                add_slice(location, &raw, &mut cluster)?;
            }
            ("Endpoints", "v1") => {
                let raw: RawEndpoints = typed(location, object.value)?;
                add_endpoints(location, &raw, &mut cluster)?;
            }
            ("Service", "v1") => {
                let raw: RawService = typed(location, object.value)?;
                cluster.services.push(service(location, raw)?);
            }
            ("Namespace", "v1") => {
                let raw = typed(location, object.value)?;
                cluster.namespaces.push(namespace(location, raw)?);
            }
            ("ConfigMap", "v1") => {
                let raw: RawConfigMap = typed(location, object.value)?;
                add_config_map(location, &raw, &mut cluster)?;
            }
            _ => {}
        }
    }
    Ok(cluster)
}

/// A namespace from its raw form at `location`, with the `kubernetes.io/metadata.name` label
/// the API server gives it.
fn namespace(location: &Location, raw: RawNamespace) -> Result<Namespace> {
    check_metadata_of(location, &raw.metadata, super::meta::NameRule::Label)?;
    let name = required(location, "metadata.name", raw.metadata.name)?;
    let mut labels = raw.metadata.labels.unwrap_or_default();
    labels
        .entry(NAMESPACE_NAME_LABEL.to_string())
        .or_insert_with(|| name.clone());
    Ok(Namespace { name, labels })
}

/// A Service from its raw form at `location`: its cluster IPs are `spec.clusterIPs`, each an
/// address or `None` (a headless Service), as the API server takes and checks them
/// ([`cluster_ips`]).
fn service(location: &Location, raw: RawService) -> Result<super::Service> {
    check_metadata_of(location, &raw.metadata, super::meta::NameRule::Dns1035)?;
    let spec = raw.spec.unwrap_or_default();
    if let Some(selector) = &spec.selector {
        super::meta::check_labels(location, "spec.selector", selector)?;
    }
    let cluster_ips = cluster_ips(location, &spec)?;
    Ok(super::Service {
        name: required(location, "metadata.name", raw.metadata.name)?,
        namespace: required(location, "metadata.namespace", raw.metadata.namespace)?,
        labels: raw.metadata.labels.unwrap_or_default(),
        selector: spec.selector.unwrap_or_default(),
        cluster_ips,
    })
}

/// The cluster IPs of a Service's `spec` at `location`, as the API server takes them on
/// creation and checks them (`NormalizeClusterIPs`, then `ValidateService` and
/// `validateServiceClusterIPsRelatedFields`): `clusterIP` alone stands for `clusterIPs` of it;
/// otherwise `clusterIPs` must start with `clusterIP`, and is empty without it; `None` (a
/// headless Service, no address) only alone and not for a `NodePort` or `LoadBalancer`
/// Service; at most one address of each IP family; none for an `ExternalName` Service.
fn cluster_ips(location: &Location, spec: &RawServiceSpec) -> Result<Vec<IpAddr>> {
    let invalid = |field: &str, why: String| Error::invalid(location.join(field), why);
    let single = given(spec.cluster_ip.as_deref());
    let listed: Vec<&str> = match (spec.cluster_ips.as_deref(), single) {
        (Some(ips), _) if !ips.is_empty() => ips.iter().map(String::as_str).collect(),
        (_, Some(ip)) => vec![ip],
        _ => Vec::new(),
    };
    let kind = spec.kind.as_deref().unwrap_or("ClusterIP");
    if kind == "ExternalName" && !listed.is_empty() {
        return Err(invalid(
            "spec.clusterIPs",
            "may not be set for ExternalName services".into(),
        ));
    }
    match (single, listed.first()) {
        (Some(single), Some(first)) if single != *first => {
            return Err(invalid(
                "spec.clusterIPs",
                "first value must match `clusterIP`".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                "spec.clusterIPs",
                "must be empty when `clusterIP` is not specified".into(),
            ));
        }
        _ => {}
    }
    if listed.first() == Some(&"None") {
        return match (listed.len(), kind) {
            (1, "NodePort" | "LoadBalancer") => Err(invalid(
                "spec.clusterIP",
                format!("may not be set to 'None' for {kind} services"),
            )),
            (1, _) => Ok(Vec::new()),
            _ => Err(invalid(
                "spec.clusterIPs",
                "'None' must be the first and only value".into(),
            )),
        };
    }
    let ips = (listed.iter().enumerate())
        .map(|(i, ip)| {
            ip.parse().map_err(|_| {
                invalid(
                    &format!("spec.clusterIPs[{i}]"),
                    format!("`{ip}` is not an IP address"),
                )
            })
        })
        .collect::<Result<Vec<IpAddr>>>()?;
    one_of_each_family(location, "spec.clusterIPs", ips)
}

/// Adds the addresses of an EndpointSlice to its Service's endpoints. A slice without the
/// `kubernetes.io/service-name` label belongs to no Service.
///
/// As `ValidateEndpointSlice` checks a slice: `addressType` is required and one of `IPv4`,
/// `IPv6` and `FQDN`; each endpoint lists 1 to 100 addresses, of that type (and an IP address
/// not a special one, [`endpoint_address`]); a slice lists at most 1,000 endpoints. An `FQDN`
/// slice (deprecated) lists names, which neither kube-proxy nor Cilium sends traffic to: it
/// adds no address.
fn add_slice(location: &Location, raw: &RawEndpointSlice, cluster: &mut Cluster) -> Result<()> {
    check_metadata_of(location, &raw.metadata, super::meta::NameRule::Subdomain)?;
    let v4 = match raw.address_type.as_deref().unwrap_or_default() {
        "IPv4" => Some(true),
        "IPv6" => Some(false),
        "FQDN" => None,
        "" => return Err(Error::invalid(location.join("addressType"), "is required")),
        other => {
            return Err(Error::invalid(
                location.join("addressType"),
                format!(
                    "`{}` is none of IPv4, IPv6 and FQDN",
                    crate::values::escape(other)
                ),
            ));
        }
    };
    let endpoints = raw.endpoints.as_deref().unwrap_or_default();
    if endpoints.len() > 1000 {
        return Err(Error::invalid(
            location.join("endpoints"),
            "may list at most 1000 endpoints",
        ));
    }
    let mut addresses = Vec::new();
    for (i, endpoint) in endpoints.iter().enumerate() {
        let field = format!("endpoints[{i}].addresses");
        let listed = endpoint.addresses.as_deref().unwrap_or_default();
        if listed.is_empty() || listed.len() > 100 {
            return Err(Error::invalid(
                location.join(&field),
                "must list 1 to 100 addresses",
            ));
        }
        for (j, text) in listed.iter().enumerate() {
            let at = || location.join(&format!("{field}[{j}]"));
            let Some(v4) = v4 else {
                // `IsFullyQualifiedDomainName`.
                let name = text.strip_suffix('.').unwrap_or(text);
                if !crate::values::is_subdomain(name) || !name.contains('.') {
                    return Err(Error::invalid(
                        at(),
                        format!(
                            "`{}` is not a fully qualified domain name",
                            crate::values::escape(text)
                        ),
                    ));
                }
                continue;
            };
            let ip = endpoint_address(&at, text)?;
            if ip.is_ipv4() != v4 {
                let family = if v4 { "IPv4" } else { "IPv6" };
                return Err(Error::invalid(
                    at(),
                    format!("`{ip}` is not an {family} address, as `addressType` says"),
                ));
            }
            if !addresses.contains(&ip) {
                addresses.push(ip);
            }
        }
    }
    let label = "kubernetes.io/service-name";
    let metadata = &raw.metadata;
    let service = (metadata.labels.as_ref()).and_then(|l| l.get(label));
    let owner = (service.zip(metadata.namespace.as_ref()))
        .map(|(service, namespace)| (namespace, service, kubernetes_service(metadata, label)));
    add_service_addresses(addresses, owner, cluster);
    Ok(())
}

/// Adds the addresses of an Endpoints object to its Service's endpoints: each an IP address
/// not a special one ([`endpoint_address`]), as `validateEndpointAddress` checks them.
fn add_endpoints(location: &Location, raw: &RawEndpoints, cluster: &mut Cluster) -> Result<()> {
    check_metadata_of(location, &raw.metadata, super::meta::NameRule::Subdomain)?;
    let mut addresses = Vec::new();
    for (i, subset) in raw.subsets.iter().flatten().enumerate() {
        for (j, address) in subset.addresses.iter().flatten().enumerate() {
            let at = || location.join(&format!("subsets[{i}].addresses[{j}].ip"));
            let ip = endpoint_address(&at, &address.ip)?;
            if !addresses.contains(&ip) {
                addresses.push(ip);
            }
        }
    }
    let metadata = &raw.metadata;
    let owner = (metadata.name.as_ref().zip(metadata.namespace.as_ref()))
        .map(|(service, namespace)| (namespace, service, kubernetes_service(metadata, "")));
    add_service_addresses(addresses, owner, cluster);
    Ok(())
}

/// An endpoint's address `text` (at `at`): an IP address (an IPv4 address mapped into IPv6
/// is the IPv4 address, as Go reads it), and none the API server refuses for an endpoint
/// (`ValidateNonSpecialIP`): unspecified, loopback, link-local or link-local multicast.
fn endpoint_address(at: &dyn Fn() -> Location, text: &str) -> Result<IpAddr> {
    let ip = text
        .parse::<IpAddr>()
        .map(|ip| ip.to_canonical())
        .map_err(|_| {
            let text = crate::values::escape(text);
            Error::invalid(at(), format!("`{text}` is not an IP address"))
        })?;
    let special = match ip {
        IpAddr::V4(v4) => (v4.is_unspecified() || v4.is_loopback() || v4.is_link_local())
            .then_some("unspecified, loopback or link-local")
            .or((v4.octets()[..3] == [224, 0, 0]).then_some("link-local multicast")),
        IpAddr::V6(v6) => (v6.is_unspecified() || v6.is_loopback() || v6.is_unicast_link_local())
            .then_some("unspecified, loopback or link-local")
            .or((v6.segments()[0] & 0xff0f == 0xff02).then_some("link-local multicast")),
    };
    match special {
        Some(kind) => Err(Error::invalid(
            at(),
            format!("`{ip}` is {kind}, which no endpoint may be"),
        )),
        None => Ok(ip),
    }
}

/// Adds `addresses` to the endpoints of the Service `owner` names (its namespace and name),
/// and to kube-apiserver's addresses where that is the `kubernetes` Service (`owner`'s flag).
fn add_service_addresses(
    addresses: Vec<IpAddr>,
    owner: Option<(&String, &String, bool)>,
    cluster: &mut Cluster,
) {
    let Some((namespace, service, api)) = owner else {
        return;
    };
    if api {
        for address in &addresses {
            if !cluster.api_server.contains(address) {
                cluster.api_server.push(*address);
            }
        }
    }
    cluster.service_endpoints.push(super::ServiceEndpoints {
        namespace: namespace.clone(),
        service: service.clone(),
        addresses,
    });
}

/// The label of the pods of NodeLocal DNSCache (see [`node_local_cache`]).
pub(super) const NODE_LOCAL_DNS: (&str, &str) = ("k8s-app", "node-local-dns");

/// The address a node-local DNS cache listens on, when `raw` is one: a pod of NodeLocal
/// DNSCache (labelled `k8s-app: node-local-dns`, as its manifest `nodelocaldns.yaml` and GKE
/// label it), at the first address of its `-localip` argument, else at the documented default
/// 169.254.20.10 (Kubernetes documentation, "Using NodeLocal DNSCache in Kubernetes
/// Clusters"). Its other `-localip` address is the kube-dns Service's, whose lookups reach the
/// cluster DNS's pods after the Service is translated.
fn node_local_cache(raw: &RawPod) -> Option<IpAddr> {
    let labels = raw.metadata.labels.as_ref()?;
    let (key, value) = NODE_LOCAL_DNS;
    if labels.get(key).map(String::as_str) != Some(value) {
        return None;
    }
    let args: Vec<&str> = (raw.spec.iter())
        .flat_map(|spec| spec.containers.iter().flatten())
        .flat_map(|container| container.args.iter().flatten())
        .map(String::as_str)
        .collect();
    let local = crate::discover::local_ip_argument(&args).unwrap_or_default();
    Some(
        local
            .first()
            .copied()
            .unwrap_or(IpAddr::from([169, 254, 20, 10])),
    )
}

/// Adds the pod of `raw` at `location` to `cluster`, and its address when it is a node-local
/// DNS cache.
fn add_pod(location: &Location, raw: RawPod, cluster: &mut Cluster) -> Result<()> {
    let phase = raw.status.as_ref().and_then(|s| s.phase);
    let ended = matches!(phase, Some(RawPhase::Succeeded | RawPhase::Failed));
    let failed = phase == Some(RawPhase::Failed);
    if !ended
        && let Some(cache) = node_local_cache(&raw)
        && !cluster.dns_caches.contains(&cache)
    {
        cluster.dns_caches.push(cache);
    }
    // An ended pod is read whole all the same: the dump is refused where the API server would
    // have refused it.
    let pod = pod(location, raw)?;
    if ended {
        cluster.ended_pods.push(EndedPod {
            namespace: pod.namespace,
            name: pod.name,
            failed,
        });
    } else {
        cluster.pods.push(pod);
    }
    Ok(())
}

/// Whether an object is of the `kubernetes` Service of namespace `default`: named so (an
/// Endpoints object, `label` empty), or labelled so (an EndpointSlice, with its service-name
/// `label`).
fn kubernetes_service(metadata: &RawMetadata, label: &str) -> bool {
    let service = if label.is_empty() {
        metadata.name.as_deref()
    } else {
        metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(label))
            .map(String::as_str)
    };
    metadata.namespace.as_deref() == Some("default") && service == Some("kubernetes")
}

/// A node from its raw form at `location`.
fn node(location: &Location, raw: RawNode) -> Result<Node> {
    check_metadata_of(location, &raw.metadata, super::meta::NameRule::Subdomain)?;
    let name = required(location, "metadata.name", raw.metadata.name)?;
    let mut addresses = Vec::new();
    let listed = raw.status.and_then(|s| s.addresses).unwrap_or_default();
    for address in listed {
        if !matches!(address.kind.as_deref(), Some("InternalIP" | "ExternalIP")) {
            continue;
        }
        // The API server does not check a node's addresses (`ValidateNode` reads none of
        // them, `ValidateNodeUpdate` refuses only one listed twice), and Cilium's `ParseNode`
        // leaves out one that is no IP address, with a warning: so is it here.
        let Ok(ip) = address.address.unwrap_or_default().parse::<IpAddr>() else {
            continue;
        };
        if !addresses.contains(&ip) {
            addresses.push(ip);
        }
    }
    Ok(Node {
        name,
        labels: raw.metadata.labels.unwrap_or_default(),
        addresses,
    })
}

/// `prefix.field`, or `field` at the top.
fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// Deserializes `value` at `location` into `T`, naming the field of the first error.
fn typed<T: DeserializeOwned>(location: &Location, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value)
        .map_err(|error| crate::error::field_error(location, error))
}

/// `value`, or an error that `field` is missing.
fn required(location: &Location, field: &str, value: Option<String>) -> Result<String> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid(location.at(join(&location.field, field)), "is missing"))
}

/// Checks what the evaluator reads of the `metadata` of an object of a dump found at
/// `location`, as the API server checks an object of a kind whose names follow `rule`: the name
/// and the namespace where given (a kind the evaluator reads without them says where it
/// requires them), and the labels. Annotations are not read.
fn check_metadata_of(
    location: &Location,
    metadata: &RawMetadata,
    rule: super::meta::NameRule,
) -> Result<()> {
    use super::meta;
    if let Some(name) = given(metadata.name.as_deref()) {
        meta::check_name(location, "metadata.name", name, rule)?;
    }
    if let Some(namespace) = given(metadata.namespace.as_deref()) {
        meta::check_name(
            location,
            "metadata.namespace",
            namespace,
            meta::NameRule::Label,
        )?;
    }
    if let Some(labels) = &metadata.labels {
        meta::check_labels(location, "metadata.labels", labels)?;
    }
    Ok(())
}

/// `ips`, the addresses in `field` of the object at `location`, where they are one of each IP
/// family at most, as the API server requires of a pod's and a Service's.
fn one_of_each_family(location: &Location, field: &str, ips: Vec<IpAddr>) -> Result<Vec<IpAddr>> {
    match ips.as_slice() {
        [] | [_] => Ok(ips),
        [a, b] if a.is_ipv4() != b.is_ipv4() => Ok(ips),
        _ => Err(Error::invalid(
            location.join(field),
            "may list no more than one address of each IP family",
        )),
    }
}

/// `value` where it is given and not empty.
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// A pod from its raw form at `location`.
fn pod(location: &Location, raw: RawPod) -> Result<Pod> {
    use super::meta::{NameRule, check_name};
    use crate::discover::Kept;
    let at = |field: String| location.at(join(&location.field, &field));
    check_metadata_of(location, &raw.metadata, NameRule::Subdomain)?;
    let name = required(location, "metadata.name", raw.metadata.name)?;
    let namespace = required(location, "metadata.namespace", raw.metadata.namespace)?;
    let spec = raw.spec.unwrap_or_default();
    // `ValidatePodSpec`: the node and the service account are named as objects of theirs.
    let node = spec.node_name.filter(|n| !n.is_empty());
    let service_account = spec.service_account_name.filter(|n| !n.is_empty());
    for (field, value) in [
        ("spec.nodeName", &node),
        ("spec.serviceAccountName", &service_account),
    ] {
        if let Some(value) = value {
            check_name(location, field, value, NameRule::Subdomain)?;
        }
    }
    let status = raw.status.unwrap_or_default();
    let host_network = spec.host_network.unwrap_or(false);

    let parse = |text: &str, field: String| -> Result<IpAddr> {
        text.parse()
            .map_err(|_| Error::invalid(at(field), format!("`{text}` is not an IP address")))
    };
    // Which field the API server keeps (`kept_addresses`); a kept list is then validated.
    let list = |ips: &Option<Vec<RawIp>>, single: &Option<String>, name: &str, one: &str| {
        let ips = ips.as_deref().unwrap_or_default();
        let first = ips.first().map(|ip| ip.ip.as_str());
        match crate::discover::kept_addresses(single.as_deref(), first) {
            Kept::List => {
                let ips = (ips.iter().enumerate())
                    .map(|(i, ip)| parse(&ip.ip, format!("status.{name}[{i}].ip")))
                    .collect::<Result<Vec<_>>>()?;
                // `validatePodIPs`, `validateHostIPs`.
                one_of_each_family(location, &format!("status.{name}"), ips)
            }
            Kept::Single(ip) => Ok(vec![parse(ip, format!("status.{one}"))?]),
            Kept::None => Ok(Vec::new()),
        }
    };
    let mut ips = list(&status.pod_ips, &status.pod_ip, "podIPs", "podIP")?;
    if ips.is_empty() && host_network {
        ips = list(&status.host_ips, &status.host_ip, "hostIPs", "hostIP")?;
    }

    let containers = spec.containers.as_deref().unwrap_or_default();
    let ports = container_ports(location, "spec.containers", containers)?.concat();
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let init_ports = (container_ports(location, "spec.initContainers", inits)?.into_iter())
        .zip(inits)
        .flat_map(|(ports, container)| {
            let sidecar = container.restart_policy.as_deref() == Some("Always");
            ports
                .into_iter()
                .map(move |port| InitContainerPort { port, sidecar })
        })
        .collect();

    Ok(Pod {
        name,
        namespace,
        labels: raw.metadata.labels.unwrap_or_default(),
        ips,
        ports,
        init_ports,
        host_network,
        node,
        service_account,
    })
}

/// The ports of each of a pod's `containers` (its `spec.containers` or `spec.initContainers`,
/// `list`), found at `location`, checked as the API server checks them
/// (`validateContainerPorts`).
fn container_ports(
    location: &Location,
    list: &str,
    containers: &[RawContainer],
) -> Result<Vec<Vec<ContainerPort>>> {
    let at = |field: String| location.at(join(&location.field, &field));
    let mut all = Vec::with_capacity(containers.len());
    for (c, container) in containers.iter().enumerate() {
        let mut ports = Vec::new();
        for (p, port) in container.ports.iter().flatten().enumerate() {
            let field = |name: &str| format!("{list}[{c}].ports[{p}].{name}");
            let number = u16::try_from(port.container_port)
                .ok()
                .filter(|&n| n != 0)
                .ok_or_else(|| {
                    Error::invalid(
                        at(field("containerPort")),
                        format!(
                            "{} is not a port number from 1 to 65535",
                            port.container_port
                        ),
                    )
                })?;
            let protocol = match port.protocol.as_deref() {
                None => Protocol::Tcp,
                Some(name) => Protocol::parse(name).ok_or_else(|| {
                    Error::invalid(
                        at(field("protocol")),
                        format!("`{name}` is not a protocol (TCP, UDP, SCTP)"),
                    )
                })?,
            };
            let name = port.name.clone().filter(|n| !n.is_empty());
            if let Some(name) = &name {
                // An IANA service name, once in its container.
                let given_before =
                    (ports.iter()).any(|p: &ContainerPort| p.name.as_ref() == Some(name));
                if !crate::values::is_port_name(name) || given_before {
                    let why = if given_before {
                        "is the name of another port of the container"
                    } else {
                        "is not a port name (at most 15 lowercase letters, digits and single `-`, with a letter)"
                    };
                    return Err(Error::invalid(
                        at(field("name")),
                        format!("`{}` {why}", crate::values::escape(name)),
                    ));
                }
            }
            ports.push(ContainerPort {
                name,
                port: number,
                protocol,
            });
        }
        all.push(ports);
    }
    Ok(all)
}

/// `metadata`, as far as the evaluator reads it.
#[derive(Debug, Default, Deserialize)]
struct RawMetadata {
    name: Option<String>,
    namespace: Option<String>,
    labels: Option<BTreeMap<String, String>>,
}

/// A ConfigMap, as far as the evaluator reads it.
#[derive(Debug, Deserialize)]
struct RawConfigMap {
    #[serde(default)]
    metadata: RawMetadata,
    data: Option<BTreeMap<String, String>>,
}

/// A namespace, as far as the evaluator reads it.
#[derive(Debug, Deserialize)]
struct RawNamespace {
    #[serde(default)]
    metadata: RawMetadata,
}

/// A pod, as far as the evaluator reads it.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawPod {
    #[serde(default)]
    metadata: RawMetadata,
    spec: Option<RawPodSpec>,
    status: Option<RawPodStatus>,
    /// Which of the fields above the fast reader has read (bits 1, 2, 4).
    #[serde(skip)]
    seen: u8,
}

impl PodParts for RawPod {
    /// Reads `metadata`, `spec` and `status` into the types the thorough reading reads them
    /// into; a field given twice is an error, as there.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: Key,
        map: &mut A,
    ) -> std::result::Result<(), A::Error> {
        let bit = match key {
            Key::Metadata => 1,
            Key::Spec => 2,
            Key::Status => 4,
            _ => {
                map.next_value::<IgnoredAny>()?;
                return Ok(());
            }
        };
        if self.seen & bit != 0 {
            return Err(serde::de::Error::duplicate_field(key.name()));
        }
        self.seen |= bit;
        match key {
            Key::Metadata => self.metadata = map.next_value()?,
            Key::Spec => self.spec = map.next_value()?,
            _ => self.status = map.next_value()?,
        }
        Ok(())
    }

    fn absorb(
        &mut self,
        fields: serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Result<()> {
        for (name, value) in fields {
            let bit = match name.as_str() {
                "metadata" => 1,
                "spec" => 2,
                "status" => 4,
                _ => continue,
            };
            if self.seen & bit != 0 {
                return Err(serde::de::Error::custom(format!(
                    "duplicate field `{name}`"
                )));
            }
            self.seen |= bit;
            match bit {
                1 => self.metadata = serde_json::from_value(value)?,
                2 => self.spec = serde_json::from_value(value)?,
                _ => self.status = serde_json::from_value(value)?,
            }
        }
        Ok(())
    }

    const STRICT: bool = true;
}

/// `spec` of a pod.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPodSpec {
    host_network: Option<bool>,
    containers: Option<Vec<RawContainer>>,
    init_containers: Option<Vec<RawContainer>>,
    node_name: Option<String>,
    service_account_name: Option<String>,
}

/// A Service, as far as the evaluator reads it.
#[derive(Debug, Deserialize)]
struct RawService {
    #[serde(default)]
    metadata: RawMetadata,
    spec: Option<RawServiceSpec>,
}

/// `spec` of a Service.
#[derive(Debug, Default, Deserialize)]
struct RawServiceSpec {
    selector: Option<BTreeMap<String, String>>,
    /// `type`.
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "clusterIP")]
    cluster_ip: Option<String>,
    #[serde(rename = "clusterIPs")]
    cluster_ips: Option<Vec<String>>,
}

/// An EndpointSlice, as far as the evaluator reads it.
#[derive(Debug, Deserialize)]
struct RawEndpointSlice {
    #[serde(default)]
    metadata: RawMetadata,
    #[serde(rename = "addressType")]
    address_type: Option<String>,
    endpoints: Option<Vec<RawEndpoint>>,
}

/// An endpoint of an EndpointSlice.
#[derive(Debug, Deserialize)]
struct RawEndpoint {
    addresses: Option<Vec<String>>,
}

/// An Endpoints object, as far as the evaluator reads it.
#[derive(Debug, Deserialize)]
struct RawEndpoints {
    #[serde(default)]
    metadata: RawMetadata,
    subsets: Option<Vec<RawSubset>>,
}

/// A subset of an Endpoints object.
#[derive(Debug, Deserialize)]
struct RawSubset {
    addresses: Option<Vec<RawIp>>,
}

/// A node, as far as the evaluator reads it.
#[derive(Debug, Deserialize)]
struct RawNode {
    #[serde(default)]
    metadata: RawMetadata,
    status: Option<RawNodeStatus>,
}

/// `status` of a node.
#[derive(Debug, Deserialize)]
struct RawNodeStatus {
    addresses: Option<Vec<RawNodeAddress>>,
}

/// An element of `status.addresses`.
#[derive(Debug, Deserialize)]
struct RawNodeAddress {
    #[serde(rename = "type")]
    kind: Option<String>,
    address: Option<String>,
}

/// A container.
#[derive(Debug, Deserialize)]
struct RawContainer {
    ports: Option<Vec<RawContainerPort>>,
    args: Option<Vec<String>>,
    /// `restartPolicy`: `Always` for an init container that is a sidecar.
    #[serde(rename = "restartPolicy")]
    restart_policy: Option<String>,
}

/// A container port.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainerPort {
    container_port: i64,
    name: Option<String>,
    protocol: Option<String>,
}

/// `status` of a pod.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPodStatus {
    phase: Option<RawPhase>,
    #[serde(rename = "podIP")]
    pod_ip: Option<String>,
    #[serde(rename = "podIPs")]
    pod_ips: Option<Vec<RawIp>>,
    #[serde(rename = "hostIP")]
    host_ip: Option<String>,
    #[serde(rename = "hostIPs")]
    host_ips: Option<Vec<RawIp>>,
}

/// `status.phase` of a pod, as far as the evaluator tells phases apart: whether the pod has
/// ended (see [`EndedPod`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum RawPhase {
    Succeeded,
    Failed,
    /// `Pending`, `Running`, `Unknown`: the pod may have its network.
    #[serde(other)]
    Other,
}

/// An element of `podIPs` or `hostIPs`.
#[derive(Debug, Deserialize)]
struct RawIp {
    ip: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_come_from_documents_and_lists() {
        let text = r#"
# only a comment
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: x}
spec: {podSelector: {}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: calico, namespace: x}
---
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: b, namespace: x}
  spec: {podSelector: {}}
- apiVersion: v1
  kind: Service
  metadata: {name: s}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicyList
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: c, namespace: y}
  spec: {podSelector: {}}
---
"#;
        let read = read_policies("p.yaml", text, &Limits::default()).unwrap();
        let names: Vec<_> = read
            .policies
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(
            read.unevaluated,
            BTreeMap::from([("NetworkPolicy (projectcalico.org/v3)".to_string(), 1)])
        );
        assert_eq!(read.skipped.len(), 2);
    }

    /// An address block written with bits set past its prefix is read as its network, and
    /// said so, once per block and policy; a block without is not mentioned.
    #[test]
    fn address_blocks_with_host_bits_are_noted() {
        let text = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.1/24, except: [10.0.0.128/25]}}, {ipBlock: {cidr: 10.0.0.1/24}}]
  egress:
  - to: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.9/30]}}, {ipBlock: {cidr: "2001:db8::1/64"}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: q, namespace: a}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/24, except: [10.0.0.4/32]}}]}]
"#;
        let files = read_policies("p.yaml", text, &Limits::default()).unwrap();
        assert_eq!(
            files.notes,
            [
                "NetworkPolicy a/p of p.yaml: ipBlock 10.0.0.1/24 has bits set past its prefix: read as 10.0.0.0/24, as Calico and Cilium read it (the API server refuses it in a new object since Kubernetes 1.36)",
                "NetworkPolicy a/p of p.yaml: ipBlock 192.0.2.9/30 has bits set past its prefix: read as 192.0.2.8/30, as Calico and Cilium read it (the API server refuses it in a new object since Kubernetes 1.36)",
                "NetworkPolicy a/p of p.yaml: ipBlock 2001:db8::1/64 has bits set past its prefix: read as 2001:db8::/64, as Calico and Cilium read it (the API server refuses it in a new object since Kubernetes 1.36)",
            ]
        );
    }

    #[test]
    fn misspelt_policy_kinds_are_errors() {
        for (kind, api_version, reason) in [
            (
                "NetworkPolcy",
                "networking.k8s.io/v1",
                "`NetworkPolcy` is no kind of networking.k8s.io; did you mean `NetworkPolicy`?",
            ),
            (
                "ClusterNetworkPolicies",
                "policy.networking.k8s.io/v1alpha2",
                "`ClusterNetworkPolicies` is no kind of policy.networking.k8s.io; did you mean `ClusterNetworkPolicy`?",
            ),
            (
                "Tier",
                "policy.networking.k8s.io/v1alpha2",
                "`Tier` is no kind of policy.networking.k8s.io (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy)",
            ),
            (
                "CiliumNetworkPolicys",
                "cilium.io/v2",
                "`CiliumNetworkPolicys` is no kind of cilium.io; did you mean `CiliumNetworkPolicy`?",
            ),
        ] {
            let text = format!("apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: a}}\n");
            match read_policies("p.yaml", &text, &Limits::default()) {
                Err(Error::Invalid {
                    location,
                    reason: r,
                    ..
                }) => {
                    assert_eq!((location.field.as_str(), r.as_str()), ("kind", reason));
                }
                other => panic!("{kind}: {other:?}"),
            }
        }
        // Other kinds of these groups are no policies, and the v1alpha1 kinds are counted.
        let text = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n---\napiVersion: cilium.io/v2\nkind: CiliumNode\nmetadata: {name: a}\n---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\n";
        let read = read_policies("p.yaml", text, &Limits::default()).unwrap();
        assert_eq!(read.skipped.len(), 2);
        assert_eq!(read.unevaluated.len(), 1);
    }

    #[test]
    fn unknown_fields_are_errors() {
        let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x, creationTimestamp: null, labels: {}}\nspec:\n  podSelector: {}\n  ingress: [{form: [{podSelector: {}}], ports: [{port: 80}]}]\nstatus: {}\n";
        let err = read_policies("p.yaml", text, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.yaml, document 1, field `spec.ingress[0].form`: is not a field of this kind: the API server would refuse it (or drop it, and a rule without it may admit more)"
        );
        let fine = text.replace("form", "from");
        assert_eq!(
            read_policies("p.yaml", &fine, &Limits::default())
                .unwrap()
                .policies
                .len(),
            1
        );
    }

    #[test]
    fn policy_errors_name_file_document_and_field() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: b, namespace: x}\n  spec: {podSelector: {}, ingress: [{ports: [{port: [1]}]}]}\n";
        let text = format!("---\n# nothing\n---\n{text}");
        match read_policies("p.yaml", &text, &Limits::default()) {
            Err(Error::Invalid { location, .. }) => {
                assert_eq!(location.file, "p.yaml");
                assert_eq!(location.document, Some(2));
                assert!(
                    location
                        .field
                        .starts_with("items[1].spec.ingress[0].ports[0].port"),
                    "{location}"
                );
            }
            other => panic!("expected an error, got {other:?}"),
        }
        match read_policies("p.yaml", "kind: NetworkPolicy\n", &Limits::default()) {
            Err(Error::Invalid { location, .. }) => assert_eq!(location.field, "apiVersion"),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// Every dump under `fixtures/` (JSON and YAML), and the generated large cluster in both.
    fn dumps() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut found = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let is_dump = [
                    "kind: Pod",
                    "\"kind\": \"Pod\"",
                    "kind: Node",
                    "kind: Namespace",
                ]
                .iter()
                .any(|k| text.contains(k));
                if is_dump {
                    found.push((path.display().to_string(), text));
                }
            }
        }
        let scale = crate::synthetic::Scale {
            nodes: 12,
            namespaces: 8,
            pods: 200,
            network_policies: 0,
            cluster_network_policies: 0,
            cilium_policies: 0,
        };
        for (name, text) in crate::synthetic::large_files(&scale, 5) {
            if name.starts_with("cluster.") {
                found.push((name, text));
            }
        }
        found
    }

    #[test]
    fn the_fast_reading_is_the_thorough_one() {
        let limits = Limits::default();
        let mut fast = 0;
        for (name, text) in dumps() {
            let thorough = read_thoroughly(&name, &text, &limits);
            match read_fast(&name, &text, &limits) {
                Ok(cluster) => {
                    fast += 1;
                    assert_eq!(Some(cluster), thorough.ok(), "{name}");
                }
                // Where the fast reader stops, the thorough one decides; it stops only where
                // the thorough one refuses too, or on merge keys.
                Err(_) => assert!(thorough.is_err() || text.contains("<<"), "{name}"),
            }
        }
        assert!(fast > 20, "{fast} dumps read fast");
    }

    #[test]
    fn files_read_as_they_stream_by_as_their_text_reads() {
        let limits = Limits::default();
        let dir = tempfile::tempdir().unwrap();
        let mut read = 0;
        for (i, (name, text)) in dumps().into_iter().enumerate() {
            let path = dir.path().join(format!("{i}.dump"));
            std::fs::write(&path, &text).unwrap();
            let shown = |read: Result<Cluster>| read.map_err(|e| e.to_string());
            let file = read_cluster_file(&name, &path, &limits);
            assert_eq!(
                shown(file),
                shown(read_cluster(&name, &text, &limits)),
                "{name}"
            );
            if name == "cluster.json" {
                // The generated dump, as kubectl prints one, streams by.
                let reader = std::fs::File::open(&path).unwrap();
                let streamed = crate::discover::stream_objects::<RawPod, ()>(
                    &name,
                    reader,
                    &limits,
                    &|_, _, ()| Ok(()),
                );
                assert!(streamed.is_ok());
            }
            read += 1;
        }
        assert!(read > 20);
        // Errors name what the text's reading names.
        let path = dir.path().join("bad.json");
        let bad = "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", \"namespace\": \"a\"}, \"status\": {\"podIP\": \"10.0.0.300\"}}]}";
        std::fs::write(&path, bad).unwrap();
        assert_eq!(
            read_cluster_file("bad.json", &path, &limits)
                .unwrap_err()
                .to_string(),
            read_cluster("bad.json", bad, &limits)
                .unwrap_err()
                .to_string()
        );
        let missing = read_cluster_file("none.json", &dir.path().join("none.json"), &limits);
        assert!(missing.unwrap_err().to_string().contains("cannot read"));
    }

    #[test]
    fn the_fast_reading_stops_where_the_thorough_one_refuses() {
        let limits = Limits::default();
        let cases = [
            // Fields before `kind`, as a hand-written dump may have them.
            "{\"metadata\": {\"name\": \"p\", \"namespace\": \"a\"}, \"apiVersion\": \"v1\", \"kind\": \"Pod\", \"status\": {\"podIP\": \"10.0.0.1\"}}",
            "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}]}",
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": null}",
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", \"namespace\": \"a\"}, \"metadata\": {}}",
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"items\": [], \"metadata\": {\"name\": \"p\", \"namespace\": \"a\"}}",
            "{\"apiVersion\": \"v1\", \"kind\": \"PodList\", \"items\": null}",
            "{\"apiVersion\": \"v2\", \"kind\": \"Pod\", \"metadata\": {\"name\": 1}}",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, labels: {a: b}}\nspec: {hostNetwork: true}\nstatus: {hostIP: 192.0.2.1}\n---\n---\nkind: Node\napiVersion: v1\nmetadata: {name: n}\n",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: c, ports: [{containerPort: 0}]}]}\n",
            "base: &b {name: p, namespace: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {<<: *b}\n",
        ];
        let shown = |read: Result<Cluster>| read.map_err(|e| e.to_string());
        for text in cases {
            assert_eq!(
                shown(read_cluster("c", text, &limits)),
                shown(read_thoroughly("c", text, &limits)),
                "{text}"
            );
            if let Ok(cluster) = read_fast("c", text, &limits) {
                assert_eq!(
                    Some(cluster),
                    read_thoroughly("c", text, &limits).ok(),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn cluster_reads_kubectl_lists() {
        let text = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: a, labels: {team: x}}
- apiVersion: v1
  kind: Namespace
  metadata: {name: b, labels: {kubernetes.io/metadata.name: b}}
- apiVersion: v1
  kind: Pod
  metadata: {name: p, namespace: a, labels: {app: p}}
  spec:
    containers:
    - name: main
      ports:
      - {containerPort: 8080, name: http}
      - {containerPort: 53, name: dns, protocol: UDP}
    - name: side
  status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: q, namespace: a}
  status: {podIP: 10.0.0.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: h, namespace: b}
  spec: {hostNetwork: true, containers: [{name: c}]}
  status: {hostIP: 192.0.2.1}
- apiVersion: v1
  kind: Pod
  metadata: {name: pending, namespace: b}
  status: {phase: Pending}
- apiVersion: v1
  kind: Service
  metadata: {name: s, namespace: a}
"#;
        let Cluster {
            namespaces, pods, ..
        } = read_cluster("c.yaml", text, &Limits::default()).unwrap();
        assert_eq!(namespaces.len(), 2);
        assert_eq!(
            namespaces[0]
                .labels
                .get(NAMESPACE_NAME_LABEL)
                .map(String::as_str),
            Some("a")
        );
        assert_eq!(
            namespaces[0].labels.get("team").map(String::as_str),
            Some("x")
        );
        assert_eq!(pods.len(), 4);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(pods[0].ips, [ip("10.0.0.1"), ip("fd00::1")]);
        assert_eq!(
            pods[0].ports,
            [
                ContainerPort {
                    name: Some("http".into()),
                    port: 8080,
                    protocol: Protocol::Tcp
                },
                ContainerPort {
                    name: Some("dns".into()),
                    port: 53,
                    protocol: Protocol::Udp
                },
            ]
        );
        assert_eq!(pods[1].ips, [ip("10.0.0.2")]);
        assert!(pods[2].host_network);
        assert_eq!(pods[2].ips, [ip("192.0.2.1")]);
        assert!(pods[3].ips.is_empty());
    }

    /// Where `podIP` and `podIPs[0]` (or `hostIP` and `hostIPs[0]`) disagree, the single field
    /// is the pod's one address, as the API server converts it; the list is not read then.
    #[test]
    fn the_single_address_field_wins_where_it_disagrees_with_the_list() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for (status, host_network, want) in [
            // Equal: the list, both families.
            (
                "{podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}",
                false,
                vec!["10.0.0.1", "fd00::1"],
            ),
            // Different: the single field alone, whatever the rest of the list holds.
            (
                "{podIP: 10.0.0.9, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}",
                false,
                vec!["10.0.0.9"],
            ),
            (
                "{podIP: 10.0.0.9, podIPs: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]}",
                false,
                vec!["10.0.0.9"],
            ),
            (
                "{podIP: 10.0.0.9, podIPs: [{ip: 10.0.0.300}]}",
                false,
                vec!["10.0.0.9"],
            ),
            // An empty single field is not given.
            (
                "{podIP: '', podIPs: [{ip: 10.0.0.1}]}",
                false,
                vec!["10.0.0.1"],
            ),
            (
                "{hostIP: 192.0.2.9, hostIPs: [{ip: 192.0.2.1}, {ip: 'fd00::2'}]}",
                true,
                vec!["192.0.2.9"],
            ),
            (
                "{hostIP: 192.0.2.1, hostIPs: [{ip: 192.0.2.1}, {ip: 'fd00::2'}]}",
                true,
                vec!["192.0.2.1", "fd00::2"],
            ),
        ] {
            let text = format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: a}}\nspec: {{hostNetwork: {host_network}}}\nstatus: {status}\n"
            );
            let cluster = read_cluster("c.yaml", &text, &Limits::default())
                .unwrap_or_else(|e| panic!("{status}: {e}"));
            let want: Vec<IpAddr> = want.into_iter().map(ip).collect();
            assert_eq!(cluster.pods[0].ips, want, "{status}");
        }
        // Where they agree, the list is validated whole.
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]}\n";
        match read_cluster("c.yaml", text, &Limits::default()) {
            Err(Error::Invalid { location, .. }) => assert_eq!(location.field, "status.podIPs"),
            other => panic!("{other:?}"),
        }
    }

    /// Pods that have ended are left out, a node-local DNS cache's too, but read as strictly.
    #[test]
    fn cluster_leaves_out_pods_that_have_ended() {
        let text = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: job, namespace: a}
  status: {phase: Succeeded, podIP: 10.0.0.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: q, namespace: a}
  status: {phase: Running, podIP: 10.0.0.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: cache, namespace: b, labels: {k8s-app: node-local-dns}}
  spec: {hostNetwork: true, containers: [{name: c}]}
  status: {phase: Failed, hostIP: 192.0.2.1}
"#;
        let Cluster {
            pods,
            ended_pods,
            dns_caches,
            ..
        } = read_cluster("c.yaml", text, &Limits::default()).unwrap();
        let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["q"]);
        let ended = |namespace: &str, name: &str, failed| EndedPod {
            namespace: namespace.into(),
            name: name.into(),
            failed,
        };
        assert_eq!(
            ended_pods,
            [ended("a", "job", false), ended("b", "cache", true)]
        );
        assert!(dns_caches.is_empty(), "{dns_caches:?}");

        let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {phase: Failed, podIP: 10.0.0.300}\n";
        match read_cluster("c.yaml", bad, &Limits::default()) {
            Err(Error::Invalid { location, .. }) => assert_eq!(location.field, "status.podIP"),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// A Service's cluster IPs: `clusterIPs` over `clusterIP`, none for a headless Service,
    /// and an address the API server would refuse is refused, naming the field.
    #[test]
    fn services_have_their_cluster_ips() {
        let text = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: a, namespace: x}, spec: {clusterIP: 10.96.0.1, clusterIPs: [10.96.0.1, "fd00::1"]}}
- {apiVersion: v1, kind: Service, metadata: {name: b, namespace: x}, spec: {clusterIP: 10.96.0.2}}
- {apiVersion: v1, kind: Service, metadata: {name: c, namespace: x}, spec: {clusterIP: None, clusterIPs: [None]}}
- {apiVersion: v1, kind: Service, metadata: {name: d, namespace: x}, spec: {type: ExternalName, externalName: example.com}}
"#;
        let cluster = read_cluster("c.yaml", text, &Limits::default()).unwrap();
        let ips: Vec<Vec<String>> = (cluster.services.iter())
            .map(|s| s.cluster_ips.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(
            ips,
            [
                vec!["10.96.0.1".to_string(), "fd00::1".to_string()],
                vec!["10.96.0.2".to_string()],
                vec![],
                vec![]
            ]
        );
        let bad = "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\nspec: {clusterIP: 10.96.0.1, clusterIPs: [10.96.0.1, 10.96.0.300]}\n";
        match read_cluster("c.yaml", bad, &Limits::default()) {
            Err(Error::Invalid { location, .. }) => {
                assert_eq!(location.field, "spec.clusterIPs[1]");
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// Objects of a dump that the API server refuses for their names, labels or port names
    /// are refused, naming the field; the fast reading stops where the thorough one does.
    /// Asserts that both readers refuse the dump `text` at `field`, saying `why`.
    fn assert_refused(text: &str, field: &str, why: &str) {
        for read in [read_cluster, read_thoroughly] {
            match read("c.yaml", text, &Limits::default()) {
                Err(Error::Invalid {
                    location, reason, ..
                }) => {
                    assert_eq!(
                        (location.field.as_str(), reason.as_str()),
                        (field, why),
                        "{text}"
                    );
                }
                other => panic!("{text}: expected an error, got {other:?}"),
            }
        }
    }

    /// The ports of init containers are read with whether each container is a sidecar.
    #[test]
    fn init_container_ports_are_read_with_their_kind() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: m, ports: [{containerPort: 80, name: web}]}], initContainers: [{name: i, ports: [{containerPort: 81, name: web}]}, {name: s, restartPolicy: Always, ports: [{containerPort: 9090, name: metrics}, {containerPort: 53, protocol: UDP}]}]}\n";
        for read in [read_cluster, read_thoroughly] {
            let cluster = read("c.yaml", text, &Limits::default()).unwrap();
            let pod = &cluster.pods[0];
            assert_eq!(pod.ports.iter().map(|p| p.port).collect::<Vec<_>>(), [80]);
            let init: Vec<(u16, Option<&str>, bool)> = (pod.init_ports.iter())
                .map(|p| (p.port.port, p.port.name.as_deref(), p.sidecar))
                .collect();
            assert_eq!(
                init,
                [
                    (81, Some("web"), false),
                    (9090, Some("metrics"), true),
                    (53, None, true)
                ]
            );
        }
    }

    /// A node's address that is no IP address is left out, as Cilium leaves it out: the API
    /// server accepts it.
    #[test]
    fn node_addresses_that_are_no_ip_addresses_are_left_out() {
        let text = "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {addresses: [{type: InternalIP, address: \"x\\e[31m\"}, {type: ExternalIP, address: 198.51.100.1}, {type: Hostname, address: n}, {type: InternalIP, address: 192.0.2.1}]}\n";
        for read in [read_cluster, read_thoroughly] {
            let cluster = read("c.yaml", text, &Limits::default()).unwrap();
            let addresses: Vec<String> = (cluster.nodes[0].addresses.iter())
                .map(ToString::to_string)
                .collect();
            assert_eq!(addresses, ["198.51.100.1", "192.0.2.1"]);
        }
    }

    /// The addresses of EndpointSlices and Endpoints are taken and checked as the API server
    /// checks them: each refusal names the field and says why.
    #[allow(
        clippy::too_many_lines,
        reason = "a table of cases, one per line of thought"
    )]
    #[test]
    fn endpoint_addresses_are_read_as_the_api_server_takes_them() {
        let slice = |rest: &str| {
            format!(
                "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: kubernetes, namespace: default, labels: {{kubernetes.io/service-name: kubernetes}}}}\n{rest}\n"
            )
        };
        let endpoints = |rest: &str| {
            format!(
                "apiVersion: v1\nkind: Endpoints\nmetadata: {{name: kubernetes, namespace: default}}\n{rest}\n"
            )
        };
        let limits = Limits::default();
        for (text, want) in [
            (
                slice(
                    "addressType: IPv4\nendpoints: [{addresses: [192.0.2.1]}, {addresses: [192.0.2.2, 192.0.2.1]}]",
                ),
                vec!["192.0.2.1", "192.0.2.2"],
            ),
            (
                slice("addressType: IPv6\nendpoints: [{addresses: ['fd00::1']}]"),
                vec!["fd00::1"],
            ),
            // An IPv4 address mapped into IPv6 is the IPv4 address, as Go reads it.
            (
                slice("addressType: IPv4\nendpoints: [{addresses: ['::ffff:192.0.2.1']}]"),
                vec!["192.0.2.1"],
            ),
            // A slice of names adds no address.
            (
                slice("addressType: FQDN\nendpoints: [{addresses: [api.example.com.]}]"),
                vec![],
            ),
            (slice("addressType: IPv4"), vec![]),
            (
                endpoints("subsets: [{addresses: [{ip: 192.0.2.1}, {ip: 'fd00::1'}]}]"),
                vec!["192.0.2.1", "fd00::1"],
            ),
        ] {
            let cluster =
                read_cluster("c.yaml", &text, &limits).unwrap_or_else(|e| panic!("{text}: {e}"));
            let ips: Vec<String> = cluster.api_server.iter().map(ToString::to_string).collect();
            assert_eq!(ips, want, "{text}");
        }
        for (text, field, why) in [
            (
                slice("endpoints: [{addresses: [192.0.2.1]}]"),
                "addressType",
                "is required",
            ),
            (
                slice("addressType: IP\nendpoints: []"),
                "addressType",
                "`IP` is none of IPv4, IPv6 and FQDN",
            ),
            (
                slice("addressType: IPv4\nendpoints: [{addresses: [192.0.2.1]}, {addresses: []}]"),
                "endpoints[1].addresses",
                "must list 1 to 100 addresses",
            ),
            (
                slice("addressType: IPv4\nendpoints: [{addresses: ['fd00::1']}]"),
                "endpoints[0].addresses[0]",
                "`fd00::1` is not an IPv4 address, as `addressType` says",
            ),
            (
                slice("addressType: IPv6\nendpoints: [{addresses: [192.0.2.1]}]"),
                "endpoints[0].addresses[0]",
                "`192.0.2.1` is not an IPv6 address, as `addressType` says",
            ),
            (
                slice("addressType: IPv4\nendpoints: [{addresses: [192.0.2.1, x]}]"),
                "endpoints[0].addresses[1]",
                "`x` is not an IP address",
            ),
            (
                slice("addressType: IPv4\nendpoints: [{addresses: [127.0.0.1]}]"),
                "endpoints[0].addresses[0]",
                "`127.0.0.1` is unspecified, loopback or link-local, which no endpoint may be",
            ),
            (
                slice("addressType: IPv4\nendpoints: [{addresses: [169.254.169.254]}]"),
                "endpoints[0].addresses[0]",
                "`169.254.169.254` is unspecified, loopback or link-local, which no endpoint may be",
            ),
            (
                slice("addressType: IPv4\nendpoints: [{addresses: [224.0.0.251]}]"),
                "endpoints[0].addresses[0]",
                "`224.0.0.251` is link-local multicast, which no endpoint may be",
            ),
            (
                slice("addressType: IPv6\nendpoints: [{addresses: ['ff02::1']}]"),
                "endpoints[0].addresses[0]",
                "`ff02::1` is link-local multicast, which no endpoint may be",
            ),
            (
                slice("addressType: IPv6\nendpoints: [{addresses: ['::']}]"),
                "endpoints[0].addresses[0]",
                "`::` is unspecified, loopback or link-local, which no endpoint may be",
            ),
            (
                slice("addressType: FQDN\nendpoints: [{addresses: [localhost]}]"),
                "endpoints[0].addresses[0]",
                "`localhost` is not a fully qualified domain name",
            ),
            (
                endpoints(
                    "subsets: [{addresses: [{ip: 192.0.2.1}]}, {addresses: [{ip: 'fe80::1'}]}]",
                ),
                "subsets[1].addresses[0].ip",
                "`fe80::1` is unspecified, loopback or link-local, which no endpoint may be",
            ),
        ] {
            assert_refused(&text, field, why);
        }
    }

    /// A Service's `clusterIP` and `clusterIPs` are taken and checked as the API server takes
    /// and checks them on creation: each refusal names the field and says why.
    #[test]
    fn service_cluster_ips_are_read_as_the_api_server_takes_them() {
        let service = |spec: &str| {
            format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: a}}\nspec: {spec}\n"
            )
        };
        let limits = Limits::default();
        for (spec, want) in [
            ("{clusterIP: 10.96.0.1}", vec!["10.96.0.1"]),
            (
                "{clusterIP: 10.96.0.1, clusterIPs: [10.96.0.1, 'fd00::1']}",
                vec!["10.96.0.1", "fd00::1"],
            ),
            ("{clusterIP: None, clusterIPs: [None]}", vec![]),
            ("{clusterIP: None}", vec![]),
            ("{type: ExternalName, externalName: example.com}", vec![]),
            ("{type: NodePort, clusterIP: 10.96.0.1}", vec!["10.96.0.1"]),
            ("{}", vec![]),
        ] {
            let cluster = read_cluster("c.yaml", &service(spec), &limits)
                .unwrap_or_else(|e| panic!("{spec}: {e}"));
            let ips: Vec<String> = cluster.services[0]
                .cluster_ips
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(ips, want, "{spec}");
        }
        for (spec, field, why) in [
            (
                "{clusterIP: 10.96.0.1, clusterIPs: [10.96.0.2]}",
                "spec.clusterIPs",
                "first value must match `clusterIP`",
            ),
            (
                "{clusterIPs: [10.96.0.1]}",
                "spec.clusterIPs",
                "must be empty when `clusterIP` is not specified",
            ),
            (
                "{clusterIP: None, clusterIPs: [None, 10.96.0.1]}",
                "spec.clusterIPs",
                "'None' must be the first and only value",
            ),
            (
                "{clusterIP: 10.96.0.1, clusterIPs: [10.96.0.1, None]}",
                "spec.clusterIPs[1]",
                "`None` is not an IP address",
            ),
            (
                "{type: LoadBalancer, clusterIP: None}",
                "spec.clusterIP",
                "may not be set to 'None' for LoadBalancer services",
            ),
            (
                "{type: ExternalName, externalName: example.com, clusterIP: 10.96.0.1}",
                "spec.clusterIPs",
                "may not be set for ExternalName services",
            ),
            (
                "{clusterIP: 10.96.0.1, clusterIPs: [10.96.0.1, 10.96.0.2]}",
                "spec.clusterIPs",
                "may list no more than one address of each IP family",
            ),
        ] {
            assert_refused(&service(spec), field, why);
        }
    }

    #[allow(
        clippy::too_many_lines,
        reason = "a table of cases, one per line of thought"
    )]
    #[test]
    fn dump_objects_the_api_server_refuses_are_errors() {
        let pod = |metadata: &str, spec: &str| {
            format!("apiVersion: v1\nkind: Pod\nmetadata: {metadata}\nspec: {spec}\n")
        };
        let plain = pod("{name: p, namespace: a}", "{}");
        let object = |kind: &str, metadata: &str| {
            format!("apiVersion: v1\nkind: {kind}\nmetadata: {metadata}\n")
        };
        let cases = [
            (pod("{name: P, namespace: a}", "{}"), "metadata.name"),
            (pod("{name: p_1, namespace: a}", "{}"), "metadata.name"),
            (pod("{name: p, namespace: a.b}", "{}"), "metadata.namespace"),
            (
                pod("{name: p, namespace: a, labels: {a b: c}}", "{}"),
                "metadata.labels",
            ),
            (
                pod(
                    "{name: p, namespace: a, labels: {app: \"web server\"}}",
                    "{}",
                ),
                "metadata.labels",
            ),
            (
                pod("{name: p, namespace: a, labels: {\"k8s:app\": web}}", "{}"),
                "metadata.labels",
            ),
            (
                pod("{name: p, namespace: a}", "{nodeName: \"n\\e[31m\"}"),
                "spec.nodeName",
            ),
            (
                pod("{name: p, namespace: a}", "{serviceAccountName: Admin}"),
                "spec.serviceAccountName",
            ),
            (
                pod(
                    "{name: p, namespace: a}",
                    "{containers: [{name: c, ports: [{containerPort: 80, name: Http}]}]}",
                ),
                "spec.containers[0].ports[0].name",
            ),
            (
                pod(
                    "{name: p, namespace: a}",
                    "{containers: [{name: c, ports: [{containerPort: 80, name: web}, {containerPort: 81, name: web}]}]}",
                ),
                "spec.containers[0].ports[1].name",
            ),
            (
                pod(
                    "{name: p, namespace: a}",
                    "{initContainers: [{name: i, ports: [{containerPort: 80, name: Http}]}]}",
                ),
                "spec.initContainers[0].ports[0].name",
            ),
            (
                pod(
                    "{name: p, namespace: a}",
                    "{initContainers: [{name: i}, {name: j, restartPolicy: Always, ports: [{containerPort: 0}]}]}",
                ),
                "spec.initContainers[1].ports[0].containerPort",
            ),
            (
                pod("{name: p, namespace: a}", "{}").replace(
                    "spec: {}",
                    "status: {podIPs: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]}",
                ),
                "status.podIPs",
            ),
            (
                format!(
                    "{}spec: {{clusterIP: 'fd00::1', clusterIPs: ['fd00::1', 'fd00::2']}}\n",
                    object("Service", "{name: web, namespace: a}")
                ),
                "spec.clusterIPs",
            ),
            (object("Namespace", "{name: a.b}"), "metadata.name"),
            (
                object("Namespace", "{name: a, labels: {team: \"x y\"}}"),
                "metadata.labels",
            ),
            (object("Node", "{name: Node-1}"), "metadata.name"),
            (
                object("Node", "{name: n, labels: {\"/zone\": a}}"),
                "metadata.labels",
            ),
            (
                object("Service", "{name: 1web, namespace: a}"),
                "metadata.name",
            ),
            (
                format!(
                    "{}spec: {{selector: {{app: \"a b\"}}}}\n",
                    object("Service", "{name: web, namespace: a}")
                ),
                "spec.selector",
            ),
            (
                object("ConfigMap", "{name: cilium_config, namespace: kube-system}"),
                "metadata.name",
            ),
        ];
        let limits = Limits::default();
        for (text, field) in &cases {
            match read_cluster("c.yaml", text, &limits) {
                Err(Error::Invalid { location, .. }) => {
                    assert_eq!(location.field, *field, "{text}")
                }
                other => panic!("{text}: expected an error, got {other:?}"),
            }
            assert!(read_thoroughly("c.yaml", text, &limits).is_err(), "{text}");
        }
        // What the API server accepts: a port name given in two containers, a subdomain for
        // a node, a label key with a prefix and an empty value, a DNS-1035 Service name.
        let accepted = [
            plain,
            pod(
                "{name: p.q, namespace: a, labels: {example.com/app: \"\"}}",
                "{nodeName: n.example, containers: [{name: c, ports: [{containerPort: 80, name: web}]}, {name: d, ports: [{containerPort: 81, name: web}]}]}",
            ),
            object(
                "Node",
                "{name: node-1.example, labels: {topology.kubernetes.io/zone: a-1}}",
            ),
            object("Service", "{name: web-1, namespace: a}"),
            pod("{name: p, namespace: a}", "{}").replace(
                "spec: {}",
                "status: {podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}",
            ),
        ];
        for text in &accepted {
            assert!(read_cluster("c.yaml", text, &limits).is_ok(), "{text}");
        }
    }

    #[test]
    fn cluster_reads_separate_lists_and_reports_fields() {
        let text = "apiVersion: v1\nkind: NamespaceList\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n---\napiVersion: v1\nkind: PodList\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, status: {podIP: 10.0.0.1}}\n";
        let cluster = read_cluster("c.yaml", text, &Limits::default()).unwrap();
        assert_eq!((cluster.namespaces.len(), cluster.pods.len()), (1, 1));

        let bad = "apiVersion: v1\nkind: PodList\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, status: {podIPs: [{ip: 10.0.0.300}]}}\n";
        match read_cluster("c.yaml", bad, &Limits::default()) {
            Err(Error::Invalid { location, .. }) => {
                assert_eq!(location.field, "items[0].status.podIPs[0].ip");
            }
            other => panic!("expected an error, got {other:?}"),
        }
        let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: c, ports: [{containerPort: 80, protocol: ICMP}]}]}\n";
        match read_cluster("c.yaml", bad, &Limits::default()) {
            Err(Error::Invalid { location, .. }) => {
                assert_eq!(location.field, "spec.containers[0].ports[0].protocol");
            }
            other => panic!("expected an error, got {other:?}"),
        }
        let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n";
        match read_cluster("c.yaml", bad, &Limits::default()) {
            Err(Error::Invalid { location, .. }) => {
                assert_eq!(location.field, "metadata.namespace")
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
}
