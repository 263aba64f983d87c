//! The resources as this tool sees them: the facts of DynaKube and EdgeConnect resources that
//! change network traffic, independent of the API version they were written in.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::resources::{Capability, Inputs, OneAgentMode};
//!
//! let yaml = "\
//! apiVersion: dynatrace.com/v1beta5
//! kind: DynaKube
//! metadata: {name: dk, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.apps.dynatrace.com
//!   networkZone: k8s-prod
//!   oneAgent: {cloudNativeFullStack: {}}
//!   activeGate: {capabilities: [routing, kubernetes-monitoring]}
//! ";
//! let mut inputs = Inputs::default();
//! parse_into(&mut inputs, "dk.yaml", yaml, &ParseOptions::default())?;
//! let dynakube = &inputs.dynakubes[0];
//! assert_eq!(dynakube.name.as_str(), "dk");
//! assert_eq!(dynakube.mode(), Some(OneAgentMode::CloudNativeFullStack));
//! assert!(dynakube.active_gate.as_ref().is_some_and(|ag| ag.capabilities.contains(&Capability::Routing)));
//! assert_eq!(dynakube.network_zone.as_ref().map(|zone| zone.as_str()), Some("k8s-prod"));
//! // A 3rd-generation URL is read as the operator reads it: its 2nd-generation API.
//! assert_eq!(dynakube.api_url.base, "https://abc12345.live.dynatrace.com/api");
//! assert_eq!(inputs.resources()[0].1, "dynatrace.com/v1beta5");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use std::collections::BTreeSet;
use std::fmt;

use url::Url;

use crate::error::Location;
pub(crate) use crate::values::HostPort;
use crate::values::{
    Cidr, Host, HostName, HostPattern, Invalid, Name, PortNumber, Shown, ZoneName,
};

/// Everything read from the input files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// The DynaKubes, in input order.
    pub dynakubes: Vec<DynaKube>,
    /// The EdgeConnects, in input order.
    pub edgeconnects: Vec<EdgeConnect>,
    /// The documents of other kinds, in input order: skipped, and listed in a note.
    pub skipped: Vec<Skipped>,
}

/// A document of a kind this tool does not read (a ConfigMap beside a DynaKube, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where it is.
    pub location: Location,
    /// Its `kind`, as written.
    pub kind: String,
    /// Its `apiVersion`, as written.
    pub api_version: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({})",
            Shown(&self.kind),
            Shown(&self.api_version),
            self.location
        )
    }
}

impl Inputs {
    /// Every resource, DynaKubes first, with the API version it was written in.
    pub fn resources(&self) -> Vec<(ResourceRef, &'static str)> {
        let dynakubes = self
            .dynakubes
            .iter()
            .map(|d| (d.resource(), d.version.api_version()));
        let edgeconnects = self
            .edgeconnects
            .iter()
            .map(|e| (e.resource(), e.version.api_version()));
        dynakubes.chain(edgeconnects).collect()
    }
}

/// The kinds of resource this tool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `DynaKube`.
    DynaKube,
    /// `EdgeConnect`.
    EdgeConnect,
}

impl Kind {
    /// The kind as Kubernetes spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::DynaKube => "DynaKube",
            Kind::EdgeConnect => "EdgeConnect",
        }
    }
}

/// A resource by kind, namespace and name: `DynaKube dynatrace/dynakube`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceRef {
    /// The kind.
    pub kind: Kind,
    /// `metadata.namespace`, when set.
    pub namespace: Option<Name>,
    /// `metadata.name`.
    pub name: Name,
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind.name(), self.name),
            None => write!(f, "{} {}", self.kind.name(), self.name),
        }
    }
}

/// The `apiUrl` of a DynaKube, validated and normalised as the operator does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrl {
    /// Host and port of all API traffic (3rd-generation `.apps.` hosts mapped to 2nd generation).
    pub api: HostPort,
    /// Host and port as written: the tenant image registry lives here.
    pub registry: HostPort,
    /// The URL of the environment's API, without credentials and without a trailing `/`
    /// (`https://abc12345.live.dynatrace.com/api`); a 3rd-generation URL is mapped to its
    /// 2nd-generation API.
    pub base: String,
}

