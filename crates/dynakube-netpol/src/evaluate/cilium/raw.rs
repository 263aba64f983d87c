//! The `cilium.io/v2` CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy as their CRD
//! schema (Cilium v1.16.5, `fixtures/schemas/cilium/` of the repository) declares them: every
//! field, no other.
//!
//! Every struct refuses fields it does not declare, as the API server does under `kubectl
//! apply`'s strict field validation, so a misspelt `toFQDN` is an error naming the field and
//! not a rule that lost its peers. Closed sets of the schema (`enum`) are Rust enums; types are
//! the schema's (`port` is a string, `endPort` an integer). What a schema pattern or bound says
//! is checked by [`read`](super::read), what Cilium's agent refuses on top by
//! [`compile`](super::compile). The test `the_types_declare_the_schema_fields` compares the
//! fields these types accept with the schema's, both ways.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

/// A whole CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Object {
    /// `apiVersion`.
    #[allow(dead_code)]
    pub(super) api_version: String,
    /// `kind`.
    #[allow(dead_code)]
    pub(super) kind: String,
    /// `metadata`, which the schema requires.
    pub(super) metadata: Metadata,
    /// `spec`: one rule.
    pub(super) spec: Option<Rule>,
    /// `specs`: more rules.
    pub(super) specs: Option<Vec<Rule>>,
    /// `status`: written by Cilium, not read.
    #[allow(dead_code)]
    pub(super) status: Option<IgnoredAny>,
}

/// `metadata`: the fields of a Kubernetes `ObjectMeta`, of which the evaluator reads the name
/// and namespace.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct Metadata {
    pub(super) name: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) labels: Option<BTreeMap<String, String>>,
    pub(super) annotations: Option<BTreeMap<String, String>>,
    pub(super) uid: Option<IgnoredAny>,
    pub(super) resource_version: Option<IgnoredAny>,
    pub(super) generation: Option<IgnoredAny>,
    pub(super) creation_timestamp: Option<IgnoredAny>,
    pub(super) deletion_timestamp: Option<IgnoredAny>,
    pub(super) deletion_grace_period_seconds: Option<IgnoredAny>,
    pub(super) finalizers: Option<IgnoredAny>,
    pub(super) generate_name: Option<IgnoredAny>,
    pub(super) managed_fields: Option<IgnoredAny>,
    pub(super) owner_references: Option<IgnoredAny>,
    pub(super) self_link: Option<IgnoredAny>,
}

impl Metadata {
    /// The parts the API server checks of every object's metadata.
    pub(super) fn parts(&self) -> crate::evaluate::meta::Metadata<'_> {
        crate::evaluate::meta::Metadata {
            name: self.name.as_deref(),
            namespace: self.namespace.as_deref(),
            labels: self.labels.as_ref(),
            annotations: self.annotations.as_ref(),
        }
    }
}

/// A rule: `spec`, or an item of `specs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Rule {
    /// `description`: free text.
    #[allow(dead_code)]
    pub(super) description: Option<String>,
    /// `endpointSelector`: the endpoints the rule applies to.
    pub(super) endpoint_selector: Option<Selector>,
    /// `nodeSelector`: the nodes the rule applies to (a host policy).
    pub(super) node_selector: Option<Selector>,
    /// `enableDefaultDeny`.
    pub(super) enable_default_deny: Option<DefaultDeny>,
    /// `ingress`.
    pub(super) ingress: Option<Vec<Ingress>>,
    /// `ingressDeny`.
    pub(super) ingress_deny: Option<Vec<IngressDeny>>,
    /// `egress`.
    pub(super) egress: Option<Vec<Egress>>,
    /// `egressDeny`.
    pub(super) egress_deny: Option<Vec<EgressDeny>>,
    /// `labels`: labels of the rule itself, which select nothing.
    #[allow(dead_code)]
    pub(super) labels: Option<Vec<RuleLabel>>,
    /// `log`: what Hubble adds to the flows the rule decides (Cilium 1.18, beyond the v1.16
    /// schema); it changes no verdict.
    pub(super) log: Option<Log>,
}

