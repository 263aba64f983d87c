//! The flavors: the policy languages the matrix is written in, registered in one place.
//!
//! A flavor is one `Unit`: its name, what it emits, the settings it takes besides its name
//! (`FlavorSetting`: the ClusterNetworkPolicy tier, say), which hosts it needs addresses for,
//! whether hosts without addresses stop it, and its renderer. Everything else — the command
//! line's `--flavor` values and the options of every flavor's settings, the fields of a
//! NetworkPolicyGenerator's spec made from them, the kinds the manifest integrations know as
//! generated, the hosts the lock file must hold, the tests and fuzz targets that run every
//! fixture in every flavor — reads this registry. `Flavor::unit` holds the only `match` on a
//! flavor.
//!
//! Adding a flavor: a renderer module under `render/` that exports its `Unit`, a variant here
//! and its arm in `Flavor::unit`. The fixtures' snapshots of the new flavor follow.

use std::collections::BTreeMap;

use crate::lock::Reach;
use crate::matrix::Matrix;
use crate::render::Rendered;
use crate::resolve::Addresses;
use crate::values::{HostName, Invalid};

/// The policy language of the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Flavor {
    /// `networking.k8s.io/v1` NetworkPolicies; hosts become address blocks.
    #[default]
    Kubernetes,
    /// `cilium.io/v2` CiliumNetworkPolicies (and clusterwide ones where the cluster profile
    /// asks for them); hosts become `toFQDNs`.
    Cilium,
    /// `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicies of the Admin or Baseline
    /// tier, for the Dynatrace workloads and the application namespaces the operator injects.
    ClusterNetworkPolicy,
}

/// What a flavor is: the registry's entry.
#[derive(Debug)]
pub(crate) struct Unit {
    /// The name the command line and the configuration use.
    pub(crate) name: &'static str,
    /// One line on what it writes, for help texts.
    pub(crate) summary: &'static str,
    /// The `(apiVersion, kind)` of every object it emits.
    pub(crate) kinds: &'static [(&'static str, &'static str)],
    /// The settings it takes besides its name; their names are unique among all flavors'.
    pub(crate) settings: &'static [FlavorSetting],
    /// The host names of a matrix it needs addresses for with its settings, with their reach.
    pub(crate) hosts: fn(&Matrix, &FlavorSettings) -> BTreeMap<HostName, Reach>,
    /// Whether a host of `hosts` without addresses stops it (the fallback decides); `false`
    /// for a flavor that writes a rule without them and says so in a note.
    pub(crate) needs_every_address: bool,
    /// The renderer: pure, total, and adding no flow.
    pub(crate) render: fn(&Matrix, &Addresses, &FlavorSettings) -> Rendered,
}

/// A setting a flavor takes besides its name, such as the tier of ClusterNetworkPolicies. The
/// command line's option `--<name>` and a NetworkPolicyGenerator's field `spec.<name>` are made
/// from it.
#[derive(Debug)]
pub struct FlavorSetting {
    /// Its name, in kebab case (`tier`).
    pub name: &'static str,
    /// What its value is, for help texts (`TIER`).
    pub value_name: &'static str,
    /// One line on what it does.
    pub help: &'static str,
    /// The values it takes, each with one line on what it does, when they are a closed set;
    /// empty when any value its check accepts will do.
    pub values: &'static [(&'static str, &'static str)],
    /// The value it has unless set.
    pub default: &'static str,
    /// The check of a value beyond `values`: why the value is not one the setting takes, in
    /// words that complete "`<value>` ...".
    pub(crate) parse: fn(&str) -> Result<(), Invalid>,
}

impl FlavorSetting {
    /// Whether the setting takes `value`; the error's words complete "`<value>` ...".
    pub(crate) fn check(&self, value: &str) -> Result<(), Invalid> {
        if !self.values.is_empty() && !self.values.iter().any(|(v, _)| *v == value) {
            let names: Vec<&str> = self.values.iter().map(|(v, _)| *v).collect();
            return Err(Invalid(format!("is not one of {}", names.join(", "))));
        }
        (self.parse)(value)
    }

