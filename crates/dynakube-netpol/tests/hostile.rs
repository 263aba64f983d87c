//! Hostile and careless input, field by field: whatever a string field holds, the pipeline
//! returns policies or an error — it never panics — and injected text never changes which
//! objects the output holds.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use dynakube_netpol::cluster::ClusterProfile;
use dynakube_netpol::input::{ParseOptions, parse_into};
use dynakube_netpol::resolve::{Fallback, FixedHosts};
use dynakube_netpol::resources::{Inputs, ProxyUrl};
use proptest::prelude::*;
use serde_yaml::Value;

/// The inputs of one run, as YAML values (so that any string can be put into any field).
#[derive(Clone)]
struct Case {
    dynakube: Value,
    edgeconnect: Value,
    profile: Value,
    hosts: Value,
    proxy_url: String,
}

const DYNAKUBE: &str = r#"
apiVersion: dynatrace.com/v1beta6
kind: DynaKube
metadata:
  name: dynakube
  namespace: dynatrace
  annotations:
    feature.dynatrace.com/no-proxy: internal.example.com
    feature.dynatrace.com/use-public-registry: "false"
spec:
  apiUrl: https://abc12345.live.dynatrace.com/api
  networkZone: zone-a
  proxy: {value: "http://proxy.example.com:3128"}
  oneAgent:
    cloudNativeFullStack:
      codeModulesImage: registry.example.com/dynatrace/codemodules:1.0
  activeGate:
    capabilities: [routing, kubernetes-monitoring]
    image: registry.example.com/dynatrace/activegate:1.0
  telemetryIngest: {protocols: [otlp]}
  publicRegistryOverride: registry.example.com
  extensions:
    prometheus: {}
    databases: [{id: db1}]
"#;

const EDGECONNECT: &str = r#"
apiVersion: dynatrace.com/v1alpha2
kind: EdgeConnect
metadata: {name: edgeconnect, namespace: dynatrace}
spec:
  apiServer: abc12345.apps.dynatrace.com
  oauth:
    endpoint: https://sso.dynatrace.com/sso/oauth2/token
    provisioner: true
  hostPatterns: ["*.internal.example.com"]
  hostRestrictions: ["db.internal.example.com"]
  kubernetesAutomation: {enabled: true}
  proxy: {host: proxy.example.com, port: 3128, noProxy: kubernetes.default.svc}
  imageRef: {repository: registry.example.com/dynatrace/edgeconnect, tag: "1.0"}
"#;

const PROFILE: &str = r#"
namespace: dynatrace
clusterDomain: cluster.local
dns: {provider: node-local, address: 169.254.20.10}
nodeCIDRs: [192.0.2.0/24]
apiServer: {serviceCIDRs: [10.96.0.1/32]}
prometheus: {namespace: monitoring, podLabels: {app: prometheus}}
cilium: {hostFirewall: true, appEgress: true}
"#;

const HOSTS: &str = r#"
abc12345.live.dynatrace.com: [203.0.113.10]
proxy.example.com: [198.51.100.30]
"db.internal.example.com": [10.30.0.5]
"#;

