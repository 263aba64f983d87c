//! Typed `cilium.io/v2` CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy objects: the part
//! of the CRD schema (Cilium v1.16.5) that the Cilium flavor writes.
//!
//! The Kubernetes API server prunes fields that a CRD schema does not declare, and Cilium's
//! schemas do not forbid undeclared fields. A misspelt `toFQDN` would therefore be dropped without
//! an error, and the rule that remains would admit its ports to any address. These types exclude
//! such mistakes by construction:
//!
//! - every field has the schema's name, and reading rejects fields the model does not know;
//! - the schema's `oneOf` choices are enums: [`Subject`] (`endpointSelector` or `nodeSelector`)
//!   and [`FqdnSelector`] (`matchName` or `matchPattern`);
//! - Cilium accepts one kind of peer per rule (its policy import fails otherwise), so a rule holds
//!   exactly one [`Peer`] or [`EgressPeer`], and a rule without a peer cannot be written;
//! - closed sets ([`Entity`], [`Protocol`], [`Operator`]) are enums with the schema's values;
//! - a [`Port`] is a string, as the schema types it (`"443"`), made from a number or checked name.
//!
//! What types cannot express (non-empty peer lists, CIDR containment, the ports of DNS rules) is
//! checked by [`Rule::validate`], which the policy constructors and readers run. Maps are
//! `BTreeMap`s and fields are written in a fixed order, so the output is deterministic.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The `apiVersion` of both policy kinds.
pub const API_VERSION: &str = "cilium.io/v2";

/// The Cilium label that holds the Kubernetes namespace of an endpoint, for selectors that
/// reach into other namespaces.
pub const NAMESPACE_LABEL: &str = "k8s:io.kubernetes.pod.namespace";

/// The prefix under which Cilium copies the labels of an endpoint's namespace, such as
/// `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name`.
pub const NAMESPACE_LABELS_PREFIX: &str = "k8s:io.cilium.k8s.namespace.labels.";

/// The most ports one `toPorts` entry may list (the schema's `maxItems`).
pub const MAX_PORTS: usize = 40;

/// Why a policy object is not one that Cilium would accept and enforce as written: the path of
/// the offending field and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    path: String,
    reason: String,
}

impl ModelError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            path: String::new(),
            reason: reason.into(),
        }
    }

    /// Puts `segment` in front of the path.
    fn at(mut self, segment: impl fmt::Display) -> Self {
        self.path = if self.path.is_empty() {
            segment.to_string()
        } else {
            format!("{segment}.{}", self.path)
        };
        self
    }

    /// The path of the offending field, such as `spec.egress[0].toPorts[1]`; empty when the
    /// error concerns a value on its own.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ModelError {}

/// Checks every item of a list, naming the item in the error path.
fn check_each<T>(
    field: &str,
    items: &[T],
    check: impl Fn(&T) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    for (index, item) in items.iter().enumerate() {
        check(item).map_err(|e| e.at(format!("{field}[{index}]")))?;
    }
    Ok(())
}

/// Checks a peer list, which must not be empty: Cilium would read an empty list as the absence
/// of the field.
fn check_peers<T>(
    field: &str,
    items: &[T],
    check: impl Fn(&T) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    if items.is_empty() {
        return Err(ModelError::new(
            "an empty peer list is not allowed: Cilium would read the rule as one without peers",
        )
        .at(field));
    }
    check_each(field, items, check)
}

/// A namespaced `cilium.io/v2` `CiliumNetworkPolicy`.
///
/// Made by [`CiliumNetworkPolicy::new`], which checks the rule; the fields are private so that
/// the checked object cannot be changed. `apiVersion` and `kind` are constants: they are
/// written as such and checked when reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicyRepr", into = "PolicyRepr")]
pub struct CiliumNetworkPolicy {
    metadata: ObjectMeta,
    spec: Rule,
}

impl CiliumNetworkPolicy {
    /// The `kind` of this object.
    pub const KIND: &'static str = "CiliumNetworkPolicy";

    /// A policy with this metadata and rule. Fails when `metadata.name` is missing, when the
    /// rule selects nodes (only clusterwide policies may) or when [`Rule::validate`] fails.
    pub fn new(metadata: ObjectMeta, spec: Rule) -> Result<Self, ModelError> {
        check_name(&metadata)?;
        if matches!(spec.subject, Subject::Nodes(_)) {
            return Err(ModelError::new(
                "nodeSelector is for CiliumClusterwideNetworkPolicies only; use endpointSelector",
            )
            .at("spec"));
        }
        spec.validate().map_err(|e| e.at("spec"))?;
        Ok(Self { metadata, spec })
    }

    /// The metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    /// The rule.
    pub fn spec(&self) -> &Rule {
        &self.spec
    }

    /// The metadata and the rule, to change and check again.
    pub fn into_parts(self) -> (ObjectMeta, Rule) {
        (self.metadata, self.spec)
    }
}

/// A cluster-scoped `cilium.io/v2` `CiliumClusterwideNetworkPolicy`.
///
/// Made by [`CiliumClusterwideNetworkPolicy::new`], which checks the rule and that the metadata
/// has no namespace. `apiVersion` and `kind` are constants, as for [`CiliumNetworkPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicyRepr", into = "PolicyRepr")]
pub struct CiliumClusterwideNetworkPolicy {
    metadata: ObjectMeta,
    spec: Rule,
}

impl CiliumClusterwideNetworkPolicy {
    /// The `kind` of this object.
    pub const KIND: &'static str = "CiliumClusterwideNetworkPolicy";

    /// A policy with this metadata and rule. Fails when `metadata.name` is missing, when
    /// `metadata.namespace` is set or when [`Rule::validate`] fails.
    pub fn new(metadata: ObjectMeta, spec: Rule) -> Result<Self, ModelError> {
        check_name(&metadata)?;
        if metadata.namespace.is_some() {
            return Err(ModelError::new(
                "a CiliumClusterwideNetworkPolicy is cluster-scoped and has no namespace",
            )
            .at("metadata.namespace"));
        }
        spec.validate().map_err(|e| e.at("spec"))?;
        Ok(Self { metadata, spec })
    }

    /// The metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    /// The rule.
    pub fn spec(&self) -> &Rule {
        &self.spec
    }

    /// The metadata and the rule, to change and check again.
    pub fn into_parts(self) -> (ObjectMeta, Rule) {
        (self.metadata, self.spec)
    }
}

fn check_name(metadata: &ObjectMeta) -> Result<(), ModelError> {
    match metadata.name.as_deref() {
        Some(name) if !name.is_empty() => Ok(()),
        _ => Err(ModelError::new("a policy needs a name").at("metadata.name")),
    }
}

/// Both policy kinds as written: `apiVersion`, `kind`, `metadata`, `spec`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyRepr {
    api_version: String,
    kind: String,
    metadata: ObjectMeta,
    spec: Rule,
}

impl PolicyRepr {
    /// Checks `apiVersion` and `kind` and returns the rest.
    fn into_parts(self, kind: &str) -> Result<(ObjectMeta, Rule), ModelError> {
        if self.api_version != API_VERSION {
            return Err(ModelError::new(format!(
                "expected {API_VERSION}, found {}",
                self.api_version
            ))
            .at("apiVersion"));
        }
        if self.kind != kind {
            return Err(
                ModelError::new(format!("expected {kind}, found {}", self.kind)).at("kind"),
            );
        }
        Ok((self.metadata, self.spec))
    }
}

impl TryFrom<PolicyRepr> for CiliumNetworkPolicy {
    type Error = ModelError;

    fn try_from(repr: PolicyRepr) -> Result<Self, ModelError> {
        let (metadata, spec) = repr.into_parts(Self::KIND)?;
        Self::new(metadata, spec)
    }
}

impl From<CiliumNetworkPolicy> for PolicyRepr {
    fn from(policy: CiliumNetworkPolicy) -> Self {
        Self {
            api_version: API_VERSION.to_string(),
            kind: CiliumNetworkPolicy::KIND.to_string(),
            metadata: policy.metadata,
            spec: policy.spec,
        }
    }
}