impl ApiUrl {
    /// Validates and normalises an `apiUrl` value; the error says what is wrong, showing the
    /// value without credentials.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let shown = Shown(raw);
        if raw.is_empty() {
            return Err("the API URL is empty".into());
        }
        if let Some(placeholder) = placeholder(raw) {
            return Err(format!(
                "`{}` in `{shown}` is a placeholder, not an environment: put the environment's ID there, as in https://abc12345.live.dynatrace.com/api (SaaS) or https://dynatrace.example.com/e/abc12345/api (Managed)",
                Shown(placeholder)
            ));
        }
        let url = Url::parse(raw).map_err(|e| format!("`{shown}` is not a URL ({e})"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!("`{shown}` must use https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "`{shown}` must not have a query or fragment (the operator appends API paths to it)"
            ));
        }
        let registry = HostPort::from_url(&url).map_err(|e| format!("`{shown}` {e}"))?;
        let third_gen = registry
            .host
            .name()
            .is_some_and(|name| name.as_str().contains(".apps."));
        if !third_gen && !url.path().ends_with("/api") {
            return Err(format!(
                "`{shown}` must end with /api (SaaS: https://<env>.live.dynatrace.com/api, Managed: https://<domain>/e/<env>/api)"
            ));
        }
        let api = match &registry.host {
            Host::Name(name) if third_gen => HostPort {
                host: Host::Name(second_generation_host(name)),
                port: registry.port,
            },
            _ => registry.clone(),
        };
        let mut bare = url.clone();
        // None of these can fail for an http(s) URL with a host, given a valid host name.
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        if third_gen {
            let _ = bare.set_host(Some(&api.host.to_string()));
            bare.set_path("/api");
        }
        let base = bare.as_str().trim_end_matches('/').to_owned();
        Ok(ApiUrl {
            api,
            registry,
            base,
        })
    }
}

/// The part of an API URL's host or path that is a placeholder of a sample or of the
/// documentation rather than an environment: `ENVIRONMENTID` (the operator's samples),
/// `<environment-id>`, `{your-environment-id}` (Dynatrace's documentation),
/// `YOUR_ENVIRONMENT_ID`, `$TENANT` or `${TENANT}` (a variable nothing expanded). Credentials,
/// query and fragment are not looked at, so that no secret is named as a placeholder.
pub(crate) fn placeholder(raw: &str) -> Option<&str> {
    let rest = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    [host, path].into_iter().find_map(|text| {
        for (open, close) in [("<", ">"), ("${", "}"), ("{", "}")] {
            if let Some(start) = text.find(open)
                && let Some(length) = text[start..].find(close)
            {
                return Some(&text[start..start + length + close.len()]);
            }
        }
        text.split(['.', '/', ':'])
            .find(|part| is_placeholder_word(part))
    })
}

/// Whether one label or path segment is a placeholder word: a variable (`$TENANT`), or a
/// name for the environment ID in any case and with any separators (`ENVIRONMENTID`,
/// `environment-id`, `TENANT_ID`, `YOUR_ENVIRONMENT`, `your-domain`).
fn is_placeholder_word(part: &str) -> bool {
    if part.len() > 1 && part.starts_with('$') {
        return true;
    }
    let word: String = part
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    word.contains("environmentid")
        || word.contains("tenantid")
        || word == "envid"
        || word.strip_prefix("your").is_some_and(|rest| {
            ["env", "tenant", "domain", "id"]
                .iter()
                .any(|w| rest.contains(w))
        })
}

/// Maps a 3rd-generation host (`<env>.apps.<domain>`, `<env>.<stage>.apps.<domain>`) to the
/// 2nd-generation host that serves the API (`<env>.live.<domain>`, `<env>.<stage>.<domain>`).
fn second_generation_host(host: &HostName) -> HostName {
    let mapped = match host.as_str().split_once(".apps.") {
        Some((prefix, suffix)) if !prefix.contains('.') => format!("{prefix}.live.{suffix}"),
        Some((prefix, suffix)) => format!("{prefix}.{suffix}"),
        None => return host.clone(),
    };
    // Both halves are labels of a valid name, so the mapped name is valid too.
    HostName::parse(&mapped).unwrap_or_else(|_| host.clone())
}

/// The registry of a container image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Registry {
    /// Docker Hub: no registry in the reference, `docker.io` or `index.docker.io`.
    DockerHub,
    /// Another registry, at this host and port (443 unless the reference names one).
    Host(HostPort),
}

