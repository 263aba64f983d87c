//! One code path for every tool that hands over a stream of rendered manifests: the Helm
//! post-renderer, kubectl's kustomize transformer plugin and the KRM function. Each reads the
//! stream, keeps every object as it is, and adds the policies of its DynaKubes and
//! EdgeConnects.
//!
//! Decision: a stream without DynaKube or EdgeConnect is no error here (a chart may install
//! the operator alone); it goes through unchanged, with a note.

use std::collections::BTreeMap;
use std::process::ExitCode;

use dynakube_netpol::input::parse_objects;
use dynakube_netpol::matrix::{Level, Note};
use dynakube_netpol::output::Output;
use dynakube_netpol::resources::Inputs;
use serde_yaml::{Mapping, Value};

use crate::settings::{Config, FlavorChoice, Text};
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

impl Consumer {
    /// How the consumer's users name settings: flags for Helm, spec fields for kustomize.
    pub fn words(self) -> &'static dyn dynakube_netpol::advice::Words {
        match self {
            Consumer::Helm => &crate::words::Flags,
            Consumer::Kustomize => &crate::words::Spec,
        }
    }
}

/// What the manifests gave: the input objects, and the policies to add (none without a
/// DynaKube or EdgeConnect).
pub struct Added {
    /// The policies as the YAML stream `generate` prints (provenance header first); none
    /// without a DynaKube or EdgeConnect.
    pub policies: Option<Output>,
    /// Everything to tell: the matrix's and renderer's notes, and where facts came from.
    pub notes: Vec<Note>,
    /// Who reads the notes.
    pub consumer: Consumer,
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
            consumer,
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
    let mut output = generated.output_in(&loaded.inputs, arguments, consumer.words())?;
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
    if let Some(warnings) = warnings_annotation(&generated.notes, consumer.words())
        .filter(|_| consumer == Consumer::Kustomize)
    {
        output.annotate(WARNINGS_ANNOTATION, |name| {
            (name == "default-deny").then(|| warnings.clone())
        })?;
    }
    Ok(Added {
        notes: generated.notes,
        policies: Some(output),
        consumer,
    })
}

/// The annotation under which kustomize's outputs, which keep no comments, carry the
/// warnings of a run: on the `default-deny` policy, so that they show in a review.
pub const WARNINGS_ANNOTATION: &str = "dynakube-netpol/warnings";

/// The warnings of `notes`, one per line; none without one. At most [`ANNOTATED_WARNINGS`]
/// of them, since Kubernetes limits an object's annotations to 256 KiB; the function's
/// results and standard error have them all.
fn warnings_annotation(
    notes: &[Note],
    words: &dyn dynakube_netpol::advice::Words,
) -> Option<String> {
    let warnings: Vec<&Note> = notes.iter().filter(|n| n.level == Level::Warning).collect();
    let mut lines: Vec<String> = warnings
        .iter()
        .take(ANNOTATED_WARNINGS)
        .map(|n| n.to_string_in(words))
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
    crate::say::print_notes_in(&added.notes, added.consumer.words());
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
    let spec = match value.get("spec") {
        None | Some(Value::Null) => Mapping::new(),
        Some(Value::Mapping(spec)) => spec.clone(),
        Some(_) => {
            return Err((
                "spec".into(),
                "must be an object with the options of generate".into(),
            ));
        }
    };
    let mut config = spec_config(&spec)?;
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

/// How a field of a NetworkPolicyGenerator's spec takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `true` or `false`: a switch of the command line.
    Switch,
    /// One value: a flag's value.
    One,
    /// A list: a flag given once per item.
    List,
    /// An object inline: the cluster profile or the hosts file, which the command line reads
    /// from files.
    Inline,
    /// The path of a file of the kustomization (`clusterFile`): what the flag's file holds,
    /// read as kustomize reads the kustomization's files ([`read_beside`]).
    File,
}

/// A field of a NetworkPolicyGenerator's spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecField {
    /// Its name: the camel case of its flag (`allowAnyAddress`).
    pub name: String,
    /// The flag it stands for (`allow-any-address`).
    pub flag: String,
    /// How it takes its value.
    pub kind: FieldKind,
}

/// The options of the spec that may also be given inline, where the command line names files.
const INLINE: [&str; 2] = ["cluster", "hosts"];

/// The command the spec is read by: the options of `generate` that shape the policies and the
/// read-only lock of the integrations (the clap definitions of `Settings`, `FlavorChoice` and
/// `ReadLock`), so that names, defaults, validation and suggestions are the command line's.
fn spec_command() -> clap::Command {
    use clap::Args;
    let command = clap::Command::new(TRANSFORMER_NAME).no_binary_name(true);
    let command = crate::settings::ReadLock::augment_args(command);
    FlavorChoice::augment_args(crate::settings::Settings::augment_args(command))
}