impl TryFrom<PolicyRepr> for CiliumClusterwideNetworkPolicy {
    type Error = ModelError;

    fn try_from(repr: PolicyRepr) -> Result<Self, ModelError> {
        let (metadata, spec) = repr.into_parts(Self::KIND)?;
        Self::new(metadata, spec)
    }
}

impl From<CiliumClusterwideNetworkPolicy> for PolicyRepr {
    fn from(policy: CiliumClusterwideNetworkPolicy) -> Self {
        Self {
            api_version: API_VERSION.to_string(),
            kind: CiliumClusterwideNetworkPolicy::KIND.to_string(),
            metadata: policy.metadata,
            spec: policy.spec,
        }
    }
}

/// The `spec` of a policy: whom it applies to and the traffic it allows or denies.
///
/// Written in the order `description`, `endpointSelector` or `nodeSelector`,
/// `enableDefaultDeny`, `ingress`, `ingressDeny`, `egress`, `egressDeny`; empty lists and absent
/// options are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleRepr", into = "RuleRepr")]
pub struct Rule {
    /// `endpointSelector` or `nodeSelector`: exactly one of the two.
    pub subject: Subject,
    /// `description`: free text for people.
    pub description: Option<String>,
    /// `enableDefaultDeny`: whether the subject denies what no policy allows. Cilium's default
    /// is to deny in each direction that has rules.
    pub enable_default_deny: Option<DefaultDeny>,
    /// `ingress`: allowed incoming traffic.
    pub ingress: Vec<IngressRule>,
    /// `ingressDeny`: denied incoming traffic (a deny wins over every allow).
    pub ingress_deny: Vec<IngressRule>,
    /// `egress`: allowed outgoing traffic.
    pub egress: Vec<EgressRule>,
    /// `egressDeny`: denied outgoing traffic (a deny wins over every allow).
    pub egress_deny: Vec<EgressDenyRule>,
}

impl Rule {
    /// A rule for `subject` without traffic rules.
    pub fn new(subject: Subject) -> Self {
        Self {
            subject,
            description: None,
            enable_default_deny: None,
            ingress: Vec::new(),
            ingress_deny: Vec::new(),
            egress: Vec::new(),
            egress_deny: Vec::new(),
        }
    }

    /// Checks what the types do not: peer lists are not empty, label values and DNS names have
    /// the schema's shape, CIDRs have no host bits and contain their exceptions, every `toPorts`
    /// entry has 1 to 40 ports, port ranges do not run backwards, DNS rules name ports that
    /// Cilium's DNS proxy accepts, and host policies (`nodeSelector`) have no L7 rules.
    pub fn validate(&self) -> Result<(), ModelError> {
        match &self.subject {
            Subject::Endpoints(selector) => {
                selector.check().map_err(|e| e.at("endpointSelector"))?;
            }
            Subject::Nodes(selector) => {
                selector.check().map_err(|e| e.at("nodeSelector"))?;
            }
        }
        check_each("ingress", &self.ingress, IngressRule::check)?;
        check_each("ingressDeny", &self.ingress_deny, IngressRule::check)?;
        check_each("egress", &self.egress, EgressRule::check)?;
        check_each("egressDeny", &self.egress_deny, EgressDenyRule::check)?;
        if matches!(self.subject, Subject::Nodes(_)) {
            for (i, rule) in self.egress.iter().enumerate() {
                for (j, ports) in rule.to_ports.iter().enumerate() {
                    if ports.rules.is_some() {
                        return Err(ModelError::new(
                            "host policies (nodeSelector) cannot have L7 rules",
                        )
                        .at(format!("toPorts[{j}].rules"))
                        .at(format!("egress[{i}]")));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whom a rule applies to: the schema's `oneOf` of `endpointSelector` and `nodeSelector`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// `endpointSelector`: the endpoints (pods) selected. In a namespaced policy Cilium adds the
    /// policy's namespace to the selector; `EndpointSelector::default()` selects every endpoint.
    Endpoints(EndpointSelector),
    /// `nodeSelector`: the nodes selected, for a host policy. Only clusterwide policies may
    /// select nodes.
    Nodes(EndpointSelector),
}

/// `enableDefaultDeny`: per direction, whether the subject drops what no policy allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefaultDeny {
    /// `ingress`: deny incoming traffic that no policy allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<bool>,
    /// `egress`: deny outgoing traffic that no policy allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<bool>,
}

/// [`Rule`] as written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RuleRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint_selector: Option<EndpointSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_selector: Option<EndpointSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_default_deny: Option<DefaultDeny>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ingress: Vec<IngressRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ingress_deny: Vec<IngressRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    egress: Vec<EgressRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    egress_deny: Vec<EgressDenyRule>,
}

impl TryFrom<RuleRepr> for Rule {
    type Error = ModelError;

    fn try_from(repr: RuleRepr) -> Result<Self, ModelError> {
        let subject = match (repr.endpoint_selector, repr.node_selector) {
            (Some(selector), None) => Subject::Endpoints(selector),
            (None, Some(selector)) => Subject::Nodes(selector),
            (Some(_), Some(_)) => {
                return Err(ModelError::new(
                    "endpointSelector and nodeSelector are mutually exclusive",
                ));
            }
            (None, None) => {
                return Err(ModelError::new(
                    "a rule needs an endpointSelector or a nodeSelector",
                ));
            }
        };
        Ok(Self {
            subject,
            description: repr.description,
            enable_default_deny: repr.enable_default_deny,
            ingress: repr.ingress,
            ingress_deny: repr.ingress_deny,
            egress: repr.egress,
            egress_deny: repr.egress_deny,
        })
    }
}

impl From<Rule> for RuleRepr {
    fn from(rule: Rule) -> Self {
        let (endpoint_selector, node_selector) = match rule.subject {
            Subject::Endpoints(selector) => (Some(selector), None),
            Subject::Nodes(selector) => (None, Some(selector)),
        };
        Self {
            description: rule.description,
            endpoint_selector,
            node_selector,
            enable_default_deny: rule.enable_default_deny,
            ingress: rule.ingress,
            ingress_deny: rule.ingress_deny,
            egress: rule.egress,
            egress_deny: rule.egress_deny,
        }
    }
}

/// A Cilium endpoint selector (`endpointSelector`, `nodeSelector`, `fromEndpoints`,
/// `toEndpoints`): a Kubernetes label selector over Cilium labels, whose keys may carry a source
/// prefix such as `k8s:` (see [`NAMESPACE_LABEL`]). All conditions must hold; the empty
/// selector selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointSelector {
    /// `matchLabels`: labels that must have these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions`: further conditions on labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl EndpointSelector {
    /// The selector of endpoints that carry all these labels.
    pub fn labels<K, V>(labels: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            match_labels: labels
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            match_expressions: Vec::new(),
        }
    }

    fn check(&self) -> Result<(), ModelError> {
        for (key, value) in &self.match_labels {
            if key.is_empty() {
                return Err(ModelError::new("a label key must not be empty").at("matchLabels"));
            }
            if !valid_label_value(value) {
                return Err(ModelError::new(format!(
                    "{value:?} is not a label value (at most 63 letters, digits, '-', '_' or \
                     '.', beginning and ending with a letter or digit)"
                ))
                .at(format!("matchLabels[{key:?}]")));
            }
        }
        check_each(
            "matchExpressions",
            &self.match_expressions,
            LabelSelectorRequirement::check,
        )
    }
}

/// One condition of a label selector (`matchExpressions` item).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    /// `key`: the label.
    pub key: String,
    /// `operator`: how the label relates to `values`.
    pub operator: Operator,
    /// `values`: non-empty for `In` and `NotIn`, empty for `Exists` and `DoesNotExist`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl LabelSelectorRequirement {
    /// `key In values`.
    pub fn is_in(key: impl Into<String>, values: impl IntoIterator<Item = String>) -> Self {
        Self::with_values(key, Operator::In, values)
    }