impl Registry {
    /// A registry as an image reference names it: `host`, `host:port` or `[v6]:port`.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let (host, port) = split_host_port(raw);
        let host = Host::parse(host).map_err(|e| format!("the registry `{}` {e}", Shown(host)))?;
        if let Host::Name(name) = &host
            && matches!(name.as_str(), "docker.io" | "index.docker.io")
        {
            return Ok(Registry::DockerHub);
        }
        let port = match port {
            None => PortNumber::of(443),
            Some(p) => p
                .parse::<u16>()
                .ok()
                .and_then(PortNumber::new)
                .ok_or_else(|| {
                    format!(
                        "the registry port `{}` is not a port (1 to 65535)",
                        Shown(p)
                    )
                })?,
        };
        Ok(Registry::Host(HostPort { host, port }))
    }

    /// The hosts a registry client talks to when it reads an image's manifest or layers.
    ///
    /// Docker Hub is reached as `index.docker.io` and hands out tokens from `auth.docker.io`.
    /// Blob downloads are redirected elsewhere: see [`Registry::cdn_hosts`].
    pub(crate) fn hosts(&self) -> Vec<HostPort> {
        match self {
            Registry::DockerHub => https_hosts(&["index.docker.io", "auth.docker.io"]),
            Registry::Host(host) => vec![host.clone()],
        }
    }

    /// The hosts a registry redirects blob downloads (image configs and layers) to, as far as
    /// the registry documents them. Docker Hub names its CDNs and, for anonymous pulls, a
    /// Cloudflare R2 bucket in its firewall allow-list; their addresses change at the CDN's
    /// will. Other registries: none known.
    pub(crate) fn cdn_hosts(&self) -> Vec<HostPort> {
        match self {
            Registry::DockerHub => https_hosts(&[
                "production.cloudflare.docker.com",
                "production.cloudfront.docker.com",
                "docker-images-prod.6aa30f8b08e16409b46e0173d6de2f56.r2.cloudflarestorage.com",
            ]),
            Registry::Host(_) => Vec::new(),
        }
    }
}

/// `names` on port 443.
fn https_hosts(names: &[&str]) -> Vec<HostPort> {
    names
        .iter()
        .filter_map(|name| HostName::parse(name).ok())
        .map(|name| HostPort::new(Host::Name(name), PortNumber::of(443)))
        .collect()
}

/// A container image reference, split the way registries see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry the reference names, or Docker Hub when it names none.
    pub registry: Registry,
}

impl ImageRef {
    /// Parses `[registry[:port]/]path[:tag][@digest]` as container runtimes do.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("`{}` is not an image reference: {why}", Shown(raw));
        if raw.is_empty() {
            return Err(bad("it is empty"));
        }
        let (name, digest) = match raw.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (raw, None),
        };
        if let Some(digest) = digest {
            let (algorithm, hex) = digest
                .split_once(':')
                .ok_or_else(|| bad("digest has no algorithm"))?;
            if algorithm.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(bad("the digest is malformed"));
            }
        }
        // A tag follows the last colon after the last slash.
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
            None => (name, None),
        };
        if let Some(tag) = tag {
            let ok = !tag.is_empty()
                && tag.len() <= 128
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                && !tag.starts_with(['.', '-']);
            if !ok {
                return Err(bad(&format!("`{}` is not a valid tag", Shown(tag))));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (Some(first), rest)
            }
            _ => (None, name),
        };
        let valid_component = |c: &str| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
                && c.ends_with(|ch: char| ch.is_ascii_alphanumeric())
        };
        if let Some(component) = repository.split('/').find(|c| !valid_component(c)) {
            return Err(bad(&format!(
                "repository part `{}` must be lowercase letters, digits and separators",
                Shown(component)
            )));
        }
        let registry = match registry {
            None => Registry::DockerHub,
            Some(registry) => Registry::parse(registry).map_err(|e| bad(&e))?,
        };
        Ok(ImageRef { registry })
    }
}

/// Splits `host[:port]` (IPv6 in brackets); a port that does not parse stays part of the host.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some((host, tail)) = rest.split_once(']')
    {
        return (host, tail.strip_prefix(':'));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (s, None),
    }
}

/// Where the proxy URL of a DynaKube came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySource {
    /// `spec.proxy.value`.
    Value,
    /// `spec.proxy.valueFrom`: a Secret, whose URL was given on the command line.
    Secret(String),
}

/// The proxy of a DynaKube or EdgeConnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Host and port of the proxy (credentials are never kept).
    pub address: HostPort,
    /// Where the value came from.
    pub source: ProxySource,
    /// Hosts that bypass the proxy (`feature.dynatrace.com/no-proxy` or EdgeConnect `noProxy`).
    pub no_proxy: Vec<NoProxy>,
}

/// A proxy URL without its credentials: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// `http`, `https` or `socks5`.
    pub scheme: &'static str,
    /// Host and port.
    pub address: HostPort,
}

impl ProxyUrl {
    /// Parses a proxy URL such as `http://user:pass@proxy.example.com:3128`; a URL without a
    /// scheme is read as `http://`, as Go's proxy settings do. Credentials, path and query are
    /// dropped; errors never show them.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let shown = Shown(raw);
        let url = Url::parse(&with_scheme)
            .map_err(|e| Invalid(format!("the proxy URL `{shown}` is not a URL ({e})")))?;
        let scheme = match url.scheme() {
            "http" => "http",
            "https" => "https",
            "socks5" => "socks5",
            other => {
                return Err(Invalid(format!(
                    "the proxy URL scheme `{}` is not http, https or socks5",
                    Shown(other)
                )));
            }
        };
        let host =
            Host::from_url(&url).map_err(|e| Invalid(format!("the proxy URL `{shown}` {e}")))?;
        let port = match url.port() {
            Some(port) => PortNumber::new(port).ok_or_else(|| {
                Invalid(format!(
                    "the proxy URL `{shown}` has port 0, which is not a port"
                ))
            })?,
            None if scheme == "https" => PortNumber::of(443),
            None if scheme == "socks5" => PortNumber::of(1080),
            None => PortNumber::of(80),
        };
        Ok(ProxyUrl {
            scheme,
            address: HostPort { host, port },
        })
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.address)
    }
}