/// `log`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Log {
    /// `value`: at most 32 printable characters.
    pub(super) value: Option<String>,
}

/// An item of a rule's `labels`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RuleLabel {
    pub(super) key: String,
    pub(super) source: Option<String>,
    pub(super) value: Option<String>,
}

/// `enableDefaultDeny`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DefaultDeny {
    /// `ingress`.
    pub(super) ingress: Option<bool>,
    /// `egress`.
    pub(super) egress: Option<bool>,
}

/// A label selector over Cilium labels (`endpointSelector`, `fromEndpoints` items, ...).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Selector {
    /// `matchLabels`.
    pub(super) match_labels: Option<BTreeMap<String, String>>,
    /// `matchExpressions`.
    pub(super) match_expressions: Option<Vec<Requirement>>,
}

/// An item of `matchExpressions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Requirement {
    /// `key`.
    pub(super) key: String,
    /// `operator`.
    pub(super) operator: Operator,
    /// `values`.
    pub(super) values: Option<Vec<String>>,
}

/// `operator` of a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(super) enum Operator {
    /// `In`.
    In,
    /// `NotIn`.
    NotIn,
    /// `Exists`.
    Exists,
    /// `DoesNotExist`.
    DoesNotExist,
}

/// `authentication` of an allow rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Authentication {
    /// `mode`.
    pub(super) mode: AuthenticationMode,
}

/// `authentication.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(super) enum AuthenticationMode {
    /// `disabled`.
    #[serde(rename = "disabled")]
    Disabled,
    /// `required`.
    #[serde(rename = "required")]
    Required,
    /// `test-always-fail`.
    #[serde(rename = "test-always-fail")]
    TestAlwaysFail,
}

/// An entity (`fromEntities`, `toEntities` item), the schema's enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub(crate) enum Entity {
    /// `all`.
    #[serde(rename = "all")]
    All,
    /// `world`.
    #[serde(rename = "world")]
    World,
    /// `cluster`.
    #[serde(rename = "cluster")]
    Cluster,
    /// `host`.
    #[serde(rename = "host")]
    Host,
    /// `init`.
    #[serde(rename = "init")]
    Init,
    /// `ingress`.
    #[serde(rename = "ingress")]
    Ingress,
    /// `unmanaged`.
    #[serde(rename = "unmanaged")]
    Unmanaged,
    /// `remote-node`.
    #[serde(rename = "remote-node")]
    RemoteNode,
    /// `health`.
    #[serde(rename = "health")]
    Health,
    /// `none`.
    #[serde(rename = "none")]
    None,
    /// `kube-apiserver`.
    #[serde(rename = "kube-apiserver")]
    KubeApiserver,
}

/// An item of `fromCIDRSet` or `toCIDRSet`: exactly one of `cidr`, `cidrGroupRef` and
/// `cidrGroupSelector`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CidrRule {
    /// `cidr`.
    pub(super) cidr: Option<String>,
    /// `cidrGroupRef`: a CiliumCIDRGroup by name.
    pub(super) cidr_group_ref: Option<String>,
    /// `cidrGroupSelector`: CiliumCIDRGroups by their labels. Not in the v1.16.5 schema: a
    /// field of the agent since 1.17, read as it reads it (see [`super::cidr_groups`]).
    pub(super) cidr_group_selector: Option<Selector>,
    /// `except`.
    pub(super) except: Option<Vec<String>>,
}

/// A whole CiliumCIDRGroup object, as its CRD declares it (`cilium.io/v2alpha1` and `v2`
/// declare the same fields).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CidrGroupObject {
    /// `apiVersion`.
    #[allow(dead_code)]
    pub(super) api_version: String,
    /// `kind`.
    #[allow(dead_code)]
    pub(super) kind: String,
    /// `metadata`.
    #[serde(default)]
    pub(super) metadata: Metadata,
    /// `spec`, which the schema requires.
    pub(super) spec: CidrGroupSpec,
}

