//! The options every subcommand that reads resources shares, the files they name (`-` for
//! standard input), and the [`Config`] they resolve into — the same value the kustomize
//! function config and the Helm post-renderer's arguments produce.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::ValueEnum;
use dynakube_netpol::cluster::ClusterProfile;
use dynakube_netpol::guard::AnyAddress;
use dynakube_netpol::guard::{AddressPolicy, Special};
use dynakube_netpol::input::{ParseOptions, UnknownFields, parse_into};
use dynakube_netpol::lock::Lock;
use dynakube_netpol::matrix::{RowId, ZoneFallback};
use dynakube_netpol::output::normalized_path;
use dynakube_netpol::resolve::{Fallback, FixedHosts};
use dynakube_netpol::resources::{Inputs, ProxyUrl};
use dynakube_netpol::source::Limits;
use dynakube_netpol::stream::ChartFacts;
use dynakube_netpol::values::Host;
use dynakube_netpol::values::OperatorVersion;
use dynakube_netpol::{Flavor, FlavorSetting, FlavorSettings};

/// Files with DynaKube and EdgeConnect resources (other kinds are skipped), and the options
/// that shape the policies.
#[derive(Debug, clap::Args)]
pub struct Sources {
    #[command(flatten)]
    pub input: crate::inputs::InputArgs,

    #[command(flatten)]
    pub settings: Settings,
}

/// The options that shape the policies, without the input files (the Helm post-renderer
/// reads its resources from standard input).
#[derive(Debug, clap::Args)]
pub struct Settings {
    /// The cluster profile (`-` reads standard input): namespace, operator release,
    /// kube-apiserver and node addresses, DNS, Prometheus, Helm values, network zones and the
    /// peers no resource can name. Every field is optional; see docs/cluster-profile.md for the format.
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<String>,

    /// Addresses of external hosts (`-` reads standard input): a YAML map from host name (or
    /// EdgeConnect host pattern) to a list of IPs or CIDRs.
    #[arg(long, value_name = "FILE")]
    pub hosts: Option<String>,

    /// What to allow for a host without addresses. `public-internet`: its port to every public
    /// IPv4 and IPv6 address (not private, loopback, link-local or CGNAT ranges). Without this
    /// option such hosts are an error that lists them. (`verify` checks such hosts at a sample
    /// public address; without the option their flows are unchecked.)
    #[arg(long, value_name = "MODE")]
    pub fqdn_fallback: Option<FqdnFallback>,

    /// The fallback mode of the network zones the DynaKubes name in spec.networkZone. `none`:
    /// OneAgents, code modules and log monitoring reach only the in-cluster ActiveGate (which
    /// must have the routing capability), so only the ActiveGate leaves the cluster for them.
    /// `any` (Dynatrace's default) and `only-default-zone` let them reach the tenant too.
    #[arg(long, value_name = "MODE", default_value = "any")]
    pub zone_fallback: ZoneFallbackArg,

    /// The Dynatrace Operator release of the cluster, such as 1.9 or 1.10.2 (overrides
    /// operatorVersion in the cluster profile). Without either, the newest release that serves
    /// the DynaKubes' API versions is assumed, and a note says so.
    #[arg(long, value_name = "RELEASE", value_parser = parse_operator_version)]
    pub operator_version: Option<OperatorVersion>,

    /// The proxy URL of DynaKubes whose spec.proxy.valueFrom names a Secret, which this tool
    /// cannot read. Credentials, path and query in it are never written out.
    #[arg(long, value_name = "URL")]
    pub proxy_url: Option<String>,

    /// Accept address blocks of every address (0.0.0.0/0, ::/0) in the hosts file and the
    /// cluster profile. A rule with such a block admits the whole internet and the cluster
    /// network alike; without this option they are refused.
    #[arg(long)]
    pub allow_any_address: bool,

    /// Accept special-purpose addresses (loopback, link-local, private, CGNAT, IPv4-mapped,
    /// ...) for every host, wherever they come from: the hosts file, the lock file, DNS or an
    /// IP address in the resources. Without it, hosts on the internet (the tenant,
    /// communication endpoints, public registries, EdgeConnect's platform hosts) may have
    /// none and no address of the cluster's own, and no host may be loopback, link-local,
    /// multicast or IPv4-mapped.
    #[arg(long, alias = "allow-private-answers")]
    pub allow_special_addresses: bool,