/// One entry of a no-proxy list, as Go's proxy settings read `NO_PROXY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoProxy {
    /// `*`: nothing goes through the proxy.
    Everything,
    /// An address or block: hosts written as IP addresses inside it.
    Addresses(Cidr),
    /// A name and every name below it (`example.com` and `.example.com` alike), on every port
    /// or on one.
    Domain(HostName, Option<PortNumber>),
}

impl NoProxy {
    /// Parses one entry; `None` for an entry that names nothing (which Go ignores too).
    pub(crate) fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim();
        if entry == "*" {
            return Some(NoProxy::Everything);
        }
        if let Ok(cidr) = Cidr::parse(entry) {
            return Some(NoProxy::Addresses(cidr));
        }
        let domain = entry.strip_prefix('.').unwrap_or(entry);
        let (name, port) = match split_host_port(domain) {
            (name, Some(port)) => (name, Some(PortNumber::new(port.parse().ok()?)?)),
            (name, None) => (name, None),
        };
        match Host::parse(name).ok()? {
            Host::Name(name) => Some(NoProxy::Domain(name, port)),
            Host::Ip(ip) => Some(NoProxy::Addresses(Cidr::of_ip(ip))),
        }
    }

    /// A comma-separated list; entries that name nothing are returned apart.
    pub(crate) fn parse_list(list: &str) -> (Vec<NoProxy>, Vec<String>) {
        let mut entries = Vec::new();
        let mut ignored = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match NoProxy::parse(entry) {
                Some(parsed) => entries.push(parsed),
                None => ignored.push(entry.to_string()),
            }
        }
        (entries, ignored)
    }

    fn matches(&self, target: &HostPort) -> bool {
        match (self, &target.host) {
            (NoProxy::Everything, _) => true,
            (NoProxy::Addresses(cidr), Host::Ip(ip)) => cidr.net().contains(ip),
            (NoProxy::Domain(domain, port), Host::Name(name)) => {
                let (domain, name) = (domain.as_str(), name.as_str());
                let below = name
                    .strip_suffix(domain)
                    .is_some_and(|head| head.is_empty() || head.ends_with('.'));
                below && port.is_none_or(|p| p == target.port)
            }
            _ => false,
        }
    }
}

impl Proxy {
    /// Whether traffic to `target` bypasses the proxy.
    pub(crate) fn bypasses(&self, target: &HostPort) -> bool {
        self.no_proxy.iter().any(|entry| entry.matches(target))
    }
}

/// The four OneAgent modes of a DynaKube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum OneAgentMode {
    /// `cloudNativeFullStack`: host agent DaemonSet plus code-module injection.
    CloudNativeFullStack,
    /// `classicFullStack`: host agent DaemonSet that instruments processes itself.
    ClassicFullStack,
    /// `hostMonitoring`: host agent DaemonSet only.
    HostMonitoring,
    /// `applicationMonitoring`: code-module injection only.
    ApplicationMonitoring,
}

impl OneAgentMode {
    /// The field name in the DynaKube spec.
    pub(crate) fn field(self) -> &'static str {
        match self {
            OneAgentMode::CloudNativeFullStack => "cloudNativeFullStack",
            OneAgentMode::ClassicFullStack => "classicFullStack",
            OneAgentMode::HostMonitoring => "hostMonitoring",
            OneAgentMode::ApplicationMonitoring => "applicationMonitoring",
        }
    }

    /// Whether the mode rolls out the OneAgent DaemonSet (hostNetwork).
    pub(crate) fn has_daemonset(self) -> bool {
        !matches!(self, OneAgentMode::ApplicationMonitoring)
    }

    /// Whether the mode injects code modules into application pods.
    pub(crate) fn injects_code_modules(self) -> bool {
        matches!(
            self,
            OneAgentMode::CloudNativeFullStack | OneAgentMode::ApplicationMonitoring
        )
    }
}

/// The OneAgent part of a DynaKube.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneAgent {
    /// The mode.
    pub mode: OneAgentMode,
    /// `image` of the host agent, when set.
    pub image: Option<ImageRef>,
    /// `codeModulesImage`, when set.
    pub code_modules_image: Option<ImageRef>,
    /// Whether a `namespaceSelector` limits injection (otherwise every namespace is injected).
    pub namespace_selector: bool,
}

