//! What the API server requires of every object's metadata and of the label selectors of its
//! built-in kinds, checked as the evaluator reads policies and cluster dumps: an object the
//! API server would refuse is refused here too, naming the field, rather than answered about.
//!
//! The rules, from `k8s.io/apimachinery` (Kubernetes 1.34):
//! - `pkg/api/validation/objectmeta.go`, `ValidateObjectMetaAccessor`: `metadata.name` follows
//!   the rule of its kind (DNS subdomain for most kinds and every custom resource, DNS-1123
//!   label for a Namespace, DNS-1035 label for a Service); `metadata.namespace` of a namespaced
//!   object is a DNS-1123 label (`ValidateNamespaceName`); the labels pass `ValidateLabels`;
//!   annotation keys, lowercased, are qualified names and all annotations together take at
//!   most 256 KiB (`ValidateAnnotations`, `TotalAnnotationSizeLimitB`). A namespace given to a
//!   cluster-scoped object is not checked: the API server clears it before validating
//!   (`EnsureObjectNamespaceMatchesRequestNamespace`).
//! - `pkg/apis/meta/v1/validation/validation.go`: `ValidateLabels` (each key a qualified name,
//!   each value a label value) and `ValidateLabelSelector` (`matchLabels` as labels; each
//!   expression's key a qualified name and its values label values). Only built-in kinds get
//!   this selector check; a custom resource's selectors are what its CRD's schema allows
//!   (ClusterNetworkPolicy's, none of this; Cilium's, its own patterns).
//! - `pkg/util/validation/validation.go`: the syntax of each (`IsQualifiedName`,
//!   `IsValidLabelValue`, `IsDNS1123Label`, `IsDNS1123Subdomain`, `IsDNS1035Label`,
//!   `IsValidPortName`), in [`crate::values`] with the project's other Kubernetes syntax.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::error::{Error, Location};
use crate::values::{escape, is_dns_label, is_label_value, is_qualified_name, is_subdomain};

/// What the name of an object of some kind must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameRule {
    /// A DNS subdomain (`NameIsDNSSubdomain`): most kinds, and every custom resource.
    Subdomain,
    /// A DNS-1123 label (`NameIsDNSLabel`): a Namespace.
    Label,
    /// A DNS-1035 label (`NameIsDNS1035Label`): a Service.
    Dns1035,
}

impl NameRule {
    /// Whether `name` follows the rule.
    pub(crate) fn allows(self, name: &str) -> bool {
        match self {
            NameRule::Subdomain => is_subdomain(name),
            NameRule::Label => is_dns_label(name),
            NameRule::Dns1035 => {
                is_dns_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase())
            }
        }
    }

    /// What the rule allows, in words.
    fn words(self) -> &'static str {
        match self {
            NameRule::Subdomain => {
                "a DNS subdomain: lowercase letters, digits, `-` and `.`, each part beginning and ending with a letter or digit, at most 253"
            }
            NameRule::Label => {
                "a DNS label: lowercase letters, digits and `-`, beginning and ending with a letter or digit, at most 63"
            }
            NameRule::Dns1035 => {
                "a DNS-1035 label: lowercase letters, digits and `-`, beginning with a letter and ending with a letter or digit, at most 63"
            }
        }
    }
}

/// The parts of an object's `metadata` the API server checks and the evaluator reads, as
/// given (an empty name or namespace is none).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Metadata<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) namespace: Option<&'a str>,
    pub(crate) labels: Option<&'a BTreeMap<String, String>>,
    pub(crate) annotations: Option<&'a BTreeMap<String, String>>,
}

impl<'a> Metadata<'a> {
    /// The parts of `metadata`, as the built-in kinds and ClusterNetworkPolicy have it.
    pub(crate) fn of(metadata: &'a ObjectMeta) -> Self {
        Metadata {
            name: metadata.name.as_deref(),
            namespace: metadata.namespace.as_deref(),
            labels: metadata.labels.as_ref(),
            annotations: metadata.annotations.as_ref(),
        }
    }
}

/// Whether objects of a kind live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Namespaced,
    Cluster,
}