    /// `key NotIn values`.
    pub fn not_in(key: impl Into<String>, values: impl IntoIterator<Item = String>) -> Self {
        Self::with_values(key, Operator::NotIn, values)
    }

    /// `key Exists`.
    pub fn exists(key: impl Into<String>) -> Self {
        Self::with_values(key, Operator::Exists, [])
    }

    /// `key DoesNotExist`.
    pub fn does_not_exist(key: impl Into<String>) -> Self {
        Self::with_values(key, Operator::DoesNotExist, [])
    }

    fn with_values(
        key: impl Into<String>,
        operator: Operator,
        values: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            key: key.into(),
            operator,
            values: values.into_iter().collect(),
        }
    }

    fn check(&self) -> Result<(), ModelError> {
        if self.key.is_empty() {
            return Err(ModelError::new("a label key must not be empty").at("key"));
        }
        match self.operator {
            Operator::In | Operator::NotIn if self.values.is_empty() => Err(ModelError::new(
                format!("{:?} needs at least one value", self.operator),
            )
            .at("values")),
            Operator::Exists | Operator::DoesNotExist if !self.values.is_empty() => {
                Err(ModelError::new(format!("{:?} takes no values", self.operator)).at("values"))
            }
            _ => Ok(()),
        }
    }
}

/// `operator` of a [`LabelSelectorRequirement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Operator {
    /// `In`: the label has one of the values.
    In,
    /// `NotIn`: the label is missing or has none of the values.
    NotIn,
    /// `Exists`: the label is present.
    Exists,
    /// `DoesNotExist`: the label is missing.
    DoesNotExist,
}

/// An `ingress` or `ingressDeny` item: traffic from one kind of peer, to some ports of the
/// subject.
///
/// Written as `fromEndpoints`, `fromEntities`, `fromCIDR` or `fromCIDRSet` (one of them), then
/// `toPorts`. Its port rules have no L7 rules: Cilium accepts no DNS rules on ingress and the
/// schema has none for `ingressDeny`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "IngressRuleRepr", into = "IngressRuleRepr")]
pub struct IngressRule {
    /// The sources.
    pub from: Peer,
    /// `toPorts`: the destination ports on the subject; empty for every port.
    pub to_ports: Vec<L4PortRule>,
}

impl IngressRule {
    fn check(&self) -> Result<(), ModelError> {
        self.from.check("from")?;
        check_each("toPorts", &self.to_ports, L4PortRule::check)
    }
}

/// An `egress` item: traffic from the subject to one kind of peer, on some ports.
///
/// Written as `toEndpoints`, `toEntities`, `toCIDR`, `toCIDRSet` or `toFQDNs` (one of them), then
/// `toPorts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EgressRuleRepr", into = "EgressRuleRepr")]
pub struct EgressRule {
    /// The destinations.
    pub to: EgressPeer,
    /// `toPorts`: the destination ports, with their L7 rules; empty for every port.
    pub to_ports: Vec<PortRule>,
}

impl EgressRule {
    fn check(&self) -> Result<(), ModelError> {
        self.to.check()?;
        check_each("toPorts", &self.to_ports, PortRule::check)
    }
}

/// An `egressDeny` item: like an [`EgressRule`] without `toFQDNs` and L7 rules, which the schema
/// does not have for denies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EgressDenyRuleRepr", into = "EgressDenyRuleRepr")]
pub struct EgressDenyRule {
    /// The destinations.
    pub to: Peer,
    /// `toPorts`: the destination ports; empty for every port.
    pub to_ports: Vec<L4PortRule>,
}

impl EgressDenyRule {
    fn check(&self) -> Result<(), ModelError> {
        self.to.check("to")?;
        check_each("toPorts", &self.to_ports, L4PortRule::check)
    }
}

/// The peers of an ingress, ingress-deny or egress-deny rule: one kind, as Cilium requires. The
/// list must not be empty ([`Rule::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// `fromEndpoints` / `toEndpoints`: endpoints matching any of the selectors. In a namespaced
    /// policy a selector without [`NAMESPACE_LABEL`] means the policy's namespace.
    Endpoints(Vec<EndpointSelector>),
    /// `fromEntities` / `toEntities`: special identities.
    Entities(Vec<Entity>),
    /// `fromCIDR` / `toCIDR`: address blocks.
    Cidrs(Vec<IpNet>),
    /// `fromCIDRSet` / `toCIDRSet`: address blocks with exceptions.
    CidrSets(Vec<CidrRule>),
}

impl Peer {
    /// Checks the list; `direction` is `from` or `to`, the prefix of the field names.
    fn check(&self, direction: &str) -> Result<(), ModelError> {
        match self {
            Self::Endpoints(selectors) => check_peers(
                &format!("{direction}Endpoints"),
                selectors,
                EndpointSelector::check,
            ),
            Self::Entities(entities) => {
                check_peers(&format!("{direction}Entities"), entities, |_| Ok(()))
            }
            Self::Cidrs(nets) => check_peers(&format!("{direction}CIDR"), nets, check_cidr),
            Self::CidrSets(rules) => {
                check_peers(&format!("{direction}CIDRSet"), rules, CidrRule::check)
            }
        }
    }
}

/// The peers of an egress rule: one kind, as Cilium requires. The list must not be empty
/// ([`Rule::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EgressPeer {
    /// `toEndpoints`: endpoints matching any of the selectors. In a namespaced policy a selector
    /// without [`NAMESPACE_LABEL`] means the policy's namespace.
    Endpoints(Vec<EndpointSelector>),
    /// `toEntities`: special identities.
    Entities(Vec<Entity>),
    /// `toCIDR`: address blocks.
    Cidrs(Vec<IpNet>),
    /// `toCIDRSet`: address blocks with exceptions.
    CidrSets(Vec<CidrRule>),
    /// `toFQDNs`: the addresses that DNS answers for these names carried, as observed by
    /// Cilium's DNS proxy. The subject also needs an egress rule to its DNS server whose port
    /// rule has [`L7Rules`], or Cilium learns no addresses.
    Fqdns(Vec<FqdnSelector>),
}

impl EgressPeer {
    fn check(&self) -> Result<(), ModelError> {
        match self {
            Self::Endpoints(selectors) => {
                check_peers("toEndpoints", selectors, EndpointSelector::check)
            }
            Self::Entities(entities) => check_peers("toEntities", entities, |_| Ok(())),
            Self::Cidrs(nets) => check_peers("toCIDR", nets, check_cidr),
            Self::CidrSets(rules) => check_peers("toCIDRSet", rules, CidrRule::check),
            Self::Fqdns(selectors) => check_peers("toFQDNs", selectors, FqdnSelector::check),
        }
    }
}

impl From<Peer> for EgressPeer {
    fn from(peer: Peer) -> Self {
        match peer {
            Peer::Endpoints(selectors) => Self::Endpoints(selectors),
            Peer::Entities(entities) => Self::Entities(entities),
            Peer::Cidrs(nets) => Self::Cidrs(nets),
            Peer::CidrSets(rules) => Self::CidrSets(rules),
        }
    }
}

/// Picks the one peer field that is present.
fn one_peer<P>(
    candidates: impl IntoIterator<Item = (&'static str, Option<P>)>,
) -> Result<P, ModelError> {
    let mut names = Vec::new();
    let mut present = Vec::new();
    for (name, peer) in candidates {
        names.push(name);
        if let Some(peer) = peer {
            present.push((name, peer));
        }
    }
    let mut present = present.into_iter();
    match (present.next(), present.next()) {
        (Some((_, peer)), None) => Ok(peer),
        (None, _) => Err(ModelError::new(format!(
            "a rule needs one of {}: without a peer Cilium applies it to every peer",
            names.join(", ")
        ))),
        (Some((first, _)), Some((second, _))) => Err(ModelError::new(format!(
            "{first} and {second} cannot be combined in one rule (Cilium rejects the policy); \
             write two rules"
        ))),
    }
}

/// [`IngressRule`] as written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IngressRuleRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_endpoints: Option<Vec<EndpointSelector>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_entities: Option<Vec<Entity>>,
    #[serde(rename = "fromCIDR", default, skip_serializing_if = "Option::is_none")]
    from_cidr: Option<Vec<IpNet>>,
    #[serde(
        rename = "fromCIDRSet",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    from_cidr_set: Option<Vec<CidrRule>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    to_ports: Vec<L4PortRule>,
}

