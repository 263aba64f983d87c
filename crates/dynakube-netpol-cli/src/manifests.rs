//! One code path for every tool that hands over a stream of rendered manifests: the Helm
//! post-renderer, kubectl's kustomize transformer plugin and the KRM function. Each reads the
//! stream, keeps every object as it is, and adds the policies of its DynaKubes and
//! EdgeConnects.
//!
//! Decision: a stream without DynaKube or EdgeConnect is no error here (a chart may install
//! the operator alone); it goes through unchanged, with a note.

use std::process::ExitCode;

use clap::ValueEnum;
use dynakube_netpol::Flavor;
use dynakube_netpol::input::{UnknownFields, parse_objects};
use dynakube_netpol::matrix::{Level, Note, OperatorVersion};
use dynakube_netpol::output::Output;
use dynakube_netpol::resolve::Fallback;
use dynakube_netpol::resources::{Inputs, ProxyUrl};
use dynakube_netpol::source::Limits;
use serde::Deserialize;
use serde_yaml::Value;

use crate::settings::{Config, FlavorArg, Text, ZoneFallbackArg};
pub use dynakube_netpol::stream::{
    self, ChartFacts, GENERATOR_ANNOTATION, is_generated, is_generated_by, metadata_str,
};

/// The file name under which the binary is kubectl's kustomize transformer plugin.
pub const TRANSFORMER_NAME: &str = "NetworkPolicyGenerator";
/// The file name under which the binary is the KRM function (no arguments).
pub const KRM_NAME: &str = "dynakube-netpol-krm";
/// The API version of the function config.
pub const API_VERSION: &str = "dynakube-netpol.github.io/v1alpha1";
/// The annotation by which Helm 4 tracks each object's template file through a post-renderer
/// (and removes afterwards).
const HELM_FILENAME: &str = "postrenderer.helm.sh/postrender-filename";

/// Who reads what [`add_policies`] writes, which decides how it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    /// Helm: it keeps comments, and its users pass the flags of `generate`.
    Helm,
    /// kustomize, through the transformer plugin or the KRM function: it drops comments and,
    /// on success, the plugin's standard error, and its users write the fields of the
    /// function config. Notes speak of `spec.*`, and the warnings also ride on
    /// `default-deny` as the annotation [`WARNINGS_ANNOTATION`].
    Kustomize,
}

/// What the manifests gave: the input objects, and the policies to add (none without a
/// DynaKube or EdgeConnect).
pub struct Added {
    /// The policies as the YAML stream `generate` prints (provenance header first); none
    /// without a DynaKube or EdgeConnect.
    pub policies: Option<Output>,
    /// Everything to tell: the matrix's and renderer's notes, and where facts came from.
    pub notes: Vec<Note>,
}

/// Adds policies to `items` (name for messages, YAML text) under `config`, for `consumer`.
/// Each item is parsed once; the profile, the hosts and the lock once, and even when the
/// manifests need no policies (a mistake in them must not wait for the first DynaKube).
pub fn add_policies(
    config: Config,
    items: &[(String, String)],
    arguments: Vec<String>,
    consumer: Consumer,
) -> anyhow::Result<Added> {
    let mut objects = Vec::new();
    for (name, text) in items {
        objects.extend(dynakube_netpol::source::objects(
            name,
            text,
            &config.limits,
        )?);
    }
    let generator = config.generator.clone();
    let helm_files = objects
        .iter()
        .any(|o| metadata_str(&o.value, &["annotations", HELM_FILENAME]).is_some());
    let facts = ChartFacts::of(&objects)?;
    let mut inputs = Inputs::default();
    parse_objects(&mut inputs, objects.clone(), &config.parse_options())?;
    let (loaded, fact_notes) = config.load_with_chart(inputs, &facts)?;
    if loaded.inputs.dynakubes.is_empty() && loaded.inputs.edgeconnects.is_empty() {
        let note = Note::new(
            Level::Info,
            &[],
            "no DynaKube or EdgeConnect in the manifests: nothing added",
        );
        return Ok(Added {
            policies: None,
            notes: vec![note],
        });
    }
    crate::say::verbose(|| crate::settings::skipped_summary(&loaded.inputs));
    let options = loaded.config.generate_options(false);
    let resolver = dynakube_netpol::lock::Layered::hosts_over_lock(&loaded.hosts, &loaded.lock);
    let mut generated =
        dynakube_netpol::generate(&loaded.inputs, &loaded.profile, &options, &resolver)?;
    generated.add_notes(fact_notes);
    let collisions = stream::collisions(&objects, &generated, generator.as_deref())?;
    generated.add_notes(collisions);
    if consumer == Consumer::Kustomize {
        generated.notes = generated.notes.iter().map(note_in_config_terms).collect();
    }
    let mut output = generated.output(&loaded.inputs, arguments)?;
    if helm_files {
        // Helm 4 names each added object's `# Source:` by its position unless it carries the
        // annotation; by name, one new policy does not rename the others in a rendered diff.
        output.annotate(HELM_FILENAME, |name| {
            Some(format!("dynakube-netpol/{name}.yaml"))
        })?;
    }
    if let Some(generator) = generator.filter(|_| consumer == Consumer::Kustomize) {
        output.annotate(GENERATOR_ANNOTATION, |_| Some(generator.clone()))?;
    }
    if let Some(warnings) =
        warnings_annotation(&generated.notes).filter(|_| consumer == Consumer::Kustomize)
    {
        output.annotate(WARNINGS_ANNOTATION, |name| {
            (name == "default-deny").then(|| warnings.clone())
        })?;
    }
    Ok(Added {
        notes: generated.notes,
        policies: Some(output),
    })
}