/// The most the annotations of one object take, keys and values together
/// (`TotalAnnotationSizeLimitB`).
const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// Checks `metadata`, found at `location` (whose field is the object's), as the API server
/// checks an object of a kind of `scope` whose names follow `rule`, and gives its name and,
/// for a namespaced kind, its namespace; either missing is an error. A cluster-scoped
/// object's namespace is neither checked nor given: the API server clears it.
///
/// The checks build no location unless they fail: a dump's 150,000 pods pass through them.
pub(crate) fn check<'a>(
    location: &Location,
    metadata: &Metadata<'a>,
    (scope, rule): (Scope, NameRule),
) -> Result<(&'a str, Option<&'a str>), Error> {
    let given = |field: &str, value: Option<&'a str>| {
        (value.filter(|v| !v.is_empty()))
            .ok_or_else(|| Error::invalid(location.join(field), "is missing"))
    };
    let name = given("metadata.name", metadata.name)?;
    check_name(location, "metadata.name", name, rule)?;
    let namespace = match scope {
        Scope::Cluster => None,
        Scope::Namespaced => Some(given("metadata.namespace", metadata.namespace)?),
    };
    if let Some(namespace) = namespace {
        check_name(location, "metadata.namespace", namespace, NameRule::Label)?;
    }
    if let Some(labels) = metadata.labels {
        check_labels(location, "metadata.labels", labels)?;
    }
    if let Some(annotations) = metadata.annotations {
        let at = || location.join("metadata.annotations");
        let mut size = 0;
        for (key, value) in annotations {
            if !is_qualified_name(&key.to_ascii_lowercase()) {
                return Err(Error::invalid(
                    at(),
                    format!("`{}` is not an annotation key ({QUALIFIED})", escape(key)),
                ));
            }
            size += key.len() + value.len();
        }
        if size > ANNOTATIONS_LIMIT {
            return Err(Error::invalid(
                at(),
                format!(
                    "take {size} bytes, more than the {ANNOTATIONS_LIMIT} the API server accepts"
                ),
            ));
        }
    }
    Ok((name, namespace))
}

/// Checks that `name`, the value of `field` of the object at `location`, follows `rule`.
pub(crate) fn check_name(
    location: &Location,
    field: &str,
    name: &str,
    rule: NameRule,
) -> Result<(), Error> {
    if rule.allows(name) {
        return Ok(());
    }
    Err(Error::invalid(
        location.join(field),
        format!("`{}` is not {}", escape(name), rule.words()),
    ))
}

/// Checks `labels`, the value of `field` of the object at `location` (`ValidateLabels`).
pub(crate) fn check_labels(
    location: &Location,
    field: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), Error> {
    for (key, value) in labels {
        check_key(location, field, key)?;
        check_value(location, field, value, Some(key))?;
    }
    Ok(())
}

/// Checks the syntax of the label selector of a built-in kind found at `location`
/// (`ValidateLabelSelector`; its operators are checked where it is compiled).
pub(crate) fn check_selector(location: &Location, selector: &LabelSelector) -> Result<(), Error> {
    if let Some(labels) = &selector.match_labels {
        check_labels(location, "matchLabels", labels)?;
    }
    for (i, expression) in selector.match_expressions.iter().flatten().enumerate() {
        let field = |name: &str| format!("matchExpressions[{i}].{name}");
        if !is_qualified_name(&expression.key) {
            check_key(location, &field("key"), &expression.key)?;
        }
        for (j, value) in expression.values.iter().flatten().enumerate() {
            if !is_label_value(value) {
                check_value(location, &field(&format!("values[{j}]")), value, None)?;
            }
        }
    }
    Ok(())
}

/// What a qualified name is, in words.
const QUALIFIED: &str = "a name of at most 63 letters, digits, `-`, `_` and `.`, beginning and ending with a letter or digit, after an optional DNS subdomain and `/`";

/// Checks that `key` is a label key, in `field` of the object at `location`.
fn check_key(location: &Location, field: &str, key: &str) -> Result<(), Error> {
    if is_qualified_name(key) {
        return Ok(());
    }
    Err(Error::invalid(
        location.join(field),
        format!("`{}` is not a label key ({QUALIFIED})", escape(key)),
    ))
}

