//! Interned labels and compiled label selectors, so that matching compares integers.

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::error::{Error, Location};

/// Label keys, label values and port names, each mapped to a small integer once.
#[derive(Debug, Default)]
pub(super) struct Interner {
    ids: foldhash::HashMap<String, u32>,
}

impl Interner {
    /// The number of `text`, given on first sight.
    pub(super) fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.ids.len()).expect("fewer than 2^32 distinct strings");
        self.ids.insert(text.to_string(), id);
        id
    }

    /// The number of `text`, if it has one.
    pub(super) fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    /// The texts of the numbers `ids`.
    pub(super) fn texts(&self, ids: &std::collections::HashSet<u32>) -> HashSet<String> {
        (self.ids.iter())
            .filter(|(_, id)| ids.contains(id))
            .map(|(text, _)| text.clone())
            .collect()
    }
}

/// The labels of a pod or namespace as interned key and value pairs, sorted by key.
#[derive(Debug, Clone, Default)]
pub(super) struct LabelSet {
    pairs: Vec<(u32, u32)>,
}

impl LabelSet {
    /// Interns `labels`.
    pub(super) fn new(interner: &mut Interner, labels: &BTreeMap<String, String>) -> Self {
        let mut pairs: Vec<(u32, u32)> = labels
            .iter()
            .map(|(key, value)| (interner.id(key), interner.id(value)))
            .collect();
        pairs.sort_unstable();
        LabelSet { pairs }
    }

    /// The set of `pairs`, interned already, each key once.
    pub(super) fn of_pairs(mut pairs: Vec<(u32, u32)>) -> Self {
        pairs.sort_unstable();
        LabelSet { pairs }
    }

    /// The pairs, sorted by key.
    pub(super) fn pairs(&self) -> &[(u32, u32)] {
        &self.pairs
    }

    /// The value of `key`, if the set has that key.
    fn get(&self, key: u32) -> Option<u32> {
        self.pairs
            .binary_search_by_key(&key, |&(k, _)| k)
            .ok()
            .map(|i| self.pairs[i].1)
    }
}

/// One requirement of a selector, on interned strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Requirement {
    /// The key has one of these values (`matchLabels` gives a single value).
    In(u32, Vec<u32>),
    /// The key is missing or has none of these values.
    NotIn(u32, Vec<u32>),
    /// The key is present, whatever its value.
    Exists(u32),
    /// The key is missing.
    DoesNotExist(u32),
}