impl TryFrom<IngressRuleRepr> for IngressRule {
    type Error = ModelError;

    fn try_from(repr: IngressRuleRepr) -> Result<Self, ModelError> {
        let from = one_peer([
            ("fromEndpoints", repr.from_endpoints.map(Peer::Endpoints)),
            ("fromEntities", repr.from_entities.map(Peer::Entities)),
            ("fromCIDR", repr.from_cidr.map(Peer::Cidrs)),
            ("fromCIDRSet", repr.from_cidr_set.map(Peer::CidrSets)),
        ])?;
        Ok(Self {
            from,
            to_ports: repr.to_ports,
        })
    }
}

impl From<IngressRule> for IngressRuleRepr {
    fn from(rule: IngressRule) -> Self {
        let mut repr = Self {
            from_endpoints: None,
            from_entities: None,
            from_cidr: None,
            from_cidr_set: None,
            to_ports: rule.to_ports,
        };
        match rule.from {
            Peer::Endpoints(selectors) => repr.from_endpoints = Some(selectors),
            Peer::Entities(entities) => repr.from_entities = Some(entities),
            Peer::Cidrs(nets) => repr.from_cidr = Some(nets),
            Peer::CidrSets(rules) => repr.from_cidr_set = Some(rules),
        }
        repr
    }
}

/// [`EgressRule`] as written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EgressRuleRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_endpoints: Option<Vec<EndpointSelector>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_entities: Option<Vec<Entity>>,
    #[serde(rename = "toCIDR", default, skip_serializing_if = "Option::is_none")]
    to_cidr: Option<Vec<IpNet>>,
    #[serde(rename = "toCIDRSet", default, skip_serializing_if = "Option::is_none")]
    to_cidr_set: Option<Vec<CidrRule>>,
    #[serde(rename = "toFQDNs", default, skip_serializing_if = "Option::is_none")]
    to_fqdns: Option<Vec<FqdnSelector>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    to_ports: Vec<PortRule>,
}

impl TryFrom<EgressRuleRepr> for EgressRule {
    type Error = ModelError;

    fn try_from(repr: EgressRuleRepr) -> Result<Self, ModelError> {
        let to = one_peer([
            ("toEndpoints", repr.to_endpoints.map(EgressPeer::Endpoints)),
            ("toEntities", repr.to_entities.map(EgressPeer::Entities)),
            ("toCIDR", repr.to_cidr.map(EgressPeer::Cidrs)),
            ("toCIDRSet", repr.to_cidr_set.map(EgressPeer::CidrSets)),
            ("toFQDNs", repr.to_fqdns.map(EgressPeer::Fqdns)),
        ])?;
        Ok(Self {
            to,
            to_ports: repr.to_ports,
        })
    }
}

impl From<EgressRule> for EgressRuleRepr {
    fn from(rule: EgressRule) -> Self {
        let mut repr = Self {
            to_endpoints: None,
            to_entities: None,
            to_cidr: None,
            to_cidr_set: None,
            to_fqdns: None,
            to_ports: rule.to_ports,
        };
        match rule.to {
            EgressPeer::Endpoints(selectors) => repr.to_endpoints = Some(selectors),
            EgressPeer::Entities(entities) => repr.to_entities = Some(entities),
            EgressPeer::Cidrs(nets) => repr.to_cidr = Some(nets),
            EgressPeer::CidrSets(rules) => repr.to_cidr_set = Some(rules),
            EgressPeer::Fqdns(selectors) => repr.to_fqdns = Some(selectors),
        }
        repr
    }
}

/// [`EgressDenyRule`] as written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EgressDenyRuleRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_endpoints: Option<Vec<EndpointSelector>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_entities: Option<Vec<Entity>>,
    #[serde(rename = "toCIDR", default, skip_serializing_if = "Option::is_none")]
    to_cidr: Option<Vec<IpNet>>,
    #[serde(rename = "toCIDRSet", default, skip_serializing_if = "Option::is_none")]
    to_cidr_set: Option<Vec<CidrRule>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    to_ports: Vec<L4PortRule>,
}

impl TryFrom<EgressDenyRuleRepr> for EgressDenyRule {
    type Error = ModelError;

    fn try_from(repr: EgressDenyRuleRepr) -> Result<Self, ModelError> {
        let to = one_peer([
            ("toEndpoints", repr.to_endpoints.map(Peer::Endpoints)),
            ("toEntities", repr.to_entities.map(Peer::Entities)),
            ("toCIDR", repr.to_cidr.map(Peer::Cidrs)),
            ("toCIDRSet", repr.to_cidr_set.map(Peer::CidrSets)),
        ])?;
        Ok(Self {
            to,
            to_ports: repr.to_ports,
        })
    }
}

impl From<EgressDenyRule> for EgressDenyRuleRepr {
    fn from(rule: EgressDenyRule) -> Self {
        let mut repr = Self {
            to_endpoints: None,
            to_entities: None,
            to_cidr: None,
            to_cidr_set: None,
            to_ports: rule.to_ports,
        };
        match rule.to {
            Peer::Endpoints(selectors) => repr.to_endpoints = Some(selectors),
            Peer::Entities(entities) => repr.to_entities = Some(entities),
            Peer::Cidrs(nets) => repr.to_cidr = Some(nets),
            Peer::CidrSets(rules) => repr.to_cidr_set = Some(rules),
        }
        repr
    }
}

/// A special identity (`fromEntities`, `toEntities`): exactly the schema's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Entity {
    /// `all`: every peer, inside and outside the cluster.
    #[serde(rename = "all")]
    All,
    /// `world`: every address outside the cluster.
    #[serde(rename = "world")]
    World,
    /// `cluster`: every endpoint, node and address inside the cluster.
    #[serde(rename = "cluster")]
    Cluster,
    /// `host`: the local node, including host-network pods.
    #[serde(rename = "host")]
    Host,
    /// `init`: endpoints whose identity Cilium has not resolved yet.
    #[serde(rename = "init")]
    Init,
    /// `ingress`: Cilium's own ingress proxy.
    #[serde(rename = "ingress")]
    Ingress,
    /// `unmanaged`: pods that Cilium does not manage.
    #[serde(rename = "unmanaged")]
    Unmanaged,
    /// `remote-node`: the other nodes of the cluster.
    #[serde(rename = "remote-node")]
    RemoteNode,
    /// `health`: Cilium's health-check endpoints.
    #[serde(rename = "health")]
    Health,
    /// `none`: nothing.
    #[serde(rename = "none")]
    None,
    /// `kube-apiserver`: the Kubernetes API server, wherever it runs.
    #[serde(rename = "kube-apiserver")]
    KubeApiserver,
}

/// A `fromCIDRSet` / `toCIDRSet` item: an address block without some sub-blocks. Addresses are
/// written as strings such as `10.0.0.0/8`. Cilium's alternative `cidrGroupRef` is not
/// modelled.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CidrRule {
    /// `cidr`: the block.
    pub cidr: IpNet,
    /// `except`: sub-blocks of `cidr` left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<IpNet>,
}

impl CidrRule {
    /// The whole block.
    pub fn new(cidr: IpNet) -> Self {
        Self {
            cidr,
            except: Vec::new(),
        }
    }

