//! DynaKube `dynatrace.com/v1beta3` to `v1beta6`, read into [`DynaKube`].

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_yaml::Value;

use super::{ParseOptions, checked, resource, version};
use crate::error::{Error, Location, Result};
use crate::resources::{
    ActiveGate, ApiUrl, Capability, DynaKube, DynaKubeVersion, Extensions, FeatureFlags,
    FlagSyntax, ImageRef, NoProxy, OneAgent, OneAgentMode, Proxy, ProxySource, ProxyUrl, Registry,
    TelemetryProtocol,
};
use crate::values::{Invalid, Name, Shown, ZoneName};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    api_url: Option<String>,
    network_zone: Option<String>,
    proxy: Option<RawProxy>,
    one_agent: Option<RawOneAgent>,
    active_gate: Option<RawActiveGate>,
    log_monitoring: Option<Value>,
    kspm: Option<Value>,
    extensions: Option<RawExtensions>,
    telemetry_ingest: Option<RawTelemetryIngest>,
    otlp_exporter_configuration: Option<Value>,
    metadata_enrichment: Option<RawMetadataEnrichment>,
    enable_istio: Option<bool>,
    public_registry_override: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProxy {
    value: Option<String>,
    value_from: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOneAgent {
    cloud_native_full_stack: Option<RawMode>,
    classic_full_stack: Option<RawMode>,
    host_monitoring: Option<RawMode>,
    application_monitoring: Option<RawMode>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMode {
    image: Option<String>,
    code_modules_image: Option<String>,
    namespace_selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawActiveGate {
    #[serde(default)]
    capabilities: Vec<String>,
    image: Option<String>,
    replicas: Option<i32>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawExtensions {
    prometheus: Option<Value>,
    databases: Option<Vec<RawDatabase>>,
}

#[derive(Deserialize)]
struct RawDatabase {
    id: String,
}

#[derive(Default, Deserialize)]
struct RawTelemetryIngest {
    protocols: Option<Vec<String>>,
}

#[derive(Default, Deserialize)]
struct RawMetadataEnrichment {
    enabled: Option<bool>,
}

/// The annotation prefix of the operator's feature flags.
const FF: &str = "feature.dynatrace.com/";

pub(super) fn parse(
    location: &Location,
    api_version: &str,
    value: Value,
    options: &ParseOptions,
) -> Result<DynaKube> {
    let version = version(
        location,
        "DynaKube",
        api_version,
        &[
            ("dynatrace.com/v1beta3", DynaKubeVersion::V1beta3),
            ("dynatrace.com/v1beta4", DynaKubeVersion::V1beta4),
            ("dynatrace.com/v1beta5", DynaKubeVersion::V1beta5),
            ("dynatrace.com/v1beta6", DynaKubeVersion::V1beta6),
        ],
    )?;
    let status_value = value.get("status").cloned();
    let (metadata, name, spec): (_, _, Spec) = resource(location, value, dynakube_name)?;
    let namespace = metadata.namespace(location)?;
    let api_url = match spec.api_url.as_deref() {
        None => return Err(Error::invalid(location.join("spec.apiUrl"), "is missing")),
        Some(raw) => ApiUrl::parse(raw)
            .map_err(|reason| Error::invalid(location.join("spec.apiUrl"), reason))?,
    };
    let mut warnings = Vec::new();
    let feature_flags = feature_flags(location, &metadata.annotations, &mut warnings);
    let status = super::status::dynakube_status(status_value.as_ref(), &mut warnings);
    let proxy = proxy(location, spec.proxy, &feature_flags, options)?;
    let one_agent = one_agent(location, spec.one_agent.unwrap_or_default())?;
    let active_gate = spec
        .active_gate
        .map(|ag| active_gate(location, ag))
        .transpose()?;
    let network_zone = match spec.network_zone.as_deref() {
        None | Some("") => None,
        Some(zone) => Some(checked(
            location,
            "spec.networkZone",
            zone,
            ZoneName::parse,
        )?),
    };
    let v1beta6 = version == DynaKubeVersion::V1beta6;
    let public_registry_override = match spec.public_registry_override.as_deref() {
        Some(raw) if v1beta6 && !raw.is_empty() => Some(public_registry(location, raw)?),
        _ => None,
    };
    // `telemetryIngest` exists from v1beta4 on; the API server drops it from a v1beta3 object.
    let telemetry_ingest = match spec.telemetry_ingest {
        Some(raw) if version >= DynaKubeVersion::V1beta4 => {
            Some(telemetry_protocols(location, raw)?)
        }
        _ => None,
    };

    Ok(DynaKube {
        name,
        namespace,
        version,
        origin: location.clone(),
        api_url,
        network_zone,
        proxy,
        one_agent,
        active_gate,
        log_monitoring: spec.log_monitoring.is_some(),
        kspm: spec.kspm.is_some(),
        extensions: extensions(spec.extensions, v1beta6),
        telemetry_ingest,
        otlp_exporter: v1beta6 && spec.otlp_exporter_configuration.is_some(),
        metadata_enrichment: spec
            .metadata_enrichment
            .and_then(|m| m.enabled)
            .unwrap_or(false),
        enable_istio: spec.enable_istio.unwrap_or(false),
        public_registry_override,
        feature_flags,
        status,
        warnings,
    })
}

/// The operator's rule for DynaKube names: an RFC 1035 label (a letter first) of at most 40
/// characters, since workload names are built from it.
fn dynakube_name(name: &str) -> std::result::Result<Name, Invalid> {
    if name.len() > 40 {
        return Err(Invalid(
            "is longer than 40 characters, the most the operator accepts for a DynaKube".into(),
        ));
    }
    let parsed = Name::parse(name)?;
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(Invalid(
            "must start with a letter (the operator requires an RFC 1035 label)".into(),
        ));
    }
    Ok(parsed)
}

/// `spec.proxy`: a URL, or a Secret whose URL the command line gives.
fn proxy(
    location: &Location,
    raw: Option<RawProxy>,
    feature_flags: &FeatureFlags,
    options: &ParseOptions,
) -> Result<Option<Proxy>> {
    let (url, source) = match raw {
        Some(RawProxy {
            value: Some(value), ..
        }) if !value.is_empty() => {
            let url = ProxyUrl::parse(&value)
                .map_err(|reason| Error::invalid(location.join("spec.proxy.value"), reason.0))?;
            (url, ProxySource::Value)
        }
        Some(RawProxy {
            value_from: Some(secret),
            ..
        }) if !secret.is_empty() => {
            let url = options.proxy_url.clone().ok_or_else(|| {
                Error::invalid_unless(
                    location.join("spec.proxy.valueFrom"),
                    format!(
                        "the proxy URL is in Secret `{}`, which cannot be read here",
                        Shown(&secret)
                    ),
                    vec![crate::advice::Remedy::Set {
                        setting: crate::advice::Setting::ProxyUrl,
                        value: Some("URL"),
                        when: "to give it",
                    }],
                )
            })?;
            (url, ProxySource::Secret(secret))
        }
        _ => return Ok(None),
    };
    Ok(Some(Proxy {
        address: url.address,
        source,
        no_proxy: feature_flags.no_proxy.clone(),
    }))
}

fn active_gate(location: &Location, raw: RawActiveGate) -> Result<ActiveGate> {
    let mut capabilities = BTreeSet::new();
    for (i, name) in raw.capabilities.iter().enumerate() {
        let capability = Capability::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| {
                Error::invalid(
                    location.join(&format!("spec.activeGate.capabilities[{i}]")),
                    format!(
                        "`{}` is not an ActiveGate capability ({})",
                        Shown(name),
                        Capability::ALL.map(Capability::name).join(", ")
                    ),
                )
            })?;
        capabilities.insert(capability);
    }
    let image = image(location, "spec.activeGate.image", raw.image.as_deref())?;
    Ok(ActiveGate {
        capabilities,
        image,
        replicas: raw.replicas,
    })
}

/// `spec.publicRegistryOverride`: a registry host, optionally with a port and a path.
fn public_registry(location: &Location, raw: &str) -> Result<Registry> {
    let host = raw.split('/').next().unwrap_or(raw);
    Registry::parse(host)
        .map_err(|reason| Error::invalid(location.join("spec.publicRegistryOverride"), reason))
}

fn extensions(raw: Option<RawExtensions>, v1beta6: bool) -> Extensions {
    match raw {
        None => Extensions::default(),
        // Before v1beta6 an `extensions` object, even an empty one, switches on Prometheus extensions.
        Some(_) if !v1beta6 => Extensions {
            prometheus: true,
            databases: Vec::new(),
        },
        Some(raw) => Extensions {
            prometheus: raw.prometheus.is_some(),
            databases: raw
                .databases
                .unwrap_or_default()
                .into_iter()
                .map(|d| d.id)
                .collect(),
        },
    }
}

/// The telemetry ingest protocols; an empty list means all four.
fn telemetry_protocols(
    location: &Location,
    raw: RawTelemetryIngest,
) -> Result<BTreeSet<TelemetryProtocol>> {
    let mut protocols = BTreeSet::new();
    for (i, name) in raw.protocols.unwrap_or_default().iter().enumerate() {
        let protocol = TelemetryProtocol::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                Error::invalid(
                    location.join(&format!("spec.telemetryIngest.protocols[{i}]")),
                    format!(
                        "`{}` is not a telemetry ingest protocol ({})",
                        Shown(name),
                        TelemetryProtocol::ALL
                            .map(TelemetryProtocol::name)
                            .join(", ")
                    ),
                )
            })?;
        protocols.insert(protocol);
    }
    if protocols.is_empty() {
        protocols.extend(TelemetryProtocol::ALL);
    }
    Ok(protocols)
}