/// ActiveGate capabilities (`spec.activeGate.capabilities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// `routing`: the ActiveGate routes OneAgent traffic.
    Routing,
    /// `kubernetes-monitoring`: Kubernetes API monitoring.
    KubernetesMonitoring,
    /// `metrics-ingest`.
    MetricsIngest,
    /// `dynatrace-api`.
    DynatraceApi,
    /// `debugging`.
    Debugging,
}

impl Capability {
    /// All capabilities, in the order of their names in the CRD.
    pub(crate) const ALL: [Capability; 5] = [
        Capability::Routing,
        Capability::KubernetesMonitoring,
        Capability::MetricsIngest,
        Capability::DynatraceApi,
        Capability::Debugging,
    ];

    /// The name used in the CRD.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Capability::Routing => "routing",
            Capability::KubernetesMonitoring => "kubernetes-monitoring",
            Capability::MetricsIngest => "metrics-ingest",
            Capability::DynatraceApi => "dynatrace-api",
            Capability::Debugging => "debugging",
        }
    }
}

/// The ActiveGate part of a DynaKube.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveGate {
    /// The capabilities.
    pub capabilities: BTreeSet<Capability>,
    /// `image`, when set.
    pub image: Option<ImageRef>,
    /// `replicas`, when set (the operator's default is 1).
    pub replicas: Option<i32>,
}

/// Telemetry ingest protocols (`spec.telemetryIngest.protocols`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TelemetryProtocol {
    /// OTLP over gRPC and HTTP.
    Otlp,
    /// Jaeger gRPC, thrift-http, thrift-compact and thrift-binary.
    Jaeger,
    /// Zipkin.
    Zipkin,
    /// StatsD.
    Statsd,
}

impl TelemetryProtocol {
    /// All protocols: an empty list in the CR means these.
    pub(crate) const ALL: [TelemetryProtocol; 4] = [
        TelemetryProtocol::Otlp,
        TelemetryProtocol::Jaeger,
        TelemetryProtocol::Zipkin,
        TelemetryProtocol::Statsd,
    ];

    /// The name used in the CRD.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TelemetryProtocol::Otlp => "otlp",
            TelemetryProtocol::Jaeger => "jaeger",
            TelemetryProtocol::Zipkin => "zipkin",
            TelemetryProtocol::Statsd => "statsd",
        }
    }
}

/// Extensions (`spec.extensions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// Prometheus extensions (in v1beta3 to v1beta5 the mere presence of `extensions`).
    pub prometheus: bool,
    /// The ids of `extensions.databases[]` (v1beta6).
    pub databases: Vec<String>,
}

impl Extensions {
    /// Whether the extension execution controller runs.
    pub(crate) fn enabled(&self) -> bool {
        self.prometheus || !self.databases.is_empty()
    }
}

/// The feature-flag annotations (`feature.dynatrace.com/...`) that change traffic.
///
/// Operator releases read the same annotation differently (exact strings before 1.6, Go's
/// `ParseBool` since; `public-registry` up to 1.8, `use-public-registry` from 1.10): the
/// parser keeps the annotations as written and reads the switches as the newest release
/// does, and the matrix reads them again for the cluster's release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureFlags {
    /// Every `feature.dynatrace.com/` annotation, by name without the prefix, as written.
    pub raw: std::collections::BTreeMap<String, String>,
    /// `no-proxy`: hosts that bypass `spec.proxy`.
    pub no_proxy: Vec<NoProxy>,
    /// The CSI driver pulls the code-modules image from the public registry: the flag of the
    /// release, or a platform token, where the release's CSI driver follows them.
    pub public_registry: bool,
    /// `node-image-pull`: kubelet pulls the code-modules image instead of the CSI driver.
    pub node_image_pull: bool,
    /// `automatic-kubernetes-api-monitoring` (default true).
    pub automatic_kubernetes_api_monitoring: bool,
    /// `activegate-ignore-proxy` (deprecated).
    pub activegate_ignore_proxy: bool,
    /// `oneagent-ignore-proxy` (deprecated).
    pub oneagent_ignore_proxy: bool,
}

/// What the operator wrote into a DynaKube's `status` that changes peers: the communication
/// endpoints of the tenant's connection info, the ActiveGate Service's addresses and the kind
/// of API token. Empty for a resource written by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DynaKubeStatus {
    /// `status.activeGate.connectionInfoStatus.endpoints`: where the ActiveGate sends data.
    pub active_gate_endpoints: Vec<HostPort>,
    /// `status.oneAgent.connectionInfoStatus.endpoints` (or, from operators before 1.9,
    /// `communicationHosts`): where OneAgents, code modules and log monitoring send data.
    pub one_agent_endpoints: Vec<HostPort>,
    /// `status.activeGate.serviceIPs`: the ClusterIPs of the DynaKube's ActiveGate Service.
    pub active_gate_service_ips: Vec<std::net::IpAddr>,
    /// `status.apiToken.platform` (operator 1.10 and later): the API token is a platform
    /// token, with which the operator uses the public registry.
    pub platform_token: bool,
}