/// The fields of a NetworkPolicyGenerator's spec, derived from the options of `generate`
/// ([`spec_command`]): every flag by its camel-case name; a flag that names a file (its value
/// is a `FILE`) as `<name>File`, the path of a file of the kustomization, and the cluster
/// profile and the hosts also inline under the flag's own name.
pub fn spec_fields() -> &'static [SpecField] {
    static FIELDS: std::sync::LazyLock<Vec<SpecField>> = std::sync::LazyLock::new(|| {
        let command = spec_command();
        let mut fields: Vec<SpecField> = Vec::new();
        for arg in command.get_arguments() {
            let Some(flag) = arg.get_long().map(str::to_string) else {
                continue;
            };
            let field = |name: String, kind| SpecField {
                name,
                flag: flag.clone(),
                kind,
            };
            let names_file = arg
                .get_value_names()
                .is_some_and(|names| names.iter().any(|n| n == "FILE"));
            let camel = crate::words::camel_case(&flag);
            if names_file {
                fields.push(field(format!("{camel}File"), FieldKind::File));
            }
            let kind = match arg.get_action() {
                _ if INLINE.contains(&flag.as_str()) => FieldKind::Inline,
                _ if names_file => continue,
                clap::ArgAction::SetTrue => FieldKind::Switch,
                clap::ArgAction::Append => FieldKind::List,
                _ => FieldKind::One,
            };
            fields.push(field(camel, kind));
        }
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        fields
    });
    &FIELDS
}

/// The field of the spec nearest to the unknown `name`, when one is near enough to be meant.
fn nearest_field(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    spec_fields()
        .iter()
        .map(|f| {
            (
                strsim::jaro_winkler(&f.name.to_ascii_lowercase(), &lower),
                f,
            )
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, f)| f.name.as_str())
}

/// The options of a NetworkPolicyGenerator without `spec`: those of `generate` without flags.
pub fn default_config() -> Config {
    let mut config = spec_config(&Mapping::new()).expect("an empty spec is valid");
    config.generator = Some(DEFAULTS.to_string());
    config
}

/// A spec as command-line words, and by flag its inline objects and the paths of its files.
#[derive(Default)]
struct SpecWords {
    words: Vec<String>,
    inline: BTreeMap<String, Value>,
    files: BTreeMap<String, String>,
}

/// The words of the spec's fields as command-line words, the inline objects and the files;
/// errors name the field.
fn spec_words(spec: &Mapping) -> Result<SpecWords, (String, String)> {
    let mut parts = SpecWords::default();
    let SpecWords {
        words,
        inline,
        files,
    } = &mut parts;
    for (key, value) in spec {
        let Some(key) = key.as_str() else {
            return Err(("spec".into(), "field names are strings".into()));
        };
        let at = format!("spec.{key}");
        let Some(field) = spec_fields().iter().find(|f| f.name == key) else {
            let message = match nearest_field(key) {
                Some(near) => format!("`{key}` is not a field of the spec; did you mean `{near}`?"),
                None => format!("`{key}` is not a field of the spec"),
            };
            return Err((at, message));
        };
        let flag = format!("--{}", field.flag);
        match (field.kind, value) {
            (FieldKind::Inline, value) => {
                inline.insert(field.flag.clone(), value.clone());
            }
            (FieldKind::File, Value::String(path)) => {
                files.insert(field.flag.clone(), path.clone());
            }
            (FieldKind::File, _) => {
                return Err((at, "must be the path of a file, as a string".into()));
            }
            (FieldKind::Switch, Value::Bool(true)) => words.push(flag),
            (FieldKind::Switch, Value::Bool(false)) => {}
            (FieldKind::Switch, _) => return Err((at, "must be true or false".into())),
            (FieldKind::One, value) => words.extend([flag, scalar(&at, value)?]),
            (FieldKind::List, Value::Sequence(items)) => {
                for item in items {
                    words.extend([flag.clone(), scalar(&at, item)?]);
                }
            }
            (FieldKind::List, _) => return Err((at, "must be a list".into())),
        }
    }
    if let Some(flag) = inline.keys().find(|flag| files.contains_key(*flag)) {
        let name = crate::words::camel_case(flag);
        return Err((
            format!("spec.{name}"),
            format!(
                "`spec.{name}` and `spec.{name}File` are both given: give the {flag} inline or name its file, not both"
            ),
        ));
    }
    Ok(parts)
}

/// A scalar of the spec as a word of the command line.
fn scalar(at: &str, value: &Value) -> Result<String, (String, String)> {
    match value {
        Value::String(text) => Ok(text.clone()),
        // A YAML number loses what a release or name keeps: `1.10` reads as 1.1.
        Value::Number(n) if n.is_f64() => Err((
            at.to_string(),
            format!(
                "`{n}` is a YAML number, which loses trailing zeros (1.10 reads as 1.1): quote it"
            ),
        )),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err((at.to_string(), "must be a string or a number".into())),
    }
}

