//! Reading cluster dumps fast: pods, nearly all of a dump, are read as they stream by into
//! typed, lenient structs (fields a profile does not need are skipped unread); the few objects
//! of the other kinds a profile reads are kept whole; every other kind is skipped unread.
//!
//! `kubectl get -o json` and `-o yaml` print each object's fields in alphabetical order, so
//! `kind` comes before `metadata`, `spec` and `status`, and the reader knows what it reads;
//! fields that come before `kind` (a hand-written dump) are kept and read once the kind is known.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as Json;

use crate::error::{Error, Location, Result};
use crate::source::{Limits, Object};

/// The kinds a profile (and the evaluator) reads besides pods; their objects are kept whole.
pub(crate) const KEPT: [&str; 8] = [
    "Node",
    "Service",
    "EndpointSlice",
    "Endpoints",
    "Namespace",
    "Deployment",
    "DaemonSet",
    "ConfigMap",
];

/// What cluster dumps say, as far as a cluster profile needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Dump {
    /// The files read, as the user named them.
    pub(crate) files: Vec<String>,
    /// The nodes.
    pub(crate) nodes: Vec<Node>,
    /// The pods.
    pub(crate) pods: Vec<Pod>,
    /// The names of the namespaces.
    pub(crate) namespaces: BTreeSet<String>,
    /// The Services (their ClusterIPs).
    pub(crate) services: Vec<Service>,
    /// The endpoints of Services, from EndpointSlices and Endpoints.
    pub(crate) endpoints: Vec<ServiceEndpoints>,
    /// The Deployments and DaemonSets, whole.
    pub(crate) workloads: Vec<Object>,
    /// The Cilium agent's options, from its `cilium-config` ConfigMaps.
    pub(crate) cilium_agents: Vec<crate::evaluate::CiliumAgent>,
}

/// A node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    /// `metadata.name`.
    pub(crate) name: String,
    /// `metadata.labels`.
    pub(crate) labels: BTreeMap<String, String>,
    /// `spec.providerID` (empty when absent).
    pub(crate) provider_id: String,
    /// The `InternalIP` addresses of `status.addresses` that are IP addresses.
    pub(crate) internal: Vec<IpAddr>,
    /// The `ExternalIP` addresses of `status.addresses` that are IP addresses.
    pub(crate) external: Vec<IpAddr>,
    /// `status.nodeInfo.kubeletVersion`.
    pub(crate) kubelet_version: String,
}

impl Node {
    /// The node's own addresses, as the kubelet picks them (`GetNodeHostIPs`,
    /// `pkg/util/node/node.go` of Kubernetes): the first of its InternalIPs, else of its
    /// ExternalIPs, and the first address of the other family after it. These are the
    /// addresses of host-network pods on the node and the `status.hostIP` of every pod on it,
    /// and the node's kubelet probes its pods from them.
    pub(crate) fn host_ips(&self) -> Vec<IpAddr> {
        let all: Vec<IpAddr> = self
            .internal
            .iter()
            .chain(&self.external)
            .copied()
            .collect();
        let Some(&first) = all.first() else {
            return Vec::new();
        };
        let mut ips = vec![first];
        if let Some(&other) = all.iter().find(|ip| ip.is_ipv6() != first.is_ipv6()) {
            ips.push(other);
        }
        ips
    }

    /// Whether the node has the label `key` (any value).
    pub(crate) fn has_label(&self, key: &str) -> bool {
        self.labels.contains_key(key)
    }
}

/// A pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pod {
    /// `metadata.namespace` (`default` when absent).
    pub(crate) namespace: String,
    /// `metadata.name`.
    pub(crate) name: String,
    /// `metadata.labels`.
    pub(crate) labels: BTreeMap<String, String>,
    /// `spec.hostNetwork`.
    pub(crate) host_network: bool,
    /// `status.podIPs`, else `status.podIP` (which wins where the two disagree).
    pub(crate) ips: Vec<IpAddr>,
}