/// How an operator release reads a boolean feature flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagSyntax {
    /// Operator 1.4 and 1.5: a flag that defaults to false is true only for exactly `true`,
    /// one that defaults to true is false only for exactly `false`.
    Exact,
    /// Operator 1.6 and later: Go's `strconv.ParseBool` (`1`, `t`, `T`, `TRUE`, `true`,
    /// `True` and their false forms); an empty value, or one it cannot read, gives the
    /// default.
    ParseBool,
}

impl FlagSyntax {
    /// The value of a flag written as `raw` (None when absent) with default `default`, and
    /// whether the release could read it (an absent or empty value can be read).
    pub(crate) fn read(self, raw: Option<&str>, default: bool) -> (bool, bool) {
        let Some(raw) = raw else {
            return (default, true);
        };
        match self {
            FlagSyntax::Exact => {
                let value = if default {
                    raw != "false"
                } else {
                    raw == "true"
                };
                (value, raw == "true" || raw == "false")
            }
            FlagSyntax::ParseBool => match raw {
                "" => (default, true),
                "1" | "t" | "T" | "TRUE" | "true" | "True" => (true, true),
                "0" | "f" | "F" | "FALSE" | "false" | "False" => (false, true),
                _ => (default, false),
            },
        }
    }
}

/// The DynaKube API versions this tool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DynaKubeVersion {
    /// `dynatrace.com/v1beta3`.
    V1beta3,
    /// `dynatrace.com/v1beta4`.
    V1beta4,
    /// `dynatrace.com/v1beta5`.
    V1beta5,
    /// `dynatrace.com/v1beta6`.
    V1beta6,
}

impl DynaKubeVersion {
    /// The `apiVersion` string.
    pub(crate) fn api_version(self) -> &'static str {
        match self {
            DynaKubeVersion::V1beta3 => "dynatrace.com/v1beta3",
            DynaKubeVersion::V1beta4 => "dynatrace.com/v1beta4",
            DynaKubeVersion::V1beta5 => "dynatrace.com/v1beta5",
            DynaKubeVersion::V1beta6 => "dynatrace.com/v1beta6",
        }
    }
}

/// A DynaKube, reduced to what changes traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynaKube {
    /// `metadata.name`.
    pub name: Name,
    /// `metadata.namespace`, when set.
    pub namespace: Option<Name>,
    /// The API version it was written in.
    pub version: DynaKubeVersion,
    /// The file and document it came from (with the item of a list as the field), for messages.
    pub origin: Location,
    /// `spec.apiUrl`.
    pub api_url: ApiUrl,
    /// `spec.networkZone`.
    pub network_zone: Option<ZoneName>,
    /// `spec.proxy`.
    pub proxy: Option<Proxy>,
    /// `spec.oneAgent`, when a mode is set.
    pub one_agent: Option<OneAgent>,
    /// `spec.activeGate`, when it has capabilities.
    pub active_gate: Option<ActiveGate>,
    /// `spec.logMonitoring` is set.
    pub log_monitoring: bool,
    /// `spec.kspm` is set.
    pub kspm: bool,
    /// `spec.extensions`.
    pub extensions: Extensions,
    /// `spec.telemetryIngest` protocols (all four when the list is empty), when set.
    pub telemetry_ingest: Option<BTreeSet<TelemetryProtocol>>,
    /// `spec.otlpExporterConfiguration` is set (v1beta6).
    pub otlp_exporter: bool,
    /// `spec.metadataEnrichment.enabled`.
    pub metadata_enrichment: bool,
    /// `spec.enableIstio`.
    pub enable_istio: bool,
    /// `spec.publicRegistryOverride` (v1beta6).
    pub public_registry_override: Option<Registry>,
    /// Feature-flag annotations.
    pub feature_flags: FeatureFlags,
    /// What the operator wrote into `status` that changes peers.
    pub status: DynaKubeStatus,
    /// Fields and values that were read but change nothing, in words (an unknown field
    /// ignored on request, a no-proxy entry that names no host, say).
    pub warnings: Vec<String>,
}

