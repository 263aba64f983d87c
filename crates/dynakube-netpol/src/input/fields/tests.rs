use super::*;

/// The unknown fields of `yaml` as `(path, hint)` pairs.
fn unknown(kind: &str, api_version: &str, yaml: &str) -> Vec<(String, Option<String>)> {
    let value: Value = serde_yaml::from_str(yaml).unwrap();
    unknown_fields(kind, api_version, &value)
        .into_iter()
        .map(|field| (field.path, field.hint))
        .collect()
}

fn dynakube(version: &str, yaml: &str) -> Vec<(String, Option<String>)> {
    unknown("DynaKube", &format!("dynatrace.com/{version}"), yaml)
}

fn field(path: &str, hint: &str) -> (String, Option<String>) {
    (path.to_owned(), (!hint.is_empty()).then(|| hint.to_owned()))
}

#[test]
fn the_lists_are_sorted_unique_and_written_in_the_notation() {
    for list in FIELD_LISTS {
        let first = list.text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("# {} {} ", list.kind, list.api_version))
                && first.contains("`cargo xtask fields`"),
            "{}: the first line says what the file is and what writes it",
            list.file
        );
        let paths: Vec<&str> = lines(list.text).collect();
        assert!(
            paths.windows(2).all(|pair| pair[0] < pair[1]),
            "{}: sorted and unique",
            list.file
        );
        for path in &paths {
            assert!(steps(path).is_some(), "{}: `{path}` is no path", list.file);
        }
        // The tree holds exactly the lines: what it checks is what the file says.
        assert_eq!(
            known_field_paths(list.kind, list.api_version),
            paths,
            "{}",
            list.file
        );
    }
    assert!(known_field_paths("DynaKube", "dynatrace.com/v1beta2").is_empty());
}

#[test]
fn a_valid_resource_has_no_unknown_fields() {
    let yaml = r"
apiVersion: dynatrace.com/v1beta6
kind: DynaKube
metadata:
  name: dynakube
  namespace: dynatrace
  labels: {team: a}
  annotations: {feature.dynatrace.com/automatic-kubernetes-api-monitoring: 'true'}
  ownerReferences: [{apiVersion: v1, kind: X, name: y, uid: z, anything: 1}]
  managedFields: [{manager: kubectl, fieldsV1: {f:spec: {}}}]
spec:
  apiUrl: https://abc12345.live.dynatrace.com/api
  activeGate:
    capabilities: [routing, kubernetes-monitoring]
    tolerations: [{effect: NoSchedule, key: a, operator: Exists}]
    nodeSelector: {kubernetes.io/os: linux, anything: goes}
    customProperties: {value: 'x'}
    resources: {requests: {cpu: 100m}}
  oneAgent:
    cloudNativeFullStack:
      namespaceSelector: {matchLabels: {a: b}}
  extensions:
    databases: [{id: db1, volumes: [{name: v, secret: {secretName: s}}]}]
status:
  phase: Running
  whatever: {a newer operator: [writes, this]}
";
    assert_eq!(dynakube("v1beta6", yaml), []);
}

#[test]
fn misspellings_in_every_part_of_a_v1beta6_dynakube_name_the_field_and_the_nearest_one() {
    let yaml = r"
apiVersion: dynatrace.com/v1beta6
kind: DynaKube
metadata:
  name: dynakube
  lables: {a: b}
spec:
  apiUrl: https://abc12345.live.dynatrace.com/api
  activeGates: {capabilities: [routing]}
  activeGate:
    capabilites: [routing]
    tolerations:
    - {effect: NoSchedule}
    - {efect: NoSchedule}
  logMonitor: {}
  oneAgent:
    cloudNativeFullstack: {}
  templates:
    logMonitoring:
      imageRefs: {repository: r}
  extensions:
    databases: [{idd: db1}]
  nothingLikeAnyField: 1
";
    assert_eq!(
        dynakube("v1beta6", yaml),
        [
            field("metadata.lables", "did you mean `labels`?"),
            field("spec.activeGates", "did you mean `activeGate`?"),
            field(
                "spec.activeGate.capabilites",
                "did you mean `capabilities`?"
            ),
            field(
                "spec.activeGate.tolerations[1].efect",
                "did you mean `effect`?"
            ),
            field("spec.logMonitor", "did you mean `logMonitoring`?"),
            field(
                "spec.oneAgent.cloudNativeFullstack",
                "did you mean `cloudNativeFullStack`?"
            ),
            field(
                "spec.templates.logMonitoring.imageRefs",
                "did you mean `imageRef`?"
            ),
            field("spec.extensions.databases[0].idd", "did you mean `id`?"),
            field("spec.nothingLikeAnyField", ""),
        ]
    );
}