impl Pod {
    /// Whether the pod has the label `key` with `value`.
    pub(crate) fn labelled(&self, key: &str, value: &str) -> bool {
        self.labels.get(key).is_some_and(|v| v == value)
    }
}

/// A Service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Service {
    /// Its namespace.
    pub(crate) namespace: String,
    /// Its name.
    pub(crate) name: String,
    /// `spec.clusterIPs`, else `spec.clusterIP` (none for a headless Service).
    pub(crate) cluster_ips: Vec<IpAddr>,
}

/// The endpoints of a Service: one EndpointSlice, or one Endpoints object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceEndpoints {
    /// The namespace.
    pub(crate) namespace: String,
    /// The Service (an EndpointSlice's `kubernetes.io/service-name` label).
    pub(crate) service: String,
    /// The addresses of the endpoints.
    pub(crate) addresses: Vec<IpAddr>,
    /// Their ports.
    pub(crate) ports: Vec<u16>,
    /// The object they were read from, for comments: `EndpointSlice default/kubernetes-x`.
    pub(crate) object: String,
}

/// Reads the dumps of `files` (name and text each): `kubectl get … -o json` (a `List`) or
/// `-o yaml` (a `List`, lists of one kind, or single objects in several documents).
pub(crate) fn read(files: &[(String, String)], limits: &Limits) -> Result<Dump> {
    let mut dump = Dump::default();
    for (file, text) in files {
        read_one(file, text, limits, &mut dump)?;
        dump.files.push(file.clone());
    }
    Ok(dump)
}

/// Reads the dump `text` of `file` into `dump`.
fn read_one(file: &str, text: &str, limits: &Limits, dump: &mut Dump) -> Result<()> {
    objects::<RawPod>(file, text, limits, &mut |location, object| match object {
        Item::Pod { pod, .. } => {
            dump.pods.push(pod.facts(location)?);
            Ok(())
        }
        Item::Kept {
            kind,
            api_version,
            fields,
        } => kept(location, kind, api_version, fields, dump),
    })
}

/// An object of a dump as [`objects`] hands it on.
pub(crate) enum Item<P> {
    /// A pod, read into `P` as it streamed by.
    Pod {
        /// Its `apiVersion`.
        api_version: String,
        /// The pod.
        pod: Box<P>,
    },
    /// An object of a kind of [`KEPT`], whole.
    Kept {
        /// Its `kind`.
        kind: String,
        /// Its `apiVersion`.
        api_version: String,
        /// Its other fields.
        fields: serde_json::Map<String, Json>,
    },
}

/// Reads the objects of the dump `text` of `file`, `kubectl get … -o json` (a `List`) or
/// `-o yaml` (a `List`, lists of one kind, or single objects in several documents), and hands
/// each pod (read into `P` as it streams by) and each object of a kind of [`KEPT`] (whole) to
/// `visit`, with its location; objects of other kinds are skipped unread.
///
/// JSON is checked for its nesting by a scan of JSON (the YAML-aware scan of
/// [`crate::source::check`] runs where JSON's finds it too deep, or the JSON is no JSON, so
/// that its error is the one given).
pub(crate) fn objects<P: PodParts>(
    file: &str,
    text: &str,
    limits: &Limits,
    visit: &mut dyn FnMut(&Location, Item<P>) -> Result<()>,
) -> Result<()> {
    let broken = |location: Location, e: &dyn fmt::Display| {
        Error::invalid(location, format!("not a cluster dump: {e}"))
    };
    let bare = text.strip_prefix('\u{feff}').unwrap_or(text);
    if bare.trim_start().starts_with('{') {
        let text = crate::source::check_json(file, text, limits)?;
        let location = Location::new(file, None, "");
        let raw: Raw<P> = match serde_json::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                crate::source::check(file, text, limits)?;
                return Err(broken(location, &e));
            }
        };
        return collect(raw, &location, visit);
    }
    let text = crate::source::check(file, text, limits)?;
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let location = Location::new(file, Some(index + 1), "");
        let raw: Option<Raw<P>> =
            Deserialize::deserialize(document).map_err(|e| broken(location.clone(), &e))?;
        if let Some(raw) = raw {
            collect(raw, &location, visit)?;
        }
    }
    Ok(())
}