    /// A host (name or IP address) to treat as internal, whatever its role: private addresses
    /// are accepted for it (a private link to the tenant, an Environment ActiveGate on a
    /// private address, a registry mirror). May be given more than once.
    #[arg(long, value_name = "HOST", value_parser = parse_host)]
    pub internal_host: Vec<Host>,

    /// Accept an operator namespace the cluster or other software shares (default,
    /// kube-*, openshift, openshift-*). The policies put every pod of the operator namespace
    /// into default deny; without this option such namespaces are refused.
    #[arg(long)]
    pub allow_shared_namespace: bool,

    /// Ignore fields that a resource's API version does not declare, with a warning each,
    /// instead of refusing the resource (as `kubectl apply --validate=false` would keep it;
    /// the API server then drops the fields). A misspelled field usually means a component
    /// the policies do not open for.
    #[arg(long)]
    pub ignore_unknown_fields: bool,

    /// Rows of the traffic matrix whose notes the team has reviewed, such as E9,E10 (with the
    /// cluster profile's `acknowledge`): their notes shrink to one line; warnings stay.
    /// `dynakube-netpol matrix ROW` says what a row's notes mean.
    #[arg(long, value_name = "ROW", value_delimiter = ',', value_parser = parse_row)]
    pub ack: Vec<RowId>,

    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Bounds on what one input may hold.
#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// The most bytes one input file may have (1 to 4294967296). Default: 4 GiB for what a
    /// cluster prints (its dumps, and the policies `verify`, `explain` and `diff` read), which
    /// is hundreds of megabytes in a large cluster; 16 MiB for every other file.
    #[arg(
        long,
        value_name = "BYTES",
        value_parser = crate::ranges::usize_in(crate::ranges::INPUT_BYTES),
        allow_negative_numbers = true
    )]
    pub max_input_bytes: Option<usize>,

    /// The deepest nesting of YAML flow collections ([...], {...}) a document may have (1 to
    /// 128: the YAML parser refuses any nesting, flow or block, deeper than 128 itself).
    #[arg(
        long,
        value_name = "LEVELS",
        default_value_t = Limits::default().max_depth,
        value_parser = crate::ranges::usize_in(crate::ranges::DEPTH),
        allow_negative_numbers = true
    )]
    pub max_depth: usize,
}

/// The most bytes of a file a cluster prints, unless `--max-input-bytes` says otherwise: the
/// most the option allows, since a dump of 150,000 pods is over 400 MB of JSON and a list of
/// 10,000 NetworkPolicies over 16 MiB.
pub(crate) const DUMP_BYTES: usize = *crate::ranges::INPUT_BYTES.end() as usize;

impl LimitArgs {
    /// The limits of the files a user writes: resources, the cluster profile, hosts, locks.
    pub fn limits(&self) -> Limits {
        Limits {
            max_bytes: (self.max_input_bytes).unwrap_or(Limits::default().max_bytes),
            max_depth: self.max_depth,
        }
    }

    /// The limits of what a cluster prints: dumps of its objects and lists of its policies.
    pub fn dump_limits(&self) -> Limits {
        Limits {
            max_bytes: self.max_input_bytes.unwrap_or(DUMP_BYTES),
            max_depth: self.max_depth,
        }
    }
}

/// A lock file only read, for the integrations, which resolve nothing: Helm's `--lock` and
/// a NetworkPolicyGenerator's `spec.lockFile`.
#[derive(Debug, clap::Args)]
pub struct ReadLock {
    /// A lock file written by `dynakube-netpol lock`, for the addresses of the hosts that
    /// --hosts does not give. Read only: a post-renderer resolves nothing and writes nothing,
    /// so a host missing from both is an error (or, with --fqdn-fallback, public addresses).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub lock: Option<String>,
}

/// `--fqdn-fallback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FqdnFallback {
    /// Allow the host's port to every public address.
    PublicInternet,
}

/// `--zone-fallback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ZoneFallbackArg {
    /// Any ActiveGate or the tenant.
    Any,
    /// ActiveGates of the default zone.
    OnlyDefaultZone,
    /// Only the ActiveGates of the zone.
    None,
}

impl ZoneFallbackArg {
    /// The library's value.
    pub fn mode(self) -> ZoneFallback {
        match self {
            ZoneFallbackArg::Any => ZoneFallback::Any,
            ZoneFallbackArg::OnlyDefaultZone => ZoneFallback::OnlyDefaultZone,
            ZoneFallbackArg::None => ZoneFallback::None,
        }
    }
}

