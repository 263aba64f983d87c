//! The flavors: the policy languages the matrix is written in, registered in one place.
//!
//! A flavor is one `Unit`: its name, what it emits, which hosts it needs addresses for,
//! whether hosts without addresses stop it, and its renderer. Everything else — the command
//! line's `--flavor` values, the kinds the manifest integrations know as generated, the hosts
//! the lock file must hold, the tests that run every fixture in every flavor — reads this
//! registry. `Flavor::unit` holds the only `match` on a flavor.
//!
//! Adding a flavor: a renderer module under `render/` that exports its `Unit`, a variant here
//! and its arm in `Flavor::unit`. The fixtures' snapshots of the new flavor follow.

use std::collections::BTreeMap;

use crate::lock::Reach;
use crate::matrix::Matrix;
use crate::render::Rendered;
use crate::resolve::Addresses;
use crate::values::HostName;

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
    /// The host names of a matrix it needs addresses for, with their reach.
    pub(crate) hosts: fn(&Matrix) -> BTreeMap<HostName, Reach>,
    /// Whether a host without addresses stops it (the fallback decides); `false` for a flavor
    /// that names hosts and needs addresses only where its language cannot.
    pub(crate) needs_every_address: bool,
    /// The renderer: pure, total, and adding no flow.
    pub(crate) render: fn(&Matrix, &Addresses) -> Rendered,
}

impl Flavor {
    /// Every flavor, in the order help texts list them.
    pub const ALL: &'static [Flavor] = &[Flavor::Kubernetes, Flavor::Cilium];

    /// The registry's entry of the flavor: the one place that matches on a flavor.
    pub(crate) fn unit(self) -> &'static Unit {
        match self {
            Flavor::Kubernetes => &crate::render::kubernetes::UNIT,
            Flavor::Cilium => &crate::render::cilium::UNIT,
        }
    }

    /// The name the command line uses: `kubernetes`, `cilium`.
    pub fn as_str(self) -> &'static str {
        self.unit().name
    }

    /// The flavor of a name, as [`Flavor::as_str`] gives it.
    pub fn parse(name: &str) -> Option<Flavor> {
        Flavor::ALL.iter().copied().find(|f| f.as_str() == name)
    }

    /// One line on what the flavor writes.
    pub fn summary(self) -> &'static str {
        self.unit().summary
    }

    /// The `(apiVersion, kind)` of every object the flavor writes.
    pub(crate) fn kinds(self) -> &'static [(&'static str, &'static str)] {
        self.unit().kinds
    }

    /// The host names of `matrix` the flavor needs addresses for, with their reach: for a
    /// lock file to hold.
    pub fn needed_hosts(self, matrix: &Matrix) -> BTreeMap<HostName, Reach> {
        (self.unit().hosts)(matrix)
    }

    /// The policies of `matrix` in this flavor, with the notes on what could not be
    /// expressed; `addresses` must hold what [`crate::resolve::resolve`] finds for the
    /// matrix (what [`crate::generate`] does in one step).
    pub fn render(self, matrix: &Matrix, addresses: &Addresses) -> Rendered {
        (self.unit().render)(matrix, addresses)
    }

    /// Whether `kind` is a kind some flavor writes.
    pub(crate) fn writes_kind(kind: &str) -> bool {
        Flavor::ALL
            .iter()
            .flat_map(|f| f.kinds())
            .any(|(_, k)| *k == kind)
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
        let mut kinds = std::collections::BTreeSet::new();
        for &flavor in Flavor::ALL {
            assert_eq!(Flavor::parse(flavor.as_str()), Some(flavor));
            assert!(!flavor.summary().is_empty());
            for kind in flavor.kinds() {
                assert!(kinds.insert(*kind), "{kind:?} is written by two flavors");
                assert!(Flavor::writes_kind(kind.1));
            }
        }
        assert_eq!(Flavor::parse("calico"), None);
        assert!(!Flavor::writes_kind("Deployment"));
    }
}