/// An object of a dump read from JSON `bytes`, as far as its kind needs.
pub(super) fn parse_raw<P: PodParts>(bytes: &[u8]) -> serde_json::Result<Raw<P>> {
    serde_json::from_slice(bytes)
}

/// Hands what `raw`, read at `location`, holds to `visit`.
pub(super) fn collect_raw<P>(
    raw: Raw<P>,
    location: &Location,
    visit: &mut dyn FnMut(&Location, Item<P>) -> Result<()>,
) -> Result<()> {
    collect(raw, location, visit)
}

/// Hands what `raw`, read at `location`, holds to `visit`.
fn collect<P>(
    raw: Raw<P>,
    location: &Location,
    visit: &mut dyn FnMut(&Location, Item<P>) -> Result<()>,
) -> Result<()> {
    match raw {
        Raw::List(items) => {
            for (i, item) in items.into_iter().enumerate() {
                collect(item, &location.join(&format!("items[{i}]")), visit)?;
            }
        }
        Raw::Pod { api_version, pod } => visit(location, Item::Pod { api_version, pod })?,
        Raw::Kept {
            kind,
            api_version,
            fields,
        } => visit(
            location,
            Item::Kept {
                kind,
                api_version,
                fields,
            },
        )?,
        Raw::Skipped => {}
    }
    Ok(())
}

/// Adds an object of a kept kind to `dump`.
fn kept(
    location: &Location,
    kind: String,
    api_version: String,
    fields: serde_json::Map<String, Json>,
    dump: &mut Dump,
) -> Result<()> {
    let value = Json::Object(fields);
    match kind.as_str() {
        "Node" => dump.nodes.push(typed::<RawNode>(location, value)?.facts()),
        "Service" => {
            let service = typed::<RawService>(location, value)?.facts();
            dump.services.push(service);
        }
        "EndpointSlice" => {
            if let Some(endpoints) = typed::<RawSlice>(location, value)?.facts(location)? {
                dump.endpoints.push(endpoints);
            }
        }
        "Endpoints" => {
            let endpoints = typed::<RawEndpoints>(location, value)?.facts(location)?;
            dump.endpoints.push(endpoints);
        }
        "Namespace" => {
            if let Some(name) = typed::<RawNamed>(location, value)?.metadata.name {
                dump.namespaces.insert(name);
            }
        }
        "ConfigMap" => {
            let raw = typed::<RawConfigMap>(location, value)?;
            let named = (
                raw.metadata.name.as_deref(),
                raw.metadata.namespace.as_deref(),
            );
            let agent =
                crate::evaluate::CiliumAgent::of_config_map(location, named, raw.data.as_ref())?;
            dump.cilium_agents.extend(agent);
        }
        _ => {
            let mut whole = serde_json::Map::new();
            whole.insert("apiVersion".into(), Json::String(api_version.clone()));
            whole.insert("kind".into(), Json::String(kind.clone()));
            if let Json::Object(fields) = value {
                whole.extend(fields);
            }
            let value = serde_yaml::to_value(Json::Object(whole))
                .map_err(|e| Error::invalid(location.clone(), e.to_string()))?;
            dump.workloads.push(Object {
                location: location.clone(),
                kind,
                api_version,
                value,
            });
        }
    }
    Ok(())
}

/// `namespace/name`, safe for a comment.
fn shown_name(namespace: &str, name: &str) -> String {
    format!(
        "{}/{}",
        crate::values::Shown(namespace),
        crate::values::Shown(name)
    )
}