/// The choice of flavor and of its settings (`--tier`, ...), for the subcommands that write
/// policies (and a NetworkPolicyGenerator's spec). The options of the settings are those of
/// every flavor of the library's registry ([`Flavor::settings`]), made here from it; a setting
/// given with a flavor that does not take it is refused when the options are resolved
/// ([`FlavorChoice::settings`]).
#[derive(Debug, Clone, Default)]
pub struct FlavorChoice {
    /// `--flavor`.
    pub flavor: FlavorArg,
    /// The settings given, by name, as given (each value checked by its setting).
    given: Vec<(&'static str, String)>,
}

/// The id and long name of `--flavor`.
const FLAVOR: &str = "flavor";

impl FlavorChoice {
    /// Every setting of every flavor, with its flavor.
    fn all_settings() -> impl Iterator<Item = (Flavor, &'static FlavorSetting)> {
        Flavor::ALL
            .iter()
            .flat_map(|&f| f.settings().iter().map(move |s| (f, s)))
    }

    /// The settings given, for the flavor chosen; `Err` names the setting the flavor refuses
    /// and why.
    pub fn settings(&self) -> Result<FlavorSettings, (&'static str, String)> {
        let mut settings = FlavorSettings::default();
        for (name, value) in &self.given {
            settings
                .set(self.flavor.0, name, value)
                .map_err(|e| (*name, e.to_string()))?;
        }
        Ok(settings)
    }

    /// The flavor and its settings into `config`; a setting the flavor does not take is an
    /// error naming its option.
    pub fn apply(&self, config: &mut Config) -> anyhow::Result<()> {
        config.flavor = self.flavor.0;
        config.settings = self
            .settings()
            .map_err(|(name, why)| anyhow::anyhow!("--{name}: {why}"))?;
        Ok(())
    }

