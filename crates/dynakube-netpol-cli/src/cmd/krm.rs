//! The KRM function: a `ResourceList` (`config.kubernetes.io/v1`) on standard input, the same
//! list on standard output with the policies appended to `items` and every problem in
//! `results`, as the KRM Functions Specification describes. Items are kept as they are
//! (re-serialized: comments and formatting of the input are not kept, values are).
//!
//! Decisions: a list without `functionConfig` (as `kpt fn eval --exec` sends without a
//! config) runs with the defaults of `generate`; results already in the list, from functions
//! before this one, are kept, and only this function's errors fail it; a result names the
//! item's file and index when the orchestrator annotated them.

use std::collections::BTreeSet;
use std::process::ExitCode;

use dynakube_netpol::Location;
use dynakube_netpol::matrix::{Level, Note};
use dynakube_netpol::output::Output;
use dynakube_netpol::source::Limits;
use serde_yaml::{Mapping, Value};

use crate::manifests::{self, Consumer, stream};
use crate::words::Spec;
use dynakube_netpol::advice::Words;

/// A `results` entry.
fn result(severity: &str, message: String) -> Mapping {
    let mut entry = Mapping::new();
    entry.insert("message".into(), message.into());
    entry.insert("severity".into(), severity.into());
    let mut tags = Mapping::new();
    tags.insert(SOURCE_TAG.into(), SOURCE.into());
    entry.insert("tags".into(), Value::Mapping(tags));
    entry
}

/// The tag by which this function's results are known, so that a run over its own output
/// replaces them instead of piling them up.
const SOURCE_TAG: &str = "source";
const SOURCE: &str = "dynakube-netpol";

fn is_own_result(result: &Value) -> bool {
    result
        .get("tags")
        .and_then(|t| t.get(SOURCE_TAG))
        .and_then(Value::as_str)
        == Some(SOURCE)
}

/// A reference to `object` (apiVersion, kind, name, namespace) for a result, and the
/// `file` it came from when the orchestrator annotated it; nothing for what names nothing.
fn reference(entry: &mut Mapping, object: &Value) {
    let reference = resource_ref(object);
    if reference.as_mapping().is_some_and(|r| !r.is_empty()) {
        entry.insert("resourceRef".into(), reference);
    }
    let annotation = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|key| manifests::metadata_str(object, &["annotations", key]))
    };
    let path = annotation([
        "internal.config.kubernetes.io/path",
        "config.kubernetes.io/path",
    ]);
    if let Some(path) = path {
        let mut file = Mapping::new();
        file.insert("path".into(), path.into());
        let index = annotation([
            "internal.config.kubernetes.io/index",
            "config.kubernetes.io/index",
        ])
        .and_then(|i| i.parse::<u64>().ok());
        if let Some(index) = index {
            file.insert("index".into(), index.into());
        }
        entry.insert("file".into(), Value::Mapping(file));
    }
}

/// `apiVersion`, `kind`, `name` and `namespace` of `object`, those it has.
fn resource_ref(object: &Value) -> Value {
    let mut reference = Mapping::new();
    for key in ["apiVersion", "kind"] {
        if let Some(value) = object.get(key).filter(|v| v.is_string()) {
            reference.insert(key.into(), value.clone());
        }
    }
    for key in ["name", "namespace"] {
        if let Some(value) = manifests::metadata_str(object, &[key]) {
            reference.insert(key.into(), value.into());
        }
    }
    Value::Mapping(reference)
}

fn field(path: &str) -> Value {
    let mut field = Mapping::new();
    field.insert("path".into(), path.into());
    Value::Mapping(field)
}