fn one_agent(location: &Location, raw: RawOneAgent) -> Result<Option<OneAgent>> {
    let modes = [
        (
            OneAgentMode::CloudNativeFullStack,
            raw.cloud_native_full_stack,
        ),
        (OneAgentMode::ClassicFullStack, raw.classic_full_stack),
        (OneAgentMode::HostMonitoring, raw.host_monitoring),
        (
            OneAgentMode::ApplicationMonitoring,
            raw.application_monitoring,
        ),
    ];
    let mut set = modes
        .into_iter()
        .filter_map(|(mode, spec)| spec.map(|spec| (mode, spec)));
    let Some((mode, spec)) = set.next() else {
        return Ok(None);
    };
    if let Some((other, _)) = set.next() {
        return Err(Error::invalid(
            location.join("spec.oneAgent"),
            format!(
                "`{}` and `{}` are both set; a DynaKube has one OneAgent mode",
                mode.field(),
                other.field()
            ),
        ));
    }
    let field = |name: &str| format!("spec.oneAgent.{}.{name}", mode.field());
    Ok(Some(OneAgent {
        mode,
        image: image(location, &field("image"), spec.image.as_deref())?,
        code_modules_image: image(
            location,
            &field("codeModulesImage"),
            spec.code_modules_image.as_deref(),
        )?,
        namespace_selector: spec.namespace_selector.is_some(),
    }))
}

