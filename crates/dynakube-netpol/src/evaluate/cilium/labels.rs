//! Cilium labels and endpoint selectors: labels carry a source (`k8s`, `reserved`, ...), and a
//! selector key names a source or, without one, any source.
//!
//! Documentation: `Documentation/security/policy/intro.rst` ("Endpoint Selector", "Node
//! Selector": Kubernetes label selectors over the labels of endpoints and nodes) and
//! `Documentation/security/policy/kubernetes.rst` ("Namespaces"). The label syntax (`source:key`,
//! no source meaning any) is that of Cilium's `pkg/labels`, and which pod labels become identity
//! labels is the default filter of `pkg/labelsfilter` (documented in
//! `Documentation/operations/performance/scalability/identity-relevant-labels.rst`).

use std::fmt;
use std::sync::Arc;

use super::raw::{self, Operator};
use crate::error::{Error, Location};

/// The source of Kubernetes labels.
pub(crate) const K8S: &str = "k8s";
/// The source of Cilium's reserved labels (entities).
pub(crate) const RESERVED: &str = "reserved";

/// The identity label of an endpoint's namespace.
pub(crate) const NAMESPACE: &str = "io.kubernetes.pod.namespace";
/// The prefix of the identity labels that copy the labels of an endpoint's namespace.
pub(crate) const NAMESPACE_LABELS: &str = "io.cilium.k8s.namespace.labels";
/// The identity label of an endpoint's service account.
pub(crate) const SERVICE_ACCOUNT: &str = "io.cilium.k8s.policy.serviceaccount";
/// The identity label of an endpoint's cluster.
pub(crate) const CLUSTER: &str = "io.cilium.k8s.policy.cluster";

/// One label: source, key, value (empty for reserved labels). Key and value are shared: the
/// labels of a namespace are every endpoint's there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Label {
    /// The source: [`K8S`] or [`RESERVED`] (identities know no other).
    pub(crate) source: &'static str,
    /// The key, without source.
    pub(crate) key: Arc<str>,
    /// The value.
    pub(crate) value: Arc<str>,
}

impl Label {
    /// A label of `source`.
    pub(crate) fn new(source: &'static str, key: &str, value: &str) -> Self {
        Label {
            source,
            key: Arc::from(key),
            value: Arc::from(value),
        }
    }

    /// A reserved label such as `reserved:host`.
    pub(crate) fn reserved(name: &str) -> Self {
        Label::new(RESERVED, name, "")
    }
}

/// The labels of an identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Labels(pub(crate) Vec<Label>);

impl Labels {
    /// The values of `key` among labels of `source` (any source when `None`).
    fn values<'a>(
        &'a self,
        source: Option<&'a str>,
        key: &'a str,
    ) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |l| &*l.key == key && source.is_none_or(|s| s == l.source))
            .map(|l| &*l.value)
    }

    /// Whether a label of `source` (any when `None`) has `key`.
    pub(crate) fn has(&self, source: Option<&str>, key: &str) -> bool {
        self.values(source, key).next().is_some()
    }

    /// Whether the reserved label `name` is among the labels.
    pub(crate) fn has_reserved(&self, name: &str) -> bool {
        self.has(Some(RESERVED), name)
    }
}

impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .0
            .iter()
            .map(|l| format!("{}:{}={}", l.source, l.key, l.value))
            .collect();
        f.write_str(&shown.join(","))
    }
}

/// A selector key: a source, or any source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    /// The source; `None` for any.
    pub(crate) source: Option<String>,
    /// The key without source.
    pub(crate) name: String,
}

impl Key {
    /// The key `text` as Cilium reads it: `source:key`, `$name` for `reserved:name`, and
    /// `key` or `any:key` for any source.
    pub(crate) fn parse(text: &str) -> Self {
        if let Some(name) = text.strip_prefix('$') {
            return Key {
                source: Some(RESERVED.into()),
                name: name.into(),
            };
        }
        match text.split_once(':') {
            Some(("any", name)) => Key {
                source: None,
                name: name.into(),
            },
            Some((source, name)) => Key {
                source: Some(source.into()),
                name: name.into(),
            },
            None => Key {
                source: None,
                name: text.into(),
            },
        }
    }

    /// Whether the key is `name` of source `k8s` or of any source.
    pub(crate) fn is_k8s(&self, name: &str) -> bool {
        self.name == name && self.source.as_deref().is_none_or(|s| s == K8S)
    }
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Requirement {
    /// The key has one of the values.
    In(Key, Vec<String>),
    /// The key is missing or has none of the values.
    NotIn(Key, Vec<String>),
    /// The key is present.
    Exists(Key),
    /// The key is missing.
    DoesNotExist(Key),
}

impl Requirement {
    /// The key of the requirement.
    pub(crate) fn key(&self) -> &Key {
        match self {
            Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::DoesNotExist(k) => k,
        }
    }

