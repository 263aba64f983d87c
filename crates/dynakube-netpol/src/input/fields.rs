//! Every field of DynaKube and EdgeConnect, per API version, so that a misspelled field is
//! found instead of silently ignored.
//!
//! The Kubernetes API server refuses (with `kubectl apply`'s strict field validation) any field
//! that a CRD's `openAPIV3Schema` does not declare. This module knows the same fields from lists
//! kept in the crate, one file per kind and API version under `input/fields/`, which `cargo
//! xtask fields` writes from the operator's CRDs (`fixtures/schemas/dynatrace/<release>/` of the
//! repository, the newest patch of every release line the tool supports). A list is the union
//! over every one of these releases whose CRD serves that version.
//!
//! # Notation
//!
//! One field per line, sorted:
//!
//! - `spec.activeGate.group`: field `group` of the object `spec.activeGate`;
//! - `spec.activeGate.capabilities[]`: an array; what follows `[]` belongs to its items, as in
//!   `spec.activeGate.tolerations[].effect`;
//! - `spec.activeGate.labels{}`: a map whose keys are free; what follows `{}` belongs to its
//!   values;
//! - `status.oneAgent.healthcheck.*`: a field under which anything is accepted
//!   (`x-kubernetes-preserve-unknown-fields: true`);
//! - a field with nothing below it declares no fields of its own: any key in it is unknown.
//!   That is what the API server does with an object schema without properties (for example
//!   `spec.kspm` in v1beta3, or the `metadata` of a volume claim template, which the CRDs do
//!   not spell out); for a field of another type, a mapping is wrong anyway.
//!
//! # What the lists do not say
//!
//! A CRD declares `metadata` only as an object: the API server checks it as a Kubernetes
//! `ObjectMeta`, whose fields this module adds to every list ([`OBJECT_META`]). `status` is
//! written by the operator, not by the user: anything is accepted under it, so that the output
//! of a newer operator is never refused, although the lists keep its fields.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_yaml::Value;

/// A field the resource's API version does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownField {
    /// Dotted path with indices, relative to the resource: `spec.activeGate.capabilites`,
    /// `spec.extensions.databases[0].idd`. The keys are the input's own: quote them with
    /// [`Shown`](crate::values::Shown) before they reach a message.
    pub(crate) path: String,
    /// A hint for the message, such as "did you mean `capabilities`?" (the nearest declared
    /// sibling, when it is close enough) or "exists in dynatrace.com/v1beta4 and later" (when
    /// another version of the kind declares the same path), or both, joined by "; ". None when
    /// there is nothing useful to say.
    pub(crate) hint: Option<String>,
}

/// One field list kept in the crate: the resource version it describes, its file and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldList {
    /// The kind, `DynaKube` or `EdgeConnect`.
    pub(crate) kind: &'static str,
    /// The full API version, such as `dynatrace.com/v1beta6`.
    pub(crate) api_version: &'static str,
    /// The file name under `crates/dynakube-netpol/src/input/fields/`.
    pub(crate) file: &'static str,
    /// The file's text.
    pub(crate) text: &'static str,
}

/// A field list of `kind` for version `version` of `dynatrace.com`, from `file`.
macro_rules! field_list {
    ($kind:literal, $version:literal, $file:literal) => {
        FieldList {
            kind: $kind,
            api_version: concat!("dynatrace.com/", $version),
            file: $file,
            text: include_str!(concat!("fields/", $file)),
        }
    };
}

/// Every field list, the versions of each kind from oldest to newest.
pub(crate) const FIELD_LISTS: [FieldList; 6] = [
    field_list!("DynaKube", "v1beta3", "dynakube-v1beta3.txt"),
    field_list!("DynaKube", "v1beta4", "dynakube-v1beta4.txt"),
    field_list!("DynaKube", "v1beta5", "dynakube-v1beta5.txt"),
    field_list!("DynaKube", "v1beta6", "dynakube-v1beta6.txt"),
    field_list!("EdgeConnect", "v1alpha1", "edgeconnect-v1alpha1.txt"),
    field_list!("EdgeConnect", "v1alpha2", "edgeconnect-v1alpha2.txt"),
];