/// A compiled `LabelSelector`: the AND of its requirements; no requirement matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(super) struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// The numbers of the keys its requirements look at.
    pub(super) fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.requirements
            .iter()
            .map(|requirement| match requirement {
                Requirement::In(key, _)
                | Requirement::NotIn(key, _)
                | Requirement::Exists(key)
                | Requirement::DoesNotExist(key) => *key,
            })
    }

    /// Compiles `selector`, found at `location`, rejecting what the API server rejects:
    /// unknown operators, `In`/`NotIn` without values, `Exists`/`DoesNotExist` with values.
    pub(super) fn compile(
        interner: &mut Interner,
        selector: &LabelSelector,
        location: &Location,
    ) -> Result<Self, Error> {
        let mut requirements = Vec::new();
        for (key, value) in selector.match_labels.iter().flatten() {
            requirements.push(Requirement::In(interner.id(key), vec![interner.id(value)]));
        }
        for (i, expression) in selector.match_expressions.iter().flatten().enumerate() {
            let at = |field: &str| {
                location.at(format!("{}.matchExpressions[{i}]{field}", location.field))
            };
            let key = interner.id(&expression.key);
            let values = expression.values.as_deref().unwrap_or_default();
            let ids: Vec<u32> = values.iter().map(|v| interner.id(v)).collect();
            let requirement = match expression.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(Error::invalid(
                        at(".values"),
                        format!("operator {} needs at least one value", expression.operator),
                    ));
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(Error::invalid(
                        at(".values"),
                        format!("operator {} takes no values", expression.operator),
                    ));
                }
                "In" => Requirement::In(key, ids),
                "NotIn" => Requirement::NotIn(key, ids),
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::DoesNotExist(key),
                other => {
                    return Err(Error::invalid(
                        at(".operator"),
                        format!("`{other}` is not an operator (In, NotIn, Exists, DoesNotExist)"),
                    ));
                }
            };
            requirements.push(requirement);
        }
        Ok(Selector { requirements })
    }

    /// The selector of the label `key` with `value`.
    pub(super) fn label(interner: &mut Interner, key: &str, value: &str) -> Self {
        let requirement = Requirement::In(interner.id(key), vec![interner.id(value)]);
        Selector {
            requirements: vec![requirement],
        }
    }

    /// Whether the selector has no requirement and so matches everything.
    pub(super) fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether `labels` satisfy every requirement.
    pub(super) fn matches(&self, labels: &LabelSet) -> bool {
        self.requirements
            .iter()
            .all(|requirement| match requirement {
                Requirement::In(key, values) => {
                    labels.get(*key).is_some_and(|v| values.contains(&v))
                }
                Requirement::NotIn(key, values) => {
                    labels.get(*key).is_none_or(|v| !values.contains(&v))
                }
                Requirement::Exists(key) => labels.get(*key).is_some(),
                Requirement::DoesNotExist(key) => labels.get(*key).is_none(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(interner: &mut Interner, pairs: &[(&str, &str)]) -> LabelSet {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LabelSet::new(interner, &map)
    }

    fn expression(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn selector(interner: &mut Interner, expressions: Vec<LabelSelectorRequirement>) -> Selector {
        let selector = LabelSelector {
            match_expressions: Some(expressions),
            match_labels: None,
        };
        Selector::compile(
            interner,
            &selector,
            &Location::new("test", None, "selector"),
        )
        .unwrap()
    }

    #[test]
    fn operators_follow_kubernetes() {
        let mut interner = Interner::default();
        let web = labels(&mut interner, &[("app", "web"), ("tier", "front")]);
        let bare = labels(&mut interner, &[("app", "db")]);
        let not_in = selector(&mut interner, vec![expression("tier", "NotIn", &["front"])]);
        assert!(!not_in.matches(&web));
        assert!(not_in.matches(&bare), "a missing key satisfies NotIn");
        let is_in = selector(
            &mut interner,
            vec![expression("app", "In", &["web", "api"])],
        );
        assert!(is_in.matches(&web));
        assert!(!is_in.matches(&bare));
        let exists = selector(&mut interner, vec![expression("tier", "Exists", &[])]);
        assert!(exists.matches(&web));
        assert!(!exists.matches(&bare));
        let absent = selector(&mut interner, vec![expression("tier", "DoesNotExist", &[])]);
        assert!(!absent.matches(&web));
        assert!(absent.matches(&bare));
        let both = selector(
            &mut interner,
            vec![
                expression("app", "In", &["web", "db"]),
                expression("tier", "DoesNotExist", &[]),
            ],
        );
        assert!(!both.matches(&web), "requirements are ANDed");
        assert!(both.matches(&bare));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let mut interner = Interner::default();
        let selector = LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![expression("tier", "In", &["back"])]),
        };
        let selector =
            Selector::compile(&mut interner, &selector, &Location::new("t", None, "s")).unwrap();
        assert!(!selector.matches(&labels(&mut interner, &[("app", "web"), ("tier", "front")])));
        assert!(selector.matches(&labels(&mut interner, &[("app", "web"), ("tier", "back")])));
        assert!(!selector.matches(&labels(&mut interner, &[("tier", "back")])));
    }

    #[test]
    fn empty_selector_matches_everything() {
        let mut interner = Interner::default();
        let selector = Selector::compile(
            &mut interner,
            &LabelSelector::default(),
            &Location::new("t", None, ""),
        )
        .unwrap();
        assert!(selector.is_everything());
        assert!(selector.matches(&labels(&mut interner, &[])));
        assert!(selector.matches(&labels(&mut interner, &[("a", "b")])));
    }

    #[test]
    fn bad_requirements_are_errors() {
        let mut interner = Interner::default();
        let location = Location::new("NetworkPolicy a/b", None, "spec.podSelector");
        for (expression, field) in [
            (
                expression("k", "Equals", &["v"]),
                "spec.podSelector.matchExpressions[0].operator",
            ),
            (
                expression("k", "In", &[]),
                "spec.podSelector.matchExpressions[0].values",
            ),
            (
                expression("k", "Exists", &["v"]),
                "spec.podSelector.matchExpressions[0].values",
            ),
        ] {
            let selector = LabelSelector {
                match_expressions: Some(vec![expression]),
                match_labels: None,
            };
            match Selector::compile(&mut interner, &selector, &location) {
                Err(Error::Invalid { location, .. }) => assert_eq!(location.field, field),
                other => panic!("expected an error at {field}, got {other:?}"),
            }
        }
    }
}