/// Where each string field is: the document and the path of keys and list indexes.
const FIELDS: &[(Doc, &str)] = &[
    (Doc::DynaKube, "metadata.name"),
    (Doc::DynaKube, "metadata.namespace"),
    (
        Doc::DynaKube,
        "metadata.annotations.feature.dynatrace.com/no-proxy",
    ),
    (
        Doc::DynaKube,
        "metadata.annotations.feature.dynatrace.com/use-public-registry",
    ),
    (Doc::DynaKube, "spec.apiUrl"),
    (Doc::DynaKube, "spec.networkZone"),
    (Doc::DynaKube, "spec.proxy.value"),
    (
        Doc::DynaKube,
        "spec.oneAgent.cloudNativeFullStack.codeModulesImage",
    ),
    (Doc::DynaKube, "spec.activeGate.capabilities.0"),
    (Doc::DynaKube, "spec.activeGate.image"),
    (Doc::DynaKube, "spec.telemetryIngest.protocols.0"),
    (Doc::DynaKube, "spec.publicRegistryOverride"),
    (Doc::DynaKube, "spec.extensions.databases.0.id"),
    (Doc::EdgeConnect, "metadata.name"),
    (Doc::EdgeConnect, "metadata.namespace"),
    (Doc::EdgeConnect, "spec.apiServer"),
    (Doc::EdgeConnect, "spec.oauth.endpoint"),
    (Doc::EdgeConnect, "spec.hostPatterns.0"),
    (Doc::EdgeConnect, "spec.hostRestrictions.0"),
    (Doc::EdgeConnect, "spec.proxy.host"),
    (Doc::EdgeConnect, "spec.proxy.noProxy"),
    (Doc::EdgeConnect, "spec.imageRef.repository"),
    (Doc::EdgeConnect, "spec.imageRef.tag"),
    (Doc::Profile, "namespace"),
    (Doc::Profile, "clusterDomain"),
    (Doc::Profile, "dns.address"),
    (Doc::Profile, "nodeCIDRs.0"),
    (Doc::Profile, "apiServer.serviceCIDRs.0"),
    (Doc::Profile, "prometheus.namespace"),
    (Doc::Profile, "prometheus.podLabels.app"),
    (Doc::Hosts, "abc12345.live.dynatrace.com.0"),
    (Doc::Hosts, "db.internal.example.com.0"),
    (Doc::ProxyUrl, ""),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Doc {
    DynaKube,
    EdgeConnect,
    Profile,
    Hosts,
    ProxyUrl,
}

impl Case {
    fn clean() -> Self {
        let value = |text: &str| serde_yaml::from_str::<Value>(text).unwrap();
        Case {
            dynakube: value(DYNAKUBE),
            edgeconnect: value(EDGECONNECT),
            profile: value(PROFILE),
            hosts: value(HOSTS),
            proxy_url: "http://proxy.example.com:3128".into(),
        }
    }

    /// The case with field `field` of `FIELDS` changed by `change` (given the old value).
    fn with(mut self, field: usize, change: impl FnOnce(&str) -> String) -> Self {
        let (doc, path) = FIELDS[field];
        let root = match doc {
            Doc::DynaKube => &mut self.dynakube,
            Doc::EdgeConnect => &mut self.edgeconnect,
            Doc::Profile => &mut self.profile,
            Doc::Hosts => &mut self.hosts,
            Doc::ProxyUrl => {
                self.proxy_url = change(&self.proxy_url);
                return self;
            }
        };
        let slot = at(root, path);
        let old = slot.as_str().unwrap_or_default().to_string();
        *slot = Value::String(change(&old));
        self
    }
}

/// The value at a dotted path, where a segment is a key or a list index, and the annotation
/// keys with dots and slashes stay whole.
fn at<'a>(mut value: &'a mut Value, path: &str) -> &'a mut Value {
    let mut rest = path;
    while !rest.is_empty() {
        let mapping_key = value.as_mapping().and_then(|m| {
            m.keys()
                .filter_map(Value::as_str)
                .filter(|k| rest == *k || rest.starts_with(&format!("{k}.")))
                .max_by_key(|k| k.len())
                .map(str::to_string)
        });
        let (key, tail) = match &mapping_key {
            Some(key) => (key.clone(), rest[key.len()..].trim_start_matches('.')),
            None => match rest.split_once('.') {
                Some((key, tail)) => (key.to_string(), tail),
                None => (rest.to_string(), ""),
            },
        };
        value = match key.parse::<usize>() {
            Ok(i) if value.is_sequence() => &mut value[i],
            _ => &mut value[key.as_str()],
        };
        rest = tail;
    }
    value
}