    /// The block without the `except` sub-blocks.
    pub fn excluding(cidr: IpNet, except: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            cidr,
            except: except.into_iter().collect(),
        }
    }

    fn check(&self) -> Result<(), ModelError> {
        check_cidr(&self.cidr).map_err(|e| e.at("cidr"))?;
        check_each("except", &self.except, |except| {
            check_cidr(except)?;
            if self.cidr.contains(except) {
                Ok(())
            } else {
                Err(ModelError::new(format!(
                    "{except} is not inside {}",
                    self.cidr
                )))
            }
        })
    }
}

/// A CIDR must name its block: no host bits set.
fn check_cidr(net: &IpNet) -> Result<(), ModelError> {
    if net.trunc() == *net {
        Ok(())
    } else {
        Err(ModelError::new(format!(
            "{net} has host bits set; the block is {}",
            net.trunc()
        )))
    }
}

/// A `toFQDNs` item or DNS rule: the schema's `oneOf` of `matchName` and `matchPattern`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "FqdnRepr", into = "FqdnRepr")]
pub enum FqdnSelector {
    /// `matchName`: this DNS name exactly (letters, digits, `-`, `_`, dots between labels).
    MatchName(String),
    /// `matchPattern`: DNS names matching this pattern, where `*` stands for any characters
    /// valid in a DNS name; a leading `*` without a following dot also matches subdomains.
    MatchPattern(String),
}

impl FqdnSelector {
    /// `matchName: name`.
    pub fn name(name: impl Into<String>) -> Self {
        Self::MatchName(name.into())
    }

    /// `matchPattern: pattern`.
    pub fn pattern(pattern: impl Into<String>) -> Self {
        Self::MatchPattern(pattern.into())
    }

    fn check(&self) -> Result<(), ModelError> {
        let (field, value, wildcard) = match self {
            Self::MatchName(name) => ("matchName", name, false),
            Self::MatchPattern(pattern) => ("matchPattern", pattern, true),
        };
        if dns_shape(value, wildcard) {
            Ok(())
        } else {
            let allowed = if wildcard {
                "letters, digits, '-', '_' and '*'"
            } else {
                "letters, digits, '-' and '_'"
            };
            Err(ModelError::new(format!(
                "{value:?} is not a DNS {}: labels of {allowed}, separated by single dots",
                if wildcard { "pattern" } else { "name" }
            ))
            .at(field))
        }
    }
}

/// The schema's shape of DNS names (`^([-a-zA-Z0-9_]+[.]?)+$`) and patterns (`*` also allowed).
fn dns_shape(value: &str, wildcard: bool) -> bool {
    !value.is_empty()
        && !value.starts_with('.')
        && !value.contains("..")
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') || (wildcard && c == '*')
        })
}

/// [`FqdnSelector`] as written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FqdnRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    match_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    match_pattern: Option<String>,
}

impl TryFrom<FqdnRepr> for FqdnSelector {
    type Error = ModelError;

    fn try_from(repr: FqdnRepr) -> Result<Self, ModelError> {
        match (repr.match_name, repr.match_pattern) {
            (Some(name), None) => Ok(Self::MatchName(name)),
            (None, Some(pattern)) => Ok(Self::MatchPattern(pattern)),
            (Some(_), Some(_)) => Err(ModelError::new(
                "matchName and matchPattern are mutually exclusive",
            )),
            (None, None) => Err(ModelError::new("needs matchName or matchPattern")),
        }
    }
}

impl From<FqdnSelector> for FqdnRepr {
    fn from(selector: FqdnSelector) -> Self {
        match selector {
            FqdnSelector::MatchName(name) => Self {
                match_name: Some(name),
                match_pattern: None,
            },
            FqdnSelector::MatchPattern(pattern) => Self {
                match_name: None,
                match_pattern: Some(pattern),
            },
        }
    }
}

/// A `toPorts` item of an egress rule: ports and, optionally, DNS rules for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortRule {
    /// `ports`: 1 to 40 ports.
    pub ports: Vec<PortProtocol>,
    /// `rules`: L7 rules for traffic on these ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<L7Rules>,
}

impl PortRule {
    /// These ports, without L7 rules.
    pub fn new(ports: impl IntoIterator<Item = PortProtocol>) -> Self {
        Self {
            ports: ports.into_iter().collect(),
            rules: None,
        }
    }

    /// These ports, with their DNS traffic sent through Cilium's DNS proxy and limited to the
    /// names `dns` matches. This is what lets Cilium learn the addresses behind `toFQDNs`.
    pub fn dns(
        ports: impl IntoIterator<Item = PortProtocol>,
        dns: impl IntoIterator<Item = DnsRule>,
    ) -> Self {
        Self {
            ports: ports.into_iter().collect(),
            rules: Some(L7Rules {
                dns: dns.into_iter().collect(),
            }),
        }
    }

    fn check(&self) -> Result<(), ModelError> {
        check_ports(&self.ports)?;
        if let Some(rules) = &self.rules {
            rules.check().map_err(|e| e.at("rules"))?;
            check_each("ports", &self.ports, |port| {
                if port.port.as_number() == Some(0) {
                    return Err(ModelError::new("DNS rules need a port other than 0"));
                }
                if port.end_port.is_some() {
                    return Err(ModelError::new("DNS rules do not support port ranges"));
                }
                if port.protocol == Protocol::Sctp {
                    return Err(ModelError::new("DNS rules apply to TCP, UDP or ANY only"));
                }
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// A `toPorts` item without L7 rules: of ingress rules (Cilium accepts no DNS rules there) and
/// of deny rules (the schema has no `rules` there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct L4PortRule {
    /// `ports`: 1 to 40 ports.
    pub ports: Vec<PortProtocol>,
}

impl L4PortRule {
    /// These ports.
    pub fn new(ports: impl IntoIterator<Item = PortProtocol>) -> Self {
        Self {
            ports: ports.into_iter().collect(),
        }
    }

    fn check(&self) -> Result<(), ModelError> {
        check_ports(&self.ports)
    }
}

fn check_ports(ports: &[PortProtocol]) -> Result<(), ModelError> {
    if ports.is_empty() {
        return Err(ModelError::new("a toPorts item needs at least one port").at("ports"));
    }
    if ports.len() > MAX_PORTS {
        return Err(ModelError::new(format!(
            "{} ports; at most {MAX_PORTS} fit in one toPorts item",
            ports.len()
        ))
        .at("ports"));
    }
    check_each("ports", ports, PortProtocol::check)
}

/// A `ports` item: a port or port range and its protocol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortProtocol {
    /// `port`: a number (`0` for every port) or a named container port, written as a string.
    pub port: Port,
    /// `endPort`: the last port of a range that starts at a numeric `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_port: Option<u16>,
    /// `protocol`. Cilium reads an absent protocol as `ANY`; this model always writes it.
    pub protocol: Protocol,
}

impl PortProtocol {
    /// One port number with this protocol.
    pub fn new(port: u16, protocol: Protocol) -> Self {
        Self {
            port: Port::number(port),
            end_port: None,
            protocol,
        }
    }

    /// One TCP port.
    pub fn tcp(port: u16) -> Self {
        Self::new(port, Protocol::Tcp)
    }

    /// One UDP port.
    pub fn udp(port: u16) -> Self {
        Self::new(port, Protocol::Udp)
    }

    /// The ports `port` to `end_port`, both included, with this protocol.
    pub fn range(port: u16, end_port: u16, protocol: Protocol) -> Self {
        Self {
            port: Port::number(port),
            end_port: Some(end_port),
            protocol,
        }
    }

    fn check(&self) -> Result<(), ModelError> {
        if let Some(end) = self.end_port {
            match self.port.as_number() {
                None => {
                    return Err(ModelError::new("a port range needs a numeric port").at("endPort"));
                }
                Some(start) if end < start => {
                    return Err(
                        ModelError::new(format!("the range {start}-{end} runs backwards"))
                            .at("endPort"),
                    );
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// `protocol` of a [`PortProtocol`]: the schema's values. ICMP has its own field in Cilium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Protocol {
    /// `TCP`.
    #[serde(rename = "TCP")]
    Tcp,
    /// `UDP`.
    #[serde(rename = "UDP")]
    Udp,
    /// `SCTP`.
    #[serde(rename = "SCTP")]
    Sctp,
    /// `ANY`: TCP, UDP and SCTP.
    #[serde(rename = "ANY")]
    Any,
}

/// A `port` value, which the schema types as a string: a number from 0 to 65535 in canonical
/// form (`"443"`), or a container port name (an IANA service name such as `"https"`).
///
/// Reading accepts strings only, so `port: 443` (a YAML integer) is refused, as the schema
/// refuses it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port(PortValue);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum PortValue {
    Number(u16),
    Name(String),
}

impl Port {
    /// The port with this number; `0` stands for every port.
    pub fn number(number: u16) -> Self {
        Self(PortValue::Number(number))
    }

    /// The container port with this name: 1 to 15 letters, digits and single inner hyphens,
    /// with at least one letter.
    pub fn named(name: &str) -> Result<Self, ModelError> {
        let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if (1..=15).contains(&name.len())
            && chars_ok
            && name.chars().any(|c| c.is_ascii_alphabetic())
            && !name.starts_with('-')
            && !name.ends_with('-')
            && !name.contains("--")
        {
            Ok(Self(PortValue::Name(name.to_string())))
        } else {
            Err(ModelError::new(format!(
                "{name:?} is not a port name (1 to 15 letters, digits and single inner hyphens, \
                 with a letter)"
            )))
        }
    }

    /// The number, unless the port is named.
    pub fn as_number(&self) -> Option<u16> {
        match self.0 {
            PortValue::Number(number) => Some(number),
            PortValue::Name(_) => None,
        }
    }
}

impl From<u16> for Port {
    fn from(number: u16) -> Self {
        Self::number(number)
    }
}

impl FromStr for Port {
    type Err = ModelError;

    /// Reads a port number or name. Numbers must be canonical: Cilium would read `"0443"` as
    /// octal.
    fn from_str(s: &str) -> Result<Self, ModelError> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            if s.len() > 1 && s.starts_with('0') {
                return Err(ModelError::new(format!(
                    "{s:?} has a leading zero; write the port number without it"
                )));
            }
            s.parse::<u16>()
                .map(Self::number)
                .map_err(|_| ModelError::new(format!("{s:?} is not a port number from 0 to 65535")))
        } else {
            Self::named(s)
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            PortValue::Number(number) => write!(f, "{number}"),
            PortValue::Name(name) => f.write_str(name),
        }
    }
}

impl Serialize for Port {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PortVisitor;

        impl de::Visitor<'_> for PortVisitor {
            type Value = Port;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number or name as a string, such as \"443\" or \"https\"")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Port, E> {
                value.parse().map_err(E::custom)
            }
        }

        // `deserialize_any` lets the format say what it holds, so that a YAML integer reaches
        // the visitor as a number (and is refused) instead of being turned into a string.
        deserializer.deserialize_any(PortVisitor)
    }
}

/// `rules` of an egress [`PortRule`]: the L7 rules this model writes, DNS only (the schema's
/// `oneOf` allows one L7 protocol per port rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct L7Rules {
    /// `dns`: the DNS names the subject may look up; at least one. `matchPattern: "*"` allows
    /// every name while still letting Cilium learn the answers.
    pub dns: Vec<DnsRule>,
}