/// The fields of Kubernetes `ObjectMeta` a resource may carry, in the notation of the lists.
/// Owner references and managed fields are written by Kubernetes and its clients: their items
/// are not checked.
const OBJECT_META: [&str; 15] = [
    "metadata.annotations{}",
    "metadata.creationTimestamp",
    "metadata.deletionGracePeriodSeconds",
    "metadata.deletionTimestamp",
    "metadata.finalizers[]",
    "metadata.generateName",
    "metadata.generation",
    "metadata.labels{}",
    "metadata.managedFields.*",
    "metadata.name",
    "metadata.namespace",
    "metadata.ownerReferences.*",
    "metadata.resourceVersion",
    "metadata.selfLink",
    "metadata.uid",
];

/// The field paths the list of `kind` at `api_version` holds, as the CRDs declare them (without
/// the object metadata and the decision on `status`), sorted; empty for a version without a list.
pub fn known_field_paths(kind: &str, api_version: &str) -> Vec<String> {
    let mut paths = Vec::new();
    if let Some(version) = TREES
        .iter()
        .find(|v| v.list.kind == kind && v.list.api_version == api_version)
    {
        version.declared.render("", &mut paths);
    }
    paths.sort();
    paths
}

/// The fields of `value` (a whole resource) that `api_version` of `kind` does not declare, in
/// document order. Empty for a kind or version without a list: the caller refuses those.
///
/// Only the first unknown key of a path is reported, not the keys below it. Keys of maps
/// (`labels`) and everything under `status` and preserved subtrees are free.
pub(crate) fn unknown_fields(kind: &str, api_version: &str, value: &Value) -> Vec<UnknownField> {
    let Some(current) = TREES
        .iter()
        .position(|v| v.list.kind == kind && v.list.api_version == api_version)
    else {
        return Vec::new();
    };
    let mut walk = Walk {
        current,
        path: Vec::new(),
        found: Vec::new(),
    };
    walk.visit(&TREES[current].checked, value);
    walk.found
}

/// A field list read into trees.
struct Version {
    /// The list.
    list: FieldList,
    /// The fields of the list alone.
    declared: Node,
    /// The fields checked: the list's, `ObjectMeta`'s, and anything under `status`.
    checked: Node,
}

/// Every field list as trees, read once.
static TREES: LazyLock<Vec<Version>> = LazyLock::new(|| {
    FIELD_LISTS
        .iter()
        .map(|&list| {
            let mut declared = Node::default();
            for line in lines(list.text) {
                declared.insert(line);
            }
            let mut checked = declared.clone();
            for line in OBJECT_META {
                checked.insert(line);
            }
            checked.fields.entry("status".to_owned()).or_default().free = true;
            Version {
                list,
                declared,
                checked,
            }
        })
        .collect()
});

/// The field paths of a list's text: every line but comments and empty ones.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// One step of a path in the notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step<'a> {
    /// A field of an object.
    Field(&'a str),
    /// The items of an array (`[]`).
    Items,
    /// The values of a map (`{}`).
    Values,
    /// Anything below (`.*`).
    Free,
}

/// The steps of a path in the notation, or None when it is not one.
fn steps(line: &str) -> Option<Vec<Step<'_>>> {
    let mut steps = Vec::new();
    for part in line.split('.') {
        if part == "*" {
            steps.push(Step::Free);
            continue;
        }
        let end = part.find(['[', '{']).unwrap_or(part.len());
        let (name, mut shape) = part.split_at(end);
        if name.is_empty() || name.contains([']', '}', '*']) {
            return None;
        }
        steps.push(Step::Field(name));
        while !shape.is_empty() {
            if let Some(rest) = shape.strip_prefix("[]") {
                steps.push(Step::Items);
                shape = rest;
            } else if let Some(rest) = shape.strip_prefix("{}") {
                steps.push(Step::Values);
                shape = rest;
            } else {
                return None;
            }
        }
    }
    Some(steps)
}