    /// A check for settings of a closed set of values, which `values` holds.
    pub(crate) fn any(_: &str) -> Result<(), Invalid> {
        Ok(())
    }
}

/// The values given to the settings of one flavor ([`Flavor::settings`]), each checked by the
/// setting; a setting not given has its default.
///
/// ```
/// use dynakube_netpol::{Flavor, FlavorSettings};
///
/// let mut settings = FlavorSettings::default();
/// settings.set(Flavor::ClusterNetworkPolicy, "tier", "baseline")?;
/// let error = settings.set(Flavor::ClusterNetworkPolicy, "tier", "middle").unwrap_err();
/// assert_eq!(error.to_string(), "is not one of admin, baseline");
/// assert!(settings.set(Flavor::Kubernetes, "tier", "admin").is_err());
/// # Ok::<(), dynakube_netpol::values::Invalid>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlavorSettings(BTreeMap<&'static str, String>);

impl FlavorSettings {
    /// Gives the setting `name` of `flavor` the value `value`. Refused when the flavor has no
    /// such setting, or the setting does not take the value (the error's words then complete
    /// "`<value>` ...").
    pub fn set(&mut self, flavor: Flavor, name: &str, value: &str) -> Result<(), Invalid> {
        let Some(setting) = flavor.settings().iter().find(|s| s.name == name) else {
            return Err(not_taken(flavor, name));
        };
        setting.check(value)?;
        self.0.insert(setting.name, value.to_string());
        Ok(())
    }

    /// The value of `setting`: as given, else its default.
    pub(crate) fn value(&self, setting: &FlavorSetting) -> &str {
        self.0
            .get(setting.name)
            .map_or(setting.default, String::as_str)
    }

    /// The settings given, as the command line's words (`--tier baseline`), by name.
    #[cfg(test)]
    pub(crate) fn arguments(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|(name, value)| [format!("--{name}"), value.clone()])
            .collect()
    }

    /// The first setting given that `flavor` does not take.
    fn foreign(&self, flavor: Flavor) -> Option<&'static str> {
        let own = flavor.settings();
        self.0
            .keys()
            .copied()
            .find(|name| !own.iter().any(|s| s.name == *name))
    }
}

/// Why `flavor` refuses a setting `name`: naming the flavor that takes it, if one does.
fn not_taken(flavor: Flavor, name: &str) -> Invalid {
    let owner = Flavor::ALL
        .iter()
        .find(|f| f.settings().iter().any(|s| s.name == name));
    Invalid(match owner {
        Some(owner) => {
            format!("the {flavor} flavor takes no `{name}`: it is a setting of the {owner} flavor")
        }
        None => format!("no flavor takes a setting `{name}`"),
    })
}