fn image(location: &Location, field: &str, raw: Option<&str>) -> Result<Option<ImageRef>> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => ImageRef::parse(raw)
            .map(Some)
            .map_err(|reason| Error::invalid(location.join(field), reason)),
    }
}

/// The feature flags as written, and the switches as the newest release reads them (the
/// matrix reads them again for the cluster's release; see [`FeatureFlags`]).
fn feature_flags(
    location: &Location,
    annotations: &std::collections::BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> FeatureFlags {
    let raw: std::collections::BTreeMap<String, String> = annotations
        .iter()
        .filter_map(|(key, value)| Some((key.strip_prefix(FF)?.to_owned(), value.clone())))
        .collect();
    let flag = |name: &str, default: bool| {
        FlagSyntax::ParseBool
            .read(raw.get(name).map(String::as_str), default)
            .0
    };
    let (no_proxy, ignored) = raw
        .get("no-proxy")
        .map(|v| NoProxy::parse_list(v))
        .unwrap_or_default();
    if !ignored.is_empty() {
        let shown: Vec<String> = ignored.iter().map(|e| format!("`{}`", Shown(e))).collect();
        let field = location.join(&format!("metadata.annotations[\"{FF}no-proxy\"]"));
        warnings.push(format!(
            "{}: {} name no host and are ignored",
            field.field,
            shown.join(", ")
        ));
    }
    FeatureFlags {
        no_proxy,
        public_registry: flag("use-public-registry", false),
        node_image_pull: flag("node-image-pull", false),
        automatic_kubernetes_api_monitoring: flag("automatic-kubernetes-api-monitoring", true),
        activegate_ignore_proxy: flag("activegate-ignore-proxy", false),
        oneagent_ignore_proxy: flag("oneagent-ignore-proxy", false),
        raw,
    }
}

#[cfg(test)]
mod tests {
    use crate::input::{ParseOptions, parse_into};
    use crate::resources::{Inputs, OneAgentMode, TelemetryProtocol};

    fn dynakube(version: &str, spec: &str) -> crate::resources::DynaKube {
        let text = format!(
            "apiVersion: dynatrace.com/{version}\nkind: DynaKube\nmetadata: {{name: dk}}\nspec:\n  apiUrl: https://a.live.dynatrace.com/api\n{spec}"
        );
        let mut inputs = Inputs::default();
        parse_into(&mut inputs, "dk.yaml", &text, &ParseOptions::default()).unwrap();
        inputs.dynakubes.remove(0)
    }

    #[test]
    fn empty_extensions_switch_on_prometheus_before_v1beta6_only() {
        assert!(
            dynakube("v1beta5", "  extensions: {}\n")
                .extensions
                .prometheus
        );
        assert!(
            !dynakube("v1beta6", "  extensions: {}\n")
                .extensions
                .enabled()
        );
        let dk = dynakube("v1beta6", "  extensions:\n    databases: [{id: db1}]\n");
        assert_eq!(dk.extensions.databases, ["db1"]);
        assert!(!dk.extensions.prometheus);
    }

    #[test]
    fn fields_of_later_versions_are_refused_with_the_version_that_has_them() {
        let text = "apiVersion: dynatrace.com/v1beta3\nkind: DynaKube\nmetadata: {name: dk}\nspec:\n  apiUrl: https://a.live.dynatrace.com/api\n  telemetryIngest: {protocols: [otlp]}\n";
        let mut inputs = Inputs::default();
        let err = parse_into(&mut inputs, "dk.yaml", text, &ParseOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("dk.yaml, document 1, field `spec.telemetryIngest`: is not a field of DynaKube dynatrace.com/v1beta3; exists in dynatrace.com/v1beta4"),
            "{err}"
        );
        let dk = dynakube("v1beta6", "  otlpExporterConfiguration: {}\n");
        assert!(dk.otlp_exporter);
    }

    #[test]
    fn telemetry_protocols_default_to_all() {
        let dk = dynakube("v1beta4", "  telemetryIngest: {}\n");
        assert_eq!(
            dk.telemetry_ingest.unwrap().len(),
            TelemetryProtocol::ALL.len()
        );
    }

    #[test]
    fn one_mode_only_and_feature_flags() {
        let dk = dynakube("v1beta6", "  oneAgent:\n    hostMonitoring: {}\n");
        assert_eq!(dk.mode(), Some(OneAgentMode::HostMonitoring));
        let text = "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata:\n  name: dk\n  annotations: {feature.dynatrace.com/node-image-pull: maybe}\nspec:\n  apiUrl: https://a.live.dynatrace.com/api\n  oneAgent: {hostMonitoring: {}, applicationMonitoring: {}}\n";
        let mut inputs = Inputs::default();
        // Flags are read as the release reads them, later: an unreadable value is no error.
        let err = parse_into(&mut inputs, "dk.yaml", text, &ParseOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("a DynaKube has one OneAgent mode"),
            "{err}"
        );
    }

    #[test]
    fn metadata_enrichment_needs_an_explicit_true() {
        assert!(!dynakube("v1beta6", "  metadataEnrichment: {}\n").metadata_enrichment);
        assert!(dynakube("v1beta6", "  metadataEnrichment: {enabled: true}\n").metadata_enrichment);
    }
}