/// Runs the function on standard input and output.
pub fn run() -> anyhow::Result<ExitCode> {
    // The list is read before its functionConfig can say otherwise: it may be as large as
    // `spec.maxInputBytes` could allow and nest as deep as the parser allows; each item is
    // then held to the configuration's limits.
    let limits = Limits {
        max_bytes: usize::try_from(*crate::ranges::INPUT_BYTES.end()).unwrap_or(usize::MAX),
        max_depth: Limits::MAX_DEPTH,
    };
    let (list, failed) = process(&limits);
    // JSON, which every YAML reader reads alike: YAML 1.1 readers (kubectl's among them) take
    // a plain `yes`, `on` or `12:30` for a boolean or a number, and a YAML writer leaves these
    // strings unquoted. A list JSON cannot hold (keys that are no strings) goes out as YAML.
    let text = match serde_json::to_string_pretty(&list) {
        Ok(json) => json + "\n",
        Err(_) => serde_yaml::to_string(&list)?,
    };
    crate::exit::write(text)?;
    Ok(if failed {
        crate::exit::code(crate::exit::FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The output list of the list on standard input, and whether it holds an error result.
fn process(limits: &Limits) -> (Value, bool) {
    let mut results = Vec::new();
    let mut list = match read_list(limits) {
        Ok(list) => list,
        Err(message) => {
            results.push(result("error", message));
            let mut list = Mapping::new();
            list.insert("apiVersion".into(), "config.kubernetes.io/v1".into());
            list.insert("kind".into(), "ResourceList".into());
            list.insert("items".into(), Value::Sequence(Vec::new()));
            list
        }
    };
    if results.is_empty() {
        add(&mut list, &mut results);
    }
    let failed = results
        .iter()
        .any(|r| r.get("severity").and_then(Value::as_str) == Some("error"));
    if !results.is_empty() {
        let mut all = match list.remove("results") {
            Some(Value::Sequence(earlier)) => {
                earlier.into_iter().filter(|r| !is_own_result(r)).collect()
            }
            _ => Vec::new(),
        };
        all.extend(results.into_iter().map(Value::Mapping));
        list.insert("results".into(), Value::Sequence(all));
    }
    (Value::Mapping(list), failed)
}

/// The ResourceList on standard input; unreadable input is a message for a result too.
fn read_list(limits: &Limits) -> Result<Mapping, String> {
    // No advice to raise a limit: these are the most a list may have.
    let plain = |e: String| {
        e.replace(
            "; raise the limit with --max-input-bytes if this is intended",
            "",
        )
        .replace("; raise the limit with --max-depth if this is intended", "")
    };
    let name = "the ResourceList on standard input";
    let text = crate::settings::read("-", limits).map_err(|e| plain(format!("{e:#}")))?;
    let documents = dynakube_netpol::source::documents(name, &text, limits)
        .map_err(|e| plain(format!("the input is not a ResourceList: {e}")))?;
    let [(_, Value::Mapping(list))] = documents.as_slice() else {
        return Err("the input must be one ResourceList document".into());
    };
    if list.get("kind").and_then(Value::as_str) != Some("ResourceList") {
        return Err("the input's kind must be ResourceList".into());
    }
    match list.get("items") {
        None | Some(Value::Sequence(_)) => Ok(list.clone()),
        Some(_) => Err("the ResourceList's items must be a list".into()),
    }
}

/// Appends the policies to the list's items, or records why not; on an error the items stay
/// as they came.
fn add(list: &mut Mapping, results: &mut Vec<Mapping>) {
    let items: Vec<Value> = match list.get("items") {
        Some(Value::Sequence(items)) => items.clone(),
        _ => Vec::new(),
    };
    let config_value = list.get("functionConfig").cloned().unwrap_or(Value::Null);
    let config = match &config_value {
        Value::Null => Ok(manifests::default_config()),
        value => manifests::generator_config(value),
    };
    let config = match config {
        Ok(config) => config,
        Err((path, message)) => {
            let mut entry = result("error", format!("functionConfig: {message}"));
            reference(&mut entry, &config_value);
            entry.insert("field".into(), field(&path));
            results.push(entry);
            return;
        }
    };
    // Every item that is no object is reported, not only the first.
    let shapeless: Vec<Mapping> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| !item.is_mapping())
        .map(|(index, _)| {
            let mut entry = result(
                "error",
                format!("items[{index}]: an item must be an object with apiVersion and kind"),
            );
            entry.insert("field".into(), field(&format!("items[{index}]")));
            entry
        })
        .collect();
    if !shapeless.is_empty() {
        results.extend(shapeless);
        return;
    }
    // The policies this configuration generated in an earlier run are replaced, not doubled:
    // orchestrators such as `kpt fn render` run a function again over its own output. They
    // are known by the annotation only this configuration writes, never by the labels, which
    // other runs' committed output (or anyone) may carry too. The others keep their index in
    // messages.
    let generator = config.generator.clone().unwrap_or_default();
    let own = |item: &Value| manifests::is_generated_by(item, &generator);
    let texts: Vec<(String, String)> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| !own(item))
        .map(|(index, item)| {
            let text = serde_yaml::to_string(item).unwrap_or_default();
            (format!("items[{index}]"), text)
        })
        .collect();
    let added = manifests::add_policies(config, &texts, vec!["-".into()], Consumer::Kustomize);
    let policies = added.and_then(|added| {
        let policies = added.policies.as_ref().map(Output::objects).transpose()?;
        Ok((policies.unwrap_or_default(), added.notes))
    });
    let (policies, notes) = match policies {
        Ok(added) => added,
        Err(error) => {
            results.push(error_result(&error, &items));
            return;
        }
    };
    let kept = replace_earlier(&items, &policies, &generator, results);
    results.extend(notes.iter().map(note_result));
    let all = kept.into_iter().cloned().chain(policies).collect();
    list.insert("items".into(), Value::Sequence(all));
}

/// The items to keep beside the new `policies`: all but the earlier policies of the
/// configuration `generator` where it writes them now (the namespaces of the new policies,
/// and cluster-wide ones). Info results name the replaced items, and those kept although
/// they carry this tool's labels.
fn replace_earlier<'a>(
    items: &'a [Value],
    policies: &[Value],
    generator: &str,
    results: &mut Vec<Mapping>,
) -> Vec<&'a Value> {
    let scopes: BTreeSet<Option<&str>> = policies
        .iter()
        .map(|p| manifests::metadata_str(p, &["namespace"]))
        .collect();
    let (earlier, kept): (Vec<&Value>, Vec<&Value>) = items.iter().partition(|item| {
        manifests::is_generated_by(item, generator)
            && scopes.contains(&manifests::metadata_str(item, &["namespace"]))
    });
    if !earlier.is_empty() {
        results.push(listed(
            &format!(
                "replaced {} policies that this configuration ({generator}) generated in an earlier run",
                earlier.len()
            ),
            &earlier,
        ));
    }
    let foreign: Vec<&Value> = kept
        .iter()
        .copied()
        .filter(|item| manifests::is_generated(item))
        .collect();
    if !foreign.is_empty() {
        results.push(listed(
            &format!(
                "kept {} policies labelled {}={} that this configuration ({generator}) did not generate here (they lack its {} annotation, or are in another namespace)",
                foreign.len(),
                stream::MANAGED_BY.0,
                stream::MANAGED_BY.1,
                manifests::GENERATOR_ANNOTATION
            ),
            &foreign,
        ));
    }
    kept
}

