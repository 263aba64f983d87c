//! The discovered profile as commented YAML, which [`ClusterProfile::parse`] reads back as
//! the same profile.
//!
//! [`ClusterProfile::parse`]: crate::cluster::ClusterProfile::parse

use std::fmt::Write;

use super::{Discovery, Part, Said};
use crate::advice::Words;
use crate::cluster::DnsProvider;
use crate::values::{Cidr, escape};

/// The width comments are wrapped at.
const WIDTH: usize = 100;

impl Discovery {
    /// The profile as YAML, every part with its comments; remedies in comments (which flavor
    /// to use) are worded in `words`.
    pub fn to_yaml(&self, words: &dyn Words) -> String {
        let mut out = String::new();
        self.comments(&mut out, Part::Header, words, "");
        for part in [
            Part::Namespace,
            Part::OperatorVersion,
            Part::ApiServer,
            Part::Dns,
            Part::Nodes,
            Part::ControlPlane,
            Part::Prometheus,
            Part::CsiDriver,
            Part::Helm,
            Part::Cilium,
            Part::NetworkPlugin,
        ] {
            let mut section = String::new();
            self.comments(&mut section, part, words, "");
            self.values(&mut section, part);
            if !section.is_empty() {
                out.push('\n');
                out.push_str(&section);
            }
        }
        out
    }

    /// The comments of `part`, wrapped, each line opening with `indent` and `# `.
    fn comments(&self, out: &mut String, part: Part, words: &dyn Words, indent: &str) {
        for said in self.said.get(&part).into_iter().flatten() {
            let text = match said {
                Said::Text(text) => text.clone(),
                Said::Advice(text, remedy) => match words.remedy(remedy) {
                    Some(phrase) => format!("{text}: {phrase}."),
                    None => format!("{text}."),
                },
            };
            for line in wrap(&escape(&text), WIDTH - indent.len() - 2) {
                let _ = writeln!(out, "{indent}# {line}");
            }
        }
    }

    /// The values of `part`.
    fn values(&self, out: &mut String, part: Part) {
        let profile = &self.profile;
        match part {
            Part::Header => {}
            Part::Namespace => {
                if let Some(namespace) = &profile.namespace {
                    let _ = writeln!(out, "namespace: {}", scalar(namespace.as_str()));
                }
            }
            Part::OperatorVersion => {
                if let Some(version) = profile.operator_version {
                    let _ = writeln!(out, "operatorVersion: \"{version}\"");
                }
            }
            Part::ApiServer => self.api_server_values(out),
            Part::Dns => {
                let provider = match profile.dns.provider {
                    DnsProvider::KubeDns => "kube-dns",
                    DnsProvider::Openshift => "openshift",
                    DnsProvider::NodeLocal => "node-local",
                };
                let _ = writeln!(out, "dns:\n  provider: {provider}");
                if let Some(address) = profile.dns.address {
                    let _ = writeln!(out, "  address: {}", scalar(&address.to_string()));
                }
            }
            Part::Nodes => blocks(out, "nodeCIDRs", &profile.node_cidrs, &self.node_names),
            Part::ControlPlane => blocks(
                out,
                "controlPlaneCIDRs",
                &profile.control_plane_cidrs,
                &self.control_plane_names,
            ),
            Part::Prometheus => {
                if let Some(prometheus) = &profile.prometheus {
                    let _ = writeln!(
                        out,
                        "prometheus:\n  namespace: {}",
                        scalar(prometheus.namespace.as_str())
                    );
                    if !prometheus.pod_labels.is_empty() {
                        out.push_str("  podLabels:\n");
                    }
                    for (key, value) in &prometheus.pod_labels {
                        let _ = writeln!(
                            out,
                            "    {}: {}",
                            scalar(key.as_str()),
                            scalar(value.as_str())
                        );
                    }
                }
            }
            Part::CsiDriver => {
                if self.said.contains_key(&Part::CsiDriver) {
                    let _ = writeln!(out, "csiDriver: {}", profile.csi_driver);
                }
            }
            Part::Helm => self.helm_values(out),
            Part::Cilium => cilium_switches(out, &profile.cilium),
            Part::NetworkPlugin => {
                if let Some(plugin) = profile.network_plugin {
                    let _ = writeln!(out, "networkPlugin: {}", plugin.name());
                }
            }
        }
    }