#[test]
fn a_field_of_another_version_says_where_it_exists() {
    let yaml = "spec: {telemetryIngest: {protocols: [otlp]}, extensions: {prometheus: {}}}";
    assert_eq!(
        dynakube("v1beta3", yaml),
        [
            field(
                "spec.telemetryIngest",
                "exists in dynatrace.com/v1beta4 and later"
            ),
            // v1beta3 declares `extensions` without fields: nothing may be set in it.
            field(
                "spec.extensions.prometheus",
                "exists in dynatrace.com/v1beta6"
            ),
        ]
    );
    assert_eq!(
        dynakube("v1beta4", yaml),
        [field(
            "spec.extensions.prometheus",
            "exists in dynatrace.com/v1beta6"
        )]
    );
}

#[test]
fn only_the_first_unknown_key_of_a_path_is_reported() {
    let yaml = "spec: {activeGates: {capabilites: [routing], tolerations: [{efect: x}]}}";
    assert_eq!(
        dynakube("v1beta6", yaml),
        [field("spec.activeGates", "did you mean `activeGate`?")]
    );
}

#[test]
fn keys_of_maps_status_and_object_meta_are_free() {
    let yaml = r"
metadata:
  labels: {any: thing, 'with/slash.and.dots': x}
  annotations: {'': x}
  finalizers: [a, b]
  managedFields: [{anything: {goes: here}}]
spec:
  activeGate:
    labels: {x: y}
    annotations: {x: y}
    nodeSelector: {x: y}
    resources: {limits: {nvidia.com/gpu: 1}}
  resourceAttributes: {service.name: x}
status:
  oneAgent: {healthcheck: {test: [CMD]}, instances: {node-1: {unknown: field}}}
  notAStatusField: {at: all}
";
    assert_eq!(dynakube("v1beta6", yaml), []);
}

#[test]
fn a_mapping_in_a_field_without_fields_is_unknown_but_a_type_error_is_not_reported() {
    // `kspm` declares no fields in v1beta3; `capabilities` is an array of strings, so a
    // mapping there is a type error, which is for the parser to report.
    let yaml = "spec: {kspm: {mappedHostPaths: [/]}, activeGate: {capabilities: {routing: true}}}";
    assert_eq!(
        dynakube("v1beta3", yaml),
        [field(
            "spec.kspm.mappedHostPaths",
            "exists in dynatrace.com/v1beta5 and later"
        )]
    );
}

#[test]
fn edgeconnect_versions_differ_in_names_not_in_types() {
    let yaml = r"
spec:
  apiServer: abc12345.apps.dynatrace.com
  hostRestrictions: [a.example.com]
  imageRef: {repository: r, tag: t, digest: 'sha256:0', pullPolicy: Always}
  oauth: {clientSecret: s, endpoint: e, resource: r, provisioner: true}
";
    assert_eq!(
        unknown("EdgeConnect", "dynatrace.com/v1alpha1", yaml),
        [
            field("spec.imageRef.digest", "exists in dynatrace.com/v1alpha2"),
            field(
                "spec.imageRef.pullPolicy",
                "exists in dynatrace.com/v1alpha2"
            ),
        ]
    );
    let v1alpha2 = yaml.replace("[a.example.com]", "a.example.com");
    assert_eq!(
        unknown("EdgeConnect", "dynatrace.com/v1alpha2", &v1alpha2),
        []
    );
}

#[test]
fn other_keys_and_tags_are_read_without_surprise() {
    let yaml = r"
spec:
  1: one
  true: yes
  ~: null
  [a, b]: list
  !custom apiUrl: x
  activeGate: !custom {capabilities: [routing], group: g, 2: x}
metadata:
  labels: {1: x}
";
    assert_eq!(
        dynakube("v1beta6", yaml),
        [
            field("spec.1", ""),
            field("spec.true", ""),
            field("spec.null", ""),
            field("spec.Sequence [String(\"a\"), String(\"b\")]", ""),
            field("spec.activeGate.2", ""),
        ]
    );
}

