//! Reading: what the API server with the CRD schema refuses, and what Cilium's agent refuses on
//! top, is refused with the field; the types accept exactly the schema's fields.

use serde_yaml::{Mapping, Value};

use super::super::raw;
use super::super::*;
use crate::source::Limits;

/// The error reading the policy `spec` (YAML of the spec's body, indented by two) gives, for a
/// namespaced policy (`kind` `CiliumNetworkPolicy`) or a clusterwide one.
fn error_of(kind: &str, spec: &str) -> String {
    let namespace = if kind == "CiliumNetworkPolicy" {
        ", namespace: shop"
    } else {
        ""
    };
    let text = format!(
        "apiVersion: cilium.io/v2\nkind: {kind}\nmetadata: {{name: p{namespace}}}\nspec:\n{spec}"
    );
    match read_policies("p.yaml", &text, &Limits::default(), &Options::default()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

fn error(spec: &str) -> String {
    error_of("CiliumNetworkPolicy", spec)
}

/// Asserts that `spec` is refused at `field` with words containing `words`.
#[track_caller]
fn refused(spec: &str, field: &str, words: &str) {
    let message = error(spec);
    assert!(
        message.contains(&format!("field `{field}`")) && message.contains(words),
        "expected `{field}` and `{words}` in: {message}"
    );
}

const SELECT: &str = "  endpointSelector: {matchLabels: {app: web}}\n";

#[test]
fn unknown_fields_are_errors_naming_the_field() {
    refused(
        &format!("{SELECT}  egress:\n  - toFQDN: [{{matchName: example.com}}]\n"),
        "spec.egress[0].toFQDN",
        "unknown field `toFQDN`; did you mean `toFQDNs`?",
    );
    refused(
        &format!("{SELECT}  ingress:\n  - fromEndpoints: [{{matchLabel: {{app: db}}}}]\n"),
        "spec.ingress[0].fromEndpoints[0].matchLabel",
        "unknown field `matchLabel`; did you mean `matchLabels`?",
    );
    let message = error_of(
        "CiliumClusterwideNetworkPolicy",
        "  nodeSelector: {}\n  egress: [{toPorts: [{ports: [{port: \"53\", protokol: UDP}]}]}]\n",
    );
    assert!(message.contains("unknown field `protokol`"), "{message}");
}

#[test]
fn types_enums_and_patterns_of_the_schema_hold() {
    refused(
        &format!("{SELECT}  egress: [{{toPorts: [{{ports: [{{port: 80}}]}}]}}]\n"),
        "spec.egress[0].toPorts[0].ports[0].port",
        "expected a string",
    );
    refused(
        &format!("{SELECT}  egress: [{{toEntities: [world-ipv4]}}]\n"),
        "spec.egress[0].toEntities[0]",
        "unknown variant `world-ipv4`",
    );
    refused(
        &format!(
            "{SELECT}  egress: [{{toPorts: [{{ports: [{{port: \"80\", protocol: ICMP}}]}}]}}]\n"
        ),
        "spec.egress[0].toPorts[0].ports[0].protocol",
        "unknown variant `ICMP`",
    );
    refused(
        &format!("{SELECT}  egress: [{{toFQDNs: [{{matchName: \"a..b\"}}]}}]\n"),
        "spec.egress[0].toFQDNs[0].matchName",
        "is not a DNS name",
    );
    refused(
        &format!("{SELECT}  egress: [{{toFQDNs: [{{matchName: a, matchPattern: b}}]}}]\n"),
        "spec.egress[0].toFQDNs[0]",
        "exactly one of matchName and matchPattern",
    );
    refused(
        &format!("{SELECT}  egress: [{{toCIDR: [10.0.0.1]}}]\n"),
        "spec.egress[0].toCIDR[0]",
        "is not a CIDR",
    );
    refused(
        &format!(
            "{SELECT}  egress: [{{toCIDRSet: [{{cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}}]\n"
        ),
        "spec.egress[0].toCIDRSet[0].except[0]",
        "is not within the cidr 10.0.0.0/16",
    );
    refused(
        &format!(
            "{SELECT}  egress: [{{toPorts: [{{ports: [{{port: \"80\", endPort: 70000}}]}}]}}]\n"
        ),
        "spec.egress[0].toPorts[0].ports[0].endPort",
        "is not from 0 to 65535",
    );
    refused(
        &format!(
            "{SELECT}  ingress: [{{fromEndpoints: [{{matchLabels: {{app: \"web app\"}}}}]}}]\n"
        ),
        "spec.ingress[0].fromEndpoints[0].matchLabels.app",
        "is not a label value",
    );
    let many: Vec<String> = (1..=41).map(|p| format!("{{port: \"{p}\"}}")).collect();
    refused(
        &format!(
            "{SELECT}  egress: [{{toPorts: [{{ports: [{}]}}]}}]\n",
            many.join(", ")
        ),
        "spec.egress[0].toPorts[0].ports",
        "at most 40",
    );
    refused(
        &format!("{SELECT}  egress: [{{icmps: [{{fields: [{{type: ExtendedEchoReply}}]}}]}}]\n"),
        "spec.egress[0].icmps[0].fields[0].type",
        "is not an ICMP type",
    );
}

#[test]
fn objects_need_a_subject_a_name_and_rules() {
    let read = |text: &str| {
        read_policies("p.yaml", text, &Limits::default(), &Options::default())
            .map(|p| p.len())
            .map_err(|e| e.to_string())
    };
    let head = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n";
    assert!(
        read(&format!(
            "{head}metadata: {{name: p}}\nspec: {{endpointSelector: {{}}}}\n"
        ))
        .unwrap_err()
        .contains("metadata.namespace")
    );
    assert!(
        read(&format!(
            "{head}metadata: {{namespace: x}}\nspec: {{endpointSelector: {{}}}}\n"
        ))
        .unwrap_err()
        .contains("metadata.name")
    );
    assert!(
        read(&format!("{head}metadata: {{name: p, namespace: x}}\n"))
            .unwrap_err()
            .contains("needs spec or specs")
    );
    let old = "apiVersion: cilium.io/v2alpha1\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: x}\nspec: {endpointSelector: {}}\n";
    assert!(read(old).unwrap_err().contains("field `apiVersion`"));
    refused(
        "  egress: [{}]\n",
        "spec",
        "needs an endpointSelector or a nodeSelector",
    );
    refused(
        &format!("{SELECT}  nodeSelector: {{}}\n"),
        "spec",
        "has both",
    );
    refused(
        "  nodeSelector: {}\n",
        "spec.nodeSelector",
        "only a CiliumClusterwideNetworkPolicy",
    );
    // Other kinds are skipped; lists hold policies; `spec` and `specs` go together.
    let list = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n- apiVersion: cilium.io/v2\n  kind: CiliumClusterwideNetworkPolicy\n  metadata: {name: c, namespace: ignored}\n  spec: {endpointSelector: {}}\n  specs: [{nodeSelector: {}}, {endpointSelector: {}}]\n  status: {anything: [1]}\n";
    let policies = read_policies("p.yaml", list, &Limits::default(), &Options::default()).unwrap();
    assert_eq!(policies.len(), 1);
    let fields: Vec<&str> = policies[0].rules.iter().map(|r| r.field.as_str()).collect();
    assert_eq!(fields, ["spec", "specs[0]", "specs[1]"]);
    assert_eq!(
        policies[0].reference.to_string(),
        "CiliumClusterwideNetworkPolicy c"
    );
}

/// The reader of one object, for callers that read objects of several dialects themselves.
#[test]
fn one_object_at_a_time() {
    let text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {endpointSelector: {}}\n";
    let objects = crate::source::objects("p.yaml", text, &Limits::default()).unwrap();
    let object = objects.into_iter().next().unwrap();
    assert_eq!(kind_of(&object.kind), Some(Kind::Namespaced));
    assert_eq!(object.api_version, API_VERSION);
    assert_eq!(kind_of("NetworkPolicy"), None);
    let compiled = policy(object, &Options::default()).unwrap();
    assert_eq!(compiled.reference.to_string(), "CiliumNetworkPolicy shop/p");
}

#[test]
fn services_are_one_kind_of_peer_and_their_selectors_are_checked() {
    refused(
        &format!(
            "{SELECT}  egress: [{{toServices: [{{k8sService: {{serviceName: s}}}}], toEndpoints: [{{}}]}}]\n"
        ),
        "spec.egress[0]",
        "combines `toEndpoints` and `toServices`",
    );
    refused(
        &format!(
            "{SELECT}  egress: [{{toServices: [{{k8sServiceSelector: {{selector: {{matchLabels: {{a: \"-\"}}}}}}}}]}}]\n"
        ),
        "spec.egress[0].toServices[0].k8sServiceSelector.selector.matchLabels.a",
        "",
    );
    // toPorts may go with them (the agent since 1.17).
    let text = format!(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: p, namespace: shop}}\nspec:\n{SELECT}  egress: [{{toServices: [{{k8sService: {{serviceName: s}}}}], toPorts: [{{ports: [{{port: \"80\"}}]}}]}}]\n"
    );
    assert!(read_policies("p.yaml", &text, &Limits::default(), &Options::default()).is_ok());
}

#[test]
fn a_log_value_is_at_most_32_printable_characters() {
    // A `log` value (the CRD's bounds), of more than 32 characters, or of other than printable ones.
    for value in ["\"{}\"", "\"a\\tb\"", "\"a\\u200Bb\""] {
        let value = value.replace("{}", &"x".repeat(33));
        refused(
            &format!("{SELECT}  ingress: [{{}}]\n  log: {{value: {value}}}\n"),
            "spec.log.value",
            "is not at most 32 printable characters",
        );
    }
    let accepted = format!(
        "{SELECT}  ingress: [{{}}]\n  log: {{value: \"é{}\"}}\n",
        "x".repeat(31)
    );
    let text = format!(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: p, namespace: d}}\nspec:\n{accepted}"
    );
    assert!(read_policies("p.yaml", &text, &Limits::default(), &Options::default()).is_ok());
}

#[test]
fn what_the_agent_refuses_is_refused() {
    refused(
        &format!("{SELECT}  egress: [{{toEndpoints: [{{}}], toCIDR: [10.0.0.0/8]}}]\n"),
        "spec.egress[0]",
        "combines `toEndpoints` and `toCIDR`; Cilium accepts one kind of peer per rule",
    );
    refused(
        &format!(
            "{SELECT}  ingress: [{{fromCIDR: [10.0.0.0/8], fromCIDRSet: [{{cidr: 10.0.0.0/8}}]}}]\n"
        ),
        "spec.ingress[0]",
        "combines `fromCIDR` and `fromCIDRSet`",
    );
    refused(
        &format!(
            "{SELECT}  ingress: [{{toPorts: [{{ports: [{{port: \"53\"}}], rules: {{dns: [{{matchPattern: \"*\"}}]}}}}]}}]\n"
        ),
        "spec.ingress[0].toPorts[0].rules.dns",
        "not allowed on ingress",
    );
    refused(
        &format!(
            "{SELECT}  egress: [{{toPorts: [{{ports: [{{port: \"53\", endPort: 60}}], rules: {{dns: [{{matchPattern: \"*\"}}]}}}}]}}]\n"
        ),
        "spec.egress[0].toPorts[0].rules.dns",
        "do not support port ranges",
    );
    refused(
        &format!(
            "{SELECT}  egress: [{{toPorts: [{{ports: [{{port: \"80\", protocol: UDP}}], rules: {{http: [{{method: GET}}]}}}}]}}]\n"
        ),
        "spec.egress[0].toPorts[0].rules",
        "TCP ports only",
    );
    refused(
        &format!("{SELECT}  egress: [{{toPorts: [{{ports: [{{port: \"80\"}}], rules: {{}}}}]}}]\n"),
        "spec.egress[0].toPorts[0].rules",
        "exactly one of http, kafka, dns and l7proto",
    );
    refused(
        &format!(
            "{SELECT}  egress: [{{icmps: [{{fields: [{{type: 8}}]}}], toPorts: [{{ports: [{{port: \"80\"}}]}}]}}]\n"
        ),
        "spec.egress[0].icmps",
        "cannot be combined with toPorts",
    );
    refused(
        &format!("{SELECT}  egress: [{{toCIDRSet: [{{cidrGroupRef: g, cidr: 10.0.0.0/8}}]}}]\n"),
        "spec.egress[0].toCIDRSet[0]",
        "exactly one of cidr, cidrGroupRef and cidrGroupSelector",
    );
    refused(
        &format!("{SELECT}  egressDeny: [{{toRequires: [{{}}]}}]\n"),
        "spec.egressDeny[0].toRequires",
        "is not evaluated in a deny rule",
    );
    refused(
        &format!("{SELECT}  egress: [{{toPorts: [{{ports: [{{port: \"http--x\"}}]}}]}}]\n"),
        "spec.egress[0].toPorts[0].ports[0].port",
        "neither a port number",
    );
    // Host policies: DNS rules on egress only (the current agent; 1.16 refused every L7 rule).
    for spec in [
        "  nodeSelector: {}\n  egress: [{toPorts: [{ports: [{port: \"80\"}], rules: {http: [{}]}}]}]\n",
        "  nodeSelector: {}\n  ingress: [{toPorts: [{ports: [{port: \"80\"}], rules: {http: [{}]}}]}]\n",
    ] {
        let host = error_of("CiliumClusterwideNetworkPolicy", spec);
        assert!(
            host.contains(
                "host policies (nodeSelector) can have L7 rules only as DNS rules on egress"
            ),
            "{host}"
        );
    }
    let dns = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: p}\nspec:\n  nodeSelector: {}\n  egress: [{toPorts: [{ports: [{port: \"53\"}], rules: {dns: [{matchPattern: \"*\"}]}}]}]\n";
    assert!(read_policies("p.yaml", dns, &Limits::default(), &Options::default()).is_ok());
}

/// A schema walked for the test below: the field paths of objects, each with its declared
/// property names, as YAML paths of mapping keys (`"[]"` for the items of an array, `"{}"` for
/// the values of a map).
fn objects(schema: &Value, path: Vec<String>, out: &mut Vec<(Vec<String>, Vec<String>)>) {
    if let Some(items) = schema.get("items") {
        let mut inner = path;
        inner.push("[]".into());
        objects(items, inner, out);
        return;
    }
    if let Some(values @ Value::Mapping(_)) = schema.get("additionalProperties") {
        let mut inner = path;
        inner.push("{}".into());
        objects(values, inner, out);
        return;
    }
    let Some(Value::Mapping(properties)) = schema.get("properties") else {
        return;
    };
    let names: Vec<String> = properties
        .keys()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    out.push((path.clone(), names));
    for (name, property) in properties {
        let mut inner = path.clone();
        inner.push(name.as_str().unwrap().to_string());
        objects(property, inner, out);
    }
}

/// A document with `leaf` at `path` (which starts with `spec` or `specs`).
fn document(path: &[String], leaf: Value) -> Value {
    let mut value = leaf;
    for step in path.iter().rev() {
        value = match step.as_str() {
            "[]" => Value::Sequence(vec![value]),
            "{}" => Value::Mapping(Mapping::from_iter([(Value::from("key"), value)])),
            name => Value::Mapping(Mapping::from_iter([(Value::from(name), value)])),
        };
    }
    let mut object: Mapping =
        serde_yaml::from_str("{apiVersion: cilium.io/v2, kind: K, metadata: {name: p}}").unwrap();
    if let Value::Mapping(top) = value {
        object.extend(top);
    }
    Value::Mapping(object)
}

/// The message of deserializing `document` into the schema's types, if any.
fn message(document: Value) -> Option<String> {
    serde_path_to_error::deserialize::<_, raw::Object>(document)
        .err()
        .map(|e| e.to_string())
}

/// The types accept every field the CRD schemas of both kinds declare, and refuse any other
/// key in every object of the schemas (but `metadata`, which the API server checks as
/// `ObjectMeta`, and `status`, which Cilium writes), but for the fields of later agents: the
/// items of CIDR sets also take `cidrGroupSelector`, a rule `log` and a port item no `port`.
#[test]
fn the_types_declare_the_schema_fields() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/schemas/cilium/v1.16.5");
    let mut checked = 0;
    for file in [
        "ciliumnetworkpolicies.yaml",
        "ciliumclusterwidenetworkpolicies.yaml",
    ] {
        let crd: Value =
            serde_yaml::from_str(&std::fs::read_to_string(root.join(file)).unwrap()).unwrap();
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        let mut found = Vec::new();
        for top in ["spec", "specs"] {
            objects(
                &schema["properties"][top],
                vec![top.to_string()],
                &mut found,
            );
        }
        for (path, names) in found {
            for name in &names {
                let mut at = path.clone();
                at.push(name.clone());
                if let Some(message) = message(document(&at, Value::Null)) {
                    assert!(!message.contains("unknown field"), "{at:?}: {message}");
                }
                checked += 1;
            }
            let mut probe = Mapping::new();
            probe.insert("notAField".into(), Value::Null);
            let refused = message(document(&path, Value::Mapping(probe))).unwrap_or_default();
            assert!(
                refused.contains("unknown field `notAField`"),
                "{path:?}: {refused}"
            );
        }
        let top: Vec<&str> = schema["properties"]
            .as_mapping()
            .unwrap()
            .keys()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            top,
            ["apiVersion", "kind", "metadata", "spec", "specs", "status"]
        );
    }
    assert!(checked > 400, "{checked} fields checked");
    // The fields read beyond the schema: a rule's `log` (1.18), a port item without `port`
    // (1.18, see `ports`), and, of the agent since 1.17, `cidrGroupSelector` (see
    // `cidr_groups`).
    for top in [&["spec"][..], &["specs", "[]"]] {
        let mut path: Vec<String> = top.iter().map(|s| s.to_string()).collect();
        path.push("log".into());
        let log = Value::Mapping(Mapping::from_iter([("value".into(), "audit-7".into())]));
        assert_eq!(message(document(&path, log)), None);
        path.push("level".into());
        let refused = message(document(&path, Value::Null)).unwrap_or_default();
        assert!(refused.contains("unknown field `level`"), "{refused}");
    }
    let path: Vec<String> = ["spec", "egress", "[]", "toPorts", "[]", "ports", "[]"]
        .map(String::from)
        .to_vec();
    let left_out = Value::Mapping(Mapping::from_iter([("protocol".into(), "VRRP".into())]));
    assert_eq!(message(document(&path, left_out)), None);
    for side in ["egress", "ingress", "egressDeny", "ingressDeny"] {
        let set = if side.starts_with("egress") {
            "toCIDRSet"
        } else {
            "fromCIDRSet"
        };
        let path: Vec<String> = ["spec", side, "[]", set, "[]", "cidrGroupSelector"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            message(document(&path, Value::Mapping(Mapping::new()))),
            None
        );
    }
}

/// A namespaced policy that names no namespace is read in `default`, where `kubectl apply`
/// puts it, and said so; so is a NetworkPolicy.
#[test]
fn a_policy_without_a_namespace_is_read_in_default() {
    let text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  endpointSelector: {}\n  ingress: [{}]\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: q, namespace: ''}\nspec: {podSelector: {}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: r, namespace: shop}\nspec: {podSelector: {}}\n";
    let files = crate::evaluate::read_policies("p.yaml", text, &Limits::default()).unwrap();
    assert_eq!(
        files.cilium_policies[0].reference.namespace.as_deref(),
        Some("default")
    );
    let namespaces: Vec<Option<&str>> = (files.policies.iter())
        .map(|p| p.metadata.namespace.as_deref())
        .collect();
    assert_eq!(namespaces, [Some("default"), Some("shop")]);
    assert_eq!(files.notes.len(), 2, "{:?}", files.notes);
    assert!(files.notes[0].contains("CiliumNetworkPolicy p of p.yaml names no namespace"));
}
