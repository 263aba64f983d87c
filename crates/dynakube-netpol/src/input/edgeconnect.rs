//! EdgeConnect `dynatrace.com/v1alpha1` and `v1alpha2`, read into [`EdgeConnect`].

use serde::Deserialize;
use serde_yaml::Value;
use url::Url;

use super::{origin, resource, version};
use crate::error::{Error, Location, Result};
use crate::model::{EdgeConnect, EdgeConnectVersion, HostPort, ImageRef, Proxy, ProxySource};

/// The domains an EdgeConnect `apiServer` may belong to (the operator's validation).
const API_SERVER_DOMAINS: [&str; 3] = [
    ".apps.dynatrace.com",
    ".dev.apps.dynatracelabs.com",
    ".sprint.apps.dynatracelabs.com",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    api_server: Option<String>,
    oauth: Option<RawOAuth>,
    #[serde(default)]
    host_patterns: Vec<String>,
    kubernetes_automation: Option<RawAutomation>,
    proxy: Option<RawProxy>,
    image_ref: Option<RawImageRef>,
    /// A comma string in v1alpha1, a list in v1alpha2.
    host_restrictions: Option<Value>,
}

#[derive(Deserialize)]
struct RawOAuth {
    endpoint: Option<String>,
    #[serde(default)]
    provisioner: bool,
}

#[derive(Deserialize)]
struct RawAutomation {
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProxy {
    host: Option<String>,
    port: Option<u16>,
    no_proxy: Option<String>,
}

#[derive(Deserialize)]
struct RawImageRef {
    repository: Option<String>,
    tag: Option<String>,
}

pub(super) fn parse(location: &Location, api_version: &str, value: Value) -> Result<EdgeConnect> {
    let version = version(
        location,
        "EdgeConnect",
        api_version,
        &[
            ("dynatrace.com/v1alpha1", EdgeConnectVersion::V1alpha1),
            ("dynatrace.com/v1alpha2", EdgeConnectVersion::V1alpha2),
        ],
    )?;
    let (metadata, name, spec): (_, _, Spec) = resource(location, value)?;
    let at = |field: &str| location.at(field);

    let api_server = spec
        .api_server
        .ok_or_else(|| Error::invalid(at("spec.apiServer"), "is missing"))?
        .to_ascii_lowercase();
    if api_server.contains("://") || api_server.contains('/') {
        return Err(Error::invalid(
            at("spec.apiServer"),
            format!("`{api_server}` must be a host name without scheme or path"),
        ));
    }
    if !API_SERVER_DOMAINS
        .iter()
        .any(|d| api_server.ends_with(d) && api_server.len() > d.len())
    {
        return Err(Error::invalid(
            at("spec.apiServer"),
            format!(
                "`{api_server}` must end with {}",
                API_SERVER_DOMAINS.join(", ")
            ),
        ));
    }

    let oauth = spec
        .oauth
        .ok_or_else(|| Error::invalid(at("spec.oauth"), "is missing"))?;
    let endpoint = oauth
        .endpoint
        .ok_or_else(|| Error::invalid(at("spec.oauth.endpoint"), "is missing"))?;
    let oauth_endpoint = Url::parse(&endpoint)
        .ok()
        .filter(|u| u.scheme() == "https")
        .and_then(|u| HostPort::from_url(&u))
        .ok_or_else(|| {
            Error::invalid(
                at("spec.oauth.endpoint"),
                format!("`{endpoint}` is not an https URL"),
            )
        })?;

    let host_restrictions: Vec<String> = match (version, &spec.host_restrictions) {
        (_, None) => Vec::new(),
        (EdgeConnectVersion::V1alpha1, Some(Value::String(list))) => {
            list.split(',').map(String::from).collect()
        }
        (EdgeConnectVersion::V1alpha1, Some(_)) => {
            return Err(Error::invalid(
                at("spec.hostRestrictions"),
                "must be a comma-separated string in dynatrace.com/v1alpha1 (a list from v1alpha2 on)",
            ));
        }
        (EdgeConnectVersion::V1alpha2, Some(Value::Sequence(items)))
            if items.iter().all(Value::is_string) =>
        {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        }
        (EdgeConnectVersion::V1alpha2, Some(_)) => {
            return Err(Error::invalid(
                at("spec.hostRestrictions"),
                "must be a list of strings in dynatrace.com/v1alpha2",
            ));
        }
    };
    let host_restrictions = host_restrictions
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    if oauth.provisioner && spec.host_patterns.is_empty() {
        return Err(Error::invalid(
            at("spec.hostPatterns"),
            "is required with `spec.oauth.provisioner: true`",
        ));
    }

    let kubernetes_automation = spec.kubernetes_automation.is_some_and(|k| k.enabled);
    if kubernetes_automation && !oauth.provisioner {
        return Err(Error::invalid(
            at("spec.kubernetesAutomation.enabled"),
            "requires `spec.oauth.provisioner: true`",
        ));
    }

    let proxy = match spec.proxy {
        Some(RawProxy {
            host: Some(host),
            port,
            no_proxy,
        }) if !host.is_empty() => Some(Proxy {
            address: HostPort::new(&host, port.unwrap_or(80)),
            source: ProxySource::Value,
            no_proxy: no_proxy
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }),
        _ => None,
    };

    let image = match spec.image_ref {
        Some(RawImageRef {
            repository: Some(repository),
            tag,
        }) if !repository.is_empty() => {
            let raw = match tag.filter(|t| !t.is_empty()) {
                Some(tag) => format!("{repository}:{tag}"),
                None => repository,
            };
            Some(
                ImageRef::parse(&raw)
                    .map_err(|reason| Error::invalid(at("spec.imageRef"), reason))?,
            )
        }
        _ => None,
    };

    Ok(EdgeConnect {
        name,
        namespace: metadata.namespace,
        version,
        origin: origin(location),
        api_server: HostPort::new(&api_server, 443),
        oauth_endpoint,
        provisioner: oauth.provisioner,
        host_patterns: spec.host_patterns,
        host_restrictions,
        kubernetes_automation,
        proxy,
        image,
    })
}