impl L7Rules {
    fn check(&self) -> Result<(), ModelError> {
        if self.dns.is_empty() {
            return Err(ModelError::new(
                "an empty DNS rule list is no DNS rule; allow every name with matchPattern \"*\"",
            )
            .at("dns"));
        }
        check_each("dns", &self.dns, FqdnSelector::check)
    }
}

/// A `rules.dns` item: the same `matchName` / `matchPattern` choice as `toFQDNs`.
pub type DnsRule = FqdnSelector;

/// Whether a label value has the Kubernetes shape that the schema's pattern requires.
fn valid_label_value(value: &str) -> bool {
    let alphanumeric_ends = value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    value.is_empty()
        || (value.len() <= 63
            && alphanumeric_ends
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: namespace.map(str::to_string),
            ..ObjectMeta::default()
        }
    }

    fn net(s: &str) -> IpNet {
        s.parse().expect("a CIDR")
    }

    fn activegate() -> EndpointSelector {
        EndpointSelector::labels([("app.kubernetes.io/name", "activegate")])
    }

    /// A namespaced policy with every kind of rule the model has.
    fn example_cnp() -> CiliumNetworkPolicy {
        let mut prometheus = EndpointSelector::labels([
            (NAMESPACE_LABEL, "monitoring"),
            ("app.kubernetes.io/name", "prometheus"),
        ]);
        prometheus
            .match_expressions
            .push(LabelSelectorRequirement::is_in(
                "app.kubernetes.io/component",
                ["server".to_string(), "agent".to_string()],
            ));
        prometheus
            .match_expressions
            .push(LabelSelectorRequirement::does_not_exist("canary"));
        let kube_dns =
            EndpointSelector::labels([(NAMESPACE_LABEL, "kube-system"), ("k8s-app", "kube-dns")]);
        let mut rule = Rule::new(Subject::Endpoints(activegate()));
        rule.description = Some("ActiveGate: every kind of rule".to_string());
        rule.enable_default_deny = Some(DefaultDeny {
            ingress: Some(true),
            egress: Some(true),
        });
        rule.ingress = vec![
            IngressRule {
                from: Peer::Endpoints(vec![prometheus]),
                to_ports: vec![L4PortRule::new([
                    PortProtocol::tcp(9999),
                    PortProtocol {
                        port: Port::named("metrics").expect("a port name"),
                        end_port: None,
                        protocol: Protocol::Tcp,
                    },
                ])],
            },
            IngressRule {
                from: Peer::Entities(vec![Entity::KubeApiserver, Entity::RemoteNode]),
                to_ports: vec![L4PortRule::new([PortProtocol::tcp(443)])],
            },
            IngressRule {
                from: Peer::Cidrs(vec![net("192.0.2.0/24"), net("2001:db8::/32")]),
                to_ports: vec![L4PortRule::new([PortProtocol::range(
                    8000,
                    8100,
                    Protocol::Any,
                )])],
            },
            IngressRule {
                from: Peer::CidrSets(vec![CidrRule::excluding(
                    net("10.0.0.0/8"),
                    [net("10.1.0.0/16")],
                )]),
                to_ports: Vec::new(),
            },
        ];
        rule.ingress_deny = vec![IngressRule {
            from: Peer::Entities(vec![Entity::World]),
            to_ports: vec![L4PortRule::new([PortProtocol::new(9999, Protocol::Sctp)])],
        }];
        rule.egress = vec![
            EgressRule {
                to: EgressPeer::Endpoints(vec![kube_dns]),
                to_ports: vec![PortRule::dns(
                    [PortProtocol::udp(53), PortProtocol::tcp(53)],
                    [FqdnSelector::pattern("*")],
                )],
            },
            EgressRule {
                to: EgressPeer::Fqdns(vec![
                    FqdnSelector::name("abc12345.live.dynatrace.com"),
                    FqdnSelector::pattern("*.dynatrace.com"),
                ]),
                to_ports: vec![PortRule::new([PortProtocol::tcp(443)])],
            },
            EgressRule {
                to: EgressPeer::Entities(vec![Entity::KubeApiserver]),
                to_ports: vec![PortRule::new([PortProtocol::tcp(6443)])],
            },
            EgressRule {
                to: EgressPeer::Cidrs(vec![net("203.0.113.10/32")]),
                to_ports: vec![PortRule::new([PortProtocol::tcp(443)])],
            },
            EgressRule {
                to: EgressPeer::CidrSets(vec![
                    CidrRule::excluding(net("0.0.0.0/0"), [net("169.254.169.254/32")]),
                    CidrRule::new(net("::/0")),
                ]),
                to_ports: vec![PortRule::new([PortProtocol::tcp(443)])],
            },
        ];
        rule.egress_deny = vec![EgressDenyRule {
            to: Peer::CidrSets(vec![CidrRule::new(net("169.254.169.254/32"))]),
            to_ports: Vec::new(),
        }];
        CiliumNetworkPolicy::new(meta("dynakube-activegate-all", Some("dynatrace")), rule)
            .expect("a valid policy")
    }

    /// A clusterwide host policy.
    fn example_ccnp() -> CiliumClusterwideNetworkPolicy {
        let mut rule = Rule::new(Subject::Nodes(EndpointSelector::default()));
        rule.ingress = vec![IngressRule {
            from: Peer::Endpoints(vec![EndpointSelector::labels([
                (NAMESPACE_LABEL, "dynatrace"),
                ("app.kubernetes.io/name", "activegate"),
            ])]),
            to_ports: vec![L4PortRule::new([PortProtocol::tcp(10250)])],
        }];
        rule.egress = vec![EgressRule {
            to: EgressPeer::Entities(vec![Entity::Cluster]),
            to_ports: Vec::new(),
        }];
        CiliumClusterwideNetworkPolicy::new(meta("dynakube-nodes", None), rule)
            .expect("a valid policy")
    }

    #[test]
    fn every_kind_of_rule_survives_a_round_trip() {
        let cnp = example_cnp();
        let yaml = serde_yaml::to_string(&cnp).expect("serializes");
        let back: CiliumNetworkPolicy = serde_yaml::from_str(&yaml).expect("parses");
        assert_eq!(back, cnp);
        assert_eq!(serde_yaml::to_string(&back).expect("serializes"), yaml);
        for field in [
            "fromEndpoints:",
            "fromEntities:",
            "fromCIDR:",
            "fromCIDRSet:",
            "ingressDeny:",
            "toEndpoints:",
            "toEntities:",
            "toCIDR:",
            "toCIDRSet:",
            "toFQDNs:",
            "egressDeny:",
            "endPort: 8100",
            "enableDefaultDeny:",
            "- matchPattern: '*'",
        ] {
            assert!(yaml.contains(field), "{field} missing from\n{yaml}");
        }

        let ccnp = example_ccnp();
        let yaml = serde_yaml::to_string(&ccnp).expect("serializes");
        let back: CiliumClusterwideNetworkPolicy = serde_yaml::from_str(&yaml).expect("parses");
        assert_eq!(back, ccnp);

        let json = serde_json::to_string(&cnp).expect("serializes");
        let back: CiliumNetworkPolicy = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, cnp);
    }

    #[test]
    fn a_small_policy_is_written_exactly() {
        let mut rule = Rule::new(Subject::Endpoints(activegate()));
        rule.egress = vec![EgressRule {
            to: EgressPeer::Fqdns(vec![FqdnSelector::name("abc12345.live.dynatrace.com")]),
            to_ports: vec![PortRule::new([PortProtocol::tcp(443)])],
        }];
        let policy =
            CiliumNetworkPolicy::new(meta("activegate-egress-tenant", Some("dynatrace")), rule)
                .expect("a valid policy");
        let expected = "\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: activegate-egress-tenant
  namespace: dynatrace
spec:
  endpointSelector:
    matchLabels:
      app.kubernetes.io/name: activegate
  egress:
  - toFQDNs:
    - matchName: abc12345.live.dynatrace.com
    toPorts:
    - ports:
      - port: '443'
        protocol: TCP
";
        assert_eq!(
            serde_yaml::to_string(&policy).expect("serializes"),
            expected
        );

        let mut rule = Rule::new(Subject::Nodes(EndpointSelector::default()));
        rule.ingress = vec![IngressRule {
            from: Peer::Entities(vec![Entity::RemoteNode]),
            to_ports: Vec::new(),
        }];
        let policy =
            CiliumClusterwideNetworkPolicy::new(meta("nodes", None), rule).expect("a valid policy");
        let expected = "\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: nodes
spec:
  nodeSelector: {}
  ingress:
  - fromEntities:
    - remote-node
";
        assert_eq!(
            serde_yaml::to_string(&policy).expect("serializes"),
            expected
        );
    }

    const BASE: &str = "\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: base
  namespace: dynatrace