    /// The choice as command-line words for a provenance: `--flavor` unless the default, and
    /// the settings given, by name.
    pub fn arguments(&self) -> Vec<String> {
        let mut words = Vec::new();
        if self.flavor.0 != Flavor::default() {
            words.extend(["--flavor".to_string(), self.flavor.0.as_str().to_string()]);
        }
        let given: std::collections::BTreeMap<&str, &String> = self
            .given
            .iter()
            .map(|(name, value)| (*name, value))
            .collect();
        for (name, value) in given {
            words.extend([format!("--{name}"), value.clone()]);
        }
        words
    }
}

impl clap::FromArgMatches for FlavorChoice {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let flavor = matches
            .get_one::<FlavorArg>(FLAVOR)
            .copied()
            .unwrap_or_default();
        let given = Self::all_settings()
            .map(|(_, s)| s)
            .filter(|s| {
                matches.value_source(s.name) == Some(clap::parser::ValueSource::CommandLine)
            })
            .filter_map(|s| Some((s.name, matches.get_one::<String>(s.name)?.clone())))
            .collect();
        Ok(FlavorChoice { flavor, given })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for FlavorChoice {
    fn augment_args(command: clap::Command) -> clap::Command {
        let flavor = clap::Arg::new(FLAVOR)
            .long(FLAVOR)
            .value_name("FLAVOR")
            .value_parser(clap::builder::EnumValueParser::<FlavorArg>::new())
            .default_value(Flavor::default().as_str())
            .help("The policy language");
        Self::all_settings().fold(command.arg(flavor), |command, (owner, setting)| {
            command.arg(setting_arg(owner, setting))
        })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

/// The option of a setting of `owner`: its values with their help where they are a closed set,
/// else checked by the setting.
fn setting_arg(owner: Flavor, setting: &'static FlavorSetting) -> clap::Arg {
    let arg = clap::Arg::new(setting.name)
        .long(setting.name)
        .value_name(setting.value_name)
        .default_value(setting.default)
        .help(setting.help);
    if setting.values.is_empty() {
        return arg.value_parser(move |value: &str| {
            FlavorSettings::default()
                .set(owner, setting.name, value)
                .map(|()| value.to_string())
                .map_err(|e| e.to_string())
        });
    }
    let values = setting
        .values
        .iter()
        .map(|(value, help)| clap::builder::PossibleValue::new(*value).help(*help));
    arg.value_parser(clap::builder::PossibleValuesParser::new(values))
}

/// `--flavor`: the flavors of the library's registry, by name, each with its summary as help.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlavorArg(pub Flavor);

impl FlavorArg {
    /// The library's value.
    pub fn flavor(self) -> Flavor {
        self.0
    }
}

impl ValueEnum for FlavorArg {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: std::sync::LazyLock<Vec<FlavorArg>> =
            std::sync::LazyLock::new(|| Flavor::ALL.iter().copied().map(FlavorArg).collect());
        &ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.as_str()).help(self.0.summary()))
    }
}

impl std::fmt::Display for FlavorArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// `--internal-host`: a host name or an IP address.
fn parse_host(raw: &str) -> Result<Host, String> {
    Host::parse(raw).map_err(|e| format!("`{}` {e}", dynakube_netpol::values::Shown(raw)))
}

/// `--ack` and the rows of `matrix`: a row id such as `E9`.
pub fn parse_row(raw: &str) -> Result<RowId, String> {
    raw.parse()
        .map_err(|e| format!("`{}` {e}", dynakube_netpol::values::Shown(raw)))
}

/// `--operator-version`: a release such as `1.10` or `v1.9.0`.
fn parse_operator_version(raw: &str) -> Result<OperatorVersion, String> {
    OperatorVersion::parse(raw).map_err(|e| format!("`{raw}` {e}"))
}

/// A named text: a file's name as the user gave it (or a field of a function config), and
/// its content.
#[derive(Debug, Clone)]
pub struct Text {
    /// The name errors use.
    pub name: String,
    /// The content.
    pub text: String,
}

/// Every option resolved: what the command-line flags, the kustomize function config and the
/// Helm post-renderer's arguments all come down to.
#[derive(Debug, Clone)]
pub struct Config {
    /// The cluster profile's YAML.
    pub cluster: Option<Text>,
    /// The hosts file's YAML.
    pub hosts: Option<Text>,
    /// A lock file, read only (the manifest integrations resolve nothing).
    pub lock: Option<Lock>,
    /// `--fqdn-fallback`.
    pub fallback: Fallback,
    /// `--zone-fallback`.
    pub zone_fallback: ZoneFallback,
    /// `--operator-version`.
    pub operator_version: Option<OperatorVersion>,
    /// `--proxy-url`.
    pub proxy_url: Option<ProxyUrl>,
    /// `--allow-any-address`.
    pub any_address: AnyAddress,
    /// `--allow-shared-namespace`.
    pub shared_namespace: bool,
    /// `--allow-special-addresses`.
    pub special: Special,
    /// `--internal-host`.
    pub internal_hosts: BTreeSet<Host>,
    /// `--ignore-unknown-fields`.
    pub unknown_fields: UnknownFields,
    /// `--ack`: rows acknowledged besides the profile's.
    pub acknowledge: BTreeSet<RowId>,
    /// The input limits.
    pub limits: Limits,
    /// `--flavor`.
    pub flavor: Flavor,
    /// The settings of the flavor (`--tier`, ...).
    pub settings: FlavorSettings,
    /// The NetworkPolicyGenerator configuration asking for the policies (kustomize and KRM),
    /// as `namespace/name`: its policies are annotated with it, so that a later run of the
    /// same configuration knows them for its own. `None` on the command line and in Helm.
    pub generator: Option<String>,
}

/// Everything the sources give, parsed.
pub struct Loaded {
    pub inputs: Inputs,
    pub profile: ClusterProfile,
    pub hosts: FixedHosts,
    /// The lock file's addresses (empty without one), asked after `hosts`.
    pub lock: Lock,
    pub config: Config,
}

impl Loaded {
    /// The matrix of the inputs on the profile.
    pub fn matrix(&self) -> dynakube_netpol::Result<dynakube_netpol::matrix::Matrix> {
        dynakube_netpol::matrix::build(&self.inputs, &self.profile, &self.config.matrix_options())
    }
}

impl Config {
    /// The parse options of resources.
    pub fn parse_options(&self) -> ParseOptions {
        ParseOptions {
            proxy_url: self.proxy_url.clone(),
            limits: self.limits,
            unknown_fields: self.unknown_fields,
        }
    }

    /// Parses the profile and the hosts, after `inputs` were parsed.
    pub fn load(self, inputs: Inputs) -> anyhow::Result<Loaded> {
        self.load_with_chart(inputs, &ChartFacts::default())
            .map(|(loaded, _)| loaded)
    }