/// The `spec` of a CiliumCIDRGroup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CidrGroupSpec {
    /// `externalCIDRs`, which the schema requires.
    #[serde(rename = "externalCIDRs")]
    pub(super) external_cidrs: Vec<String>,
}

/// An item of `fromGroups` or `toGroups`: addresses of a cloud provider's groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct Groups {
    pub(super) aws: Option<AwsGroup>,
}

/// `aws` of a group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct AwsGroup {
    pub(super) labels: Option<BTreeMap<String, String>>,
    pub(super) region: Option<String>,
    pub(super) security_groups_ids: Option<Vec<String>>,
    pub(super) security_groups_names: Option<Vec<String>>,
}

/// An item of `toServices`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Service {
    pub(super) k8s_service: Option<ServiceName>,
    pub(super) k8s_service_selector: Option<ServiceSelector>,
}

/// `k8sService`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ServiceName {
    pub(super) namespace: Option<String>,
    pub(super) service_name: Option<String>,
}

/// `k8sServiceSelector`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServiceSelector {
    pub(super) namespace: Option<String>,
    pub(super) selector: Selector,
}

/// An item of `icmps`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IcmpRule {
    /// `fields`.
    pub(super) fields: Option<Vec<IcmpField>>,
}

/// An item of `icmps[].fields`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IcmpField {
    /// `family`.
    #[allow(dead_code)]
    pub(super) family: Option<IcmpFamily>,
    /// `type`: a number or a name.
    #[serde(rename = "type")]
    pub(super) kind: IntOrString,
}

/// `family` of an ICMP field.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) enum IcmpFamily {
    /// `IPv4`.
    IPv4,
    /// `IPv6`.
    IPv6,
}

/// A value the schema types as an integer or a string (`x-kubernetes-int-or-string`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum IntOrString {
    /// An integer.
    Int(i64),
    /// A string.
    String(String),
}

/// An item of `ports`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct PortProtocol {
    /// `port`: a number or a name, as a string. Left out (empty) only where the agent's
    /// `enable-extended-ip-protocols` option is on (Cilium 1.18; the v1.16 schema requires it).
    #[serde(default)]
    pub(super) port: String,
    /// `endPort`.
    pub(super) end_port: Option<i64>,
    /// `protocol`.
    pub(super) protocol: Option<Protocol>,
}

/// `protocol` of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(super) enum Protocol {
    /// `TCP`.
    #[serde(rename = "TCP")]
    Tcp,
    /// `UDP`.
    #[serde(rename = "UDP")]
    Udp,
    /// `SCTP`.
    #[serde(rename = "SCTP")]
    Sctp,
    /// `ANY`.
    #[serde(rename = "ANY")]
    Any,
    // IP protocols without ports, beyond the v1.16 schema's enum: `VRRP` and `IGMP` since
    // Cilium 1.18, the tunnel protocols since 1.20 (`isExtendedIPProtocol`).
    /// `VRRP`.
    #[serde(rename = "VRRP")]
    Vrrp,
    /// `IGMP`.
    #[serde(rename = "IGMP")]
    Igmp,
    /// `GRE`.
    #[serde(rename = "GRE")]
    Gre,
    /// `IPIP`.
    #[serde(rename = "IPIP")]
    Ipip,
    /// `IPV6` (6in4).
    #[serde(rename = "IPV6")]
    Ipv6,
    /// `ESP`.
    #[serde(rename = "ESP")]
    Esp,
    /// `AH`.
    #[serde(rename = "AH")]
    Ah,
}

/// An item of an allow rule's `toPorts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct PortRule {
    /// `ports`.
    pub(super) ports: Option<Vec<PortProtocol>>,
    /// `rules`: L7 rules.
    pub(super) rules: Option<L7Rules>,
    /// `listener`: a redirect to an Envoy listener.
    pub(super) listener: Option<Listener>,
    /// `originatingTLS`.
    #[allow(dead_code)]
    #[serde(rename = "originatingTLS")]
    pub(super) originating_tls: Option<Tls>,
    /// `terminatingTLS`.
    #[allow(dead_code)]
    #[serde(rename = "terminatingTLS")]
    pub(super) terminating_tls: Option<Tls>,
    /// `serverNames`: TLS server names.
    pub(super) server_names: Option<Vec<String>>,
}

