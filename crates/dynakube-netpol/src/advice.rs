//! What would fix a problem, as data: errors and notes name the settings, profile fields and
//! values that would change the outcome ([`Remedy`], [`Cause`]), and each front end words them
//! in its own terms ([`Words`]): a flag on the command line (`--allow-any-address`), a field of
//! a NetworkPolicyGenerator's spec in kustomize and KRM (`spec.allowAnyAddress`). The library's
//! own messages (`Neutral`) name the settings neutrally, so that no front end's spelling
//! leaks into another's.

use std::fmt;

/// An option of the tool, whatever a front end calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// The hosts file: addresses of external hosts.
    Hosts,
    /// The cluster profile.
    Cluster,
    /// The lock file of DNS answers.
    Lock,
    /// A DNS server to resolve hosts with.
    Nameserver,
    /// Never resolving hosts with DNS.
    Offline,
    /// Hosts DNS does not resolve get no rule instead of stopping the run.
    AllowUnresolved,
    /// What to allow for a host without addresses (`public-internet`).
    FqdnFallback,
    /// The fallback of the network zones the DynaKubes name.
    ZoneFallback,
    /// The operator release of the cluster.
    OperatorVersion,
    /// The proxy URL of DynaKubes whose proxy is in a Secret.
    ProxyUrl,
    /// Accepting blocks that add up to every address.
    AllowAnyAddress,
    /// Accepting special-purpose addresses.
    AllowSpecialAddresses,
    /// A host to treat as internal.
    InternalHost,
    /// Accepting an operator namespace others share.
    AllowSharedNamespace,
    /// Fields a resource's API version does not declare are warnings, not errors.
    IgnoreUnknownFields,
    /// The most bytes an input may have.
    MaxInputBytes,
    /// The deepest nesting an input may have.
    MaxDepth,
    /// The flavor of the policies (`kubernetes`, `cilium`).
    Flavor,
    /// The source of a connection asked about (`explain`).
    From,
    /// The destination of a connection asked about (`explain`).
    To,
    /// The destination port and protocol of a connection asked about (`explain`).
    Port,
}

impl Setting {
    /// Every setting.
    pub const ALL: &'static [Setting] = &[
        Setting::Hosts,
        Setting::Cluster,
        Setting::Lock,
        Setting::Nameserver,
        Setting::Offline,
        Setting::AllowUnresolved,
        Setting::FqdnFallback,
        Setting::ZoneFallback,
        Setting::OperatorVersion,
        Setting::ProxyUrl,
        Setting::AllowAnyAddress,
        Setting::AllowSpecialAddresses,
        Setting::InternalHost,
        Setting::AllowSharedNamespace,
        Setting::IgnoreUnknownFields,
        Setting::MaxInputBytes,
        Setting::MaxDepth,
        Setting::Flavor,
        Setting::From,
        Setting::To,
        Setting::Port,
    ];

    /// The setting's neutral name, as the library's own messages give it.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Hosts => "hosts",
            Setting::Cluster => "cluster",
            Setting::Lock => "lock",
            Setting::Nameserver => "nameserver",
            Setting::Offline => "offline",
            Setting::AllowUnresolved => "allow-unresolved",
            Setting::FqdnFallback => "fqdn-fallback",
            Setting::ZoneFallback => "zone-fallback",
            Setting::OperatorVersion => "operator-version",
            Setting::ProxyUrl => "proxy-url",
            Setting::AllowAnyAddress => "allow-any-address",
            Setting::AllowSpecialAddresses => "allow-special-addresses",
            Setting::InternalHost => "internal-host",
            Setting::AllowSharedNamespace => "allow-shared-namespace",
            Setting::IgnoreUnknownFields => "ignore-unknown-fields",
            Setting::MaxInputBytes => "max-input-bytes",
            Setting::MaxDepth => "max-depth",
            Setting::Flavor => "flavor",
            Setting::From => "from",
            Setting::To => "to",
            Setting::Port => "port",
        }
    }
}