    /// Parses the profile, fills it where it says nothing with the facts of a rendered
    /// operator chart (notes say what came from where), and parses the hosts.
    pub fn load_with_chart(
        self,
        inputs: Inputs,
        facts: &ChartFacts,
    ) -> anyhow::Result<(Loaded, Vec<dynakube_netpol::matrix::Note>)> {
        let (mut profile, name) = match &self.cluster {
            Some(t) => (
                ClusterProfile::parse_with(&t.name, &t.text, &self.limits, self.any_address)?,
                t.name.as_str(),
            ),
            None => (ClusterProfile::default(), "the cluster profile"),
        };
        let notes = profile.fill_from_chart(facts, name);
        // The option wins over the profile and the chart.
        profile.operator_version = self.operator_version.or(profile.operator_version);
        profile.acknowledge.extend(self.acknowledge.iter().copied());
        let hosts = match &self.hosts {
            Some(t) => FixedHosts::parse_with(&t.name, &t.text, &self.limits, self.any_address)?,
            None => FixedHosts::default(),
        };
        let lock = self.lock.clone().unwrap_or_default();
        let loaded = Loaded {
            inputs,
            profile,
            hosts,
            lock,
            config: self,
        };
        Ok((loaded, notes))
    }

    /// How the matrix is built.
    pub fn matrix_options(&self) -> dynakube_netpol::matrix::Options {
        dynakube_netpol::matrix::Options {
            zone_fallback: self.zone_fallback,
            shared_namespace: self.shared_namespace,
        }
    }

    /// The options of generate, for the library.
    pub fn generate_options(&self, allow_unresolved: bool) -> dynakube_netpol::GenerateOptions {
        dynakube_netpol::GenerateOptions {
            flavor: self.flavor,
            settings: self.settings.clone(),
            matrix: self.matrix_options(),
            fallback: self.fallback,
            allow_unresolved,
            addresses: self.address_policy(),
        }
    }

    /// What the addresses of hosts may be.
    pub fn address_policy(&self) -> AddressPolicy {
        AddressPolicy {
            any_address: self.any_address,
            special: self.special,
            internal_hosts: self.internal_hosts.clone(),
        }
    }
}

impl Settings {
    /// The options resolved, reading the files they name.
    pub fn config(&self, flavor: Flavor) -> anyhow::Result<Config> {
        let limits = self.limits.limits();
        let text = |file: &Option<String>| -> anyhow::Result<Option<Text>> {
            file.as_ref()
                .map(|name| {
                    Ok(Text {
                        name: name.clone(),
                        text: read(name, &limits)?,
                    })
                })
                .transpose()
        };
        Ok(Config {
            cluster: text(&self.cluster)?,
            hosts: text(&self.hosts)?,
            lock: None,
            fallback: match self.fqdn_fallback {
                Some(FqdnFallback::PublicInternet) => Fallback::PublicInternet,
                None => Fallback::Fail,
            },
            zone_fallback: self.zone_fallback.mode(),
            operator_version: self.operator_version,
            proxy_url: self.proxy_url()?,
            any_address: if self.allow_any_address {
                AnyAddress::Allow
            } else {
                AnyAddress::Refuse
            },
            shared_namespace: self.allow_shared_namespace,
            special: if self.allow_special_addresses {
                Special::Allow
            } else {
                Special::Refuse
            },
            internal_hosts: self.internal_host.iter().cloned().collect(),
            unknown_fields: if self.ignore_unknown_fields {
                UnknownFields::Warn
            } else {
                UnknownFields::Refuse
            },
            acknowledge: self.ack.iter().copied().collect(),
            limits,
            flavor,
            settings: FlavorSettings::default(),
            generator: None,
        })
    }

    fn proxy_url(&self) -> anyhow::Result<Option<ProxyUrl>> {
        self.proxy_url
            .as_deref()
            .map(ProxyUrl::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--proxy-url: {e}"))
    }

    /// The options that change the output, as command-line words with normalised paths and
    /// without secrets.
    pub fn arguments(&self) -> anyhow::Result<Vec<String>> {
        let mut words: Vec<String> = Vec::new();
        if let Some(cluster) = &self.cluster {
            words.extend(["--cluster".into(), quoted(&normalized_path(cluster))]);
        }
        if let Some(hosts) = &self.hosts {
            words.extend(["--hosts".into(), quoted(&normalized_path(hosts))]);
        }
        if self.fqdn_fallback.is_some() {
            words.extend(["--fqdn-fallback".into(), "public-internet".into()]);
        }
        if self.zone_fallback != ZoneFallbackArg::Any {
            let mode = self
                .zone_fallback
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default();
            words.extend(["--zone-fallback".into(), mode]);
        }
        if let Some(release) = self.operator_version {
            words.extend(["--operator-version".into(), release.to_string()]);
        }
        if let Some(url) = self.proxy_url()? {
            words.extend(["--proxy-url".into(), url.to_string()]);
        }
        if self.allow_any_address {
            words.push("--allow-any-address".into());
        }
        if self.allow_special_addresses {
            words.push("--allow-special-addresses".into());
        }
        let internal: BTreeSet<String> =
            self.internal_host.iter().map(ToString::to_string).collect();
        for host in internal {
            words.extend(["--internal-host".into(), host]);
        }
        if self.allow_shared_namespace {
            words.push("--allow-shared-namespace".into());
        }
        if self.ignore_unknown_fields {
            words.push("--ignore-unknown-fields".into());
        }
        let rows: BTreeSet<RowId> = self.ack.iter().copied().collect();
        if !rows.is_empty() {
            let rows: Vec<String> = rows.iter().map(ToString::to_string).collect();
            words.extend(["--ack".into(), rows.join(",")]);
        }
        Ok(words)
    }
}

impl Sources {
    /// Reads and parses the inputs, the profile and the hosts.
    pub fn load(&self, flavor: Flavor) -> anyhow::Result<Loaded> {
        self.settings.load(&self.input, flavor)
    }