impl Flavor {
    /// Every flavor, in the order help texts list them.
    pub const ALL: &'static [Flavor] = &[
        Flavor::Kubernetes,
        Flavor::Cilium,
        Flavor::ClusterNetworkPolicy,
    ];

    /// The registry's entry of the flavor: the one place that matches on a flavor.
    pub(crate) fn unit(self) -> &'static Unit {
        match self {
            Flavor::Kubernetes => &crate::render::kubernetes::UNIT,
            Flavor::Cilium => &crate::render::cilium::UNIT,
            Flavor::ClusterNetworkPolicy => &crate::render::cnp::UNIT,
        }
    }

    /// The settings the flavor takes besides its name.
    pub fn settings(self) -> &'static [FlavorSetting] {
        self.unit().settings
    }

    /// The name the command line uses: `kubernetes`, `cilium`, `cluster-network-policy`.
    pub fn as_str(self) -> &'static str {
        self.unit().name
    }

    /// One line on what the flavor writes.
    pub fn summary(self) -> &'static str {
        self.unit().summary
    }

    /// The `(apiVersion, kind)` of every object the flavor writes.
    pub(crate) fn kinds(self) -> &'static [(&'static str, &'static str)] {
        self.unit().kinds
    }

    /// The host names of `matrix` the flavor needs addresses for with `settings`, with their
    /// reach: for a lock file to hold.
    pub(crate) fn needed_hosts(
        self,
        matrix: &Matrix,
        settings: &FlavorSettings,
    ) -> BTreeMap<HostName, Reach> {
        (self.unit().hosts)(matrix, settings)
    }

    /// The policies of `matrix` in this flavor with its default settings, with the notes on
    /// what could not be expressed; `addresses` must hold what [`crate::resolve::resolve`]
    /// finds for the matrix (what [`crate::generate`] does in one step, with settings).
    pub fn render(self, matrix: &Matrix, addresses: &Addresses) -> Rendered {
        (self.unit().render)(matrix, addresses, &FlavorSettings::default())
    }

    /// Refused when `settings` holds a setting the flavor does not take.
    pub(crate) fn check(self, settings: &FlavorSettings) -> Result<(), Invalid> {
        settings
            .foreign(self)
            .map_or(Ok(()), |name| Err(not_taken(self, name)))
    }

    /// Whether `kind` is a kind some flavor writes.
    pub(crate) fn writes_kind(kind: &str) -> bool {
        Flavor::ALL
            .iter()
            .flat_map(|f| f.kinds())
            .any(|(_, k)| *k == kind)
    }
}

/// The flavor of a name, as [`Flavor::as_str`] gives it.
impl std::str::FromStr for Flavor {
    type Err = Invalid;

    fn from_str(name: &str) -> Result<Flavor, Invalid> {
        (Flavor::ALL.iter().copied())
            .find(|f| f.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Flavor::ALL.iter().map(|f| f.as_str()).collect();
                Invalid(format!(
                    "`{}` is not a flavor ({})",
                    crate::values::escape(name),
                    known.join(", ")
                ))
            })
    }
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_kinds_are_unique() {
        let mut versions = std::collections::BTreeMap::new();
        for &flavor in Flavor::ALL {
            assert_eq!(flavor.as_str().parse::<Flavor>(), Ok(flavor));
            assert!(!flavor.summary().is_empty());
            let mut kinds = std::collections::BTreeSet::new();
            for kind in flavor.kinds() {
                assert!(kinds.insert(kind.1), "{kind:?} twice in {flavor}");
                // A kind two flavors write is of one version.
                let version = *versions.entry(kind.1).or_insert(kind.0);
                assert_eq!(version, kind.0, "{kind:?}");
                assert!(Flavor::writes_kind(kind.1));
            }
        }
        assert_eq!(
            "calico".parse::<Flavor>().unwrap_err().to_string(),
            "`calico` is not a flavor (kubernetes, cilium, cluster-network-policy)"
        );
        assert!(!Flavor::writes_kind("Deployment"));
    }

    #[test]
    fn settings_are_unique_and_take_their_defaults() {
        let mut names = std::collections::BTreeSet::new();
        for &flavor in Flavor::ALL {
            for setting in flavor.settings() {
                assert!(names.insert(setting.name), "{} twice", setting.name);
                // The options made of them must not shadow a flag of the command line.
                assert!(!["flavor", "cluster", "hosts", "output"].contains(&setting.name));
                setting.check(setting.default).unwrap();
                for (value, help) in setting.values {
                    setting.check(value).unwrap();
                    assert!(!help.is_empty());
                }
                let mut settings = FlavorSettings::default();
                settings.set(flavor, setting.name, setting.default).unwrap();
                assert_eq!(flavor.check(&settings), Ok(()));
                for &other in Flavor::ALL.iter().filter(|&&f| f != flavor) {
                    let refused = other.check(&settings).unwrap_err().to_string();
                    assert!(refused.contains(&format!("a setting of the {flavor} flavor")));
                }
            }
        }
    }
}
