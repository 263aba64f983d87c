//! Misspelled fields in every section: each field of every DynaKube and EdgeConnect of the
//! valid fixtures, misspelled one at a time, must be refused with its path, and accepted with a
//! warning under `UnknownFields::Warn`.

use std::collections::BTreeSet;
use std::path::Path;

use dynakube_netpol::input::{ParseOptions, UnknownFields, known_field_paths, parse_into};
use dynakube_netpol::resources::Inputs;
use serde_yaml::{Mapping, Value};

/// A field of a document: its path with indices (`spec.extensions.databases[0].id`) and the
/// keys leading to it.
struct Field {
    path: String,
    keys: Vec<Value>,
}

/// The fields of `value` whose path in the lists' notation is declared by `known`.
fn fields(value: &Value, known: &BTreeSet<String>) -> Vec<Field> {
    let mut found = Vec::new();
    walk(value, known, "", "", &mut Vec::new(), &mut found);
    found
}

fn walk(
    value: &Value,
    known: &BTreeSet<String>,
    path: &str,
    notation: &str,
    keys: &mut Vec<Value>,
    found: &mut Vec<Field>,
) {
    let join = |base: &str, name: &str| {
        if base.is_empty() {
            name.to_owned()
        } else {
            format!("{base}.{name}")
        }
    };
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let Some(name) = key.as_str() else { continue };
                let child_notation = join(notation, name);
                // Only declared fields: map keys (labels, annotations) are free.
                if !known.contains(&child_notation)
                    && !known
                        .iter()
                        .any(|k| k.starts_with(&format!("{child_notation}[]")))
                {
                    continue;
                }
                keys.push(key.clone());
                found.push(Field {
                    path: join(path, name),
                    keys: keys.clone(),
                });
                walk(
                    child,
                    known,
                    &join(path, name),
                    &child_notation,
                    keys,
                    found,
                );
                keys.pop();
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                keys.push(Value::from(i as u64));
                walk(
                    item,
                    known,
                    &format!("{path}[{i}]"),
                    &format!("{notation}[]"),
                    keys,
                    found,
                );
                keys.pop();
            }
        }
        _ => {}
    }
}

/// `document` with the last key of `keys` renamed to `renamed`.
fn rename(document: &Value, keys: &[Value], renamed: &str) -> Value {
    let mut document = document.clone();
    let (last, parents) = keys.split_last().unwrap();
    let mut node = &mut document;
    for key in parents {
        node = match key {
            Value::Number(i) => &mut node[i.as_u64().unwrap() as usize],
            key => node.get_mut(key).unwrap(),
        };
    }
    let map: &mut Mapping = node.as_mapping_mut().unwrap();
    let mut renamed_map = Mapping::new();
    for (k, v) in std::mem::take(map) {
        if &k == last {
            renamed_map.insert(Value::from(renamed), v);
        } else {
            renamed_map.insert(k, v);
        }
    }
    *map = renamed_map;
    document
}

/// The DynaKube and EdgeConnect documents of the valid fixtures.
fn documents() -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if dir.ends_with("invalid") || !dir.join("command").is_file() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for document in serde_yaml::Deserializer::from_str(&text) {
                // After an error the stream stops (it would repeat the error forever).
                let Ok(value) = serde_yaml::Value::deserialize(document) else {
                    break;
                };
                if matches!(value["kind"].as_str(), Some("DynaKube" | "EdgeConnect")) {
                    documents.push((file.display().to_string(), value));
                }
            }
        }
    }
    documents
}

use serde::Deserialize;

#[test]
fn every_misspelled_field_is_refused_with_its_path() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (file, document) in documents() {
        let kind = document["kind"].as_str().unwrap();
        let version = document["apiVersion"].as_str().unwrap();
        let known: BTreeSet<String> = known_field_paths(kind, version)
            .into_iter()
            .chain(
                [
                    "metadata.name",
                    "metadata.namespace",
                    "metadata.annotations",
                ]
                .map(String::from),
            )
            .collect();
        // `apiVersion` and `kind` decide what the document is: misspelled, they are missing.
        // `status` is the operator's, read leniently, so that a newer operator's is accepted.
        let checkable = fields(&document, &known).into_iter().filter(|f| {
            f.path != "apiVersion" && f.path != "kind" && !f.path.starts_with("status")
        });
        for field in checkable {
            let name = field.keys.last().unwrap().as_str().unwrap();
            // A realistic typo: the last two letters swapped, else a letter doubled.
            let mut chars: Vec<char> = name.chars().collect();
            let n = chars.len();
            if n >= 2 && chars[n - 1] != chars[n - 2] {
                chars.swap(n - 1, n - 2);
            } else {
                chars.push(chars[n - 1]);
            }
            let typo: String = chars.into_iter().collect();
            let misspelled = rename(&document, &field.keys, &typo);
            let text = serde_yaml::to_string(&misspelled).unwrap();
            let expected_path = match field.path.rsplit_once('.') {
                Some((parent, _)) => format!("{parent}.{typo}"),
                None => typo.clone(),
            };
            checked += 1;
            let mut inputs = Inputs::default();
            match parse_into(&mut inputs, "x.yaml", &text, &ParseOptions::default()) {
                Err(e)
                    if e.to_string().contains(&format!(
                        "field `{expected_path}`: is not a field of {kind}"
                    )) => {}
                other => failures.push(format!(
                    "{file}: `{}` misspelled as `{expected_path}`: {:?}",
                    field.path,
                    other.map(|()| "accepted").map_err(|e| e.to_string())
                )),
            }
            // With the option, a warning names it (when the rest still reads).
            let mut inputs = Inputs::default();
            let warn = ParseOptions {
                unknown_fields: UnknownFields::Warn,
                ..ParseOptions::default()
            };
            if parse_into(&mut inputs, "x.yaml", &text, &warn).is_ok() {
                let warnings: Vec<&String> = inputs
                    .dynakubes
                    .iter()
                    .flat_map(|d| &d.warnings)
                    .chain(inputs.edgeconnects.iter().flat_map(|e| &e.warnings))
                    .collect();
                if !warnings
                    .iter()
                    .any(|w| w.contains(&format!("`{expected_path}`")))
                {
                    failures.push(format!(
                        "{file}: no warning for `{expected_path}`: {warnings:?}"
                    ));
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} fields were checked");
    assert!(
        failures.is_empty(),
        "{} of {checked}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