/// The annotation under which kustomize's outputs, which keep no comments, carry the
/// warnings of a run: on the `default-deny` policy, so that they show in a review.
pub const WARNINGS_ANNOTATION: &str = "dynakube-netpol/warnings";

/// The warnings of `notes`, one per line; none without one. At most [`ANNOTATED_WARNINGS`]
/// of them, since Kubernetes limits an object's annotations to 256 KiB; the function's
/// results and standard error have them all.
fn warnings_annotation(notes: &[Note]) -> Option<String> {
    let warnings: Vec<&Note> = notes.iter().filter(|n| n.level == Level::Warning).collect();
    let mut lines: Vec<String> = warnings
        .iter()
        .take(ANNOTATED_WARNINGS)
        .map(ToString::to_string)
        .collect();
    if warnings.len() > ANNOTATED_WARNINGS {
        lines.push(format!(
            "and {} more warnings",
            warnings.len() - ANNOTATED_WARNINGS
        ));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The most warnings the annotation holds.
const ANNOTATED_WARNINGS: usize = 50;

/// Writes `text` unchanged, then the policies' stream; the notes on standard error.
pub(crate) fn write_stream(text: &str, added: &Added) -> anyhow::Result<ExitCode> {
    crate::say::print_notes(&added.notes);
    let mut stream = text.to_owned();
    if let Some(output) = &added.policies {
        if !text.is_empty() && !text.ends_with('\n') {
            stream.push('\n');
        }
        stream.push_str(&output.to_appended_stream());
    }
    crate::exit::write(stream)?;
    Ok(ExitCode::SUCCESS)
}

/// The `spec` of a NetworkPolicyGenerator.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct GeneratorSpec {
    flavor: Option<String>,
    fqdn_fallback: Option<String>,
    zone_fallback: Option<String>,
    operator_version: Option<OperatorVersion>,
    proxy_url: Option<String>,
    allow_any_address: bool,
    allow_shared_namespace: bool,
    allow_special_addresses: bool,
    internal_hosts: Vec<String>,
    ignore_unknown_fields: bool,
    cluster: Option<Value>,
    hosts: Option<Value>,
    max_input_bytes: Option<u64>,
    max_depth: Option<u64>,
}

/// A function config (NetworkPolicyGenerator) as a [`Config`]; errors name the field.
pub fn generator_config(value: &Value) -> Result<Config, (String, String)> {
    let text = |field: &str| value.get(field).and_then(Value::as_str).unwrap_or_default();
    if text("kind") == "ConfigMap" {
        return Err((
            "kind".into(),
            format!(
                "a ConfigMap's string values cannot hold the cluster profile and hosts: give a {API_VERSION} {TRANSFORMER_NAME}"
            ),
        ));
    }
    if text("apiVersion") != API_VERSION {
        return Err((
            "apiVersion".into(),
            format!("must be {API_VERSION}, not `{}`", text("apiVersion")),
        ));
    }
    if text("kind") != TRANSFORMER_NAME {
        return Err((
            "kind".into(),
            format!("must be {TRANSFORMER_NAME}, not `{}`", text("kind")),
        ));
    }
    if let Some(key) = value.as_mapping().and_then(|m| {
        m.keys()
            .filter_map(Value::as_str)
            .find(|k| !["apiVersion", "kind", "metadata", "spec"].contains(k))
    }) {
        return Err((
            key.to_string(),
            "is not a field of NetworkPolicyGenerator".into(),
        ));
    }
    let spec = value.get("spec").cloned().unwrap_or(Value::Null);
    let spec: GeneratorSpec = match spec {
        Value::Null => GeneratorSpec::default(),
        Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Sequence(_) => {
            return Err((
                "spec".into(),
                "must be an object with the options of generate".into(),
            ));
        }
        spec => serde_path_to_error::deserialize(spec).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "spec".to_string()
            } else {
                format!("spec.{path}")
            };
            let message = dynakube_netpol::error::plain_types(&e.into_inner().to_string());
            match message
                .starts_with("unknown field")
                .then(|| nearest_field(&path))
            {
                Some(Some(near)) => (
                    field,
                    format!("`{path}` is not a field of the spec; did you mean `{near}`?"),
                ),
                _ => (field, message),
            }
        })?,
    };
    let mut config = spec_config(spec)?;
    config.generator = Some(generator_id(value));
    Ok(config)
}