/// The outputs of a run in both flavors: the stream, and the files of `-o`.
struct Outputs {
    streams: Vec<String>,
    files: Vec<std::collections::BTreeMap<String, String>>,
}

/// Runs the pipeline as the CLI does, in both flavors.
fn run(case: &Case) -> Result<Outputs, dynakube_netpol::Error> {
    let yaml = |v: &Value| serde_yaml::to_string(v).unwrap();
    let options = ParseOptions {
        proxy_url: Some(ProxyUrl::parse(&case.proxy_url).map_err(|reason| {
            dynakube_netpol::Error::invalid(
                dynakube_netpol::Location::new("--proxy-url", None, ""),
                reason.0,
            )
        })?),
        ..ParseOptions::default()
    };
    let mut inputs = Inputs::default();
    parse_into(
        &mut inputs,
        "dynakube.yaml",
        &yaml(&case.dynakube),
        &options,
    )?;
    parse_into(
        &mut inputs,
        "edgeconnect.yaml",
        &yaml(&case.edgeconnect),
        &options,
    )?;
    let profile = ClusterProfile::parse("cluster.yaml", &yaml(&case.profile))?;
    let hosts = FixedHosts::parse("hosts.yaml", &yaml(&case.hosts))?;
    let generate = |flavor| {
        let options = dynakube_netpol::GenerateOptions {
            flavor,
            fallback: Fallback::PublicInternet,
            ..Default::default()
        };
        dynakube_netpol::generate(&inputs, &profile, &options, &hosts)?
            .output(&inputs, vec!["dynakube.yaml".into()])
    };
    // Every flavor of the registry.
    let outputs = dynakube_netpol::Flavor::ALL
        .iter()
        .map(|&flavor| generate(flavor))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Outputs {
        streams: outputs.iter().map(|o| o.to_stream()).collect(),
        files: outputs.iter().map(|o| o.to_files()).collect(),
    })
}

/// The objects of a YAML stream as (kind, name), failing on anything that is no object.
fn objects(stream: &str) -> Vec<(String, String)> {
    serde_yaml::Deserializer::from_str(stream)
        .map(|document| {
            let value = Value::deserialize(document).expect("the output is YAML");
            let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
            (text(&value["kind"]), text(&value["metadata"]["name"]))
        })
        .collect()
}

use serde::Deserialize;

/// What a run yields, summarised: the objects of every stream and file, or the error.
fn summary(case: &Case) -> Result<Vec<Vec<(String, String)>>, String> {
    let outputs = run(case).map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    for stream in &outputs.streams {
        all.push(objects(stream));
    }
    for files in &outputs.files {
        let mut from_files = Vec::new();
        for (name, text) in files {
            let found = objects(text);
            assert_eq!(found.len(), 1, "{name} holds one object: {text}");
            from_files.extend(found);
        }
        from_files.sort();
        all.push(from_files);
    }
    Ok(all)
}

/// Text that would start a new YAML document, a comment, a quoted string, a terminal escape
/// or a hidden line break if it reached the output unescaped.
const PAYLOADS: &[&str] = &[
    "\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-all, namespace: dynatrace}\nspec: {podSelector: {}, ingress: [{}], egress: [{}]}\n",
    "\nnamePrefix: evil-\n",
    " # comment",
    "'\"",
    "\u{0}\u{1b}[31m",
    "\u{2028}---\u{2029}",
    "\r\n---\r\n",
    "\u{85}kind: NetworkPolicy",
];

#[test]
fn injected_text_never_changes_the_objects() {
    let clean = summary(&Case::clean()).expect("the clean case renders");
    let mut rendered = 0;
    for (field, place) in FIELDS.iter().enumerate() {
        for payload in PAYLOADS {
            for prefix in [false, true] {
                let case = Case::clean().with(field, |old| match prefix {
                    true => format!("{payload}{old}"),
                    false => format!("{old}{payload}"),
                });
                let result = catch_unwind(AssertUnwindSafe(|| summary(&case)))
                    .unwrap_or_else(|_| panic!("{place:?} with {payload:?} panicked"));
                if let Ok(objects) = result {
                    rendered += 1;
                    assert_eq!(objects, clean, "{place:?} with {payload:?}");
                }
            }
        }
    }
    // Fields whose value the output does not use at all may take any text.
    assert!(rendered < FIELDS.len() * PAYLOADS.len() * 2);
}