/// `value` at `location` as a `T`, naming the field of the first error.
fn typed<T: for<'de> Deserialize<'de>>(location: &Location, value: Json) -> Result<T> {
    serde_path_to_error::deserialize(value)
        .map_err(|error| crate::error::field_error(location, error))
}

/// `text`, read at `field` below `location`, as an IP address.
fn address(location: &Location, field: String, text: &str) -> Result<IpAddr> {
    text.parse().map_err(|_| {
        Error::invalid(
            location.join(&field),
            format!("`{}` is not an IP address", crate::values::Shown(text)),
        )
    })
}

/// `number`, read at `field` below `location`, as a port.
fn port(location: &Location, field: String, number: i64) -> Result<u16> {
    u16::try_from(number)
        .ok()
        .filter(|&n| n != 0)
        .ok_or_else(|| {
            Error::invalid(
                location.join(&field),
                format!("{number} is not a port number from 1 to 65535"),
            )
        })
}

/// An object of a dump, read as far as its kind needs.
pub(super) enum Raw<P> {
    /// A list: its items.
    List(Vec<Raw<P>>),
    /// A pod, typed.
    Pod { api_version: String, pod: Box<P> },
    /// An object of a kept kind, whole.
    Kept {
        kind: String,
        api_version: String,
        fields: serde_json::Map<String, Json>,
    },
    /// An object of another kind.
    Skipped,
}

/// The fields of an object the reader tells apart; every other field is skipped unread.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(field_identifier, rename_all = "camelCase")]
pub(crate) enum Key {
    Kind,
    ApiVersion,
    Items,
    Metadata,
    Spec,
    Status,
    Endpoints,
    Ports,
    AddressType,
    Subsets,
    /// A ConfigMap's (the Cilium agent's options).
    Data,
    #[serde(other)]
    Other,
}

impl Key {
    /// The field's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Key::Kind => "kind",
            Key::ApiVersion => "apiVersion",
            Key::Items => "items",
            Key::Metadata => "metadata",
            Key::Spec => "spec",
            Key::Status => "status",
            Key::Endpoints => "endpoints",
            Key::Ports => "ports",
            Key::AddressType => "addressType",
            Key::Subsets => "subsets",
            Key::Data => "data",
            Key::Other => "",
        }
    }
}

impl<'de, P: PodParts> Deserialize<'de> for Raw<P> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(RawVisitor(std::marker::PhantomData))
    }
}

/// A pod as the reader reads it: each of the fields `metadata`, `spec` and `status` as its key
/// comes by, and those that came before the pod's `kind` (in a hand-written dump) afterwards.
pub(crate) trait PodParts: Default {
    /// Reads the value of `key` from `map`.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: Key,
        map: &mut A,
    ) -> std::result::Result<(), A::Error>;

    /// Takes the fields that came before the pod's `kind`.
    fn absorb(&mut self, fields: serde_json::Map<String, Json>) -> serde_json::Result<()>;

    /// Whether every object must have `kind` and `apiVersion`, and only lists (kinds ending in
    /// `List`) may have `items`, as [`crate::source::objects`] requires; the reader fails on
    /// any other object when so.
    const STRICT: bool = false;
}

/// Reads one object, or a list of them.
struct RawVisitor<P>(std::marker::PhantomData<P>);