    /// The requirement with the key `f` makes of its own.
    pub(crate) fn with_key(&self, f: impl Fn(&Key) -> Key) -> Requirement {
        match self {
            Requirement::In(k, values) => Requirement::In(f(k), values.clone()),
            Requirement::NotIn(k, values) => Requirement::NotIn(f(k), values.clone()),
            Requirement::Exists(k) => Requirement::Exists(f(k)),
            Requirement::DoesNotExist(k) => Requirement::DoesNotExist(f(k)),
        }
    }

    fn matches(&self, labels: &Labels) -> bool {
        let key = self.key();
        let mut values = labels.values(key.source.as_deref(), &key.name);
        match self {
            Requirement::In(_, wanted) => values.any(|v| wanted.iter().any(|w| w == v)),
            Requirement::NotIn(_, wanted) => !values.any(|v| wanted.iter().any(|w| w == v)),
            Requirement::Exists(_) => values.next().is_some(),
            Requirement::DoesNotExist(_) => values.next().is_none(),
        }
    }
}

/// A compiled endpoint or node selector: the AND of its requirements; none selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Selector {
    /// The requirements.
    pub(crate) requirements: Vec<Requirement>,
}

impl Selector {
    /// Whether the selector matches the Kubernetes labels `labels` of an object that is not an
    /// endpoint (a Service, a CiliumCIDRGroup), whatever source its keys name: the agent
    /// matches those without sources (`labelsMatcher` of `toServices`; a group's labels take
    /// the source the selector is given).
    pub(crate) fn matches_any_source(
        &self,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> bool {
        let any_source = Selector {
            requirements: (self.requirements.iter())
                .map(|r| {
                    r.with_key(|k| Key {
                        source: None,
                        name: k.name.clone(),
                    })
                })
                .collect(),
        };
        let labels = Labels(
            (labels.iter())
                .map(|(k, v)| Label::new(K8S, k, v))
                .collect(),
        );
        any_source.matches(&labels)
    }

    /// Compiles `raw`, found at `location`, refusing what Kubernetes' label selector validation
    /// (which Cilium's agent applies to every selector) refuses: `In` and `NotIn` without
    /// values, `Exists` and `DoesNotExist` with values, and an empty key.
    pub(super) fn compile(raw: &raw::Selector, location: &Location) -> Result<Self, Error> {
        let mut requirements = Vec::new();
        for (key, value) in raw.match_labels.iter().flatten() {
            let at = location.join(&format!("matchLabels.{key}"));
            check_key(key, &at)?;
            check_value(value, &at)?;
            requirements.push(Requirement::In(Key::parse(key), vec![value.clone()]));
        }
        for (i, expression) in raw.match_expressions.iter().flatten().enumerate() {
            let at = location.join(&format!("matchExpressions[{i}]"));
            check_key(&expression.key, &at.join("key"))?;
            let key = Key::parse(&expression.key);
            let values = expression.values.clone().unwrap_or_default();
            let requirement = match (expression.operator, values.is_empty()) {
                (Operator::In | Operator::NotIn, true) => {
                    return Err(Error::invalid(
                        at.join("values"),
                        format!(
                            "operator {:?} needs at least one value",
                            expression.operator
                        ),
                    ));
                }
                (Operator::Exists | Operator::DoesNotExist, false) => {
                    return Err(Error::invalid(
                        at.join("values"),
                        format!("operator {:?} takes no values", expression.operator),
                    ));
                }
                (Operator::In, false) => Requirement::In(key, values),
                (Operator::NotIn, false) => Requirement::NotIn(key, values),
                (Operator::Exists, true) => Requirement::Exists(key),
                (Operator::DoesNotExist, true) => Requirement::DoesNotExist(key),
            };
            requirements.push(requirement);
        }
        Ok(Selector { requirements })
    }

    /// The selector that requires exactly `labels` (`matchLabels` only).
    #[cfg(test)]
    pub(crate) fn of_labels(labels: &[(&str, &str)]) -> Self {
        Selector {
            requirements: labels
                .iter()
                .map(|(k, v)| Requirement::In(Key::parse(k), vec![(*v).to_string()]))
                .collect(),
        }
    }

    /// Whether `labels` satisfy every requirement.
    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether a requirement has a key that `test` accepts.
    pub(crate) fn has_key(&self, test: impl Fn(&Key) -> bool) -> bool {
        self.requirements.iter().any(|r| test(r.key()))
    }
}

/// A key must not be empty.
pub(super) fn check_key(key: &str, location: &Location) -> Result<(), Error> {
    if key.is_empty() || key.ends_with(':') {
        return Err(Error::invalid(
            location.clone(),
            "a label key cannot be empty",
        ));
    }
    Ok(())
}

/// A `matchLabels` value, as the schema's pattern `^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
/// and `maxLength: 63` require.
pub(super) fn check_value(value: &str, location: &Location) -> Result<(), Error> {
    if crate::values::is_label_value(value) {
        Ok(())
    } else {
        Err(Error::invalid(
            location.clone(),
            format!(
                "`{value}` is not a label value (at most 63 letters, digits, `-`, `_` and `.`, beginning and ending with a letter or digit)"
            ),
        ))
    }
}

/// Whether Cilium's default label filter keeps the label `key` of an endpoint as an identity
/// label.
///
/// The filter's default prefixes, as the current agent sets them (`pkg/labelsfilter/filter.go`,
/// `defaultLabelPrefixCfg`; `identity-relevant-labels.rst` lists the older ones): kept are
/// `io.kubernetes.pod.namespace`, `io.cilium.k8s.namespace.labels`, `app.kubernetes.io`,
/// `io.cilium.k8s.policy.cluster` and `io.cilium.k8s.policy.serviceaccount`; left out are keys
/// beginning with `io.kubernetes`, `kubernetes.io`, `k8s.io`, `topology.kubernetes.io`,
/// `pod-template-generation`, `pod-template-hash`, `controller-revision-hash`,
/// `controller-uid`, `annotation`, `etcd_node`, the labels Kubernetes gives a pod of its own
/// (`statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`,
/// `batch.kubernetes.io/job-completion-index`, `batch.kubernetes.io/controller-uid`), and keys
/// containing `beta.kubernetes.io`. A key that both lists match is kept when the kept prefix
/// is the longer match. A selector on a left-out label selects no pod: Cilium never sees the
/// label. Decision: the current agent's list, as for `**.` and `toServices`; the agent of 1.16
/// kept the four labels of a pod's own and the topology labels.
pub(crate) fn identity_relevant(key: &str) -> bool {
    const KEPT: [&str; 5] = [
        NAMESPACE,
        NAMESPACE_LABELS,
        "app.kubernetes.io",
        CLUSTER,
        SERVICE_ACCOUNT,
    ];
    const LEFT_OUT: [&str; 14] = [
        "io.kubernetes",
        "kubernetes.io",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "batch.kubernetes.io/job-completion-index",
        "batch.kubernetes.io/controller-uid",
        "k8s.io",
        "pod-template-generation",
        "pod-template-hash",
        "controller-revision-hash",
        "controller-uid",
        "annotation",
        "etcd_node",
        "topology.kubernetes.io",
    ];
    let kept = KEPT
        .iter()
        .filter(|p| key.starts_with(*p))
        .map(|p| p.len())
        .max()
        .unwrap_or(0);
    let mut left_out: Option<usize> = LEFT_OUT
        .iter()
        .filter(|p| key.starts_with(*p))
        .map(|p| p.len())
        .min();
    // `.*beta\.kubernetes\.io` matches from the start of the key to the end of its first
    // occurrence.
    if let Some(at) = key.find("beta.kubernetes.io") {
        let length = at + "beta.kubernetes.io".len();
        left_out = Some(left_out.map_or(length, |l| l.min(length)));
    }
    match left_out {
        None => true,
        Some(left_out) => kept > left_out,
    }
}

/// The prefix of the labels Cilium owns: a pod's own labels of this prefix are dropped
/// (`RemoveCiliumLabels`), so that no pod claims another's namespace or service account.
const CILIUM_OWNED: &str = "io.cilium.k8s";

/// The Kubernetes labels of a pod that Cilium keeps as identity labels of its endpoint:
/// `SanitizePodLabels` (`pkg/k8s/utils/utils.go`) drops those of the prefix Cilium owns and
/// sets the namespace label itself, then the label filter ([`identity_relevant`]) applies.
pub(crate) fn own_identity_labels<'a, I>(labels: I) -> impl Iterator<Item = (&'a str, &'a str)>
where
    I: IntoIterator<Item = (&'a String, &'a String)>,
{
    labels
        .into_iter()
        .filter(|(key, _)| {
            !key.starts_with(CILIUM_OWNED) && key.as_str() != NAMESPACE && identity_relevant(key)
        })
        .map(|(key, value)| (key.as_str(), value.as_str()))
}

/// The identity labels an endpoint has of its namespace `name` with `labels`: the namespace
/// label and each label of the namespace under [`NAMESPACE_LABELS`] (with the name label the
/// API server sets, when the labels given lack it), as the label filter keeps them.
pub(crate) fn namespace_identity_labels(
    name: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let mut out = vec![(NAMESPACE.to_string(), name.to_string())];
    let name_label = crate::evaluate::NAMESPACE_NAME_LABEL;
    let missing = (!labels.contains_key(name_label)).then_some((name_label, name));
    let pairs = (labels.iter())
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .chain(missing);
    for (key, value) in pairs {
        let key = format!("{NAMESPACE_LABELS}.{key}");
        if identity_relevant(&key) {
            out.push((key, value.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&'static str, &str, &str)]) -> Labels {
        Labels(pairs.iter().map(|(s, k, v)| Label::new(s, k, v)).collect())
    }

    #[test]
    fn keys_name_a_source_or_any() {
        assert_eq!(Key::parse("app").source, None);
        assert_eq!(Key::parse("any:app").source, None);
        assert_eq!(Key::parse("k8s:app").source.as_deref(), Some("k8s"));
        let reserved = Key::parse("$host");
        assert_eq!(
            (reserved.source.as_deref(), reserved.name.as_str()),
            (Some("reserved"), "host")
        );
        assert!(Key::parse("io.kubernetes.pod.namespace").is_k8s(NAMESPACE));
        assert!(!Key::parse("reserved:io.kubernetes.pod.namespace").is_k8s(NAMESPACE));
    }

    #[test]
    fn a_key_without_source_matches_every_source() {
        let pod = labels(&[("k8s", "app", "web"), ("reserved", "host", "")]);
        assert!(Selector::of_labels(&[("app", "web")]).matches(&pod));
        assert!(Selector::of_labels(&[("k8s:app", "web")]).matches(&pod));
        assert!(!Selector::of_labels(&[("container:app", "web")]).matches(&pod));
        assert!(Selector::of_labels(&[("reserved:host", "")]).matches(&pod));
        assert!(
            Selector::default().matches(&pod),
            "the empty selector selects all"
        );
    }

    #[test]
    fn operators_follow_kubernetes() {
        let pod = labels(&[("k8s", "tier", "front")]);
        let one = |op: Requirement| Selector {
            requirements: vec![op],
        };
        let key = || Key::parse("tier");
        assert!(!one(Requirement::NotIn(key(), vec!["front".into()])).matches(&pod));
        assert!(one(Requirement::NotIn(Key::parse("app"), vec!["x".into()])).matches(&pod));
        assert!(one(Requirement::Exists(key())).matches(&pod));
        assert!(one(Requirement::DoesNotExist(Key::parse("app"))).matches(&pod));
        assert!(one(Requirement::In(key(), vec!["back".into(), "front".into()])).matches(&pod));
    }

    #[test]
    fn bad_selectors_are_refused_with_their_field() {
        let location = Location::new("p.yaml", Some(1), "spec.endpointSelector");
        let raw: raw::Selector =
            serde_yaml::from_str("matchExpressions: [{key: app, operator: In}]").unwrap();
        let error = Selector::compile(&raw, &location).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("spec.endpointSelector.matchExpressions[0].values"),
            "{error}"
        );
        let raw: raw::Selector = serde_yaml::from_str("matchLabels: {app: -web}").unwrap();
        let error = Selector::compile(&raw, &location).unwrap_err();
        assert!(error.to_string().contains("matchLabels.app"), "{error}");
    }

    #[test]
    fn the_label_filter_keeps_what_cilium_keeps() {
        for kept in [
            "app",
            "app.kubernetes.io/name",
            "k8s-app",
            "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name",
            "io.cilium.k8s.policy.serviceaccount",
        ] {
            assert!(identity_relevant(kept), "{kept}");
        }
        for left_out in [
            "pod-template-hash",
            "controller-revision-hash",
            "kubernetes.io/metadata.name",
            "io.kubernetes.container.name",
            "failure-domain.beta.kubernetes.io/zone",
            "k8s.io/x",
            "statefulset.kubernetes.io/pod-name",
            "batch.kubernetes.io/job-completion-index",
            "controller-uid",
            "topology.kubernetes.io/zone",
            "io.cilium.k8s.namespace.labels.beta.kubernetes.io/arch",
        ] {
            assert!(!identity_relevant(left_out), "{left_out}");
        }
    }
}