/// An item of a deny rule's `toPorts`: ports only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PortDenyRule {
    /// `ports`.
    pub(super) ports: Option<Vec<PortProtocol>>,
}

/// `listener` of a port rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct Listener {
    pub(super) envoy_config: EnvoyConfig,
    pub(super) name: String,
    pub(super) priority: Option<i64>,
}

/// `listener.envoyConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct EnvoyConfig {
    pub(super) kind: Option<EnvoyConfigKind>,
    pub(super) name: String,
}

/// `listener.envoyConfig.kind`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) enum EnvoyConfigKind {
    /// `CiliumEnvoyConfig`.
    CiliumEnvoyConfig,
    /// `CiliumClusterwideEnvoyConfig`.
    CiliumClusterwideEnvoyConfig,
}

/// `originatingTLS` or `terminatingTLS`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct Tls {
    pub(super) certificate: Option<String>,
    pub(super) private_key: Option<String>,
    pub(super) secret: SecretRef,
    #[serde(rename = "trustedCA")]
    pub(super) trusted_ca: Option<String>,
}

/// A secret by name and namespace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct SecretRef {
    pub(super) name: String,
    pub(super) namespace: Option<String>,
}

/// `rules` of a port rule: exactly one kind of L7 rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct L7Rules {
    /// `dns`.
    pub(super) dns: Option<Vec<FqdnSelector>>,
    /// `http`.
    pub(super) http: Option<Vec<HttpRule>>,
    /// `kafka`.
    pub(super) kafka: Option<Vec<KafkaRule>>,
    /// `l7proto`.
    pub(super) l7proto: Option<String>,
    /// `l7`.
    pub(super) l7: Option<Vec<BTreeMap<String, String>>>,
}

/// An item of `toFQDNs` or of DNS rules: exactly one of `matchName` and `matchPattern`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct FqdnSelector {
    /// `matchName`.
    pub(super) match_name: Option<String>,
    /// `matchPattern`.
    pub(super) match_pattern: Option<String>,
}

/// An item of HTTP rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct HttpRule {
    pub(super) header_matches: Option<Vec<HeaderMatch>>,
    pub(super) headers: Option<Vec<String>>,
    pub(super) host: Option<String>,
    pub(super) method: Option<String>,
    pub(super) path: Option<String>,
}

/// An item of `headerMatches`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct HeaderMatch {
    pub(super) mismatch: Option<HeaderMismatch>,
    pub(super) name: String,
    pub(super) secret: Option<SecretRef>,
    pub(super) value: Option<String>,
}

/// `mismatch` of a header match.
#[derive(Debug, Clone, Copy, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub(super) enum HeaderMismatch {
    /// `LOG`.
    LOG,
    /// `ADD`.
    ADD,
    /// `DELETE`.
    DELETE,
    /// `REPLACE`.
    REPLACE,
}

/// An item of Kafka rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct KafkaRule {
    pub(super) api_key: Option<String>,
    pub(super) api_version: Option<String>,
    #[serde(rename = "clientID")]
    pub(super) client_id: Option<String>,
    pub(super) role: Option<KafkaRole>,
    pub(super) topic: Option<String>,
}

/// `role` of a Kafka rule.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) enum KafkaRole {
    /// `produce`.
    #[serde(rename = "produce")]
    Produce,
    /// `consume`.
    #[serde(rename = "consume")]
    Consume,
}