/// What would fix a problem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Remedy {
    /// Advice that names no setting ("name the real addresses").
    Do(&'static str),
    /// Setting an option: on (`value` `None`) or to `value` (a value, or a placeholder such as
    /// `HOST`); `when` says when to (`"if this is intended"`), or is empty.
    Set {
        /// The option.
        setting: Setting,
        /// Its value, when it takes one.
        value: Option<&'static str>,
        /// When to set it; empty for always.
        when: &'static str,
    },
    /// Turning an option off again; `when` as above.
    Unset {
        /// The option.
        setting: Setting,
        /// When to turn it off.
        when: &'static str,
    },
    /// Setting a field of the cluster profile (`operatorVersion`); `when` as above.
    Profile {
        /// The field's path in the profile.
        field: &'static str,
        /// When to set it.
        when: &'static str,
    },
    /// Running a command, given as the words to type (`dynakube-netpol generate dk.yaml -o
    /// policies/`); `when` as above.
    Run {
        /// The command line.
        command: String,
        /// When to run it.
        when: &'static str,
    },
}

impl Remedy {
    /// Setting an option on (or, with a value, to it), always.
    pub fn set(setting: Setting) -> Self {
        Remedy::Set {
            setting,
            value: None,
            when: "",
        }
    }

    /// Setting an option on when `when` holds.
    pub(crate) fn set_when(setting: Setting, when: &'static str) -> Self {
        Remedy::Set {
            setting,
            value: None,
            when,
        }
    }

    /// Setting an option to `value`.
    pub fn set_to(setting: Setting, value: &'static str) -> Self {
        Remedy::Set {
            setting,
            value: Some(value),
            when: "",
        }
    }
}

/// What caused a note: an input field, or a setting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// A field of a resource, with the resource: `DynaKube dynatrace/dk spec.kspm`.
    Resource(String),
    /// A field of the cluster profile, by its path: `nodeCIDRs`.
    Profile(String),
    /// A setting.
    Setting(Setting),
}

/// How a front end speaks of settings and profile fields.
pub trait Words {
    /// A setting by the name the user writes: `--hosts`, `` `spec.hosts` ``.
    fn setting(&self, setting: Setting) -> String;

    /// A remedy as an imperative phrase (`pass --allow-any-address if this is intended`), or
    /// `None` where the front end has no such setting (then the remedy is left out).
    fn remedy(&self, remedy: &Remedy) -> Option<String>;

    /// A field of the cluster profile by its path: `cluster profile nodeCIDRs`.
    fn profile_field(&self, field: &str) -> String;

    /// A note's cause.
    fn cause(&self, cause: &Cause) -> String {
        match cause {
            Cause::Resource(field) => field.clone(),
            Cause::Profile(field) => self.profile_field(field),
            Cause::Setting(setting) => self.setting(*setting),
        }
    }

    /// Remedies as one phrase: `a, b, or c`.
    fn remedies(&self, remedies: &[Remedy]) -> String {
        let phrases: Vec<String> = remedies.iter().filter_map(|r| self.remedy(r)).collect();
        match phrases.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{}, or {last}", rest.join(", ")),
        }
    }
}

/// The library's own words: settings by their neutral names.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Neutral;

impl Words for Neutral {
    fn setting(&self, setting: Setting) -> String {
        format!("the setting `{}`", setting.name())
    }

    fn remedy(&self, remedy: &Remedy) -> Option<String> {
        let phrase = match remedy {
            Remedy::Do(text) => return Some((*text).to_string()),
            Remedy::Set {
                setting,
                value: None,
                when,
            } => (format!("turn on the setting `{}`", setting.name()), when),
            Remedy::Set {
                setting,
                value: Some(value),
                when,
            } => (
                format!("set the setting `{}` to {value}", setting.name()),
                when,
            ),
            Remedy::Unset { setting, when } => {
                (format!("turn off the setting `{}`", setting.name()), when)
            }
            Remedy::Profile { field, when } => {
                (format!("set `{field}` in the cluster profile"), when)
            }
            Remedy::Run { command, when } => (format!("run `{command}`"), when),
        };
        Some(with_when(phrase))
    }

    fn profile_field(&self, field: &str) -> String {
        format!("cluster profile {field}")
    }
}

/// `phrase`, then its condition.
pub fn with_when((phrase, when): (String, &&'static str)) -> String {
    if when.is_empty() {
        phrase
    } else {
        format!("{phrase} {when}")
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
