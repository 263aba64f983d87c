//! Reading DynaKube and EdgeConnect resources from YAML text into the normalised [`Inputs`].
//!
//! A file may hold several documents. Every field is checked against the fields its kind and
//! API version declare (lists taken from the operator's CRDs), as the API server's strict field validation does: a field
//! the resource cannot have is an error (or a warning with [`UnknownFields::Warn`]). Fields this
//! tool does not need are then ignored; fields it reads are type-checked, and every problem is
//! reported with file, document and field path. Documents of other kinds are skipped and
//! listed ([`Inputs::skipped`]); an unknown kind of the `dynatrace.com` group is an error, and
//! so is a near miss of `DynaKube` or `EdgeConnect` in any group (`Dynakube`), or one of them
//! under another group: either would otherwise be skipped, and its policies silently missing.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::Error;
//! use dynakube_netpol::input::{ParseOptions, UnknownFields, parse_into};
//! use dynakube_netpol::resources::Inputs;
//!
//! let yaml = "\
//! apiVersion: dynatrace.com/v1beta6
//! kind: DynaKube
//! metadata: {name: dk, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.live.dynatrace.com/api
//!   activeGate: {capabilites: [routing]}
//! ---
//! apiVersion: v1
//! kind: ConfigMap
//! metadata: {name: settings, namespace: dynatrace}
//! ";
//! // A misspelt field is refused, as `kubectl apply` refuses it, with its path.
//! let mut inputs = Inputs::default();
//! let error = parse_into(&mut inputs, "dk.yaml", yaml, &ParseOptions::default()).unwrap_err();
//! let Error::Invalid { location, reason, remedies } = &error else { panic!("{error}") };
//! assert_eq!(location.field, "spec.activeGate.capabilites");
//! assert!(reason.starts_with("is not a field of DynaKube dynatrace.com/v1beta6"), "{reason}");
//! // What would let it through, as data: each front end words it (a flag, a spec field).
//! use dynakube_netpol::advice::{Remedy, Setting};
//! assert!(matches!(remedies[0], Remedy::Set { setting: Setting::IgnoreUnknownFields, .. }));
//!
//! // Or ignored with a warning on the resource.
//! let options = ParseOptions { unknown_fields: UnknownFields::Warn, ..ParseOptions::default() };
//! parse_into(&mut inputs, "dk.yaml", yaml, &options)?;
//! assert_eq!(inputs.dynakubes.len(), 1);
//! assert!(inputs.dynakubes[0].warnings[0].contains("capabilites"));
//! // Documents of other kinds are skipped, and listed.
//! assert_eq!(inputs.skipped[0].kind, "ConfigMap");
//! # Ok::<(), Error>(())
//! ```

mod dynakube;
mod edgeconnect;
mod fields;
mod status;

pub use fields::known_field_paths;
pub(crate) use fields::nearest;

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::error::{Error, Location, Result};
use crate::resources::{Inputs, ProxyUrl, Skipped};
use crate::source::{Limits, Object};
use crate::values::{Name, Shown};

/// Facts the resources refer to but cannot hold themselves, and bounds on the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The proxy URL for DynaKubes whose `spec.proxy.valueFrom` names a Secret.
    pub proxy_url: Option<ProxyUrl>,
    /// Bounds on the input text.
    pub limits: Limits,
    /// What a field that the resource's API version does not declare is.
    pub unknown_fields: UnknownFields,
}

/// What a field that the resource's kind and API version do not declare is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnknownFields {
    /// An error, as the API server's strict field validation (`kubectl apply`'s default)
    /// makes it.
    #[default]
    Refuse,
    /// A warning; the field is ignored, as the API server does with
    /// `--validate=false` (the resource's policies are built as if it were not there).
    Warn,
}

/// Parses the YAML `text` of `file` and adds its DynaKubes and EdgeConnects to `inputs`.
///
/// `file` only names the input in messages. Empty documents are skipped; lists such as
/// `kubectl get -o yaml` prints are read item by item.
pub fn parse_into(
    inputs: &mut Inputs,
    file: &str,
    text: &str,
    options: &ParseOptions,
) -> Result<()> {
    parse_objects(
        inputs,
        crate::source::objects(file, text, &options.limits)?,
        options,
    )
}

/// Adds the DynaKubes and EdgeConnects among `objects` (as [`source::objects`] reads them) to
/// `inputs`, for a caller that reads the objects for its own purposes too.
///
/// [`source::objects`]: crate::source::objects
pub fn parse_objects(
    inputs: &mut Inputs,
    objects: impl IntoIterator<Item = Object>,
    options: &ParseOptions,
) -> Result<()> {
    for object in objects {
        parse_object(inputs, object, options)?;
    }
    Ok(())
}

