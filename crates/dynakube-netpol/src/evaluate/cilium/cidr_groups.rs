//! CiliumCIDRGroups, and the items of `fromCIDRSet`/`toCIDRSet` that name them
//! (`cidrGroupRef`) or select them by their labels (`cidrGroupSelector`).
//!
//! A CiliumCIDRGroup (`cilium.io/v2alpha1`, and `cilium.io/v2` since Cilium 1.18) is a
//! cluster-scoped list of CIDRs, `spec.externalCIDRs`, that policies name as one peer (layer3.rst,
//! "IP/CIDR based"; `pkg/policy/api/cidr.go`, `CIDRRule`). The agent gives the addresses of a
//! group's CIDRs the group's name and labels, and an item naming or selecting the group selects
//! them less its `except` (`newCIDRRuleSelector`, `pkg/policy/types/selector.go`), exactly as an
//! item with `cidr` selects its block: addresses outside the cluster, and nodes with
//! `policy-cidr-match-mode: nodes`. A group no object defines selects nothing.
//!
//! The groups are read with the policies (`kubectl get ciliumcidrgroups -o yaml` prints them as
//! the connectivity tests of Cilium apply them, beside the policies that name them); an item
//! keeps what it names, and [`resolve`] adds the addresses once every file is read.
//!
//! Decisions: `cidrGroupSelector` is a field of the agent since 1.17 (cilium/cilium#36087)
//! that the v1.16.5 schema the reader follows does not declare; it is read as the current
//! agent reads it, as `toServices` is. The keys of its selector match the group's labels
//! whatever source they name (the agent gives them the source `cidrgroup`).

use std::collections::BTreeMap;

use ipnet::IpNet;

use super::compile::{Peer, Peers, Policy};
use super::labels::Selector;
use super::raw;
use crate::error::{Error, Location, Result};
use crate::evaluate::meta;
use crate::evaluate::sets::AddressSet;

/// The kind of the objects.
pub(crate) const KIND: &str = "CiliumCIDRGroup";

/// The versions the CRDs serve.
const API_VERSIONS: [&str; 2] = ["cilium.io/v2alpha1", "cilium.io/v2"];

/// A CiliumCIDRGroup, checked.
#[derive(Debug, Clone)]
pub(crate) struct CidrGroup {
    /// Its name.
    pub(crate) name: String,
    /// Its labels.
    pub(crate) labels: BTreeMap<String, String>,
    /// Its CIDRs, host bits cleared.
    pub(crate) cidrs: Vec<IpNet>,
    /// Where it was read.
    pub(crate) location: Location,
}

/// What an item of a CIDR set names: groups, less its exceptions.
#[derive(Debug, Clone)]
pub(crate) struct GroupRef {
    /// The groups.
    pub(crate) groups: Groups,
    /// `except`.
    pub(crate) except: Vec<IpNet>,
}

/// The groups an item names.
#[derive(Debug, Clone)]
pub(crate) enum Groups {
    /// `cidrGroupRef`: the group of this name.
    Named(String),
    /// `cidrGroupSelector`: the groups whose labels it selects.
    Selected(Selector),
}

impl Groups {
    /// `cidrGroupRef` `name`, found at `location`: the schema's pattern and bound hold.
    pub(super) fn named(name: &str, location: &Location) -> Result<Self> {
        if !crate::values::is_subdomain(name) {
            return Err(Error::invalid(
                location.join("cidrGroupRef"),
                format!(
                    "`{}` is not the name of a CiliumCIDRGroup (a DNS subdomain)",
                    crate::values::Shown(name)
                ),
            ));
        }
        Ok(Groups::Named(name.to_string()))
    }

    /// `cidrGroupSelector` `selector`, found at `location`.
    pub(super) fn selected(selector: &raw::Selector, location: &Location) -> Result<Self> {
        let at = location.join("cidrGroupSelector");
        Ok(Groups::Selected(Selector::compile(selector, &at)?))
    }

    /// Whether `group` is among the groups.
    fn contain(&self, group: &CidrGroup) -> bool {
        match self {
            Groups::Named(name) => *name == group.name,
            Groups::Selected(selector) => selector.matches_any_source(&group.labels),
        }
    }
}

/// Reads one CiliumCIDRGroup object, as strictly as the API server with its CRD: the fields
/// the schema declares, metadata as the API server requires of every object (a name that is a
/// DNS subdomain, which is also all `cidrGroupRef` can name; labels), and CIDRs. The object
/// is `value`, of `api_version`, found at `location`.
pub(crate) fn read(
    location: Location,
    api_version: &str,
    value: serde_yaml::Value,
) -> Result<CidrGroup> {
    if !API_VERSIONS.contains(&api_version) {
        return Err(Error::invalid(
            location.join("apiVersion"),
            format!(
                "`{}` is not served for {KIND}: the CRDs serve {}",
                crate::values::Shown(api_version),
                API_VERSIONS.join(" and ")
            ),
        ));
    }
    let raw: raw::CidrGroupObject = serde_path_to_error::deserialize(value)
        .map_err(|error| crate::error::field_error(&location, error))?;
    let kind = (meta::Scope::Cluster, meta::NameRule::Subdomain);
    let name = meta::check(&location, &raw.metadata.parts(), kind)?
        .0
        .to_string();
    let labels = raw.metadata.labels.clone().unwrap_or_default();
    let cidrs = (raw.spec.external_cidrs.iter().enumerate())
        .map(|(i, text)| {
            super::peers::cidr(text, &location.join(&format!("spec.externalCIDRs[{i}]")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(CidrGroup {
        name,
        labels,
        cidrs,
        location,
    })
}

/// Adds to the rules of `policies` that name groups the addresses of the `groups` they name,
/// less their exceptions; a name given twice is an error, as two objects of one name are.
pub(crate) fn resolve(policies: &mut [Policy], groups: &[CidrGroup]) -> Result<()> {
    let mut seen: BTreeMap<&str, &Location> = BTreeMap::new();
    for group in groups {
        if let Some(first) = seen.insert(&group.name, &group.location) {
            return Err(Error::invalid(
                group.location.join("metadata.name"),
                format!("{KIND} {} is given twice (first at {first})", group.name),
            ));
        }
    }
    let rules = policies.iter_mut().flat_map(|p| p.rules.iter_mut());
    for rule in rules {
        let lists = [
            &mut rule.ingress,
            &mut rule.egress,
            &mut rule.ingress_deny,
            &mut rule.egress_deny,
        ];
        for peer_rule in lists.into_iter().flatten() {
            if peer_rule.cidr_groups.is_empty() {
                continue;
            }
            let Peers::Any(list) = &mut peer_rule.peers else {
                continue;
            };
            for item in &peer_rule.cidr_groups {
                let mut set = AddressSet::empty();
                for group in groups.iter().filter(|g| item.groups.contain(g)) {
                    for cidr in &group.cidrs {
                        set = set.union(&AddressSet::net(cidr));
                    }
                }
                for hole in &item.except {
                    set = set.difference(&AddressSet::net(hole));
                }
                list.push(Peer::Cidrs(set));
            }
        }
    }
    Ok(())
}