impl<'de, P: PodParts> Visitor<'de> for RawVisitor<P> {
    type Value = Raw<P>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes object or a list of them")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Raw<P>, A::Error> {
        let mut kind: Option<String> = None;
        let mut api_version: Option<String> = None;
        let mut items: Option<Vec<Raw<P>>> = None;
        let mut pod = P::default();
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<Key>()? {
            match (key, kind.as_deref()) {
                (Key::Kind, _) => kind = map.next_value()?,
                (Key::ApiVersion, _) => api_version = map.next_value()?,
                (Key::Items, _) => items = map.next_value()?,
                (Key::Other, _) => {
                    map.next_value::<IgnoredAny>()?;
                }
                (_, Some("Pod")) => pod.read(key, &mut map)?,
                (_, Some(other)) if !KEPT.contains(&other) => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    let earlier = fields.insert(key.name().into(), map.next_value()?);
                    if P::STRICT && earlier.is_some() {
                        return Err(de::Error::duplicate_field(key.name()));
                    }
                }
            }
        }
        let list = kind.as_deref().is_some_and(|k| k.ends_with("List"));
        if P::STRICT && (kind.is_none() || api_version.is_none() || items.is_some() && !list) {
            return Err(de::Error::custom(
                "an object without kind or apiVersion, or with items but no list",
            ));
        }
        if let Some(items) = items {
            return Ok(Raw::List(items));
        }
        match kind {
            Some(kind) if kind == "Pod" => {
                pod.absorb(fields).map_err(de::Error::custom)?;
                Ok(Raw::Pod {
                    api_version: api_version.unwrap_or_default(),
                    pod: Box::new(pod),
                })
            }
            Some(kind) if KEPT.contains(&kind.as_str()) => Ok(Raw::Kept {
                kind,
                api_version: api_version.unwrap_or_default(),
                fields,
            }),
            _ => Ok(Raw::Skipped),
        }
    }
}

/// `metadata`, as far as a profile reads it.
#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// A pod as a profile reads it.
#[derive(Debug, Default)]
pub(super) struct RawPod {
    metadata: Meta,
    spec: PodSpec,
    status: PodStatus,
}

/// `spec` of a pod.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(default)]
    host_network: Option<bool>,
}

/// `status` of a pod.
#[derive(Debug, Default, Deserialize)]
struct PodStatus {
    #[serde(default, rename = "podIP")]
    pod_ip: Option<String>,
    #[serde(default, rename = "podIPs")]
    pod_ips: Option<Vec<PodIp>>,
}

/// Which of a pod's two address fields the API server keeps: a single one (`podIP`,
/// `hostIP`) or a list (`podIPs`, `hostIPs`, whose first address is `first`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept<'a> {
    /// The list, whole.
    List,
    /// The single field's address, alone.
    Single(&'a str),
    /// Neither: the pod has no address yet.
    None,
}

/// Which of a pod's address fields the API server keeps, as its conversion of a v1 pod's
/// status does: where the single field is given (not empty) and differs from the list's first
/// address, the single field wins and the list becomes that address alone, for kubelets older
/// than the lists (kubernetes/kubernetes#88505, and the same for `hostIP` when `hostIPs`
/// came); where only the single field is given, the list is it.
pub(crate) fn kept_addresses<'a>(single: Option<&'a str>, first: Option<&str>) -> Kept<'a> {
    match (single.filter(|ip| !ip.is_empty()), first) {
        (Some(single), Some(first)) if single != first => Kept::Single(single),
        (_, Some(_)) => Kept::List,
        (Some(single), None) => Kept::Single(single),
        (None, None) => Kept::None,
    }
}

/// An element of `status.podIPs`.
#[derive(Debug, Deserialize)]
struct PodIp {
    ip: String,
}