    /// The inputs and the options that change the output, as command-line words.
    pub fn arguments(&self) -> anyhow::Result<Vec<String>> {
        let mut words = self.input.arguments();
        words.extend(self.settings.arguments()?);
        Ok(words)
    }
}

impl Settings {
    /// Reads and parses the resources of `input`, the profile and the hosts.
    pub fn load(&self, input: &crate::inputs::InputArgs, flavor: Flavor) -> anyhow::Result<Loaded> {
        let config = self.config(flavor)?;
        let options = config.parse_options();
        let mut inputs = Inputs::default();
        let others: Vec<&str> = [&self.cluster, &self.hosts]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        for file in input.files(&others)? {
            let text = read(&file, &config.limits)?;
            parse_into(&mut inputs, &file, &text, &options)?;
        }
        if inputs.dynakubes.is_empty() && inputs.edgeconnects.is_empty() {
            let names: Vec<&str> = input.names().map(String::as_str).collect();
            return Err(dynakube_netpol::Error::NothingToDo {
                files: names.join(", "),
            }
            .into());
        }
        crate::say::verbose(|| skipped_summary(&inputs));
        config.load(inputs)
    }
}

/// What was read, for --verbose.
pub fn skipped_summary(inputs: &Inputs) -> String {
    let mut line = format!(
        "read {} DynaKube(s) and {} EdgeConnect(s)",
        inputs.dynakubes.len(),
        inputs.edgeconnects.len()
    );
    if !inputs.skipped.is_empty() {
        line.push_str(&format!(
            "; skipped {} object(s) of other kinds",
            inputs.skipped.len()
        ));
    }
    line
}

/// Set once standard input has been read: a second `-` would see it empty.
static STDIN_READ: AtomicBool = AtomicBool::new(false);

/// Reads `file`, or standard input for `-` (once per run).
pub fn read(file: &str, limits: &Limits) -> anyhow::Result<String> {
    if file == "-" {
        if STDIN_READ.swap(true, Ordering::SeqCst) {
            anyhow::bail!(
                "standard input (`-`) can be read once: name only one input, --cluster, --hosts, --policies or --pods as `-`"
            );
        }
        return Ok(dynakube_netpol::source::read_bounded(
            "-",
            std::io::stdin().lock(),
            limits,
        )?);
    }
    read_path(Path::new(file), limits)
}

/// Reads the namespaces, pods and nodes of the dumps `names` (files, or directories as
/// [`crate::inputs::expand`] walks them), in order.
pub fn read_cluster(
    names: &[String],
    recursive: bool,
    limits: &Limits,
) -> anyhow::Result<dynakube_netpol::evaluate::Cluster> {
    let mut cluster = dynakube_netpol::evaluate::Cluster::default();
    for name in names {
        for name in crate::inputs::expand(name, recursive)? {
            // A file is read as it streams by, standard input whole.
            let more = if name == "-" {
                dynakube_netpol::evaluate::read_cluster(&name, &read(&name, limits)?, limits)?
            } else {
                dynakube_netpol::evaluate::read_cluster_file(&name, Path::new(&name), limits)?
            };
            cluster.extend([more]);
        }
    }
    Ok(cluster)
}

/// Reads the file at `path`.
pub fn read_path(path: &Path, limits: &Limits) -> anyhow::Result<String> {
    let name = path.display().to_string();
    Ok(dynakube_netpol::source::read_file(&name, path, limits)?)
}

/// `word`, single-quoted when a shell would split or expand it.
pub fn quoted(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
