//! The normalised model of the inputs: the facts of DynaKube and EdgeConnect resources that
//! change network traffic, independent of the API version they were written in.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use url::Url;

/// Everything read from the input files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// The DynaKubes, in input order.
    pub dynakubes: Vec<DynaKube>,
    /// The EdgeConnects, in input order.
    pub edgeconnects: Vec<EdgeConnect>,
}

impl Inputs {
    /// One line per resource, for output headers: where it came from and what it is.
    pub fn summary(&self) -> Vec<String> {
        let dynakubes = self.dynakubes.iter().map(|d| {
            let ns = d
                .namespace
                .as_deref()
                .map(|n| format!("{n}/"))
                .unwrap_or_default();
            format!(
                "{}: DynaKube {ns}{} ({})",
                d.origin,
                d.name,
                d.version.api_version()
            )
        });
        let edgeconnects = self.edgeconnects.iter().map(|e| {
            let ns = e
                .namespace
                .as_deref()
                .map(|n| format!("{n}/"))
                .unwrap_or_default();
            let version = match e.version {
                EdgeConnectVersion::V1alpha1 => "dynatrace.com/v1alpha1",
                EdgeConnectVersion::V1alpha2 => "dynatrace.com/v1alpha2",
            };
            format!("{}: EdgeConnect {ns}{} ({version})", e.origin, e.name)
        });
        dynakubes.chain(edgeconnects).collect()
    }
}

/// A network peer named by host and port, such as the Dynatrace API or a registry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostPort {
    /// A lowercase DNS name or an IP address (IPv6 without brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl HostPort {
    /// A host and port; the host is lowercased.
    pub fn new(host: &str, port: u16) -> Self {
        HostPort {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            port,
        }
    }

    /// The host as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The host and port of an absolute http(s) URL; the port defaults to the scheme's.
    pub fn from_url(url: &Url) -> Option<Self> {
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        Some(HostPort::new(host, port))
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The `apiUrl` of a DynaKube, validated and normalised as the operator does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrl {
    /// The URL as written.
    pub raw: String,
    /// Host and port of all API traffic (3rd-generation `.apps.` hosts mapped to 2nd generation).
    pub api: HostPort,
    /// Host and port as written: the tenant image registry lives here.
    pub registry: HostPort,
    /// The tenant (environment) id: the first DNS label of the host, or the id in `/e/<id>/api`.
    pub tenant: String,
}

impl ApiUrl {
    /// Validates and normalises an `apiUrl` value; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        const EXAMPLE: &str = "https://ENVIRONMENTID.live.dynatrace.com/api";
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the API URL is empty".into());
        }
        if raw == EXAMPLE {
            return Err(format!(
                "`{EXAMPLE}` is the documentation's example, not a tenant"
            ));
        }
        let url = Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL ({e})"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!("`{raw}` must use https"));
        }
        let registry = HostPort::from_url(&url).ok_or_else(|| format!("`{raw}` has no host"))?;
        let third_gen = registry.host.contains(".apps.");
        let path = url.path().trim_end_matches('/');
        if !third_gen && !raw.ends_with("/api") {
            return Err(format!(
                "`{raw}` must end with /api (SaaS: https://<env>.live.dynatrace.com/api, Managed: https://<domain>/e/<env>/api)"
            ));
        }
        if registry.host.starts_with('.') {
            return Err(format!("`{raw}` has no environment in its host name"));
        }
        let api = HostPort {
            host: second_generation_host(&registry.host),
            port: registry.port,
        };
        let tenant = match path
            .strip_prefix("/e/")
            .and_then(|p| p.strip_suffix("/api"))
        {
            Some(id) if !id.is_empty() && !id.contains('/') => id.to_string(),
            _ => registry
                .host
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        Ok(ApiUrl {
            raw: raw.to_string(),
            api,
            registry,
            tenant,
        })
    }
}

/// Maps a 3rd-generation host (`<env>.apps.<domain>`, `<env>.<stage>.apps.<domain>`) to the
/// 2nd-generation host that serves the API (`<env>.live.<domain>`, `<env>.<stage>.<domain>`).
fn second_generation_host(host: &str) -> String {
    match host.split_once(".apps.") {
        Some((prefix, suffix)) if !prefix.contains('.') => format!("{prefix}.live.{suffix}"),
        Some((prefix, suffix)) => format!("{prefix}.{suffix}"),
        None => host.to_string(),
    }
}