fn parse_object(inputs: &mut Inputs, object: Object, options: &ParseOptions) -> Result<()> {
    let Object {
        location,
        kind,
        api_version,
        value,
    } = object;
    let ours = group(&api_version) == GROUP;
    match kind.as_str() {
        "DynaKube" | "EdgeConnect" if ours => {
            let unknown = unknown_fields(&location, &kind, &api_version, &value, options)?;
            if kind == "DynaKube" {
                let mut dynakube = dynakube::parse(&location, &api_version, value, options)?;
                dynakube.warnings.splice(0..0, unknown);
                inputs.dynakubes.push(dynakube);
            } else {
                let mut edgeconnect = edgeconnect::parse(&location, &api_version, value)?;
                edgeconnect.warnings.splice(0..0, unknown);
                inputs.edgeconnects.push(edgeconnect);
            }
        }
        // No other group has these kinds: a DynaKube under a misspelt group would be skipped
        // as someone else's object, and its policies silently missing.
        "DynaKube" | "EdgeConnect" => {
            return Err(Error::invalid(
                location.join("apiVersion"),
                format!(
                    "`{}` is no API version of {kind}, whose group is {GROUP} (as in {GROUP}/v1beta6 or {GROUP}/v1alpha2)",
                    Shown(&api_version)
                ),
            ));
        }
        other if ours => {
            let hint = near_kind(other, true)
                .map(|near| did_you_mean(other, near))
                .unwrap_or_default();
            return Err(Error::invalid(
                location.join("kind"),
                format!(
                    "`{}` is not a kind of {GROUP} this tool reads (DynaKube, EdgeConnect){hint}",
                    Shown(other)
                ),
            ));
        }
        other => match near_kind(other, false) {
            Some(near) => {
                return Err(Error::invalid(
                    location.join("kind"),
                    format!(
                        "`{}` is no kind of {}{}",
                        Shown(other),
                        Shown(&api_version),
                        did_you_mean(other, near)
                    ),
                ));
            }
            None => inputs.skipped.push(Skipped {
                location,
                kind,
                api_version,
            }),
        },
    }
    Ok(())
}

/// The suggestion of `near` for `kind`, saying that case counts where only case differs.
fn did_you_mean(kind: &str, near: &str) -> String {
    let case = if kind.eq_ignore_ascii_case(near) {
        " (kinds are case-sensitive)"
    } else {
        ""
    };
    format!("; did you mean `{near}`?{case}")
}

/// The API group of the resources this tool reads.
const GROUP: &str = "dynatrace.com";

/// The kind this tool reads that `kind` is a near miss of: `Dynakube`, `EdgeConect`. In the
/// `dynatrace.com` group, whose every other kind is an error anyway, any similar name counts;
/// in other groups only a difference of case and at most one letter (missing, extra, swapped
/// or wrong), so that another product's `EdgeConnector` stays its own.
fn near_kind(kind: &str, ours: bool) -> Option<&'static str> {
    const KINDS: [&str; 2] = ["DynaKube", "EdgeConnect"];
    if ours {
        return nearest(kind, KINDS);
    }
    let lower = kind.to_lowercase();
    KINDS
        .into_iter()
        .find(|k| strsim::damerau_levenshtein(&lower, &k.to_lowercase()) <= 1)
}

/// The API group of an `apiVersion`: `dynatrace.com` of `dynatrace.com/v1beta6`, empty for
/// the core group (`v1`).
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// The fields of a resource that its API version does not declare: an error naming the first
/// (and how many more) with [`UnknownFields::Refuse`]; otherwise one warning each.
fn unknown_fields(
    location: &Location,
    kind: &str,
    api_version: &str,
    value: &Value,
    options: &ParseOptions,
) -> Result<Vec<String>> {
    let unknown = fields::unknown_fields(kind, api_version, value);
    let describe = |field: &fields::UnknownField| {
        let mut text = format!("is not a field of {kind} {}", Shown(api_version));
        if let Some(hint) = &field.hint {
            text.push_str(&format!("; {hint}"));
        }
        text
    };
    match (unknown.first(), options.unknown_fields) {
        (None, _) => Ok(Vec::new()),
        (Some(first), UnknownFields::Refuse) => {
            let mut reason = describe(first);
            if unknown.len() > 1 {
                let rest: Vec<String> = unknown[1..]
                    .iter()
                    .map(|f| format!("`{}`", Shown(&f.path)))
                    .collect();
                reason.push_str(&format!(" (also unknown: {})", rest.join(", ")));
            }
            let ignore = crate::advice::Remedy::set_when(
                crate::advice::Setting::IgnoreUnknownFields,
                "to ignore unknown fields with a warning",
            );
            Err(Error::invalid_unless(
                location.join(&first.path),
                reason,
                vec![ignore],
            ))
        }
        (Some(_), UnknownFields::Warn) => Ok(unknown
            .iter()
            .map(|f| {
                format!(
                    "`{}` {} and is ignored",
                    Shown(&location.join(&f.path).field),
                    describe(f)
                )
            })
            .collect()),
    }
}