/// The id of runs without a configuration (a KRM list without `functionConfig`).
const DEFAULTS: &str = "defaults";

/// `namespace/name` of a NetworkPolicyGenerator configuration (`name` without a namespace).
pub fn generator_id(config: &Value) -> String {
    let name = metadata_str(config, &["name"]).unwrap_or("unnamed");
    match metadata_str(config, &["namespace"]) {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_string(),
    }
}

/// Advice of the library in command-line words, and the same advice in the words of the
/// function config, which kustomize users write instead of flags. Longest first: a phrase is
/// replaced before the flag inside it. DNS has no field in the config
/// (kustomize runs are hermetic), so its advice goes.
const CONFIG_TERMS: &[(&str, &str)] = &[
    (
        "give them in a --hosts file, resolve them with DNS into a lock file (--lock FILE or --nameserver IP), or pass --fqdn-fallback public-internet",
        "give them in `spec.hosts`, or set `spec.fqdnFallback: public-internet`",
    ),
    (
        "(--fqdn-fallback public-internet)",
        "(`spec.fqdnFallback: public-internet`)",
    ),
    (
        "pass --allow-any-address",
        "set `spec.allowAnyAddress: true`",
    ),
    (
        "pass --internal-host HOST for that host, or --allow-special-addresses",
        "list the host in `spec.internalHosts`, or set `spec.allowSpecialAddresses: true`",
    ),
    (
        "pass --allow-shared-namespace",
        "set `spec.allowSharedNamespace: true`",
    ),
    (
        "(--allow-shared-namespace)",
        "(`spec.allowSharedNamespace`)",
    ),
    (
        "--ignore-unknown-fields ignores",
        "`spec.ignoreUnknownFields: true` ignores",
    ),
    ("(or --operator-version)", "(or `spec.operatorVersion`)"),
    ("pass it with --proxy-url", "set it as `spec.proxyUrl`"),
    (
        "raise the limit with --max-input-bytes",
        "raise the limit with `spec.maxInputBytes`",
    ),
    (
        "raise the limit with --max-depth",
        "raise the limit with `spec.maxDepth`",
    ),
    ("(the cluster profile)", "(`spec.cluster`)"),
    ("--fqdn-fallback", "spec.fqdnFallback"),
    ("--allow-any-address", "spec.allowAnyAddress"),
    ("--hosts", "spec.hosts"),
    ("--cluster", "spec.cluster"),
];

/// `text` with the command-line advice in the function config's words.
pub fn in_config_terms(text: &str) -> String {
    CONFIG_TERMS
        .iter()
        .fold(text.to_owned(), |text, (flag, field)| {
            text.replace(flag, field)
        })
}

/// `note` in the function config's words: its text, and its cause (a cluster profile field
/// is a field of `spec.cluster`).
pub fn note_in_config_terms(note: &Note) -> Note {
    let field = note.field.as_deref().map(|field| {
        field.strip_prefix("cluster profile ").map_or_else(
            || in_config_terms(field),
            |rest| format!("spec.cluster.{rest}"),
        )
    });
    Note {
        text: in_config_terms(&note.text),
        field,
        ..note.clone()
    }
}