/// A container image reference, split the way registries see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The reference as written.
    pub raw: String,
    /// The registry as written in the reference, or `docker.io` when it names none.
    pub registry: String,
    /// The repository path inside the registry.
    pub repository: String,
}

impl ImageRef {
    /// Parses `[registry[:port]/]path[:tag][@digest]` as container runtimes do.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("`{raw}` is not an image reference: {why}");
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
                return Err(bad(&format!("`{tag}` is not a valid tag")));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first, rest)
            }
            _ => ("docker.io", name),
        };
        let valid_registry = !registry.is_empty()
            && registry
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
        if !valid_registry {
            return Err(bad(&format!("`{registry}` is not a registry host")));
        }
        let valid_component = |c: &str| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
                && c.ends_with(|ch: char| ch.is_ascii_alphanumeric())
        };
        if let Some(component) = repository.split('/').find(|c| !valid_component(c)) {
            return Err(bad(&format!(
                "repository part `{component}` must be lowercase letters, digits and separators"
            )));
        }
        Ok(ImageRef {
            raw: raw.to_string(),
            registry: registry.to_ascii_lowercase(),
            repository: repository.to_string(),
        })
    }

    /// The hosts a registry client talks to when it reads this image's manifest or layers.
    ///
    /// Docker Hub is reached as `index.docker.io` and hands out tokens from `auth.docker.io`.
    /// Layer downloads may be redirected to CDN hosts no source names; those are not included.
    pub fn registry_hosts(&self) -> Vec<HostPort> {
        if self.registry == "docker.io" || self.registry == "index.docker.io" {
            return vec![
                HostPort::new("index.docker.io", 443),
                HostPort::new("auth.docker.io", 443),
            ];
        }
        let (host, port) = split_host_port(&self.registry);
        vec![HostPort::new(host, port.unwrap_or(443))]
    }
}

/// Splits `host[:port]` (IPv6 in brackets); a port that does not parse stays part of the host.
fn split_host_port(s: &str) -> (&str, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some((host, tail)) = rest.split_once(']')
    {
        return (host, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (s, None),
        },
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
    pub no_proxy: Vec<String>,
}

impl Proxy {
    /// Parses a proxy URL such as `http://user:pass@proxy.example.com:3128`; a URL without a
    /// scheme is read as `http://`, as Go's proxy settings do.
    pub fn parse_url(raw: &str) -> Result<HostPort, String> {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        let url =
            Url::parse(&with_scheme).map_err(|e| format!("the proxy URL is not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https" | "socks5") {
            return Err(format!(
                "the proxy URL scheme `{}` is not http, https or socks5",
                url.scheme()
            ));
        }
        let port = url.port().or(match url.scheme() {
            "https" => Some(443),
            "socks5" => Some(1080),
            _ => Some(80),
        });
        match (url.host_str(), port) {
            (Some(host), Some(port)) if !host.is_empty() => Ok(HostPort::new(host, port)),
            _ => Err("the proxy URL has no host".into()),
        }
    }

    /// Whether traffic to `host` bypasses the proxy: an exact name, a domain suffix (`example.com`
    /// and `.example.com` both match `a.example.com`), an IP or CIDR, or `*`.
    pub fn bypasses(&self, host: &str) -> bool {
        let ip: Option<IpAddr> = host.parse().ok();
        self.no_proxy.iter().any(|entry| {
            let entry = entry.trim().to_ascii_lowercase();
            let entry = entry.split(':').next().unwrap_or_default();
            if entry == "*" {
                return true;
            }
            if let (Some(ip), Ok(net)) = (ip, entry.parse::<ipnet::IpNet>()) {
                return net.contains(&ip);
            }
            let domain = entry.trim_start_matches('.');
            !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
        })
    }
}

/// The four OneAgent modes of a DynaKube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    pub fn field(self) -> &'static str {
        match self {
            OneAgentMode::CloudNativeFullStack => "cloudNativeFullStack",
            OneAgentMode::ClassicFullStack => "classicFullStack",
            OneAgentMode::HostMonitoring => "hostMonitoring",
            OneAgentMode::ApplicationMonitoring => "applicationMonitoring",
        }
    }

    /// Whether the mode rolls out the OneAgent DaemonSet (hostNetwork).
    pub fn has_daemonset(self) -> bool {
        !matches!(self, OneAgentMode::ApplicationMonitoring)
    }

    /// Whether the mode injects code modules into application pods.
    pub fn injects_code_modules(self) -> bool {
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
    pub const ALL: [Capability; 5] = [
        Capability::Routing,
        Capability::KubernetesMonitoring,
        Capability::MetricsIngest,
        Capability::DynatraceApi,
        Capability::Debugging,
    ];

    /// The name used in the CRD.
    pub fn name(self) -> &'static str {
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
}

/// Telemetry ingest protocols (`spec.telemetryIngest.protocols`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    pub const ALL: [TelemetryProtocol; 4] = [
        TelemetryProtocol::Otlp,
        TelemetryProtocol::Jaeger,
        TelemetryProtocol::Zipkin,
        TelemetryProtocol::Statsd,
    ];

    /// The name used in the CRD.
    pub fn name(self) -> &'static str {
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
    pub fn enabled(&self) -> bool {
        self.prometheus || !self.databases.is_empty()
    }
}

