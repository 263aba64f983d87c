//! The ports of Cilium rules, and the DNS rules that ride on them.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::peers::FqdnSelector;
use crate::values::PortNumber;

/// The most ports one `toPorts` entry may list (the schema's `maxItems`).
pub(crate) const MAX_PORTS: usize = 40;

/// `protocol` of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub(crate) enum Protocol {
    /// `TCP`.
    #[serde(rename = "TCP")]
    Tcp,
    /// `UDP`.
    #[serde(rename = "UDP")]
    Udp,
    /// `SCTP`.
    #[serde(rename = "SCTP")]
    Sctp,
}

/// A port and protocol (`ports` item). The schema types the port as a string (`"443"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PortProtocol {
    /// `port`.
    pub(crate) port: PortNumber,
    /// `protocol`.
    pub(crate) protocol: Protocol,
}

impl PortProtocol {
    /// A port of a protocol.
    pub(crate) fn new(port: PortNumber, protocol: Protocol) -> Self {
        PortProtocol { port, protocol }
    }
}

impl Serialize for PortProtocol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("PortProtocol", 2)?;
        state.serialize_field("port", &self.port.to_string())?;
        state.serialize_field("protocol", &self.protocol)?;
        state.end()
    }
}

/// A `toPorts` item of an egress rule: ports and, optionally, DNS rules for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PortRule {
    /// `ports`: 1 to [`MAX_PORTS`].
    pub(crate) ports: Vec<PortProtocol>,
    /// `rules`: the DNS rules, on the ports of a DNS server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rules: Option<L7Rules>,
}

impl PortRule {
    /// Ports without L7 rules.
    pub(crate) fn new(ports: impl IntoIterator<Item = PortProtocol>) -> Self {
        PortRule {
            ports: ports.into_iter().collect(),
            rules: None,
        }
    }

    /// Ports of a DNS server, with the names the subject may resolve.
    pub(crate) fn dns(
        ports: impl IntoIterator<Item = PortProtocol>,
        names: impl IntoIterator<Item = FqdnSelector>,
    ) -> Self {
        PortRule {
            ports: ports.into_iter().collect(),
            rules: Some(L7Rules {
                dns: names.into_iter().collect(),
            }),
        }
    }
}

/// A `toPorts` item without L7 rules (of ingress rules, where Cilium accepts no DNS rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct L4PortRule {
    /// `ports`: 1 to [`MAX_PORTS`].
    pub(crate) ports: Vec<PortProtocol>,
}

impl L4PortRule {
    /// Ports.
    pub(crate) fn new(ports: impl IntoIterator<Item = PortProtocol>) -> Self {
        L4PortRule {
            ports: ports.into_iter().collect(),
        }
    }
}

/// `rules` of a port rule: DNS rules only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct L7Rules {
    /// `dns`: the names that may be resolved.
    pub(crate) dns: Vec<FqdnSelector>,
}

/// A `toPorts` item holds 1 to [`MAX_PORTS`] ports.
#[cfg(test)]
pub(super) fn check(ports: &[PortProtocol]) -> Result<(), String> {
    match ports.len() {
        0 => Err("a toPorts item needs at least one port".into()),
        n if n > MAX_PORTS => Err(format!(
            "{n} ports; at most {MAX_PORTS} fit in one toPorts item"
        )),
        _ => Ok(()),
    }
}