spec:
  endpointSelector:
    matchLabels:
      app: activegate
  ingress:
  - fromEntities:
    - kube-apiserver
    toPorts:
    - ports:
      - port: '9999'
        protocol: TCP
  egress:
  - toFQDNs:
    - matchName: example.com
    toPorts:
    - ports:
      - port: '443'
        protocol: TCP
  - toEndpoints:
    - matchLabels:
        k8s:io.kubernetes.pod.namespace: kube-system
    toPorts:
    - ports:
      - port: '53'
        protocol: UDP
      rules:
        dns:
        - matchPattern: '*'
";

    /// Replaces `from` by `to` in [`BASE`] and returns the error of reading the result.
    fn rejection(from: &str, to: &str) -> String {
        assert!(BASE.contains(from), "{from:?} is not in the base policy");
        let yaml = BASE.replacen(from, to, 1);
        match serde_yaml::from_str::<CiliumNetworkPolicy>(&yaml) {
            Ok(policy) => panic!("accepted {from:?} -> {to:?}: {policy:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn typos_wrong_types_and_conflicts_are_refused() {
        let base: CiliumNetworkPolicy = serde_yaml::from_str(BASE).expect("the base parses");
        assert_eq!(base.spec().egress.len(), 2);

        for (from, to, reason) in [
            ("toFQDNs:", "toFQDN:", "unknown field `toFQDN`"),
            ("port: '443'", "port: 443", "invalid type: integer `443`"),
            (
                "- kube-apiserver",
                "- kube-api-server",
                "unknown variant `kube-api-server`",
            ),
            (
                "  endpointSelector:",
                "  nodeSelector: {}\n  endpointSelector:",
                "endpointSelector and nodeSelector are mutually exclusive",
            ),
            ("fromEntities:", "fromEntity:", "unknown field `fromEntity`"),
            (
                "matchLabels:\n      app",
                "matchLabel:\n      app",
                "unknown field `matchLabel`",
            ),
            ("matchName:", "matchname:", "unknown field `matchname`"),
            ("protocol: UDP", "protocol: udp", "unknown variant `udp`"),
            ("protocol: UDP", "protocol: ICMP", "unknown variant `ICMP`"),
            ("protocol: UDP", "proto: UDP", "unknown field `proto`"),
            ("dns:", "dnss:", "unknown field `dnss`"),
            (
                "- matchName: example.com",
                "- matchName: example.com\n      matchPattern: '*'",
                "matchName and matchPattern are mutually exclusive",
            ),
            (
                "- matchName: example.com",
                "- {}",
                "needs matchName or matchPattern",
            ),
            (
                "toFQDNs:\n    - matchName: example.com",
                "toFQDNs: []",
                "toFQDNs: an empty peer list",
            ),
            (
                "toFQDNs:",
                "toEntities: [world]\n    toFQDNs:",
                "toEntities and toFQDNs cannot be combined",
            ),
            (
                "    - port: '9999'",
                "    - port: '99999'",
                "not a port number",
            ),
            ("    - port: '9999'", "    - port: '09999'", "leading zero"),
            (
                "    - port: '9999'",
                "    - port: '9999'\n        endPort: 9000",
                "endPort: the range 9999-9000 runs backwards",
            ),
            (
                "apiVersion: cilium.io/v2",
                "apiVersion: cilium.io/v2alpha1",
                "apiVersion:",
            ),
            (
                "kind: CiliumNetworkPolicy",
                "kind: CiliumClusterwideNetworkPolicy",
                "kind:",
            ),
            ("spec:", "status: {}\nspec:", "unknown field `status`"),
            // A namespaced policy cannot select nodes.
            (
                "  endpointSelector:",
                "  nodeSelector:",
                "nodeSelector is for",
            ),
            // Cilium accepts no DNS rules on ingress: that port rule has no `rules` field.
            (
                "      - port: '9999'\n        protocol: TCP\n",
                "      - port: '9999'\n        protocol: TCP\n      rules:\n        dns:\n        \
                 - matchPattern: '*'\n",
                "unknown field `rules`",
            ),
        ] {
            let error = rejection(from, to);
            assert!(error.contains(reason), "{from:?} -> {to:?}: {error}");
        }
    }

    #[test]
    fn constructors_refuse_what_cilium_would_misread() {
        let reason = |rule: Rule| {
            CiliumNetworkPolicy::new(meta("p", Some("dynatrace")), rule)
                .expect_err("refused")
                .to_string()
        };
        let with_egress = |egress: EgressRule| {
            let mut rule = Rule::new(Subject::Endpoints(activegate()));
            rule.egress = vec![egress];
            rule
        };

        let empty_peers = reason(with_egress(EgressRule {
            to: EgressPeer::Endpoints(Vec::new()),
            to_ports: Vec::new(),
        }));
        assert!(
            empty_peers.starts_with("spec.egress[0].toEndpoints:"),
            "{empty_peers}"
        );

        let no_ports = reason(with_egress(EgressRule {
            to: EgressPeer::Entities(vec![Entity::World]),
            to_ports: vec![PortRule::new([])],
        }));
        assert!(
            no_ports.starts_with("spec.egress[0].toPorts[0].ports:"),
            "{no_ports}"
        );

        let outside = reason(with_egress(EgressRule {
            to: EgressPeer::CidrSets(vec![CidrRule::excluding(
                net("10.0.0.0/8"),
                [net("192.168.0.0/16")],
            )]),
            to_ports: Vec::new(),
        }));
        assert!(outside.contains("toCIDRSet[0].except[0]"), "{outside}");
        let other_family = reason(with_egress(EgressRule {
            to: EgressPeer::CidrSets(vec![CidrRule::excluding(net("0.0.0.0/0"), [net("::/0")])]),
            to_ports: Vec::new(),
        }));
        assert!(other_family.contains("is not inside"), "{other_family}");
        let host_bits = reason(with_egress(EgressRule {
            to: EgressPeer::Cidrs(vec![net("10.0.0.1/8")]),
            to_ports: Vec::new(),
        }));
        assert!(host_bits.contains("host bits"), "{host_bits}");

        let backwards = reason(with_egress(EgressRule {
            to: EgressPeer::Entities(vec![Entity::World]),
            to_ports: vec![PortRule::new([PortProtocol::range(443, 80, Protocol::Tcp)])],
        }));
        assert!(backwards.contains("endPort"), "{backwards}");

        for port in [
            PortProtocol::udp(0),
            PortProtocol::range(53, 54, Protocol::Udp),
            PortProtocol::new(53, Protocol::Sctp),
        ] {
            reason(with_egress(EgressRule {
                to: EgressPeer::Entities(vec![Entity::Cluster]),
                to_ports: vec![PortRule::dns([port], [FqdnSelector::pattern("*")])],
            }));
        }
        let no_dns = reason(with_egress(EgressRule {
            to: EgressPeer::Entities(vec![Entity::Cluster]),
            to_ports: vec![PortRule::dns([PortProtocol::udp(53)], [])],
        }));
        assert!(no_dns.contains("rules.dns"), "{no_dns}");
        for bad in [
            FqdnSelector::name("*.example.com"),
            FqdnSelector::name(".example.com"),
            FqdnSelector::pattern("a..b"),
            FqdnSelector::name(""),
        ] {
            reason(with_egress(EgressRule {
                to: EgressPeer::Fqdns(vec![bad]),
                to_ports: Vec::new(),
            }));
        }

        let mut selector = activegate();
        selector
            .match_expressions
            .push(LabelSelectorRequirement::is_in("tier", []));
        reason(Rule::new(Subject::Endpoints(selector)));
        reason(Rule::new(Subject::Endpoints(EndpointSelector::labels([(
            "app", "-bad",
        )]))));

        let nodes = reason(Rule::new(Subject::Nodes(EndpointSelector::default())));
        assert!(nodes.contains("nodeSelector"), "{nodes}");
        let namespaced = CiliumClusterwideNetworkPolicy::new(
            meta("p", Some("dynatrace")),
            Rule::new(Subject::Endpoints(activegate())),
        )
        .expect_err("refused");
        assert_eq!(namespaced.path(), "metadata.namespace");
        CiliumNetworkPolicy::new(
            ObjectMeta::default(),
            Rule::new(Subject::Endpoints(activegate())),
        )
        .expect_err("no name");

        let mut host_dns = Rule::new(Subject::Nodes(EndpointSelector::default()));
        host_dns.egress = vec![EgressRule {
            to: EgressPeer::Entities(vec![Entity::Cluster]),
            to_ports: vec![PortRule::dns(
                [PortProtocol::udp(53)],
                [FqdnSelector::pattern("*")],
            )],
        }];
        CiliumClusterwideNetworkPolicy::new(meta("p", None), host_dns).expect_err("L7 on hosts");
    }

    #[test]
    fn ports_are_canonical_strings() {
        assert_eq!(Port::number(443).to_string(), "443");
        assert_eq!(Port::from(0), "0".parse().expect("a port"));
        assert_eq!(
            "65535".parse::<Port>().expect("a port").as_number(),
            Some(65535)
        );
        assert_eq!("https".parse::<Port>().expect("a port").as_number(), None);
        for bad in [
            "",
            "65536",
            "0443",
            "-http",
            "http-",
            "a--b",
            "sixteen-letters1",
            "p_1",
        ] {
            assert!(bad.parse::<Port>().is_err(), "{bad:?} accepted");
        }
        let yaml = serde_yaml::to_string(&PortProtocol::tcp(53)).expect("serializes");
        assert_eq!(yaml, "port: '53'\nprotocol: TCP\n");
        serde_yaml::from_str::<PortProtocol>("port: 53\nprotocol: TCP\n").expect_err("an integer");
        serde_json::from_str::<PortProtocol>(r#"{"port": 53, "protocol": "TCP"}"#)
            .expect_err("an integer");
    }

    #[test]
    fn entities_are_the_schemas() {
        let entities = [
            (Entity::All, "all"),
            (Entity::World, "world"),
            (Entity::Cluster, "cluster"),
            (Entity::Host, "host"),
            (Entity::Init, "init"),
            (Entity::Ingress, "ingress"),
            (Entity::Unmanaged, "unmanaged"),
            (Entity::RemoteNode, "remote-node"),
            (Entity::Health, "health"),
            (Entity::None, "none"),
            (Entity::KubeApiserver, "kube-apiserver"),
        ];
        for (entity, name) in entities {
            // A match without a wildcard: a new variant fails to compile until listed here.
            match entity {
                Entity::All
                | Entity::World
                | Entity::Cluster
                | Entity::Host
                | Entity::Init
                | Entity::Ingress
                | Entity::Unmanaged
                | Entity::RemoteNode
                | Entity::Health
                | Entity::None
                | Entity::KubeApiserver => {}
            }
            assert_eq!(serde_json::to_value(entity).expect("serializes"), name);
            assert_eq!(
                serde_json::from_value::<Entity>(name.into()).expect("parses"),
                entity
            );
        }
        serde_json::from_value::<Entity>("kube-api-server".into()).expect_err("not an entity");
    }

    /// Writes the example policies for the independent verifier:
    /// `verify-manifests <the printed directory>`.
    #[test]
    fn examples_are_written_for_the_verifier() {
        let dir = std::env::temp_dir().join("dynakube-netpol-cilium-model");
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let cnp = serde_yaml::to_string(&example_cnp()).expect("serializes");
        let ccnp = serde_yaml::to_string(&example_ccnp()).expect("serializes");
        std::fs::write(dir.join("cnp.yaml"), cnp).expect("written");
        std::fs::write(dir.join("ccnp.yaml"), ccnp).expect("written");
        eprintln!("examples written to {}", dir.display());
    }
}