#[test]
fn kinds_and_versions_without_a_list_have_no_unknown_fields() {
    let yaml = "spec: {not: known}";
    assert_eq!(dynakube("v1beta2", yaml), []);
    assert_eq!(unknown("ConfigMap", "v1", yaml), []);
    assert_eq!(dynakube("v1beta6", "just a string"), []);
    assert_eq!(dynakube("v1beta6", "[1, 2]"), []);
}

#[test]
fn suggestions_are_only_given_when_close() {
    let names: Vec<String> = ["apiUrl", "activeGate", "networkZone", "proxy", "tokens"]
        .map(str::to_owned)
        .into();
    let suggest = |name: &str| nearest(name, names.iter());
    assert_eq!(suggest("apiURL"), Some("apiUrl"));
    assert_eq!(suggest("apiurl"), Some("apiUrl"));
    assert_eq!(suggest("networkzone"), Some("networkZone"));
    assert_eq!(suggest("network"), Some("networkZone"));
    assert_eq!(suggest("proxyy"), Some("proxy"));
    assert_eq!(suggest("token"), Some("tokens"));
    assert_eq!(suggest("x"), None);
    assert_eq!(suggest("prox"), Some("proxy"));
    assert_eq!(suggest("tokes"), Some("tokens"));
    assert_eq!(suggest("activeGateway"), Some("activeGate"));
    assert_eq!(suggest("api"), Some("apiUrl"));
    assert_eq!(suggest("image"), None);
    assert_eq!(suggest("networkZones"), Some("networkZone"));
    assert_eq!(suggest("replicas"), None);
    assert_eq!(suggest("customPullSecret"), None);
    assert_eq!(suggest(&"a".repeat(1000)), None);
}

/// The resources of every YAML file under `dir` and its subfolders that the source reader
/// accepts, with the file's name.
fn fixture_objects(dir: &std::path::Path, objects: &mut Vec<(String, crate::source::Object)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixture_objects(&path, objects);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let name = path.display().to_string();
            let limits = crate::source::Limits::default();
            for object in crate::source::objects(&name, &text, &limits).unwrap_or_default() {
                objects.push((name.clone(), object));
            }
        }
    }
}

#[test]
fn the_resources_of_the_valid_fixtures_have_no_unknown_fields() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut checked = 0;
    for fixture in std::fs::read_dir(&fixtures).unwrap() {
        let fixture = fixture.unwrap().path();
        if !fixture.join("command").is_file() {
            continue;
        }
        let mut objects = Vec::new();
        fixture_objects(&fixture, &mut objects);
        for (file, object) in objects {
            let unknown = unknown_fields(&object.kind, &object.api_version, &object.value);
            assert_eq!(unknown, [], "{file}");
            checked += usize::from(object.kind == "DynaKube" || object.kind == "EdgeConnect");
        }
    }
    assert!(
        checked >= 20,
        "only {checked} resources in {}",
        fixtures.display()
    );
}

#[test]
fn the_invalid_fixtures_are_walked_without_panic() {
    let mut objects = Vec::new();
    let invalid = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/invalid");
    fixture_objects(&invalid, &mut objects);
    for (_, object) in objects {
        let _ = unknown_fields(&object.kind, &object.api_version, &object.value);
    }
}

/// Resources made of real field names, near misses, other keys and tags, nested at random.
fn resources() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    const NAMES: [&str; 16] = [
        "apiVersion",
        "metadata",
        "labels",
        "spec",
        "status",
        "activeGate",
        "activeGates",
        "tolerations",
        "effect",
        "capabilities",
        "oneAgent",
        "extensions",
        "databases",
        "volumes",
        "healthcheck",
        "",
    ];
    let key = prop_oneof![
        4 => proptest::sample::select(&NAMES[..]).prop_map(Value::from),
        1 => any::<String>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(Value::Null),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(8, 128, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Sequence),
            proptest::collection::vec((key.clone(), inner.clone()), 0..6)
                .prop_map(|pairs| Value::Mapping(pairs.into_iter().collect())),
            inner.prop_map(|value| {
                Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
                    tag: serde_yaml::value::Tag::new("x"),
                    value,
                }))
            }),
        ]
    })
}

proptest::proptest! {
    /// The walk never panics, and gives the same answer twice.
    #[test]
    fn any_resource_is_walked_without_panic_and_deterministically(value in resources()) {
        for list in FIELD_LISTS {
            let first = unknown_fields(list.kind, list.api_version, &value);
            proptest::prop_assert_eq!(first, unknown_fields(list.kind, list.api_version, &value));
        }
    }
}