/// The fields of a NetworkPolicyGenerator's `spec`.
const SPEC_FIELDS: [&str; 14] = [
    "flavor",
    "fqdnFallback",
    "zoneFallback",
    "operatorVersion",
    "proxyUrl",
    "allowAnyAddress",
    "allowSharedNamespace",
    "allowSpecialAddresses",
    "internalHosts",
    "ignoreUnknownFields",
    "cluster",
    "hosts",
    "maxInputBytes",
    "maxDepth",
];

/// The field of `spec` nearest to the unknown `name`, when one is near enough to be meant.
fn nearest_field(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    SPEC_FIELDS
        .iter()
        .map(|f| (strsim::jaro_winkler(&f.to_ascii_lowercase(), &lower), *f))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, f)| f)
}

/// The options of a NetworkPolicyGenerator without `spec`: those of `generate` without flags.
pub fn default_config() -> Config {
    spec_config(GeneratorSpec::default()).expect("an empty spec is valid")
}

fn choice<T: ValueEnum>(field: &str, raw: Option<&str>) -> Result<Option<T>, (String, String)> {
    raw.map(|raw| {
        T::from_str(raw, false).map_err(|_| {
            let names: Vec<String> = T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
                .collect();
            (
                format!("spec.{field}"),
                format!("`{raw}` is not one of {}", names.join(", ")),
            )
        })
    })
    .transpose()
}

fn spec_config(spec: GeneratorSpec) -> Result<Config, (String, String)> {
    let inline = |field: &str, value: Option<Value>| -> Result<Option<Text>, (String, String)> {
        value
            .map(|v| {
                let text = serde_yaml::to_string(&v)
                    .map_err(|e| (format!("spec.{field}"), e.to_string()))?;
                Ok(Text {
                    name: format!("spec.{field}"),
                    text,
                })
            })
            .transpose()
    };
    let flavor = choice::<FlavorArg>("flavor", spec.flavor.as_deref())?;
    let zone = choice::<ZoneFallbackArg>("zoneFallback", spec.zone_fallback.as_deref())?;
    let fallback =
        choice::<crate::settings::FqdnFallback>("fqdnFallback", spec.fqdn_fallback.as_deref())?;
    let operator_version = spec.operator_version;
    let proxy_url = spec
        .proxy_url
        .as_deref()
        .map(ProxyUrl::parse)
        .transpose()
        .map_err(|e| ("spec.proxyUrl".to_string(), e.to_string()))?;
    Ok(Config {
        cluster: inline("cluster", spec.cluster)?,
        hosts: inline("hosts", spec.hosts)?,
        lock: None,
        fallback: match fallback {
            Some(_) => Fallback::PublicInternet,
            None => Fallback::Fail,
        },
        zone_fallback: zone.unwrap_or(ZoneFallbackArg::Any).mode(),
        operator_version,
        proxy_url,
        any_address: if spec.allow_any_address {
            dynakube_netpol::cluster::AnyAddress::Allow
        } else {
            dynakube_netpol::cluster::AnyAddress::Refuse
        },
        shared_namespace: spec.allow_shared_namespace,
        special: if spec.allow_special_addresses {
            dynakube_netpol::guard::Special::Allow
        } else {
            dynakube_netpol::guard::Special::Refuse
        },
        internal_hosts: spec
            .internal_hosts
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                dynakube_netpol::values::Host::parse(raw).map_err(|e| {
                    (
                        format!("spec.internalHosts[{i}]"),
                        format!("`{}` {e}", dynakube_netpol::values::Shown(raw)),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        unknown_fields: if spec.ignore_unknown_fields {
            UnknownFields::Warn
        } else {
            UnknownFields::Refuse
        },
        limits: Limits {
            max_bytes: match spec.max_input_bytes {
                Some(value) => {
                    crate::ranges::field("maxInputBytes", value, &crate::ranges::INPUT_BYTES)?
                }
                None => Limits::default().max_bytes,
            },
            max_depth: match spec.max_depth {
                Some(value) => crate::ranges::field("maxDepth", value, &crate::ranges::DEPTH)?,
                None => Limits::default().max_depth,
            },
        },
        flavor: flavor.map_or(Flavor::default(), FlavorArg::flavor),
        generator: Some(DEFAULTS.to_string()),
    })
}

/// `namespace/name` of `object`, or `name` without a namespace.
pub fn name_of(object: &Value) -> String {
    let get = |key: &str| metadata_str(object, &[key]);
    match (get("namespace"), get("name")) {
        (Some(namespace), Some(name)) => format!("{namespace}/{name}"),
        (None, Some(name)) => name.to_string(),
        _ => String::new(),
    }
}