/// An item of `ingress`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Ingress {
    /// `authentication`.
    pub(super) authentication: Option<Authentication>,
    /// `fromCIDR`.
    #[serde(rename = "fromCIDR")]
    pub(super) from_cidr: Option<Vec<String>>,
    /// `fromCIDRSet`.
    #[serde(rename = "fromCIDRSet")]
    pub(super) from_cidr_set: Option<Vec<CidrRule>>,
    /// `fromEndpoints`.
    pub(super) from_endpoints: Option<Vec<Selector>>,
    /// `fromEntities`.
    pub(super) from_entities: Option<Vec<Entity>>,
    /// `fromGroups`.
    pub(super) from_groups: Option<Vec<Groups>>,
    /// `fromNodes`.
    pub(super) from_nodes: Option<Vec<Selector>>,
    /// `fromRequires`.
    pub(super) from_requires: Option<Vec<Selector>>,
    /// `icmps`.
    pub(super) icmps: Option<Vec<IcmpRule>>,
    /// `toPorts`.
    pub(super) to_ports: Option<Vec<PortRule>>,
}

/// An item of `ingressDeny`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct IngressDeny {
    /// `fromCIDR`.
    #[serde(rename = "fromCIDR")]
    pub(super) from_cidr: Option<Vec<String>>,
    /// `fromCIDRSet`.
    #[serde(rename = "fromCIDRSet")]
    pub(super) from_cidr_set: Option<Vec<CidrRule>>,
    /// `fromEndpoints`.
    pub(super) from_endpoints: Option<Vec<Selector>>,
    /// `fromEntities`.
    pub(super) from_entities: Option<Vec<Entity>>,
    /// `fromGroups`.
    pub(super) from_groups: Option<Vec<Groups>>,
    /// `fromNodes`.
    pub(super) from_nodes: Option<Vec<Selector>>,
    /// `fromRequires`.
    pub(super) from_requires: Option<Vec<Selector>>,
    /// `icmps`.
    pub(super) icmps: Option<Vec<IcmpRule>>,
    /// `toPorts`.
    pub(super) to_ports: Option<Vec<PortDenyRule>>,
}

/// An item of `egress`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Egress {
    /// `authentication`.
    pub(super) authentication: Option<Authentication>,
    /// `icmps`.
    pub(super) icmps: Option<Vec<IcmpRule>>,
    /// `toCIDR`.
    #[serde(rename = "toCIDR")]
    pub(super) to_cidr: Option<Vec<String>>,
    /// `toCIDRSet`.
    #[serde(rename = "toCIDRSet")]
    pub(super) to_cidr_set: Option<Vec<CidrRule>>,
    /// `toEndpoints`.
    pub(super) to_endpoints: Option<Vec<Selector>>,
    /// `toEntities`.
    pub(super) to_entities: Option<Vec<Entity>>,
    /// `toFQDNs`.
    #[serde(rename = "toFQDNs")]
    pub(super) to_fqdns: Option<Vec<FqdnSelector>>,
    /// `toGroups`.
    pub(super) to_groups: Option<Vec<Groups>>,
    /// `toNodes`.
    pub(super) to_nodes: Option<Vec<Selector>>,
    /// `toPorts`.
    pub(super) to_ports: Option<Vec<PortRule>>,
    /// `toRequires`.
    pub(super) to_requires: Option<Vec<Selector>>,
    /// `toServices`.
    pub(super) to_services: Option<Vec<Service>>,
}

/// An item of `egressDeny`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct EgressDeny {
    /// `icmps`.
    pub(super) icmps: Option<Vec<IcmpRule>>,
    /// `toCIDR`.
    #[serde(rename = "toCIDR")]
    pub(super) to_cidr: Option<Vec<String>>,
    /// `toCIDRSet`.
    #[serde(rename = "toCIDRSet")]
    pub(super) to_cidr_set: Option<Vec<CidrRule>>,
    /// `toEndpoints`.
    pub(super) to_endpoints: Option<Vec<Selector>>,
    /// `toEntities`.
    pub(super) to_entities: Option<Vec<Entity>>,
    /// `toGroups`.
    pub(super) to_groups: Option<Vec<Groups>>,
    /// `toNodes`.
    pub(super) to_nodes: Option<Vec<Selector>>,
    /// `toPorts`.
    pub(super) to_ports: Option<Vec<PortDenyRule>>,
    /// `toRequires`.
    pub(super) to_requires: Option<Vec<Selector>>,
    /// `toServices`.
    pub(super) to_services: Option<Vec<Service>>,
}