/// The configuration of a spec: its words parsed by the command line's definition of the
/// options, then the inline profile and hosts.
fn spec_config(spec: &Mapping) -> Result<Config, (String, String)> {
    use clap::FromArgMatches;
    let SpecWords {
        words,
        inline,
        files,
    } = spec_words(spec)?;
    let matches = spec_command()
        .try_get_matches_from(words)
        .map_err(|e| clap_error(&e))?;
    let settings =
        crate::settings::Settings::from_arg_matches(&matches).map_err(|e| clap_error(&e))?;
    let flavor = FlavorChoice::from_arg_matches(&matches).map_err(|e| clap_error(&e))?;
    let mut config = settings
        .config(flavor.flavor.flavor())
        .map_err(|e| ("spec".to_string(), format!("{e:#}")))?;
    config.settings = flavor
        .settings()
        .map_err(|(name, why)| (format!("spec.{}", crate::words::camel_case(name)), why))?;
    for (flag, value) in inline {
        let name = format!("spec.{}", crate::words::camel_case(&flag));
        let text = serde_yaml::to_string(&value).map_err(|e| (name.clone(), e.to_string()))?;
        set_file(&mut config, &flag, Text { name, text })?;
    }
    for (flag, path) in files {
        let at = format!("spec.{}File", crate::words::camel_case(&flag));
        let text = read_beside(&path, &config.limits).map_err(|e| (at, e))?;
        set_file(&mut config, &flag, text)?;
    }
    Ok(config)
}

/// Sets what the file of `flag` holds in `config`.
fn set_file(config: &mut Config, flag: &str, text: Text) -> Result<(), (String, String)> {
    match flag {
        "cluster" => config.cluster = Some(text),
        "hosts" => config.hosts = Some(text),
        _ => {
            let lock = dynakube_netpol::lock::Lock::parse(&text.name, &text.text)
                .map_err(|e| ("spec.lockFile".to_string(), e.to_string()))?;
            config.lock = Some(lock);
        }
    }
    Ok(())
}

/// Reads the file a `spec.*File` field names (`raw`) as kustomize's default load restrictor
/// (`LoadRestrictionsRootOnly`) lets a kustomization read its files: a relative path from the
/// kustomization's directory, which kustomize makes the working directory of the transformer
/// plugin (`cmd.Dir`, also given as `KUSTOMIZE_PLUGIN_CONFIG_ROOT`) and of exec KRM functions
/// (`WorkingDir`); an absolute path as it is; and, with every link resolved, in or below that
/// directory. kustomize's `--load-restrictor LoadRestrictionsNone` does not reach a plugin,
/// so it cannot relax this. No URL: a build reads no network through this tool.
fn read_beside(raw: &str, limits: &dynakube_netpol::source::Limits) -> Result<Text, String> {
    if raw.is_empty() {
        return Err("must name a file".into());
    }
    let shown = dynakube_netpol::values::Shown(raw);
    if raw.contains("://") {
        return Err(format!(
            "`{shown}` is a URL; name a file of the kustomization"
        ));
    }
    let root = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| format!("the kustomization's directory is unreadable: {e}"))?;
    let directory = root.display().to_string();
    let directory = dynakube_netpol::values::Shown(&directory);
    let joined = root.join(raw);
    let Ok(real) = joined.canonicalize() else {
        // The reader words why (no such file, no permission).
        let reason = match dynakube_netpol::source::read_file(raw, &joined, limits) {
            Err(error) => error.to_string(),
            Ok(_) => format!("`{shown}` cannot be resolved"),
        };
        return Err(format!(
            "{reason} (relative to the kustomization's directory {directory})"
        ));
    };
    if !real.starts_with(&root) {
        return Err(format!(
            "`{shown}` is not in or below the kustomization's directory {directory}, where kustomize's load restrictor keeps a kustomization's files; copy it there"
        ));
    }
    let text = dynakube_netpol::source::read_file(raw, &real, limits).map_err(|e| e.to_string())?;
    Ok(Text {
        name: raw.to_string(),
        text,
    })
}

/// A clap error of the spec's words as the field and message, in the spec's terms.
fn clap_error(error: &clap::Error) -> (String, String) {
    use clap::error::{ContextKind, ContextValue};
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        _ => None,
    };
    let flag = context(ContextKind::InvalidArg).unwrap_or_default();
    let flag = flag
        .trim_start_matches('-')
        .split([' ', '='])
        .next()
        .unwrap_or_default();
    let field = spec_fields()
        .iter()
        .find(|f| f.flag == flag)
        .map_or_else(|| "spec".to_string(), |f| format!("spec.{}", f.name));
    let value = context(ContextKind::InvalidValue);
    let valid = match error.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(valid)) => valid.clone(),
        _ => Vec::new(),
    };
    let message = match (value, std::error::Error::source(error)) {
        (Some(value), Some(reason)) => format!("invalid value `{value}`: {reason}"),
        (Some(value), None) if !valid.is_empty() => {
            let near = valid
                .iter()
                .map(|v| (strsim::jaro_winkler(v, &value), v))
                .filter(|(score, _)| *score >= 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, v)| format!("; did you mean `{v}`?"))
                .unwrap_or_default();
            format!("`{value}` is not one of {}{near}", valid.join(", "))
        }
        (Some(value), None) => format!("invalid value `{value}`: {}", error.kind()),
        (None, _) => error.kind().to_string(),
    };
    (field, message)
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