/// Checks that `value` (of the label `key`, where there is one) is a label value, in `field`
/// of the object at `location`.
fn check_value(
    location: &Location,
    field: &str,
    value: &str,
    key: Option<&str>,
) -> Result<(), Error> {
    if is_label_value(value) {
        return Ok(());
    }
    let of = key
        .map(|key| format!(" (of `{}`)", escape(key)))
        .unwrap_or_default();
    Err(Error::invalid(
        location.join(field),
        format!(
            "`{}`{of} is not a label value (at most 63 letters, digits, `-`, `_` and `.`, beginning and ending with a letter or digit)",
            escape(value)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_api_servers_expressions() {
        for (text, subdomain, label, dns1035) in [
            ("web", true, true, true),
            ("web-0", true, true, true),
            ("0web", true, true, false),
            ("a.b", true, false, false),
            ("Web", false, false, false),
            ("web-", false, false, false),
            ("-web", false, false, false),
            ("a..b", false, false, false),
            ("a_b", false, false, false),
            ("", false, false, false),
            ("a\nb", false, false, false),
            ("a--b", true, true, true),
            ("a.-b", false, false, false),
            ("a-.b", false, false, false),
            (".a", false, false, false),
            ("a.", false, false, false),
        ] {
            assert_eq!(NameRule::Subdomain.allows(text), subdomain, "{text:?}");
            assert_eq!(NameRule::Label.allows(text), label, "{text:?}");
            assert_eq!(NameRule::Dns1035.allows(text), dns1035, "{text:?}");
        }
        let long_part = "a".repeat(64);
        assert!(is_subdomain(&format!("{long_part}.b")));
        assert!(!is_dns_label(&long_part));
        assert!(is_subdomain(&["a"; 127].join(".")));
        assert!(!is_subdomain(&format!("{}.ab", ["a"; 126].join("."))));
    }

    fn meta<'a>(
        labels: Option<&'a BTreeMap<String, String>>,
        annotations: Option<&'a BTreeMap<String, String>>,
    ) -> Metadata<'a> {
        Metadata {
            name: Some("p"),
            namespace: Some("x"),
            labels,
            annotations,
        }
    }

    #[test]
    fn metadata_errors_name_the_field() {
        use Scope::{Cluster, Namespaced};
        let location = Location::new("f.yaml", Some(1), "");
        let field = |metadata: Metadata<'_>, kind| match check(&location, &metadata, kind) {
            Ok(_) => None,
            Err(Error::Invalid {
                location, reason, ..
            }) => Some((location.field, reason)),
            Err(other) => panic!("{other}"),
        };
        let subdomain = (Namespaced, NameRule::Subdomain);
        assert_eq!(field(meta(None, None), subdomain), None);
        assert_eq!(
            check(&location, &meta(None, None), subdomain).unwrap(),
            ("p", Some("x"))
        );
        let named = |name, namespace| Metadata {
            name,
            namespace,
            ..meta(None, None)
        };
        // Missing, empty, or against the rule of the kind; a cluster-scoped object's
        // namespace is neither required nor checked, nor given.
        for (metadata, kind, at) in [
            (named(None, Some("x")), subdomain, "metadata.name"),
            (named(Some(""), Some("x")), subdomain, "metadata.name"),
            (named(Some("p"), None), subdomain, "metadata.namespace"),
            (
                named(Some("a.b"), None),
                (Cluster, NameRule::Label),
                "metadata.name",
            ),
            (
                named(Some("a-b"), Some("X")),
                (Namespaced, NameRule::Label),
                "metadata.namespace",
            ),
        ] {
            assert_eq!(field(metadata, kind).unwrap().0, at, "{metadata:?}");
        }
        let clusterwide = named(Some("a-b"), Some("X"));
        assert_eq!(
            check(&location, &clusterwide, (Cluster, NameRule::Dns1035)).unwrap(),
            ("a-b", None)
        );
        let labels = BTreeMap::from([("app".to_string(), "web server".to_string())]);
        let (at, reason) = field(meta(Some(&labels), None), subdomain).unwrap();
        assert_eq!(at, "metadata.labels");
        assert!(
            reason.contains("`web server` (of `app`) is not a label value"),
            "{reason}"
        );
        let annotations = BTreeMap::from([(
            "Example.com/Note".to_string(),
            "x".repeat(ANNOTATIONS_LIMIT - 16),
        )]);
        assert_eq!(field(meta(None, Some(&annotations)), subdomain), None);
        for annotations in [
            BTreeMap::from([(
                "example.com/note".to_string(),
                "x".repeat(ANNOTATIONS_LIMIT),
            )]),
            BTreeMap::from([("note me".to_string(), String::new())]),
        ] {
            let at = field(meta(None, Some(&annotations)), subdomain).unwrap().0;
            assert_eq!(at, "metadata.annotations");
        }
    }

    #[test]
    fn selectors_of_built_in_kinds_are_checked_field_by_field() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
        let location = Location::new("f.yaml", Some(1), "spec.podSelector");
        let field = |selector: &LabelSelector| match check_selector(&location, selector) {
            Ok(()) => None,
            Err(Error::Invalid { location, .. }) => Some(location.field),
            Err(other) => panic!("{other}"),
        };
        let expression = |key: &str, values: &[&str]| LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: key.to_string(),
                operator: "In".to_string(),
                values: Some(values.iter().map(ToString::to_string).collect()),
            }]),
            ..LabelSelector::default()
        };
        assert_eq!(field(&expression("app", &["a", ""])), None);
        assert_eq!(
            field(&expression("app", &["a", "b c"])).as_deref(),
            Some("spec.podSelector.matchExpressions[0].values[1]")
        );
        assert_eq!(
            field(&expression("a b", &["a"])).as_deref(),
            Some("spec.podSelector.matchExpressions[0].key")
        );
        let labels = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".to_string(), "a/b".to_string())])),
            ..LabelSelector::default()
        };
        assert_eq!(
            field(&labels).as_deref(),
            Some("spec.podSelector.matchLabels")
        );
    }
}