    /// `apiServer`, when anything of it is known.
    fn api_server_values(&self, out: &mut String) {
        let api = &self.profile.api_server;
        if api.service_cidrs.is_empty() && api.endpoint_cidrs.is_empty() {
            return;
        }
        let ports: Vec<String> = api.ports.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "apiServer:\n  serviceCIDRs: [{}]\n  endpointCIDRs: [{}]\n  ports: [{}]",
            flow(&api.service_cidrs),
            flow(&api.endpoint_cidrs),
            ports.join(", ")
        );
    }

    /// `helm.webhook`, when the webhook was found, and `helm.csidriver`, when the CSI driver
    /// runs in migration mode.
    fn helm_values(&self, out: &mut String) {
        let webhook = self.said.contains_key(&Part::Helm);
        let migrating = self.profile.helm.csidriver.migration_mode;
        if webhook || migrating {
            out.push_str("helm:\n");
        }
        if migrating {
            out.push_str("  csidriver:\n    migrationMode: true\n");
        }
        if !webhook {
            return;
        }
        let webhook = &self.profile.helm.webhook;
        let _ = writeln!(out, "  webhook:\n    hostNetwork: {}", webhook.host_network);
        let ports: Vec<String> = [
            ("server", webhook.ports.server),
            ("healthProbe", webhook.ports.health_probe),
            ("metrics", webhook.ports.metrics),
        ]
        .into_iter()
        .filter_map(|(name, port)| port.map(|p| format!("{name}: {p}")))
        .collect();
        if !ports.is_empty() {
            let _ = writeln!(out, "    ports: {{{}}}", ports.join(", "));
        }
    }
}

/// A list of blocks, one a line with what it is as a comment.
fn blocks(out: &mut String, field: &str, cidrs: &[Cidr], names: &[String]) {
    if cidrs.is_empty() {
        let _ = writeln!(out, "{field}: []");
        return;
    }
    let _ = writeln!(out, "{field}:");
    for (i, cidr) in cidrs.iter().enumerate() {
        match names.get(i) {
            Some(name) => {
                let _ = writeln!(out, "  - {}  # {}", scalar(&cidr.to_string()), escape(name));
            }
            None => {
                let _ = writeln!(out, "  - {}", scalar(&cidr.to_string()));
            }
        }
    }
}

/// Blocks as the items of a flow sequence.
fn flow(cidrs: &[Cidr]) -> String {
    cidrs
        .iter()
        .map(|c| scalar(&c.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` as a YAML scalar: plain where every YAML reader reads it back as this string,
/// else double-quoted (JSON's quoting, which YAML reads).
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        && text.as_bytes()[0].is_ascii_alphanumeric()
        // YAML 1.1 booleans and nulls, and numbers, read as no string.
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
        && text.parse::<f64>().is_err()
        && serde_yaml::from_str::<serde_yaml::Value>(text)
            .is_ok_and(|v| v.as_str() == Some(text));
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).expect("a string serializes")
    }
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer word keeps its
/// own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The `cilium` switches the dump turned on.
fn cilium_switches(out: &mut String, cilium: &crate::cluster::Cilium) {
    let switches = [
        ("controlPlaneHostNetwork", cilium.control_plane_host_network),
        ("hostFirewall", cilium.host_firewall),
        ("cidrMatchNodes", cilium.cidr_match_nodes),
    ];
    let on: Vec<&str> = (switches.iter())
        .filter_map(|&(name, on)| on.then_some(name))
        .collect();
    if !on.is_empty() {
        out.push_str("cilium:\n");
        for name in on {
            let _ = writeln!(out, "  {name}: true");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_plain_only_where_they_read_back() {
        assert_eq!(scalar("dynatrace"), "dynatrace");
        assert_eq!(scalar("10.0.0.1/32"), "10.0.0.1/32");
        assert_eq!(scalar("app.kubernetes.io/name"), "app.kubernetes.io/name");
        for quoted in [
            "yes",
            "on",
            "null",
            "true",
            "1.10",
            "123",
            "fd00::1/128",
            "",
            "-x",
            "a b",
        ] {
            assert!(scalar(quoted).starts_with('"'), "{quoted}");
            let read: String = serde_yaml::from_str(&scalar(quoted)).unwrap();
            assert_eq!(read, quoted);
        }
    }

    #[test]
    fn comments_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("averylongword x", 4), ["averylongword", "x"]);
        assert!(wrap("", 10).is_empty());
    }
}
