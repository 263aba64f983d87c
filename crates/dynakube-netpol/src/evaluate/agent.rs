//! The options of the Cilium agent that change what its policies allow, read from the
//! `cilium-config` ConfigMap of a dump: where a cluster's agent runs with other than Cilium's
//! defaults, the evaluator follows the cluster.
//!
//! The agent takes its options from that ConfigMap (in the namespace Cilium is installed in,
//! `kube-system` by default), one key per option, named as its command-line flag. Of them, the
//! evaluator follows these, each read as strictly as the agent reads it:
//!
//! - `policy-cidr-match-mode`: a list; `nodes` makes CIDR rules (and NetworkPolicy `ipBlock`s,
//!   ClusterNetworkPolicy `networks`) select node addresses too (layer3.rst, "Selecting nodes
//!   with CIDR / ipBlock"). Recent agents also take `pods` (CIDR selectors select pods'
//!   addresses too, `PolicyCIDRMatchesPods`), which the evaluator does not model and refuses
//!   (decision: an answer for another cluster than the one described would mislead).
//! - `enable-node-selector-labels`: whether `fromNodes` and `toNodes` may be used (layer3.rst,
//!   "Node based"); without it the agent refuses a policy that uses them
//!   (`ErrFromToNodesRequiresNodeSelectorOption`), and so does the evaluator.
//! - `allow-localhost`: `policy` puts a node's connections to its own pods under policy;
//!   `always`, and `auto` (the default, which the agent turns into `always` in Kubernetes:
//!   "k8s mode: Allowing localhost to reach local endpoints"), allow them whatever the policies
//!   say. Read case-insensitively, as the agent lowers it.
//! - `cluster-name`: the cluster's name, which the `cluster` entity and the
//!   `io.cilium.k8s.policy.cluster` label of every endpoint carry (`default` unless set). The
//!   agent refuses a name of more than 32 characters, or of other than lower-case letters, digits
//!   and dashes between them (`pkg/clustermesh/types`).
//! - `enable-host-firewall`: host policies (those with a `nodeSelector`) are enforced only with
//!   it (host-firewall.rst; the agent reports a host's enforcement "disabled as long as the
//!   host firewall is disabled", commit 5b9ae54). It is off by default. Decision: without the
//!   ConfigMap, host policies are enforced as given, as written for a host firewall; with it,
//!   as it says.
//! - `enable-k8s-networkpolicy`: whether the agent enforces NetworkPolicies at all (on by
//!   default); `enable-k8s-cluster-network-policy`: whether it enforces ClusterNetworkPolicies
//!   (Cilium 1.20, opt-in: Helm `k8sClusterNetworkPolicy.enabled`; an earlier agent has no
//!   such key and enforces none). Decision: without the ConfigMap, the policies given are
//!   enforced, as written for the cluster; with it, a dialect it does not enforce is left out,
//!   and the answer says so.
//! - `enable-policy`: the enforcement mode (intro.rst, "Policy Enforcement Modes"): `default`,
//!   where an endpoint is in default deny in a direction once a rule selects it; `always`,
//!   where "policy enforcement is enabled on all endpoints even if no rules select specific
//!   endpoints" (every pod outside the host network is in default deny both ways, and so is
//!   every node's host where the host firewall is on: the host is one of the agent's
//!   endpoints); `never`, where "policy enforcement is disabled on all endpoints, even if rules
//!   do select specific endpoints" (no policy of any dialect is enforced: the agent enforces
//!   NetworkPolicies and ClusterNetworkPolicies with the same engine). The answer says which
//!   mode it followed, where it is not `default`.
//! - `enable-extended-ip-protocols`: whether a port of a policy may be left out, as the IP
//!   protocols without ports (`VRRP`, `IGMP`, the tunnel protocols) have it; without it the
//!   agent refuses such a port ("port must be specified", `PortProtocol.sanitize`), and so does
//!   the evaluator. It is off by default (Cilium 1.18).
//! - `policy-audit-mode`: where true, the agent drops nothing that policies deny: its datapath
//!   turns every policy drop into an accepted packet and a policy-verdict notification marked
//!   `AUDITED` (`bpf/lib/policy.h`, `POLICY_AUDIT_MODE`; policy-creation.rst, "Enable Policy
//!   Audit Mode": traffic "will not actually be denied"). Deny rules included, every dialect
//!   alike. Audit mode is how policies are tried before they are enforced, so the evaluator
//!   keeps deciding as the policies say: `verify` checks what they will do once enforced, and
//!   `explain` answers that a connection they deny goes through, audited, with the side that
//!   denies it (as Hubble shows `policy-verdict:none AUDITED`). Both note the mode. Audit mode
//!   set on one endpoint (`cilium endpoint config ID PolicyAuditMode=Enabled`) is not in any
//!   dump and not modelled.
//!
//! Booleans are read as the agent reads them (Go's `strconv.ParseBool`: `1`, `t`, `T`, `TRUE`,
//! `true`, `True` and their opposites); a value it would not parse is refused, naming the key.