impl DynaKube {
    /// The resource: kind, namespace and name.
    pub(crate) fn resource(&self) -> ResourceRef {
        ResourceRef {
            kind: Kind::DynaKube,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The OneAgent mode, if any.
    pub fn mode(&self) -> Option<OneAgentMode> {
        self.one_agent.as_ref().map(|o| o.mode)
    }

    /// Whether the ActiveGate StatefulSet runs (capabilities, or extensions).
    pub(crate) fn active_gate_enabled(&self) -> bool {
        self.active_gate
            .as_ref()
            .is_some_and(|ag| !ag.capabilities.is_empty())
            || self.extensions.enabled()
    }

    /// Whether the ActiveGate runs with `capability`.
    pub(crate) fn has_capability(&self, capability: Capability) -> bool {
        self.active_gate
            .as_ref()
            .is_some_and(|ag| ag.capabilities.contains(&capability))
    }

    /// Whether the operator labels namespaces for this DynaKube (any kind of injection).
    pub(crate) fn labels_namespaces(&self) -> bool {
        self.mode().is_some_and(OneAgentMode::injects_code_modules)
            || self.metadata_enrichment
            || self.otlp_exporter
    }

    /// Whether code modules come from a registry (custom image or public registry).
    pub(crate) fn code_modules_from_registry(&self) -> bool {
        self.one_agent
            .as_ref()
            .is_some_and(|o| o.code_modules_image.is_some())
            || self.feature_flags.public_registry
    }
}

/// An EdgeConnect API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EdgeConnectVersion {
    /// `dynatrace.com/v1alpha1`.
    V1alpha1,
    /// `dynatrace.com/v1alpha2`.
    V1alpha2,
}

/// An EdgeConnect, reduced to what changes traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeConnect {
    /// `metadata.name`.
    pub name: Name,
    /// `metadata.namespace`, when set.
    pub namespace: Option<Name>,
    /// The API version it was written in.
    pub version: EdgeConnectVersion,
    /// The file and document it came from (with the item of a list as the field), for messages.
    pub origin: Location,
    /// `spec.apiServer`, port 443.
    pub api_server: HostPort,
    /// Host and port of `spec.oauth.endpoint`.
    pub oauth_endpoint: HostPort,
    /// The authority of `spec.oauth.endpoint` as written (host, and port if one is written),
    /// which operator 1.10 and later compare with the SSO hosts.
    pub oauth_authority: String,
    /// `spec.oauth.provisioner`.
    pub provisioner: bool,
    /// `spec.hostPatterns`.
    pub host_patterns: Vec<HostPattern>,
    /// `spec.hostRestrictions` (a comma string in v1alpha1, a list in v1alpha2).
    pub host_restrictions: Vec<HostPattern>,
    /// `spec.kubernetesAutomation.enabled`.
    pub kubernetes_automation: bool,
    /// `spec.proxy`.
    pub proxy: Option<Proxy>,
    /// `spec.imageRef`, when it names a repository.
    pub image: Option<ImageRef>,
    /// Fields that were read but change nothing, in words (an unknown field ignored on
    /// request, say).
    pub warnings: Vec<String>,
}

