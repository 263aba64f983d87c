//! A strict check of objects against a CRD's structural schema (`openAPIV3Schema`), as the API
//! server validates a custom resource, and stricter: a field the schema does not declare is an
//! error where the API server would prune it without a word.
//!
//! It knows the keywords the network-policy-api CRDs use (types, properties, `required`, enums,
//! bounds, lengths, counts, patterns, `x-kubernetes-list-type: set`) and their CEL rules
//! (`x-kubernetes-validations`), each rule by its text: a rule it does not know is an error, so
//! that a new CRD cannot pass unchecked. The object's `metadata` is checked as the API server
//! checks a cluster-scoped object's name, labels and annotations.

use serde_json::Value;

/// The schema of the CRD in `text` (YAML) for its first version, with its group, version and
/// kind.
pub(super) struct Crd {
    api_version: String,
    kind: String,
    schema: Value,
}

impl Crd {
    /// The CRD of the repository's `fixtures/schemas/<path>`.
    pub(super) fn read(path: &str) -> Crd {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/schemas")
            .join(path);
        let text = std::fs::read_to_string(&file).unwrap();
        let crd: Value = serde_yaml::from_str(&text).unwrap();
        let version = &crd["spec"]["versions"][0];
        Crd {
            api_version: format!(
                "{}/{}",
                crd["spec"]["group"].as_str().unwrap(),
                version["name"].as_str().unwrap()
            ),
            kind: crd["spec"]["names"]["kind"].as_str().unwrap().to_string(),
            schema: version["schema"]["openAPIV3Schema"].clone(),
        }
    }

    /// What is wrong with `object`, each as `path: reason`.
    pub(super) fn errors(&self, object: &Value) -> Vec<String> {
        let mut out = Vec::new();
        if object["apiVersion"] != self.api_version.as_str() || object["kind"] != self.kind.as_str()
        {
            out.push(format!("not a {} {}", self.api_version, self.kind));
        }
        check(&self.schema, object, "", &mut out);
        metadata(&object["metadata"], &mut out);
        out
    }
}

fn check(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let mut error = |reason: String| out.push(format!("{path}: {reason}"));
    if let Some(kind) = schema["type"].as_str() {
        let fits = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => false,
        };
        if !fits {
            error(format!("is not of type {kind}"));
            return;
        }
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        error(format!("is not one of {values:?}"));
    }
    bounds(schema, value, &mut error);
    if schema["format"] == "int32" && value.as_i64().is_none_or(|n| i32::try_from(n).is_err()) {
        error("is not an int32".into());
    }
    if let Some(rules) = schema["x-kubernetes-validations"].as_array() {
        for rule in rules {
            if let Some(reason) = cel(rule["rule"].as_str().unwrap_or_default(), value) {
                error(reason);
            }
        }
    }
    match value {
        // ObjectMeta, which `metadata` checks.
        Value::Object(_) if path == ".metadata" => {}
        Value::Object(map) => object(schema, map, path, out),
        Value::Array(items) => array(schema, items, path, out),
        _ => {}
    }
}

/// Bounds of numbers, strings, lists and objects, and patterns.
fn bounds(schema: &Value, value: &Value, error: &mut impl FnMut(String)) {
    let number = |key: &str| schema[key].as_i64();
    if let Some(n) = value.as_i64()
        && (number("minimum").is_some_and(|min| n < min)
            || number("maximum").is_some_and(|max| n > max))
    {
        error(format!("{n} is out of bounds"));
    }
    let count = |key: &str| schema[key].as_u64().map(|n| n as usize);
    let size = match value {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(items) => Some(items.len()),
        Value::Object(map) => Some(map.len()),
        _ => None,
    };
    if let Some(size) = size {
        let (min, max) = match value {
            Value::String(_) => ("minLength", "maxLength"),
            Value::Array(_) => ("minItems", "maxItems"),
            _ => ("minProperties", "maxProperties"),
        };
        if count(min).is_some_and(|m| size < m) || count(max).is_some_and(|m| size > m) {
            error(format!("has {size} (the schema's {min}/{max} refuse it)"));
        }
    }
    if let (Some(pattern), Some(text)) = (schema["pattern"].as_str(), value.as_str())
        && !regex::Regex::new(pattern).unwrap().is_match(text)
    {
        error(format!("`{text}` does not match {pattern}"));
    }
}