use std::collections::BTreeMap;

use crate::error::{Error, Location, Result};

/// The name of the ConfigMap the agent reads its options from.
pub(super) const CONFIG_MAP: &str = "cilium-config";

/// The options of the Cilium agent the evaluator follows: Cilium's defaults, or what a
/// `cilium-config` ConfigMap says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiliumAgent {
    /// The namespace of the ConfigMap read (empty for the defaults).
    pub namespace: String,
    /// `policy-cidr-match-mode` lists `nodes`.
    pub cidr_match_nodes: bool,
    /// `enable-node-selector-labels` is true.
    pub node_selector_labels: bool,
    /// `allow-localhost` is not `policy`: a node reaches its own pods whatever the policies say.
    pub allow_localhost: bool,
    /// `cluster-name`.
    pub cluster_name: String,
    /// `enable-host-firewall` is true: host policies are enforced. True where no ConfigMap is
    /// known (a host policy given is taken as written for a host firewall).
    pub host_firewall: bool,
    /// `enable-k8s-networkpolicy` is true (the default): NetworkPolicies are enforced.
    pub network_policies: bool,
    /// `enable-k8s-cluster-network-policy` is true: ClusterNetworkPolicies are enforced. True
    /// where no ConfigMap is known (the policies given are taken as enforced).
    pub cluster_network_policies: bool,
    /// `enable-policy`: the policy enforcement mode.
    pub enforcement: Enforcement,
    /// `enable-l7-proxy` is true (the default): policies may have L7 rules, DNS rules among
    /// them; without the proxy the agent refuses such policies ("L7 policy is not supported
    /// since L7 proxy is not enabled", `pkg/policy/api/rule_validation.go`).
    pub l7_proxy: bool,
    /// `policy-audit-mode` is true: what policies deny is logged, not dropped.
    pub audit: bool,
    /// `enable-extended-ip-protocols` is true: a policy may leave a port out.
    pub extended_ip_protocols: bool,
}

/// The policy enforcement mode of the Cilium agent (`enable-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enforcement {
    /// `default`: an endpoint is in default deny in a direction once a rule selects it.
    #[default]
    Default,
    /// `always`: every endpoint is in default deny, selected or not.
    Always,
    /// `never`: no policy is enforced.
    Never,
}

impl Default for CiliumAgent {
    /// Cilium's defaults, but for host policies, which are enforced.
    fn default() -> Self {
        CiliumAgent {
            namespace: String::new(),
            cidr_match_nodes: false,
            node_selector_labels: false,
            allow_localhost: true,
            cluster_name: "default".into(),
            host_firewall: true,
            network_policies: true,
            cluster_network_policies: true,
            enforcement: Enforcement::Default,
            l7_proxy: true,
            audit: false,
            extended_ip_protocols: false,
        }
    }
}

