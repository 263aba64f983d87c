//! EdgeConnect `dynatrace.com/v1alpha1` and `v1alpha2`, read into [`EdgeConnect`].

use serde::Deserialize;
use serde_yaml::Value;
use url::Url;

use super::{checked, resource, version};
use crate::error::{Error, Location, Result};
use crate::resources::{EdgeConnect, EdgeConnectVersion, ImageRef, NoProxy, Proxy, ProxySource};
use crate::values::{Host, HostName, HostPattern, HostPort, Name, PortNumber, Shown};

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
    let (metadata, name, spec): (_, _, Spec) = resource(location, value, |name| {
        // The operator refuses longer names; Kubernetes allows dots in them.
        Name::parse_subdomain(name, 40)
    })?;
    let namespace = metadata.namespace(location)?;
    let at = |field: &str| location.join(field);

    let api_server = api_server(location, spec.api_server.as_deref())?;
    let oauth = spec
        .oauth
        .ok_or_else(|| Error::invalid(at("spec.oauth"), "is missing"))?;
    let endpoint = oauth
        .endpoint
        .ok_or_else(|| Error::invalid(at("spec.oauth.endpoint"), "is missing"))?;
    let oauth_endpoint = oauth_endpoint(location, &endpoint)?;

    let host_patterns = spec
        .host_patterns
        .iter()
        .enumerate()
        .map(|(i, p)| {
            checked(
                location,
                &format!("spec.hostPatterns[{i}]"),
                p,
                HostPattern::parse,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let host_restrictions = host_restrictions(location, version, spec.host_restrictions)?;
    let kubernetes_automation = spec.kubernetes_automation.is_some_and(|k| k.enabled);
    // The operator's rule: a provisioner needs host patterns unless Kubernetes automation adds
    // its own.
    if oauth.provisioner && host_patterns.is_empty() && !kubernetes_automation {
        return Err(Error::invalid(
            at("spec.hostPatterns"),
            "is required with `spec.oauth.provisioner: true` unless `spec.kubernetesAutomation.enabled` is true",
        ));
    }

    if kubernetes_automation && !oauth.provisioner {
        return Err(Error::invalid(
            at("spec.kubernetesAutomation.enabled"),
            "requires `spec.oauth.provisioner: true`",
        ));
    }

    Ok(EdgeConnect {
        name,
        namespace,
        version,
        origin: location.clone(),
        api_server,
        oauth_endpoint,
        oauth_authority: authority(&endpoint).to_owned(),
        provisioner: oauth.provisioner,
        host_patterns,
        host_restrictions,
        kubernetes_automation,
        proxy: proxy(location, spec.proxy)?,
        image: image(location, spec.image_ref)?,
        warnings: Vec::new(),
    })
}

/// `spec.apiServer`: a host name under one of the Dynatrace platform domains, port 443.
fn api_server(location: &Location, raw: Option<&str>) -> Result<HostPort> {
    let field = location.join("spec.apiServer");
    let raw = raw.ok_or_else(|| Error::invalid(field.clone(), "is missing"))?;
    if raw.contains("://") || raw.contains('/') {
        return Err(Error::invalid(
            field,
            format!(
                "`{}` must be a host name without scheme or path",
                Shown(raw)
            ),
        ));
    }
    if let Some(placeholder) = crate::resources::placeholder(raw) {
        return Err(Error::invalid(
            field,
            format!(
                "`{}` in `{}` is a placeholder, not an environment: put the environment's ID there, as in abc12345.apps.dynatrace.com",
                Shown(placeholder),
                Shown(raw)
            ),
        ));
    }
    let name = HostName::parse(raw)
        .map_err(|e| Error::invalid(field.clone(), format!("`{}` {e}", Shown(raw))))?;
    if !API_SERVER_DOMAINS
        .iter()
        .any(|d| name.as_str().ends_with(d) && name.as_str().len() > d.len())
    {
        return Err(Error::invalid(
            field,
            format!("`{name}` must end with {}", API_SERVER_DOMAINS.join(", ")),
        ));
    }
    Ok(HostPort::new(Host::Name(name), PortNumber::of(443)))
}

/// `spec.oauth.endpoint`: an https URL.
fn oauth_endpoint(location: &Location, raw: &str) -> Result<HostPort> {
    let field = location.join("spec.oauth.endpoint");
    let url = Url::parse(raw)
        .ok()
        .filter(|u| u.scheme() == "https")
        .ok_or_else(|| {
            Error::invalid(
                field.clone(),
                format!("`{}` is not an https URL", Shown(raw)),
            )
        })?;
    HostPort::from_url(&url).map_err(|e| Error::invalid(field, format!("`{}` {e}", Shown(raw))))
}

/// The authority of a URL as written: what follows `://`, up to the path, query or fragment,
/// without user info.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// `spec.hostRestrictions`: a comma string in v1alpha1, a list in v1alpha2.
fn host_restrictions(
    location: &Location,
    version: EdgeConnectVersion,
    raw: Option<Value>,
) -> Result<Vec<HostPattern>> {
    let field = "spec.hostRestrictions";
    let entries: Vec<(String, String)> = match (version, raw) {
        (_, None) => Vec::new(),
        (EdgeConnectVersion::V1alpha1, Some(Value::String(list))) => list
            .split(',')
            .map(|h| (field.to_string(), h.trim().to_string()))
            .collect(),
        (EdgeConnectVersion::V1alpha1, Some(_)) => {
            return Err(Error::invalid(
                location.join(field),
                "must be a comma-separated string in dynatrace.com/v1alpha1 (a list from v1alpha2 on)",
            ));
        }
        (EdgeConnectVersion::V1alpha2, Some(Value::Sequence(items)))
            if items.iter().all(Value::is_string) =>
        {
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    Some((format!("{field}[{i}]"), item.as_str()?.trim().to_string()))
                })
                .collect()
        }
        (EdgeConnectVersion::V1alpha2, Some(_)) => {
            return Err(Error::invalid(
                location.join(field),
                "must be a list of strings in dynatrace.com/v1alpha2",
            ));
        }
    };
    entries
        .iter()
        .filter(|(_, host)| !host.is_empty())
        .map(|(field, host)| checked(location, field, host, HostPattern::parse))
        .collect()
}

