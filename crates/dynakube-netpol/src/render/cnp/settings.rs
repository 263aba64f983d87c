//! The settings of the ClusterNetworkPolicy flavor: the tier, the CRD's release channel and the
//! range of priorities its policies take.

use super::model::{MAX_PRIORITY, Tier};
use crate::cluster::{ClusterProfile, Plugin};
use crate::flavor::{FlavorSetting, FlavorSettings};
use crate::values::Invalid;

/// `tier`: which tier the policies go to.
pub(super) const TIER: FlavorSetting = FlavorSetting {
    name: "tier",
    value_name: "TIER",
    help: "The ClusterNetworkPolicy tier of the policies (cluster-network-policy flavor)",
    values: &[
        (
            "admin",
            "before NetworkPolicies: Dynatrace's flows hold whatever the namespaces' policies say",
        ),
        (
            "baseline",
            "after NetworkPolicies: defaults that the namespaces' own policies may narrow",
        ),
    ],
    default: "admin",
    parse: FlavorSetting::any,
};

/// `channel`: which release channel of the CRD the cluster serves.
pub(super) const CHANNEL: FlavorSetting = FlavorSetting {
    name: "channel",
    value_name: "CHANNEL",
    help: "The release channel of the ClusterNetworkPolicy CRD the cluster has installed (cluster-network-policy flavor)",
    values: &[
        ("standard", "hosts as `networks` of their addresses"),
        (
            "experimental",
            "hosts as `domainNames`, nodes as the `nodes` peer",
        ),
    ],
    default: "standard",
    parse: FlavorSetting::any,
};

/// `priorities`: the range the priorities of the policies are taken from.
pub(super) const PRIORITIES: FlavorSetting = FlavorSetting {
    name: "priorities",
    value_name: "FIRST-LAST",
    help: "The priorities the ClusterNetworkPolicies take, from FIRST on, 0 to 1000 (cluster-network-policy flavor); keep the range apart from the cluster's other policies of the tier",
    values: &[],
    default: "900-999",
    parse: |value| Priorities::parse(value).map(|_| ()),
};

/// The release channel of the CRD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// The standard channel: no `nodes` or `domainNames` peers.
    Standard,
    /// The experimental channel: `nodes` and `domainNames` peers too.
    Experimental,
}

/// The range of priorities: lower ones are asked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Priorities {
    /// The first one taken.
    pub(crate) first: u16,
    /// The last one the policies may take.
    pub(crate) last: u16,
}

impl Priorities {
    /// `FIRST-LAST`, or `FIRST` for the range up to 1000; from 0 to 1000, as the CRD allows.
    pub(crate) fn parse(value: &str) -> Result<Self, Invalid> {
        let number = |text: &str| {
            text.trim()
                .parse::<u16>()
                .ok()
                .filter(|n| *n <= MAX_PRIORITY)
                .ok_or_else(|| {
                    Invalid(format!(
                        "is not a range of priorities: FIRST-LAST of numbers from 0 to {MAX_PRIORITY}, such as 900-999"
                    ))
                })
        };
        let (first, last) = match value.split_once('-') {
            Some((first, last)) => (number(first)?, number(last)?),
            None => (number(value)?, MAX_PRIORITY),
        };
        if last < first {
            return Err(Invalid(format!(
                "is not a range of priorities: {last} comes before {first}"
            )));
        }
        Ok(Priorities { first, last })
    }
}

/// The settings, read from what the flavor was given (each value was checked when set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) tier: Tier,
    pub(crate) channel: Channel,
    pub(crate) priorities: Priorities,
}

impl Options {
    /// The options `settings` give.
    pub(crate) fn of(settings: &FlavorSettings) -> Self {
        let default = Priorities {
            first: 900,
            last: 999,
        };
        Options {
            tier: match settings.value(&TIER) {
                "baseline" => Tier::Baseline,
                _ => Tier::Admin,
            },
            channel: match settings.value(&CHANNEL) {
                "experimental" => Channel::Experimental,
                _ => Channel::Standard,
            },
            priorities: Priorities::parse(settings.value(&PRIORITIES)).unwrap_or(default),
        }
    }
}

impl Options {
    /// Whether rules may name nodes and hosts with the experimental channel's `nodes` and
    /// `domainNames` peers: in that channel, unless the cluster profile's network plugin does
    /// not implement them (Calico 3.32 and Antrea 2.7 do not), where such a rule would match
    /// nothing.
    pub(crate) fn named(&self, profile: &ClusterProfile) -> bool {
        self.channel == Channel::Experimental
            && !matches!(
                profile.network_plugin,
                Some(Plugin::Calico | Plugin::Antrea)
            )
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::of(&FlavorSettings::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Flavor;

    #[test]
    fn priorities_are_ranges_the_crd_allows() {
        assert_eq!(
            Priorities::parse("10-20"),
            Ok(Priorities {
                first: 10,
                last: 20
            })
        );
        assert_eq!(
            Priorities::parse("990"),
            Ok(Priorities {
                first: 990,
                last: 1000
            })
        );
        for bad in ["", "20-10", "0-1001", "-1", "a-b", "1-2-3"] {
            assert!(Priorities::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Priorities::parse("20-10").unwrap_err().to_string(),
            "is not a range of priorities: 10 comes before 20"
        );
        assert_eq!(
            Priorities::parse(PRIORITIES.default).ok(),
            Some(Options::default().priorities)
        );
    }

    #[test]
    fn options_follow_the_settings() {
        let mut settings = FlavorSettings::default();
        let flavor = Flavor::ClusterNetworkPolicy;
        assert_eq!(Options::of(&settings).tier, Tier::Admin);
        assert_eq!(Options::of(&settings).channel, Channel::Standard);
        settings.set(flavor, "tier", "baseline").unwrap();
        settings.set(flavor, "channel", "experimental").unwrap();
        settings.set(flavor, "priorities", "5-9").unwrap();
        let options = Options::of(&settings);
        assert_eq!(options.tier, Tier::Baseline);
        assert_eq!(options.channel, Channel::Experimental);
        assert_eq!(options.priorities, Priorities { first: 5, last: 9 });
        assert!(settings.set(flavor, "priorities", "9-5").is_err());
    }
}