impl PodParts for RawPod {
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: Key,
        map: &mut A,
    ) -> std::result::Result<(), A::Error> {
        match key {
            Key::Metadata => self.metadata = map.next_value::<Option<Meta>>()?.unwrap_or_default(),
            Key::Spec => self.spec = map.next_value::<Option<PodSpec>>()?.unwrap_or_default(),
            Key::Status => self.status = map.next_value::<Option<PodStatus>>()?.unwrap_or_default(),
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn absorb(&mut self, mut fields: serde_json::Map<String, Json>) -> serde_json::Result<()> {
        let mut take = |name: &str| fields.remove(name).filter(|v| !v.is_null());
        if let Some(value) = take("metadata") {
            self.metadata = serde_json::from_value(value)?;
        }
        if let Some(value) = take("spec") {
            self.spec = serde_json::from_value(value)?;
        }
        if let Some(value) = take("status") {
            self.status = serde_json::from_value(value)?;
        }
        Ok(())
    }
}

impl RawPod {
    /// The pod read at `location`.
    pub(super) fn facts(self, location: &Location) -> Result<Pod> {
        let list = self.status.pod_ips.unwrap_or_default();
        let first = list.first().map(|ip| ip.ip.as_str());
        let ips = match kept_addresses(self.status.pod_ip.as_deref(), first) {
            Kept::List => (list.iter().enumerate())
                .map(|(i, ip)| address(location, format!("status.podIPs[{i}].ip"), &ip.ip))
                .collect::<Result<Vec<_>>>()?,
            Kept::Single(ip) => vec![address(location, "status.podIP".into(), ip)?],
            Kept::None => Vec::new(),
        };
        Ok(Pod {
            namespace: self
                .metadata
                .namespace
                .unwrap_or_else(|| "default".to_owned()),
            name: self.metadata.name.unwrap_or_default(),
            labels: self.metadata.labels.unwrap_or_default(),
            host_network: self.spec.host_network.unwrap_or(false),
            ips,
        })
    }
}

/// An object read for its name alone.
#[derive(Debug, Deserialize)]
struct RawNamed {
    #[serde(default)]
    metadata: Meta,
}

/// A ConfigMap (the Cilium agent's options).
#[derive(Debug, Deserialize)]
struct RawConfigMap {
    #[serde(default)]
    metadata: Meta,
    data: Option<BTreeMap<String, String>>,
}

/// A node.
#[derive(Debug, Deserialize)]
struct RawNode {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Option<RawNodeSpec>,
    #[serde(default)]
    status: Option<RawNodeStatus>,
}

#[derive(Debug, Deserialize)]
struct RawNodeSpec {
    #[serde(default, rename = "providerID")]
    provider_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNodeStatus {
    #[serde(default)]
    addresses: Option<Vec<RawNodeAddress>>,
    #[serde(default)]
    node_info: Option<RawNodeInfo>,
}

#[derive(Debug, Deserialize)]
struct RawNodeAddress {
    #[serde(rename = "type")]
    kind: String,
    address: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNodeInfo {
    #[serde(default)]
    kubelet_version: Option<String>,
}

impl RawNode {
    /// The node; addresses that are no IP addresses are skipped, as the kubelet skips them.
    fn facts(self) -> Node {
        let status = self.status;
        let addresses = status
            .as_ref()
            .and_then(|s| s.addresses.as_deref())
            .unwrap_or_default();
        let of = |kind: &str| -> Vec<IpAddr> {
            addresses
                .iter()
                .filter(|a| a.kind == kind)
                .filter_map(|a| a.address.parse().ok())
                .collect()
        };
        Node {
            name: self.metadata.name.unwrap_or_default(),
            labels: self.metadata.labels.unwrap_or_default(),
            provider_id: self.spec.and_then(|s| s.provider_id).unwrap_or_default(),
            internal: of("InternalIP"),
            external: of("ExternalIP"),
            kubelet_version: status
                .and_then(|s| s.node_info)
                .and_then(|i| i.kubelet_version)
                .unwrap_or_default(),
        }
    }
}

/// A Service.
#[derive(Debug, Deserialize)]
struct RawService {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Option<RawServiceSpec>,
}

#[derive(Debug, Deserialize)]
struct RawServiceSpec {
    #[serde(default, rename = "clusterIP")]
    cluster_ip: Option<String>,
    #[serde(default, rename = "clusterIPs")]
    cluster_ips: Option<Vec<String>>,
}

impl RawService {
    /// The Service; `None` and empty ClusterIPs (headless Services) are no addresses.
    fn facts(self) -> Service {
        let spec = self.spec;
        let texts: Vec<String> = match spec {
            Some(RawServiceSpec {
                cluster_ips: Some(ips),
                ..
            }) if !ips.is_empty() => ips,
            Some(RawServiceSpec {
                cluster_ip: Some(ip),
                ..
            }) => vec![ip],
            _ => Vec::new(),
        };
        Service {
            namespace: self
                .metadata
                .namespace
                .unwrap_or_else(|| "default".to_owned()),
            name: self.metadata.name.unwrap_or_default(),
            cluster_ips: texts.iter().filter_map(|t| t.parse().ok()).collect(),
        }
    }
}

/// An EndpointSlice (`discovery.k8s.io/v1`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSlice {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    address_type: Option<String>,
    #[serde(default)]
    endpoints: Option<Vec<RawSliceEndpoint>>,
    #[serde(default)]
    ports: Option<Vec<RawPort>>,
}

#[derive(Debug, Deserialize)]
struct RawSliceEndpoint {
    #[serde(default)]
    addresses: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawPort {
    #[serde(default)]
    port: Option<i64>,
}

/// The label of an EndpointSlice that names its Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

impl RawSlice {
    /// The endpoints of the slice; `None` for a slice of FQDNs or of no Service.
    fn facts(self, location: &Location) -> Result<Option<ServiceEndpoints>> {
        if self.address_type.as_deref() == Some("FQDN") {
            return Ok(None);
        }
        let labels = self.metadata.labels.unwrap_or_default();
        let Some(service) = labels.get(SERVICE_NAME_LABEL) else {
            return Ok(None);
        };
        let mut addresses = Vec::new();
        for (i, endpoint) in self.endpoints.unwrap_or_default().iter().enumerate() {
            for (j, text) in endpoint.addresses.iter().enumerate() {
                let field = format!("endpoints[{i}].addresses[{j}]");
                addresses.push(address(location, field, text)?);
            }
        }
        let ports = ports(location, "ports", &self.ports.unwrap_or_default())?;
        let namespace = self
            .metadata
            .namespace
            .unwrap_or_else(|| "default".to_owned());
        let name = self.metadata.name.unwrap_or_default();
        Ok(Some(ServiceEndpoints {
            object: format!("EndpointSlice {}", shown_name(&namespace, &name)),
            namespace,
            service: service.clone(),
            addresses,
            ports,
        }))
    }
}

/// The ports of `list`, read at `field`; ports without a number are skipped.
fn ports(location: &Location, field: &str, list: &[RawPort]) -> Result<Vec<u16>> {
    list.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.port
                .map(|n| port(location, format!("{field}[{i}].port"), n))
        })
        .collect()
}

/// An Endpoints object (`v1`).
#[derive(Debug, Deserialize)]
struct RawEndpoints {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    subsets: Option<Vec<RawSubset>>,
}

#[derive(Debug, Deserialize)]
struct RawSubset {
    #[serde(default)]
    addresses: Option<Vec<RawEndpointAddress>>,
    #[serde(default)]
    ports: Option<Vec<RawPort>>,
}

#[derive(Debug, Deserialize)]
struct RawEndpointAddress {
    ip: String,
}

impl RawEndpoints {
    /// The endpoints of every subset.
    fn facts(self, location: &Location) -> Result<ServiceEndpoints> {
        let mut addresses = Vec::new();
        let mut all_ports = Vec::new();
        for (i, subset) in self.subsets.unwrap_or_default().iter().enumerate() {
            for (j, a) in subset.addresses.iter().flatten().enumerate() {
                let field = format!("subsets[{i}].addresses[{j}].ip");
                addresses.push(address(location, field, &a.ip)?);
            }
            let list = subset.ports.as_deref().unwrap_or_default();
            all_ports.extend(ports(location, &format!("subsets[{i}].ports"), list)?);
        }
        let namespace = self
            .metadata
            .namespace
            .unwrap_or_else(|| "default".to_owned());
        let service = self.metadata.name.unwrap_or_default();
        Ok(ServiceEndpoints {
            object: format!("Endpoints {}", shown_name(&namespace, &service)),
            namespace,
            service,
            addresses,
            ports: all_ports,
        })
    }
}