/// An info result: `what`, then the first five of `policies` by kind and name.
fn listed(what: &str, policies: &[&Value]) -> Mapping {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = policies
        .iter()
        .take(SHOWN)
        .map(|p| {
            let kind = p.get("kind").and_then(Value::as_str).unwrap_or_default();
            format!("{kind} {}", manifests::name_of(p))
        })
        .collect();
    if policies.len() > SHOWN {
        names.push(format!("and {} more", policies.len() - SHOWN));
    }
    result(
        "info",
        dynakube_netpol::values::escape(&format!("{what}: {}", names.join(", "))).into_owned(),
    )
}

fn note_result(note: &Note) -> Mapping {
    let severity = match note.level {
        Level::Warning => "warning",
        Level::Info => "info",
    };
    let mut entry = result(severity, note.text.clone());
    // The rows the note concerns and the input that caused it, as on standard error.
    if let Some(Value::Mapping(tags)) = entry.get_mut("tags") {
        if !note.refs.is_empty() {
            let rows: Vec<String> = note.refs.iter().map(ToString::to_string).collect();
            tags.insert("rows".into(), rows.join(",").into());
        }
        if let Some(cause) = &note.cause {
            tags.insert("cause".into(), Spec.cause(cause).into());
        }
    }
    entry
}

/// An error as a result: with the item and field it names, when it names one.
fn error_result(error: &anyhow::Error, items: &[Value]) -> Mapping {
    let mut entry = result("error", crate::words::error_text(error, &Spec));
    let invalid = error
        .downcast_ref::<dynakube_netpol::Error>()
        .and_then(|e| match e {
            dynakube_netpol::Error::Invalid {
                location,
                reason,
                remedies,
            } => Some((location, reason, remedies)),
            _ => None,
        });
    if let Some((location, reason, remedies)) = invalid {
        let index = location
            .file
            .strip_prefix("items[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok());
        if let Some(item) = index.and_then(|i| items.get(i)) {
            reference(&mut entry, item);
            // An item is one document: `items[3], field …`, not `items[3], document 1, …`.
            let location = Location {
                document: None,
                ..location.clone()
            };
            let error =
                dynakube_netpol::Error::invalid_unless(location, reason.clone(), remedies.clone());
            entry.insert("message".into(), error.to_string_in(&Spec).into());
        }
        if !location.field.is_empty() {
            entry.insert("field".into(), field(&location.field));
        }
    }
    entry
}