impl CiliumAgent {
    /// The options the ConfigMap `cilium-config` of `namespace`, found at `location`, gives in
    /// its `data`.
    fn read(
        location: &Location,
        namespace: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<CiliumAgent> {
        let at = |key: &str| location.join(&format!("data.{key}"));
        if !crate::values::is_dns_label(namespace) {
            return Err(Error::invalid(
                location.join("metadata.namespace"),
                format!(
                    "`{}` is no namespace name (an RFC 1123 label)",
                    crate::values::Shown(namespace)
                ),
            ));
        }
        let mut agent = CiliumAgent {
            namespace: namespace.to_string(),
            host_firewall: false,
            cluster_network_policies: false,
            ..CiliumAgent::default()
        };
        for (key, into) in [
            ("enable-host-firewall", &mut agent.host_firewall),
            (
                "enable-node-selector-labels",
                &mut agent.node_selector_labels,
            ),
            ("enable-k8s-networkpolicy", &mut agent.network_policies),
            (
                "enable-k8s-cluster-network-policy",
                &mut agent.cluster_network_policies,
            ),
            ("enable-l7-proxy", &mut agent.l7_proxy),
            ("policy-audit-mode", &mut agent.audit),
            (
                "enable-extended-ip-protocols",
                &mut agent.extended_ip_protocols,
            ),
        ] {
            if let Some(value) = data.get(key) {
                *into = go_bool(value).ok_or_else(|| not_bool(at(key), value))?;
            }
        }
        if let Some(modes) = data.get("policy-cidr-match-mode") {
            agent.cidr_match_nodes = cidr_match_nodes(at("policy-cidr-match-mode"), modes)?;
        }
        if let Some(value) = data.get("allow-localhost") {
            let mode = one_of(at("allow-localhost"), value, &["auto", "always", "policy"])?;
            agent.allow_localhost = mode != "policy";
        }
        if let Some(name) = data.get("cluster-name") {
            if !cluster_name(name) {
                return Err(Error::invalid(
                    at("cluster-name"),
                    format!(
                        "`{}` is no cluster name the agent takes: at most 32 lower-case letters, digits and dashes, beginning and ending with a letter or digit",
                        crate::values::Shown(name)
                    ),
                ));
            }
            agent.cluster_name.clone_from(name);
        }
        if let Some(value) = data.get("enable-policy") {
            agent.enforcement =
                match one_of(at("enable-policy"), value, &["default", "always", "never"])? {
                    "always" => Enforcement::Always,
                    "never" => Enforcement::Never,
                    _ => Enforcement::Default,
                };
        }
        Ok(agent)
    }

    /// The options the ConfigMap named `name` in `namespace` (`default` when absent), found
    /// at `location`, gives in its `data`, when it is the agent's `cilium-config`.
    pub(crate) fn of_config_map(
        location: &Location,
        (name, namespace): (Option<&str>, Option<&str>),
        data: Option<&BTreeMap<String, String>>,
    ) -> Result<Option<CiliumAgent>> {
        if name != Some(CONFIG_MAP) {
            return Ok(None);
        }
        let empty = BTreeMap::new();
        let data = data.unwrap_or(&empty);
        Self::read(location, namespace.unwrap_or("default"), data).map(Some)
    }

    /// The one agent the ConfigMaps `read` describe (the same ConfigMap may come in several
    /// dumps), or Cilium's defaults when there is none; two that differ are an error.
    pub(super) fn of(read: &[CiliumAgent]) -> Result<CiliumAgent> {
        let Some(first) = read.first() else {
            return Ok(CiliumAgent::default());
        };
        let same = |other: &CiliumAgent| {
            CiliumAgent {
                namespace: first.namespace.clone(),
                ..other.clone()
            } == *first
        };
        if let Some(other) = read.iter().find(|other| !same(other)) {
            return Err(Error::invalid(
                Location::new(
                    format!("ConfigMap {}/{CONFIG_MAP}", other.namespace),
                    None,
                    "",
                ),
                format!(
                    "says other options than the ConfigMap {}/{CONFIG_MAP}: the dumps describe two Cilium agents",
                    first.namespace
                ),
            ));
        }
        Ok(first.clone())
    }
}

/// Whether the modes `modes` of `policy-cidr-match-mode` include `nodes`.
fn cidr_match_nodes(location: Location, modes: &str) -> Result<bool> {
    let mut nodes = false;
    for mode in modes
        .split([' ', ',', '\t', '\n'])
        .filter(|m| !m.is_empty())
    {
        let why = match mode {
            "nodes" => {
                nodes = true;
                continue;
            }
            "pods" => {
                "the evaluator does not model `pods`, with which CIDR selectors select pods' addresses too"
            }
            _ => "is no mode the agent knows: it takes `nodes` and `pods`",
        };
        return Err(Error::invalid(
            location,
            format!("`{}`: {why}", crate::values::Shown(mode)),
        ));
    }
    Ok(nodes)
}

/// `value` lowered, as the agent lowers it, when it is one of `known`.
fn one_of(location: Location, value: &str, known: &[&'static str]) -> Result<&'static str> {
    let lowered = value.to_lowercase();
    (known.iter().copied())
        .find(|k| *k == lowered)
        .ok_or_else(|| {
            Error::invalid(
                location,
                format!(
                    "`{}` is none of {}, which the agent takes",
                    crate::values::Shown(value),
                    known.join(", ")
                ),
            )
        })
}

/// `value` as Go's `strconv.ParseBool` reads it.
fn go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn not_bool(location: Location, value: &str) -> Error {
    Error::invalid(
        location,
        format!(
            "`{}` is no boolean the agent reads (true or false)",
            crate::values::Shown(value)
        ),
    )
}

/// Whether `name` is a cluster name the agent takes.
fn cluster_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let inner = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    let end = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    bytes.len() <= 32 && end(bytes.first()) && end(bytes.last()) && bytes.iter().all(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<CiliumAgent> {
        let data = (pairs.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CiliumAgent::read(&Location::new("dump.yaml", None, ""), "kube-system", &data)
    }

    #[test]
    fn the_options_read_are_the_agents() {
        assert_eq!(
            read(&[]).unwrap(),
            CiliumAgent {
                namespace: "kube-system".into(),
                host_firewall: false,
                cluster_network_policies: false,
                ..CiliumAgent::default()
            }
        );
        let dialects = read(&[
            ("enable-k8s-networkpolicy", "false"),
            ("enable-k8s-cluster-network-policy", "true"),
        ])
        .unwrap();
        assert!(!dialects.network_policies && dialects.cluster_network_policies);
        assert!(CiliumAgent::default().host_firewall);
        assert!(
            read(&[("enable-host-firewall", "true")])
                .unwrap()
                .host_firewall
        );
        let agent = read(&[
            ("policy-cidr-match-mode", "nodes"),
            ("enable-node-selector-labels", "True"),
            ("allow-localhost", "Policy"),
            ("cluster-name", "prod-eu-1"),
            ("enable-policy", "default"),
            ("debug", "anything"),
        ])
        .unwrap();
        assert_eq!(agent.enforcement, Enforcement::Default);
        for (value, mode) in [
            ("always", Enforcement::Always),
            ("Never", Enforcement::Never),
        ] {
            let agent = read(&[("enable-policy", value)]).unwrap();
            assert_eq!(agent.enforcement, mode);
        }
        assert!(agent.cidr_match_nodes && agent.node_selector_labels && !agent.allow_localhost);
        assert_eq!(agent.cluster_name, "prod-eu-1");
        let unset = read(&[
            ("policy-cidr-match-mode", ""),
            ("enable-node-selector-labels", "0"),
            ("allow-localhost", "auto"),
        ])
        .unwrap();
        assert!(!unset.cidr_match_nodes && !unset.node_selector_labels && unset.allow_localhost);
        assert!(!read(&[]).unwrap().audit);
        assert!(read(&[("policy-audit-mode", "true")]).unwrap().audit);
        assert!(!read(&[("policy-audit-mode", "F")]).unwrap().audit);
    }

    #[test]
    fn values_the_agent_refuses_are_refused_naming_the_key() {
        for (key, value) in [
            ("policy-cidr-match-mode", "nodes pods"),
            ("policy-cidr-match-mode", "everything"),
            ("enable-node-selector-labels", "yes"),
            ("enable-host-firewall", "on"),
            ("enable-k8s-networkpolicy", "no"),
            ("enable-k8s-cluster-network-policy", "enabled"),
            ("allow-localhost", "never"),
            ("cluster-name", "Prod"),
            ("cluster-name", "-prod"),
            ("cluster-name", ""),
            ("cluster-name", &"c".repeat(33)),
            ("enable-policy", "sometimes"),
            ("policy-audit-mode", "enabled"),
        ] {
            let error = read(&[(key, value)]).unwrap_err().to_string();
            assert!(
                error.contains(&format!("data.{key}")),
                "{key}={value}: {error}"
            );
        }
        assert!(read(&[("cluster-name", &"c".repeat(32))]).is_ok());
        let data = BTreeMap::new();
        let location = Location::new("dump.yaml", None, "");
        let error = CiliumAgent::read(&location, "Kube\nSystem", &data).unwrap_err();
        assert!(error.to_string().contains("metadata.namespace"), "{error}");
    }

    #[test]
    fn one_agent_of_several_configmaps_that_agree() {
        let kube_system = read(&[("policy-cidr-match-mode", "nodes")]).unwrap();
        let again = CiliumAgent {
            namespace: "cilium".into(),
            ..kube_system.clone()
        };
        assert_eq!(CiliumAgent::of(&[]).unwrap(), CiliumAgent::default());
        assert_eq!(
            CiliumAgent::of(&[kube_system.clone(), again]).unwrap(),
            kube_system
        );
        let other = CiliumAgent {
            namespace: "cilium".into(),
            cidr_match_nodes: false,
            ..kube_system.clone()
        };
        let error = CiliumAgent::of(&[kube_system, other])
            .unwrap_err()
            .to_string();
        assert!(error.contains("ConfigMap cilium/cilium-config"), "{error}");
    }
}