fn object(schema: &Value, map: &serde_json::Map<String, Value>, path: &str, out: &mut Vec<String>) {
    for key in schema["required"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        if !map.contains_key(key) {
            out.push(format!("{path}.{key}: is required"));
        }
    }
    let properties = schema["properties"].as_object();
    let additional = &schema["additionalProperties"];
    for (key, value) in map {
        let at = format!("{path}.{key}");
        match properties.and_then(|p| p.get(key)) {
            Some(property) => check(property, value, &at, out),
            None if additional.is_object() => check(additional, value, &at, out),
            None if properties.is_none()
                && schema["x-kubernetes-preserve-unknown-fields"] == true => {}
            None => out.push(format!("{at}: is not a field of the schema")),
        }
    }
}

fn array(schema: &Value, items: &[Value], path: &str, out: &mut Vec<String>) {
    for (i, item) in items.iter().enumerate() {
        check(&schema["items"], item, &format!("{path}[{i}]"), out);
    }
    if schema["x-kubernetes-list-type"] == "set" {
        for (i, item) in items.iter().enumerate() {
            if items[..i].contains(item) {
                out.push(format!("{path}[{i}]: repeats an item of a set"));
            }
        }
    }
}

/// The CEL rules of the network-policy-api v0.2.0 CRDs, by their text: why `value` breaks the
/// rule, or `None`.
fn cel(rule: &str, value: &Value) -> Option<String> {
    match rule {
        "isCIDR(self)" => {
            let text = value.as_str().unwrap_or_default();
            let cidr = text.parse::<ipnet::IpNet>().ok()?;
            // `isCIDR` takes a network with host bits too; the flavor never writes one.
            (cidr.trunc() != cidr).then(|| format!("`{text}` has host bits set"))
        }
        "self.start < self.end" => (value["start"].as_i64() >= value["end"].as_i64())
            .then(|| "start is not before end".to_string()),
        r#"!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) && has(self.protocols) && self.protocols.exists(protocol, has(protocol.destinationNamedPort)))"# =>
        {
            let peers = value["to"].as_array().into_iter().flatten();
            let addresses = peers.clone().any(|p| {
                ["networks", "nodes", "domainNames"]
                    .iter()
                    .any(|k| p.get(*k).is_some())
            });
            let named = value["protocols"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p.get("destinationNamedPort").is_some());
            (addresses && named).then(|| "a named port with networks, nodes or domainNames".into())
        }
        other => Some(format!("the CEL rule `{other}` is not known to this check")),
    }
}

/// The metadata of a cluster-scoped object: a DNS-subdomain name, no namespace, and labels and
/// annotations as the API server accepts them.
fn metadata(meta: &Value, out: &mut Vec<String>) {
    let subdomain =
        regex::Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
            .unwrap();
    let name = meta["name"].as_str().unwrap_or_default();
    if name.len() > 253 || !subdomain.is_match(name) {
        out.push(format!("metadata.name: `{name}` is not a DNS subdomain"));
    }
    if meta.get("namespace").is_some() {
        out.push("metadata.namespace: the kind is cluster-scoped".into());
    }
    let key = regex::Regex::new(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$").unwrap();
    let value = regex::Regex::new(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$").unwrap();
    for field in ["labels", "annotations"] {
        for (k, v) in meta[field].as_object().into_iter().flatten() {
            let name = k.rsplit('/').next().unwrap_or_default();
            if !key.is_match(k) || name.len() > 63 {
                out.push(format!("metadata.{field}: `{k}` is not a qualified name"));
            }
            let text = v.as_str().unwrap_or_default();
            if field == "labels" && (text.len() > 63 || !value.is_match(text)) {
                out.push(format!(
                    "metadata.labels.{k}: `{text}` is not a label value"
                ));
            }
        }
    }
}