/// The feature-flag annotations (`feature.dynatrace.com/...`) that change traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureFlags {
    /// `no-proxy`: hosts that bypass `spec.proxy`.
    pub no_proxy: Vec<String>,
    /// `use-public-registry`.
    pub use_public_registry: bool,
    /// `node-image-pull`: kubelet pulls the code-modules image instead of the CSI driver.
    pub node_image_pull: bool,
    /// `automatic-kubernetes-api-monitoring` (default true).
    pub automatic_kubernetes_api_monitoring: bool,
    /// `activegate-ignore-proxy` (deprecated).
    pub activegate_ignore_proxy: bool,
    /// `oneagent-ignore-proxy` (deprecated).
    pub oneagent_ignore_proxy: bool,
    /// `oneagent-initial-connect-retry-ms`, kept for reference; it changes timing, not peers.
    pub oneagent_initial_connect_retry_ms: Option<u64>,
}

/// The DynaKube API versions this tool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    pub fn api_version(self) -> &'static str {
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
    pub name: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// The API version it was written in.
    pub version: DynaKubeVersion,
    /// The file and document it came from, for messages.
    pub origin: String,
    /// `spec.apiUrl`.
    pub api_url: ApiUrl,
    /// `spec.networkZone`.
    pub network_zone: Option<String>,
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
    pub public_registry_override: Option<String>,
    /// Feature-flag annotations.
    pub feature_flags: FeatureFlags,
    /// Fields that were set but do not exist in this API version (the API server drops them).
    pub ignored_fields: Vec<&'static str>,
}

impl DynaKube {
    /// The OneAgent mode, if any.
    pub fn mode(&self) -> Option<OneAgentMode> {
        self.one_agent.as_ref().map(|o| o.mode)
    }

    /// Whether the ActiveGate StatefulSet runs (capabilities, or extensions).
    pub fn active_gate_enabled(&self) -> bool {
        self.active_gate
            .as_ref()
            .is_some_and(|ag| !ag.capabilities.is_empty())
            || self.extensions.enabled()
    }

    /// Whether the ActiveGate runs with `capability`.
    pub fn has_capability(&self, capability: Capability) -> bool {
        self.active_gate
            .as_ref()
            .is_some_and(|ag| ag.capabilities.contains(&capability))
    }

    /// Whether the operator labels namespaces for this DynaKube (any kind of injection).
    pub fn labels_namespaces(&self) -> bool {
        self.mode().is_some_and(OneAgentMode::injects_code_modules)
            || self.metadata_enrichment
            || self.otlp_exporter
    }

    /// Whether code modules come from a registry (custom image or public registry).
    pub fn code_modules_from_registry(&self) -> bool {
        self.one_agent
            .as_ref()
            .is_some_and(|o| o.code_modules_image.is_some())
            || self.feature_flags.use_public_registry
    }
}

