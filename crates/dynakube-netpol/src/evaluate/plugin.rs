//! The network plugin that enforces the policies: what Kubernetes and network-policy-api leave
//! to the implementation, decided per plugin.
//!
//! The choices, and where the specifications leave them open:
//!
//! - **Does an `ipBlock` match pod addresses?** The NetworkPolicy API reference says of
//!   `ipBlock` that the ranges "should be cluster-external IPs, since Pod IPs are ephemeral and
//!   unpredictable", and the Kubernetes documentation that traffic to and from pods "may or
//!   may not be subject to ipBlock policies", while the Kubernetes e2e tests expect a block over
//!   a pod's address to match it; the generic plugin follows the tests. Calico matches every
//!   address, pods' too; Cilium
//!   matches no in-cluster entity (Cilium's `Documentation/security/policy/layer3.rst`: "By
//!   default, CIDR-based selectors do not match in-cluster entities (pods or nodes)").
//! - **Do ClusterNetworkPolicy `networks` match pod addresses?** network-policy-api v0.2.0,
//!   `ClusterNetworkPolicyEgressPeer.Networks`: "cluster-internal traffic will be checked
//!   against the rule as well. So if you Accept or Deny traffic to "0.0.0.0/0", that will allow
//!   or deny all IPv4 pod-to-pod traffic as well". Cilium's CIDR selectors still match no pod.
//! - **Do address blocks match node addresses (and so host-network pods)?** Yes, except on
//!   Cilium (the same page of its documentation), unless its `policy-cidr-match-mode: nodes`.
//! - **Which ClusterNetworkPolicy peers does the plugin implement?** A peer the implementation
//!   does not know fails closed, as the API says of a peer with no field it knows
//!   (`ClusterNetworkPolicyEgressPeer`: "For "Accept" rules, "fail closed" means: "treat the
//!   rule as matching no traffic". For "Deny" and "Pass" rules, "fail closed" means: "treat the
//!   rule as a 'Deny all' rule""). Calico 3.32 implements the standard fields, `networks` and
//!   named ports, not the experimental `nodes` and `domainNames` peers.
//! - **Which dialects does it enforce?** Cilium's own policies only on Cilium.
//!
//! Host-network pods are their node's addresses on every plugin: no NetworkPolicy or
//! ClusterNetworkPolicy selects them, as subject or as pod peer (the Kubernetes documentation
//! calls this the most common implementation; ClusterNetworkPolicy says so of its subjects and
//! pod peers).

use std::fmt;
use std::str::FromStr;

use super::NetworkPlugin;
use crate::values::Invalid;

impl NetworkPlugin {
    /// The name, as `--network-plugin` takes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            NetworkPlugin::Generic => "generic",
            NetworkPlugin::Calico => "calico",
            NetworkPlugin::Cilium => "cilium",
        }
    }

    /// What the plugin does where the specifications leave it a choice.
    pub(crate) fn behaviour(self) -> Behaviour {
        match self {
            NetworkPlugin::Generic => Behaviour {
                ip_block: Reach::EVERYTHING,
                networks: Reach::EVERYTHING,
                nodes_peer: true,
                domain_names_peer: true,
                domain_names_lookups: false,
            },
            NetworkPlugin::Calico => Behaviour {
                ip_block: Reach::EVERYTHING,
                networks: Reach::EVERYTHING,
                nodes_peer: false,
                domain_names_peer: false,
                domain_names_lookups: false,
            },
            NetworkPlugin::Cilium => Behaviour {
                ip_block: Reach::OUTSIDE,
                networks: Reach::OUTSIDE,
                nodes_peer: true,
                domain_names_peer: true,
                domain_names_lookups: true,
            },
        }
    }
}

impl fmt::Display for NetworkPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for NetworkPlugin {
    type Err = Invalid;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "generic" => Ok(NetworkPlugin::Generic),
            "calico" => Ok(NetworkPlugin::Calico),
            "cilium" => Ok(NetworkPlugin::Cilium),
            other => Err(Invalid(format!(
                "`{}` is not a network plugin (generic, calico, cilium)",
                crate::values::escape(other)
            ))),
        }
    }
}

/// Which ends an address block (an `ipBlock`, ClusterNetworkPolicy `networks`) matches by their
/// addresses, besides addresses outside the cluster, which it always matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reach {
    /// Pods outside the host network.
    pub(crate) pods: bool,
    /// Nodes, and so host-network pods.
    pub(crate) nodes: bool,
}

impl Reach {
    /// Every address.
    const EVERYTHING: Reach = Reach {
        pods: true,
        nodes: true,
    };
    /// Addresses outside the cluster only.
    const OUTSIDE: Reach = Reach {
        pods: false,
        nodes: false,
    };
}

/// What a plugin does where the specifications leave it a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Behaviour {
    /// What a NetworkPolicy `ipBlock` matches.
    pub(crate) ip_block: Reach,
    /// What ClusterNetworkPolicy `networks` match.
    pub(crate) networks: Reach,
    /// Whether ClusterNetworkPolicy `nodes` peers are implemented.
    pub(crate) nodes_peer: bool,
    /// Whether ClusterNetworkPolicy `domainNames` peers are implemented.
    pub(crate) domain_names_peer: bool,
    /// Whether an Accept rule with `domainNames` peers also accepts its subject's lookups at
    /// the cluster DNS (Cilium's translation, see `cnp::compile`).
    pub(crate) domain_names_lookups: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for plugin in [
            NetworkPlugin::Generic,
            NetworkPlugin::Calico,
            NetworkPlugin::Cilium,
        ] {
            assert_eq!(plugin.name().parse::<NetworkPlugin>(), Ok(plugin));
            assert_eq!(plugin.to_string(), plugin.name());
        }
        assert_eq!(
            "flannel".parse::<NetworkPlugin>().unwrap_err().to_string(),
            "`flannel` is not a network plugin (generic, calico, cilium)"
        );
        assert_eq!(NetworkPlugin::default(), NetworkPlugin::Generic);
    }
}
