//! Destination ports and protocols of flows.

use std::collections::BTreeSet;
use std::fmt;

use crate::values::PortNumber;

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The protocol Kubernetes names so (`TCP`, `UDP`, `SCTP`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// `TCP`, `UDP` or `SCTP`, as Kubernetes spells it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// A destination (pod) port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    /// The number.
    pub number: PortNumber,
    /// The protocol.
    pub protocol: Protocol,
}

impl Port {
    /// A TCP port; `number` is a constant from 1 to 65535.
    pub(crate) const fn tcp(number: u16) -> Self {
        Port {
            number: PortNumber::of(number),
            protocol: Protocol::Tcp,
        }
    }

    /// A UDP port; `number` is a constant from 1 to 65535.
    pub(crate) const fn udp(number: u16) -> Self {
        Port {
            number: PortNumber::of(number),
            protocol: Protocol::Udp,
        }
    }

    /// A TCP port of a validated number.
    pub(crate) const fn tcp_of(number: PortNumber) -> Self {
        Port {
            number,
            protocol: Protocol::Tcp,
        }
    }

    /// A UDP port of a validated number.
    pub(crate) const fn udp_of(number: PortNumber) -> Self {
        Port {
            number,
            protocol: Protocol::Udp,
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number, self.protocol.name())
    }
}

/// The destination ports of a flow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ports {
    /// Any port: the reference gives none (EdgeConnect hosts, exporter ports).
    Any,
    /// These ports.
    List(BTreeSet<Port>),
}

impl Ports {
    /// The ports of a list.
    pub(crate) fn list(ports: impl IntoIterator<Item = Port>) -> Self {
        Ports::List(ports.into_iter().collect())
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ports::Any => f.write_str("any"),
            Ports::List(ports) => {
                let ports: Vec<String> = ports.iter().map(Port::to_string).collect();
                f.write_str(&ports.join(", "))
            }
        }
    }
}