/// A field, or the items or values of one, with what is declared below it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    /// Whether a line of the list ends here (without `.*`).
    line: bool,
    /// Whether anything is accepted below (`.*`).
    free: bool,
    /// The fields of an object, by name.
    fields: BTreeMap<String, Node>,
    /// The items of an array.
    items: Option<Box<Node>>,
    /// The values of a map.
    values: Option<Box<Node>>,
}

impl Node {
    /// Adds the path `line`; a line that is not in the notation adds nothing.
    fn insert(&mut self, line: &str) {
        let Some(steps) = steps(line) else {
            return;
        };
        let mut node = self;
        for step in steps {
            node = match step {
                Step::Field(name) => node.fields.entry(name.to_owned()).or_default(),
                Step::Items => node.items.get_or_insert_default().as_mut(),
                Step::Values => node.values.get_or_insert_default().as_mut(),
                Step::Free => {
                    node.free = true;
                    return;
                }
            };
        }
        node.line = true;
    }

    /// Writes the paths of this node (at `path`) and of every node below it into `out`.
    fn render(&self, path: &str, out: &mut Vec<String>) {
        if self.line {
            out.push(path.to_owned());
        }
        if self.free {
            out.push(format!("{path}.*"));
        }
        for (name, field) in &self.fields {
            if path.is_empty() {
                field.render(name, out);
            } else {
                field.render(&format!("{path}.{name}"), out);
            }
        }
        if let Some(items) = &self.items {
            items.render(&format!("{path}[]"), out);
        }
        if let Some(values) = &self.values {
            values.render(&format!("{path}{{}}"), out);
        }
    }

    /// Whether the path `keys` (map keys and indices) is declared below this node.
    fn declares(&self, keys: &[Key]) -> bool {
        let mut node = self;
        for key in keys {
            if node.free {
                return true;
            }
            let next = match key {
                Key::Name(_) if node.values.is_some() => node.values.as_deref(),
                Key::Name(name) => node.fields.get(name),
                Key::Other(_) => node.values.as_deref(),
                Key::Index(_) => node.items.as_deref(),
            };
            match next {
                Some(next) => node = next,
                None => return false,
            }
        }
        true
    }
}

/// One step of a path in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    /// A string key.
    Name(String),
    /// Any other key (a number, a boolean, null, a collection), as text.
    Other(String),
    /// An index in a sequence.
    Index(usize),
}

/// The walk of one resource along the tree of its version.
struct Walk {
    /// The index of the resource's version in [`TREES`].
    current: usize,
    /// The path from the resource to the value being visited.
    path: Vec<Key>,
    /// The unknown fields found so far.
    found: Vec<UnknownField>,
}

