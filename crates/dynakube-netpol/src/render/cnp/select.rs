//! Label selectors in a form that sorts and compares, and whose overlap can be decided: what
//! priorities may be shared is decided on them (`policy.rs`).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use crate::evaluate::NAMESPACE_NAME_LABEL;
use crate::matrix::Selector;

/// A label selector: the AND of its requirements; no requirement selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Labels {
    /// Labels that must be present with one of these values (`matchLabels` for one value, an
    /// `In` expression for several).
    one_of: BTreeMap<String, BTreeSet<String>>,
    /// Labels that must not have one of these values (`NotIn`, which an object without the
    /// label passes).
    none_of: BTreeMap<String, BTreeSet<String>>,
}

impl Labels {
    /// Every object.
    pub(crate) fn everything() -> Self {
        Labels::default()
    }

    /// Objects labelled `key=value`.
    pub(crate) fn label(key: &str, value: &str) -> Self {
        Labels::default().and(key, value)
    }

    /// The namespace `name`, by the label the API server sets on every namespace.
    pub(crate) fn namespace(name: &str) -> Self {
        Labels::label(NAMESPACE_NAME_LABEL, name)
    }

    /// What a selector of the matrix selects.
    pub(crate) fn of(selector: &Selector) -> Self {
        let mut labels = Labels::default();
        for (key, value) in &selector.labels {
            labels = labels.and(key, value);
        }
        for (key, values) in &selector.one_of {
            labels.one_of.insert(key.clone(), values.clone());
        }
        labels
    }

    /// Objects labelled with every pair of `pairs`.
    pub(crate) fn pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &BTreeMap<K, V>) -> Self {
        pairs
            .iter()
            .fold(Labels::default(), |l, (k, v)| l.and(k.as_ref(), v.as_ref()))
    }

    /// These objects, but only those labelled `key=value` too.
    #[must_use]
    pub(crate) fn and(mut self, key: &str, value: &str) -> Self {
        self.one_of
            .insert(key.to_string(), BTreeSet::from([value.to_string()]));
        self
    }

    /// These objects, but not the namespace `name`.
    #[must_use]
    pub(crate) fn except_namespace(mut self, name: &str) -> Self {
        self.none_of
            .entry(NAMESPACE_NAME_LABEL.to_string())
            .or_default()
            .insert(name.to_string());
        self
    }

    /// Whether no object can be selected by both: some label is required with values the other
    /// never lets it have.
    pub(crate) fn disjoint(&self, other: &Labels) -> bool {
        let refuses = |a: &Labels, b: &Labels| {
            a.one_of.iter().any(|(key, values)| {
                b.one_of.get(key).is_some_and(|v| v.is_disjoint(values))
                    || b.none_of.get(key).is_some_and(|v| values.is_subset(v))
            })
        };
        refuses(self, other) || refuses(other, self)
    }

    /// The selector as the API writes it: `matchLabels` for labels of one value, expressions
    /// for the rest.
    pub(crate) fn selector(&self) -> LabelSelector {
        let mut match_labels = BTreeMap::new();
        let mut expressions = Vec::new();
        for (key, values) in &self.one_of {
            match values.iter().collect::<Vec<_>>().as_slice() {
                [value] => {
                    match_labels.insert(key.clone(), (*value).clone());
                }
                _ => expressions.push(requirement(key, "In", values)),
            }
        }
        for (key, values) in &self.none_of {
            expressions.push(requirement(key, "NotIn", values));
        }
        LabelSelector {
            match_labels: (!match_labels.is_empty()).then_some(match_labels),
            match_expressions: (!expressions.is_empty()).then_some(expressions),
        }
    }
}

/// The labels `labels` requires with one value, each with `namespace`.
fn pinned(namespace: bool, labels: &Labels) -> Vec<(bool, &str, &str)> {
    (labels.one_of.iter())
        .filter_map(
            |(key, values)| match values.iter().collect::<Vec<_>>()[..] {
                [value] => Some((namespace, key.as_str(), value.as_str())),
                _ => None,
            },
        )
        .collect()
}

fn requirement(key: &str, operator: &str, values: &BTreeSet<String>) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_string(),
        operator: operator.to_string(),
        values: Some(values.iter().cloned().collect()),
    }
}

/// The pods of a subject or peer: by namespace labels, and by pod labels (`None` for every pod
/// of the namespaces).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PodsOf {
    pub(crate) namespaces: Labels,
    pub(crate) pods: Option<Labels>,
}

impl PodsOf {
    /// The labels the selectors require with one value: `(true, key, value)` of the namespace
    /// selector, `(false, key, value)` of the pod selector. Two subjects that pin one label of
    /// one side to different values share no pod ([`PodsOf::disjoint`]).
    pub(crate) fn pins(&self) -> Vec<(bool, &str, &str)> {
        let mut pins = pinned(true, &self.namespaces);
        if let Some(pods) = &self.pods {
            pins.extend(pinned(false, pods));
        }
        pins
    }

    /// Whether no pod can be in both.
    pub(crate) fn disjoint(&self, other: &PodsOf) -> bool {
        let everything = Labels::everything();
        self.namespaces.disjoint(&other.namespaces)
            || self
                .pods
                .as_ref()
                .unwrap_or(&everything)
                .disjoint(other.pods.as_ref().unwrap_or(&everything))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_only_where_no_labels_match_both() {
        let ag = Labels::label("app", "activegate");
        let oa = Labels::label("app", "oneagent");
        assert!(ag.disjoint(&oa));
        assert!(!ag.disjoint(&Labels::everything()));
        assert!(!ag.disjoint(&Labels::label("tier", "x")));
        let either = Labels {
            one_of: BTreeMap::from([(
                "app".to_string(),
                BTreeSet::from(["activegate".to_string(), "old".to_string()]),
            )]),
            none_of: BTreeMap::new(),
        };
        assert!(!either.disjoint(&ag));
        assert!(either.disjoint(&oa));
        // NotIn refuses exactly its values; an object without the label passes it.
        let not_ops = Labels::everything().except_namespace("dynatrace");
        assert!(Labels::namespace("dynatrace").disjoint(&not_ops));
        assert!(!Labels::namespace("shop").disjoint(&not_ops));
        assert!(!Labels::label("team", "a").disjoint(&not_ops));
        let apps = PodsOf {
            namespaces: Labels::label("instance", "dk").except_namespace("dynatrace"),
            pods: None,
        };
        let operator = PodsOf {
            namespaces: Labels::namespace("dynatrace"),
            pods: Some(ag.clone()),
        };
        assert!(apps.disjoint(&operator));
        let agent = PodsOf {
            namespaces: Labels::namespace("dynatrace"),
            pods: Some(oa),
        };
        assert!(agent.disjoint(&operator));
        assert!(!operator.disjoint(&operator.clone()));
    }

    #[test]
    fn selectors_are_written_as_the_api_reads_them() {
        let mut labels = Labels::label("a", "1").except_namespace("ops");
        labels.one_of.insert(
            "b".into(),
            BTreeSet::from(["2".to_string(), "3".to_string()]),
        );
        let json = serde_json::to_value(labels.selector()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "matchLabels": {"a": "1"},
                "matchExpressions": [
                    {"key": "b", "operator": "In", "values": ["2", "3"]},
                    {"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": ["ops"]}
                ]
            })
        );
        assert_eq!(
            serde_json::to_value(Labels::everything().selector()).unwrap(),
            serde_json::json!({})
        );
    }
}