/// `spec.proxy`: host and port (80 by default), and the hosts that bypass it.
fn proxy(location: &Location, raw: Option<RawProxy>) -> Result<Option<Proxy>> {
    let Some(RawProxy {
        host: Some(host),
        port,
        no_proxy,
    }) = raw
    else {
        return Ok(None);
    };
    if host.is_empty() {
        return Ok(None);
    }
    let host = checked(location, "spec.proxy.host", &host, Host::parse)?;
    let port = match port {
        None => PortNumber::of(80),
        Some(port) => PortNumber::new(port).ok_or_else(|| {
            Error::invalid(
                location.join("spec.proxy.port"),
                "0 is not a port (1 to 65535)",
            )
        })?,
    };
    let (no_proxy, _) = NoProxy::parse_list(&no_proxy.unwrap_or_default());
    Ok(Some(Proxy {
        address: HostPort::new(host, port),
        source: ProxySource::Value,
        no_proxy,
    }))
}

/// `spec.imageRef`, when it names a repository.
fn image(location: &Location, raw: Option<RawImageRef>) -> Result<Option<ImageRef>> {
    let Some(RawImageRef {
        repository: Some(repository),
        tag,
    }) = raw
    else {
        return Ok(None);
    };
    if repository.is_empty() {
        return Ok(None);
    }
    let raw = match tag.filter(|t| !t.is_empty()) {
        Some(tag) => format!("{repository}:{tag}"),
        None => repository,
    };
    ImageRef::parse(&raw)
        .map(Some)
        .map_err(|reason| Error::invalid(location.join("spec.imageRef"), reason))
}