impl Walk {
    /// Visits `value`, whose declaration is `node`.
    fn visit(&mut self, node: &Node, value: &Value) {
        if node.free {
            return;
        }
        match untagged(value) {
            Value::Mapping(mapping) => {
                // A mapping where an array is declared is a type error, not a field name.
                if node.items.is_some() && node.fields.is_empty() && node.values.is_none() {
                    return;
                }
                for (key, child) in mapping {
                    self.path.push(key_of(key));
                    if let Some(values) = &node.values {
                        self.visit(values, child);
                    } else if let Some(field) = key.as_str().and_then(|k| node.fields.get(k)) {
                        self.visit(field, child);
                    } else {
                        self.report(node);
                    }
                    self.path.pop();
                }
            }
            Value::Sequence(items) => {
                if let Some(item) = &node.items {
                    for (index, child) in items.iter().enumerate() {
                        self.path.push(Key::Index(index));
                        self.visit(item, child);
                        self.path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    /// Records the current path as unknown; `parent` declares its siblings.
    fn report(&mut self, parent: &Node) {
        let mut hints = Vec::new();
        // Only a string can be a misspelt name: a number or a boolean is a mistake of its own.
        if let Some(Key::Name(name)) = self.path.last()
            && let Some(sibling) = nearest(name, parent.fields.keys().map(String::as_str))
        {
            hints.push(format!("did you mean `{sibling}`?"));
        }
        if let Some(elsewhere) = self.elsewhere() {
            hints.push(elsewhere);
        }
        self.found.push(UnknownField {
            path: path_text(&self.path),
            hint: (!hints.is_empty()).then(|| hints.join("; ")),
        });
    }

    /// "exists in …" naming the other versions of the kind that declare the current path.
    fn elsewhere(&self) -> Option<String> {
        let kind = TREES[self.current].list.kind;
        let versions: Vec<(usize, &str)> = TREES
            .iter()
            .enumerate()
            .filter(|(_, v)| v.list.kind == kind)
            .map(|(i, v)| (i, v.list.api_version))
            .collect();
        let declaring: Vec<usize> = versions
            .iter()
            .enumerate()
            .filter(|&(_, &(i, _))| i != self.current && TREES[i].checked.declares(&self.path))
            .map(|(position, _)| position)
            .collect();
        let (&first, &last) = (declaring.first()?, declaring.last()?);
        let contiguous = last - first + 1 == declaring.len();
        let name = |position: usize| versions[position].1;
        let short = |position: usize| name(position).rsplit('/').next().unwrap_or_default();
        Some(if first == last {
            format!("exists in {}", name(first))
        } else if contiguous && last + 1 == versions.len() {
            format!("exists in {} and later", name(first))
        } else if contiguous {
            format!("exists in {} to {}", name(first), short(last))
        } else {
            let names: Vec<&str> = declaring.iter().map(|&p| name(p)).collect();
            format!("exists in {}", names.join(", "))
        })
    }
}

/// The value inside any YAML tags.
fn untagged(mut value: &Value) -> &Value {
    while let Value::Tagged(tagged) = value {
        value = &tagged.value;
    }
    value
}

/// The path step of a mapping key.
fn key_of(key: &Value) -> Key {
    match untagged(key) {
        Value::String(name) => Key::Name(name.clone()),
        Value::Number(number) => Key::Other(number.to_string()),
        Value::Bool(boolean) => Key::Other(boolean.to_string()),
        Value::Null => Key::Other("null".to_owned()),
        other => Key::Other(format!("{other:?}")),
    }
}

/// The text of a path: keys joined by dots, indices in brackets.
fn path_text(path: &[Key]) -> String {
    let mut text = String::new();
    for key in path {
        match key {
            Key::Name(name) | Key::Other(name) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(name);
            }
            Key::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

/// The candidate most similar to `name`, when it is similar enough to be a likely meaning.
///
/// Similarity ignores case and is the better of Jaro-Winkler (good at shared beginnings, such
/// as a cut-off name) and normalised Damerau-Levenshtein (good at swapped, missing or extra
/// letters). Ties go to the first candidate in order. Long names get no suggestion: no
/// declared name is long, and comparing costs time in proportion to the length.
///
/// The one suggestion of every reader: resource fields here, the fields of the cluster profile
/// and the other files ([`crate::error::field_error`]), and row ids.
pub(crate) fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    const CLOSE_ENOUGH: f64 = 0.88;
    const LONGEST: usize = 100;
    if name.len() > LONGEST {
        return None;
    }
    let name = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        let score = strsim::jaro_winkler(&name, &lower)
            .max(strsim::normalized_damerau_levenshtein(&name, &lower));
        if score >= CLOSE_ENOUGH && best.is_none_or(|(top, _)| score > top) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests;