/// Strings that are hard on parsers of hosts, URLs, labels and CIDRs.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9.*:/@\\[\\]?#%_\\- ]{0,40}",
        "(https?://)?([a-z0-9]{0,5}[.:@]){0,6}[a-z0-9]{0,5}(:[0-9]{0,6})?(/[a-z]{0,4}){0,2}",
        "[0-9a-f:.]{0,20}(/[0-9]{0,3})?",
        Just(String::new()),
        Just("*".to_string()),
        Just("a..b.com".to_string()),
        Just("0.0.0.0/0".to_string()),
        Just("::".to_string()),
        Just("https://a.live.dynatrace.com:0/api".to_string()),
        Just("cluster local".to_string()),
    ]
}

proptest! {
    // PROPTEST_CASES raises the number of cases (400 by default, a few seconds).
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(400)
    ))]

    /// Whatever one field holds, the pipeline gives policies or an error, never a panic; and
    /// rendered output only ever holds objects.
    #[test]
    fn any_string_in_any_field_gives_policies_or_an_error(
        field in 0..FIELDS.len(),
        text in nasty(),
    ) {
        let case = Case::clean().with(field, |_| text.clone());
        let result = catch_unwind(AssertUnwindSafe(|| summary(&case)));
        prop_assert!(result.is_ok(), "{:?} = {text:?} panicked", FIELDS[field]);
    }
}

#[test]
fn every_field_is_reachable() {
    // A field path that does not exist would silently test nothing.
    let clean = Case::clean();
    for (field, place) in FIELDS.iter().enumerate() {
        let changed = clean.clone().with(field, |old| {
            assert!(!old.is_empty() || place.0 == Doc::ProxyUrl, "{place:?}");
            format!("{old}x")
        });
        let differs = changed.dynakube != clean.dynakube
            || changed.edgeconnect != clean.edgeconnect
            || changed.profile != clean.profile
            || changed.hosts != clean.hosts
            || changed.proxy_url != clean.proxy_url;
        assert!(differs, "{place:?}");
    }
    let names: BTreeSet<_> = FIELDS.iter().collect();
    assert_eq!(names.len(), FIELDS.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200)
    ))]

    /// Brackets in strings and comments are no nesting: DynaKubes whose annotation holds any
    /// text of brackets, quotes and indicators (as a YAML writer quotes it) and whose comments
    /// hold it too, in many documents, are read like any other (the nesting check once counted
    /// every bracket, across documents).
    #[test]
    fn brackets_in_strings_and_comments_are_no_nesting(
        text in "[\\[\\]{}'\"#|>:, a-z\n-]{0,200}",
    ) {
        let quoted = serde_yaml::to_string(&text).unwrap();
        let quoted = quoted.trim_end().replace('\n', "\n      ");
        let comment = text.replace(['\n', '\r'], " ");
        let dynakube = |i: usize| format!(
            "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\n# {comment}\nmetadata:\n  name: dk{i}\n  namespace: dynatrace\n  annotations:\n    example.com/text: {quoted}  # {comment}\nspec:\n  apiUrl: https://abc12345.live.dynatrace.com/api\n"
        );
        let stream: Vec<String> = (0..20).map(dynakube).collect();
        let mut inputs = Inputs::default();
        let read = parse_into(&mut inputs, "dk.yaml", &stream.join("---\n"), &ParseOptions::default());
        prop_assert!(read.is_ok(), "{text:?}: {read:?}");
        prop_assert_eq!(inputs.dynakubes.len(), 20);
    }
}