/// Deserializes `value` into `T`, naming the field path of the first type error.
fn typed<T: DeserializeOwned>(location: &Location, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| crate::error::field_error(location, e))
}

/// A resource as far as this tool reads it: metadata and a spec of type `S`.
#[derive(serde::Deserialize)]
struct Resource<S> {
    #[serde(default)]
    metadata: Metadata,
    spec: Option<S>,
}

/// The version of `kind` that `api_version` names, among `known`.
fn version<V: Copy>(
    location: &Location,
    kind: &str,
    api_version: &str,
    known: &[(&str, V)],
) -> Result<V> {
    match known.iter().find(|(name, _)| *name == api_version) {
        Some(&(_, version)) => Ok(version),
        None => {
            let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
            Err(Error::invalid(
                location.join("apiVersion"),
                format!(
                    "`{}` is not a {kind} version this tool reads ({})",
                    Shown(api_version),
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Reads `value` as a resource with a spec of type `S`: its metadata, name (checked by
/// `name`) and spec.
fn resource<S: DeserializeOwned>(
    location: &Location,
    value: Value,
    name: fn(&str) -> std::result::Result<Name, crate::values::Invalid>,
) -> Result<(Metadata, Name, S)> {
    let raw: Resource<S> = typed(location, value)?;
    let name = raw.metadata.name(location, name)?;
    let spec = raw
        .spec
        .ok_or_else(|| Error::invalid(location.join("spec"), "is missing"))?;
    Ok((raw.metadata, name, spec))
}

/// `metadata` as far as this tool reads it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    name: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

impl Metadata {
    /// The name, which every resource must have, checked by `parse`.
    fn name(
        &self,
        location: &Location,
        parse: fn(&str) -> std::result::Result<Name, crate::values::Invalid>,
    ) -> Result<Name> {
        let field = location.join("metadata.name");
        match self.name.as_deref() {
            Some(name) => {
                parse(name).map_err(|e| Error::invalid(field, format!("`{}` {e}", Shown(name))))
            }
            None => Err(Error::invalid(field, "is missing")),
        }
    }

    /// The namespace, when set.
    fn namespace(&self, location: &Location) -> Result<Option<Name>> {
        let field = location.join("metadata.namespace");
        match self.namespace.as_deref() {
            None => Ok(None),
            Some(namespace) => Name::parse(namespace)
                .map(Some)
                .map_err(|e| Error::invalid(field, format!("`{}` {e}", Shown(namespace)))),
        }
    }
}

/// A value of type `T` parsed from `raw`, or an error at `field` that shows the value.
fn checked<T>(
    location: &Location,
    field: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, crate::values::Invalid>,
) -> Result<T> {
    parse(raw).map_err(|e| Error::invalid(location.join(field), format!("`{}` {e}", Shown(raw))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Inputs> {
        let mut inputs = Inputs::default();
        parse_into(&mut inputs, "test.yaml", text, &ParseOptions::default())?;
        Ok(inputs)
    }

    #[test]
    fn empty_documents_are_skipped() {
        let inputs = parse("---\n---\n").unwrap();
        assert!(inputs.dynakubes.is_empty());
    }

    #[test]
    fn other_kinds_are_skipped_and_unknown_dynatrace_kinds_refused() {
        let dynakube = "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {name: dk}\nspec: {apiUrl: 'https://a.live.dynatrace.com/api'}\n";
        let text = format!(
            "~\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n---\n{dynakube}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
        );
        let inputs = parse(&text).unwrap();
        assert_eq!(inputs.dynakubes.len(), 1);
        let skipped: Vec<String> = inputs.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            skipped,
            [
                "ConfigMap v1 (test.yaml, document 2)",
                "Role rbac.authorization.k8s.io/v1 (test.yaml, document 4)"
            ]
        );

        let err = parse("apiVersion: dynatrace.com/v1beta1\nkind: OneAgent\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "test.yaml, document 1, field `kind`: `OneAgent` is not a kind of dynatrace.com this tool reads (DynaKube, EdgeConnect)"
        );
    }

    #[test]
    fn near_misses_of_the_kinds_get_a_suggestion() {
        let document = |api_version: &str, kind: &str| {
            format!(
                "apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: dk}}\nspec: {{apiUrl: 'https://a.live.dynatrace.com/api'}}\n"
            )
        };
        for (api_version, kind, near) in [
            ("dynatrace.com/v1beta6", "Dynakube", "DynaKube"),
            ("dynatrace.com/v1beta6", "DynaKubes", "DynaKube"),
            ("dynatrace.com/v1alpha2", "Edgeconect", "EdgeConnect"),
            ("dynatrace.io/v1beta6", "Dynakube", "DynaKube"),
            ("v1", "dynakub", "DynaKube"),
            ("dynatrace.com/v1alpha2", "edgeConnect", "EdgeConnect"),
        ] {
            let err = parse(&document(api_version, kind)).unwrap_err().to_string();
            assert!(
                err.starts_with("test.yaml, document 1, field `kind`: "),
                "{err}"
            );
            assert!(err.contains(&format!("did you mean `{near}`?")), "{err}");
            let case_only = kind.eq_ignore_ascii_case(near);
            assert_eq!(
                err.ends_with("(kinds are case-sensitive)"),
                case_only,
                "{err}"
            );
        }
        // A kind of its own in another group stays someone else's.
        let inputs = parse(&document("example.com/v1", "EdgeConnector")).unwrap();
        assert_eq!(inputs.skipped[0].kind, "EdgeConnector");
        let err = parse(&document("dynatrace.com/v1beta1", "OneAgent"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("did you mean"), "{err}");
        // The right kind under another group is refused at its apiVersion.
        let err = parse(&document("dynatrace.io/v1beta6", "DynaKube"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "test.yaml, document 1, field `apiVersion`: `dynatrace.io/v1beta6` is no API version of DynaKube, whose group is dynatrace.com (as in dynatrace.com/v1beta6 or dynatrace.com/v1alpha2)"
        );
    }

    #[test]
    fn unknown_fields_are_errors_or_warnings() {
        let text = "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {name: dk}\nspec:\n  apiUrl: https://a.live.dynatrace.com/api\n  activeGates:\n    capabilities: [routing]\n  logMonitor: {}\n";
        let err = parse(text).unwrap_err().to_string();
        assert_eq!(
            err,
            "test.yaml, document 1, field `spec.activeGates`: is not a field of DynaKube dynatrace.com/v1beta6; did you mean `activeGate`? (also unknown: `spec.logMonitor`); turn on the setting `ignore-unknown-fields` to ignore unknown fields with a warning"
        );

        let mut inputs = Inputs::default();
        let options = ParseOptions {
            unknown_fields: UnknownFields::Warn,
            ..ParseOptions::default()
        };
        parse_into(&mut inputs, "test.yaml", text, &options).unwrap();
        let dk = &inputs.dynakubes[0];
        assert_eq!(dk.active_gate, None);
        assert_eq!(dk.warnings.len(), 2, "{:?}", dk.warnings);
        assert!(
            dk.warnings[1].starts_with("`spec.logMonitor` is not a field of DynaKube"),
            "{:?}",
            dk.warnings
        );
    }

    #[test]
    fn lists_from_kubectl_are_read_item_by_item() {
        let item = |name: &str| {
            format!(
                "{{apiVersion: dynatrace.com/v1beta6, kind: DynaKube, metadata: {{name: {name}}}, spec: {{apiUrl: 'https://a.live.dynatrace.com/api'}}}}"
            )
        };
        let text = format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}\n- {}\n",
            item("one"),
            item("two")
        );
        let inputs = parse(&text).unwrap();
        assert_eq!(inputs.dynakubes.len(), 2);
        let broken = text.replace(
            "two}, spec: {apiUrl: 'https://a.live.dynatrace.com/api'}",
            "two}, spec: {apiUrl: 'x'}",
        );
        let err = parse(&broken).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "test.yaml, document 1, field `items[1].spec.apiUrl`: `x` is not a URL"
            ),
            "{err}"
        );
    }

    #[test]
    fn type_errors_carry_the_field_path() {
        let text = "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {name: dk}\nspec:\n  apiUrl: https://a.live.dynatrace.com/api\n  activeGate:\n    capabilities: routing\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "test.yaml, document 1, field `spec.activeGate.capabilities`: invalid type"
            ),
            "{err}"
        );
    }
}