impl EdgeConnect {
    /// The resource: kind, namespace and name.
    pub(crate) fn resource(&self) -> ResourceRef {
        ResourceRef {
            kind: Kind::EdgeConnect,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

impl EdgeConnectVersion {
    /// The `apiVersion` string.
    pub(crate) fn api_version(self) -> &'static str {
        match self {
            EdgeConnectVersion::V1alpha1 => "dynatrace.com/v1alpha1",
            EdgeConnectVersion::V1alpha2 => "dynatrace.com/v1alpha2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_port(host: &str, port: u16) -> HostPort {
        HostPort::new(Host::parse(host).unwrap(), PortNumber::of(port))
    }

    #[test]
    fn saas_api_url() {
        let url = ApiUrl::parse("https://abc12345.live.dynatrace.com/api").unwrap();
        assert_eq!(url.api, host_port("abc12345.live.dynatrace.com", 443));
    }

    #[test]
    fn managed_api_url_keeps_port() {
        let url = ApiUrl::parse("https://dynatrace.example.com:8443/e/0a1b2c3d-1111/api").unwrap();
        assert_eq!(url.api, host_port("dynatrace.example.com", 8443));
    }

    #[test]
    fn third_generation_hosts_are_mapped() {
        let url = ApiUrl::parse("https://abc12345.apps.dynatrace.com").unwrap();
        assert_eq!(url.api, host_port("abc12345.live.dynatrace.com", 443));
        assert_eq!(url.registry, host_port("abc12345.apps.dynatrace.com", 443));
        assert_eq!(url.base, "https://abc12345.live.dynatrace.com/api");
        let url = ApiUrl::parse("https://abc.sprint.apps.dynatracelabs.com:444/api").unwrap();
        assert_eq!(url.api, host_port("abc.sprint.dynatracelabs.com", 444));
        assert_eq!(url.base, "https://abc.sprint.dynatracelabs.com:444/api");
    }

    #[test]
    fn bad_api_urls_are_refused_without_showing_credentials() {
        for raw in [
            "",
            "https://ENVIRONMENTID.live.dynatrace.com/api",
            "abc12345.live.dynatrace.com/api",
            "https://abc12345.live.dynatrace.com",
            "ftp://abc12345.live.dynatrace.com/api",
            "https://abc12345.live.dynatrace.com:0/api",
            "https://a..b.com/api",
            "https://0.0.0.0/api",
            "https://abc.live.dynatrace.com/api?token=SECRET",
            "https://user:SECRET@abc.live.dynatrace.com/ap",
            "https://user:SECRET@abc.live.dynatrace.com:99999/api",
        ] {
            let err = ApiUrl::parse(raw).expect_err(raw);
            assert!(!err.contains("SECRET"), "{err}");
        }
    }

    #[test]
    fn placeholders_are_named() {
        for (raw, placeholder) in [
            (
                "https://ENVIRONMENTID.live.dynatrace.com/api",
                "ENVIRONMENTID",
            ),
            (
                "https://<environment-id>.live.dynatrace.com/api",
                "<environment-id>",
            ),
            (
                "https://{your-environment-id}.live.dynatrace.com/api",
                "{your-environment-id}",
            ),
            (
                "https://YOUR_ENVIRONMENT_ID.live.dynatrace.com/api",
                "YOUR_ENVIRONMENT_ID",
            ),
            ("https://${TENANT}.live.dynatrace.com/api", "${TENANT}"),
            ("https://$TENANT.live.dynatrace.com/api", "$TENANT"),
            (
                "https://dynatrace.example.com/e/ENVIRONMENT_ID/api",
                "ENVIRONMENT_ID",
            ),
            (
                "https://{your-domain}/e/{your-environment-id}/api",
                "{your-domain}",
            ),
            ("https://tenant-id.apps.dynatrace.com", "tenant-id"),
        ] {
            assert_eq!(super::placeholder(raw), Some(placeholder), "{raw}");
            let err = ApiUrl::parse(raw).unwrap_err();
            assert!(
                err.starts_with(&format!("`{placeholder}` in `")),
                "{raw}: {err}"
            );
            assert!(err.contains("is a placeholder"), "{err}");
        }
        // Real environments, and credentials or queries that merely look like placeholders.
        for raw in [
            "https://abc12345.live.dynatrace.com/api",
            "https://dynatrace.example.com:8443/e/0a1b2c3d-1111/api",
            "https://devenvideo.example.com/e/abc/api",
            "https://your.example.com/e/abc/api",
            "https://user:YOUR_TENANT_TOKEN@abc.live.dynatrace.com/api",
            "https://abc.live.dynatrace.com/api?x=<environment-id>",
        ] {
            assert_eq!(super::placeholder(raw), None, "{raw}");
        }
    }

    #[test]
    fn image_references() {
        let image = ImageRef::parse("registry.example.internal:5000/dynatrace/codemodules:1.311.0")
            .unwrap();
        assert_eq!(
            image.registry.hosts(),
            [host_port("registry.example.internal", 5000)]
        );
        let image = ImageRef::parse("dynatrace/edgeconnect").unwrap();
        assert_eq!(image.registry, Registry::DockerHub);
        assert_eq!(image.registry.hosts().len(), 2);
        let digest = format!("quay.io/a/b@sha256:{}", "a".repeat(64));
        assert_eq!(
            ImageRef::parse(&digest).unwrap().registry.hosts(),
            [host_port("quay.io", 443)]
        );
        for bad in [
            "",
            "Registry.example.com/UPPER/case:tag!",
            "a/b:",
            "a//b",
            "x@sha256:zz",
            "a..b.com/x",
            "registry.example.com:0/x",
            "*.example.com/x",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn proxy_urls_and_bypass() {
        let url = ProxyUrl::parse("http://user:pw@proxy.example.com:3128?token=x").unwrap();
        assert_eq!(url.to_string(), "http://proxy.example.com:3128");
        assert_eq!(
            ProxyUrl::parse("proxy.example.com")
                .unwrap()
                .address
                .port
                .get(),
            80
        );
        assert!(ProxyUrl::parse("http://proxy.example.com:0").is_err());
        let (no_proxy, ignored) =
            NoProxy::parse_list("internal.example.com, 10.0.0.0/8,.svc:8443, not a host,");
        assert_eq!(ignored, ["not a host"]);
        let proxy = Proxy {
            address: host_port("p", 1),
            source: ProxySource::Value,
            no_proxy,
        };
        assert!(proxy.bypasses(&host_port("internal.example.com", 443)));
        assert!(proxy.bypasses(&host_port("registry.internal.example.com", 443)));
        assert!(!proxy.bypasses(&host_port("notinternal.example.com", 443)));
        assert!(proxy.bypasses(&host_port("10.1.2.3", 443)));
        assert!(proxy.bypasses(&host_port("a.svc", 8443)));
        assert!(!proxy.bypasses(&host_port("a.svc", 443)));
        assert!(!proxy.bypasses(&host_port("abc.live.dynatrace.com", 443)));
    }
}