/// An EdgeConnect API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    pub name: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// The API version it was written in.
    pub version: EdgeConnectVersion,
    /// The file and document it came from, for messages.
    pub origin: String,
    /// `spec.apiServer`, port 443.
    pub api_server: HostPort,
    /// Host and port of `spec.oauth.endpoint`.
    pub oauth_endpoint: HostPort,
    /// `spec.oauth.provisioner`.
    pub provisioner: bool,
    /// `spec.hostPatterns`.
    pub host_patterns: Vec<String>,
    /// `spec.hostRestrictions` (a comma string in v1alpha1, a list in v1alpha2).
    pub host_restrictions: Vec<String>,
    /// `spec.kubernetesAutomation.enabled`.
    pub kubernetes_automation: bool,
    /// `spec.proxy`.
    pub proxy: Option<Proxy>,
    /// `spec.imageRef`, when it names a repository.
    pub image: Option<ImageRef>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saas_api_url() {
        let url = ApiUrl::parse("https://abc12345.live.dynatrace.com/api").unwrap();
        assert_eq!(url.api, HostPort::new("abc12345.live.dynatrace.com", 443));
        assert_eq!(url.tenant, "abc12345");
    }

    #[test]
    fn managed_api_url_keeps_port_and_tenant() {
        let url = ApiUrl::parse("https://dynatrace.example.com:8443/e/0a1b2c3d-1111/api").unwrap();
        assert_eq!(url.api, HostPort::new("dynatrace.example.com", 8443));
        assert_eq!(url.tenant, "0a1b2c3d-1111");
    }

    #[test]
    fn third_generation_hosts_are_mapped() {
        let url = ApiUrl::parse("https://abc12345.apps.dynatrace.com").unwrap();
        assert_eq!(url.api.host, "abc12345.live.dynatrace.com");
        assert_eq!(url.registry.host, "abc12345.apps.dynatrace.com");
        let url = ApiUrl::parse("https://abc.sprint.apps.dynatracelabs.com:444/api").unwrap();
        assert_eq!(url.api, HostPort::new("abc.sprint.dynatracelabs.com", 444));
    }

    #[test]
    fn bad_api_urls_are_refused() {
        for raw in [
            "",
            "https://ENVIRONMENTID.live.dynatrace.com/api",
            "abc12345.live.dynatrace.com/api",
            "https://abc12345.live.dynatrace.com",
            "ftp://abc12345.live.dynatrace.com/api",
        ] {
            assert!(ApiUrl::parse(raw).is_err(), "{raw} was accepted");
        }
    }

    #[test]
    fn image_references() {
        let image = ImageRef::parse("registry.example.internal:5000/dynatrace/codemodules:1.311.0")
            .unwrap();
        assert_eq!(
            image.registry_hosts(),
            [HostPort::new("registry.example.internal", 5000)]
        );
        let image = ImageRef::parse("dynatrace/edgeconnect").unwrap();
        assert_eq!(image.registry, "docker.io");
        assert_eq!(image.registry_hosts().len(), 2);
        let digest = format!("quay.io/a/b@sha256:{}", "a".repeat(64));
        assert_eq!(ImageRef::parse(&digest).unwrap().registry, "quay.io");
        assert_eq!(
            ImageRef::parse("localhost/x:1").unwrap().registry,
            "localhost"
        );
        for bad in [
            "",
            "Registry.example.com/UPPER/case:tag!",
            "a/b:",
            "a//b",
            "x@sha256:zz",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn proxy_urls_and_bypass() {
        assert_eq!(
            Proxy::parse_url("http://user:pw@proxy.example.com:3128").unwrap(),
            HostPort::new("proxy.example.com", 3128)
        );
        assert_eq!(Proxy::parse_url("proxy.example.com").unwrap().port, 80);
        let proxy = Proxy {
            address: HostPort::new("p", 1),
            source: ProxySource::Value,
            no_proxy: vec!["internal.example.com".into(), "10.0.0.0/8".into()],
        };
        assert!(proxy.bypasses("internal.example.com"));
        assert!(proxy.bypasses("registry.internal.example.com"));
        assert!(!proxy.bypasses("notinternal.example.com"));
        assert!(proxy.bypasses("10.1.2.3"));
        assert!(!proxy.bypasses("abc.live.dynatrace.com"));
    }
}
