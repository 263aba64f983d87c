//! The ports of `toPorts`: numbers, ranges, names, protocols.
//!
//! Documentation: `Documentation/security/policy/layer4.rst`, "Limit ingress/egress ports":
//! "Port can be an L4 port number, or a name in the form of "http" or "http-8080". EndPort is
//! ignored if Port is a named port"; "Protocol is the L4 protocol. If omitted or empty, any
//! protocol matches"; "If no layer 4 policy is specified for an endpoint, the endpoint is
//! allowed to send and receive on all layer 4 ports and protocols". The agent's checks are
//! those of `PortProtocol` in `pkg/policy/api/rule_validation.go`: a port that is an IANA
//! service name is a named port (compared lowercase); any other port must parse as an unsigned
//! 16-bit number the way Go's `strconv.ParseUint(port, 0, 16)` does (so `0x1f` is a name, but
//! `017` is the octal 15 and `1_000` the number 1000), and port 0 stands for every port.
//! Decisions where the documentation is silent:
//!
//! - `ANY` (or no protocol) is TCP, UDP and SCTP, the three protocols a connection here has.
//! - The IP protocols without ports (`VRRP`, `IGMP`, `GRE`, `IPIP`, `IPV6`, `ESP`, `AH`; the
//!   agent's `isExtendedIPProtocol`) take port 0 or none ("port must be empty or 0") and match
//!   no connection here. A port left out is every port, as port 0; the agent takes one only
//!   with its `enable-extended-ip-protocols` option ("port must be specified"), which the
//!   evaluator checks with the cluster (see [`PortMatch::leaves_port_out`]).
//! - An `endPort` at or below `port` (other than 0) adds nothing: the port alone, the narrowest
//!   reading.
//! - A `toPorts` item without `ports` matches every port of every protocol.

use crate::error::{Error, Location};
use crate::matrix::Protocol;

use super::raw;

/// Which protocols a port item matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocols {
    /// One protocol.
    One(Protocol),
    /// TCP, UDP and SCTP (`ANY`, or no protocol).
    Any,
    /// An IP protocol without ports (`VRRP`, ...): no TCP, UDP or SCTP connection.
    Portless,
}

impl Protocols {
    pub(super) fn contains(self, protocol: Protocol) -> bool {
        match self {
            Protocols::One(p) => p == protocol,
            Protocols::Any => true,
            Protocols::Portless => false,
        }
    }
}

/// The port part of a port item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortSpec {
    /// Every port (port 0).
    All,
    /// A range, inclusive.
    Range(u16, u16),
    /// A named port, lowercase, resolved on the destination pod.
    Named(String),
}

/// A compiled item of `ports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PortMatch {
    /// The protocols.
    pub(crate) protocols: Protocols,
    /// The ports.
    pub(crate) port: PortSpec,
}

/// A named port of a pod: name, number, protocol.
pub(crate) type NamedPort<'a> = (&'a str, u16, Protocol);

impl PortMatch {
    /// Compiles the item found at `location`.
    pub(super) fn compile(raw: &raw::PortProtocol, location: &Location) -> Result<Self, Error> {
        let protocols = match raw.protocol {
            None | Some(raw::Protocol::Any) => Protocols::Any,
            Some(raw::Protocol::Tcp) => Protocols::One(Protocol::Tcp),
            Some(raw::Protocol::Udp) => Protocols::One(Protocol::Udp),
            Some(raw::Protocol::Sctp) => Protocols::One(Protocol::Sctp),
            Some(
                raw::Protocol::Vrrp
                | raw::Protocol::Igmp
                | raw::Protocol::Gre
                | raw::Protocol::Ipip
                | raw::Protocol::Ipv6
                | raw::Protocol::Esp
                | raw::Protocol::Ah,
            ) => Protocols::Portless,
        };
        if protocols == Protocols::Portless && !matches!(raw.port.as_str(), "" | "0") {
            return Err(Error::invalid(
                location.join("port"),
                "must be empty or 0 for an IP protocol without ports",
            ));
        }
        let end = match raw.end_port {
            None => 0,
            Some(end) => u16::try_from(end).map_err(|_| {
                Error::invalid(
                    location.join("endPort"),
                    format!("{end} is not from 0 to 65535"),
                )
            })?,
        };
        let port = if raw.port.is_empty() {
            PortSpec::All
        } else if is_service_name(&raw.port) {
            PortSpec::Named(raw.port.to_ascii_lowercase())
        } else {
            match parse_uint(&raw.port) {
                Some(0) => PortSpec::All,
                Some(first) => PortSpec::Range(first, end.max(first)),
                None => {
                    return Err(Error::invalid(
                        location.join("port"),
                        format!(
                            "`{}` is neither a port number from 0 to 65535 nor a port name",
                            raw.port
                        ),
                    ));
                }
            }
        };
        Ok(PortMatch { protocols, port })
    }

    /// Whether the item matches `port` of `protocol` on a destination with `named` ports (none
    /// for a destination that is not a pod).
    pub(crate) fn matches(&self, port: u16, protocol: Protocol, named: &[NamedPort<'_>]) -> bool {
        if !self.protocols.contains(protocol) {
            return false;
        }
        match &self.port {
            PortSpec::All => true,
            PortSpec::Range(first, last) => (*first..=*last).contains(&port),
            PortSpec::Named(name) => named.iter().any(|&(n, number, p)| {
                n.eq_ignore_ascii_case(name) && number == port && p == protocol
            }),
        }
    }

    /// Whether `raw` leaves its port out, which the agent takes only with its
    /// `enable-extended-ip-protocols` option.
    pub(super) fn leaves_port_out(raw: &raw::PortProtocol) -> bool {
        raw.port.is_empty()
    }

    /// Whether the item is a port range (what DNS rules do not support).
    pub(crate) fn is_range(&self) -> bool {
        matches!(self.port, PortSpec::Range(first, last) if first != last)
    }
}

/// Whether `text` is an IANA service name as Cilium's `iana.IsSvcName` reads it: 1 to 15
/// letters, digits and hyphens, with a letter, without a hyphen at either end or two in a row.
fn is_service_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    (1..=15).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.iter().any(u8::is_ascii_alphabetic)
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
        && !text.contains("--")
}

/// `text` as Go's `strconv.ParseUint(text, 0, 16)` reads it: a `0x`, `0o` or `0b` prefix (either
/// case) or a leading `0` chooses the base, and underscores may separate digits after a base
/// prefix or between digits.
fn parse_uint(text: &str) -> Option<u16> {
    let lower = text.to_ascii_lowercase();
    let (base, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest, true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if !underscores_ok(&lower, prefixed) {
        return None;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return None;
    }
    u32::from_str_radix(&digits, base)
        .ok()
        .and_then(|n| u16::try_from(n).ok())
}

/// Go's rule for underscores in number literals of base prefix 0: each underscore follows a
/// digit or the base prefix and precedes a digit.
fn underscores_ok(text: &str, prefixed: bool) -> bool {
    if !text.contains('_') {
        return true;
    }
    let bytes = text.as_bytes();
    // With a prefix of two characters (0x) the prefix counts as a digit; with the octal `0`
    // the leading zero is a digit.
    let start = if prefixed && bytes.len() > 1 && bytes[1].is_ascii_alphabetic() {
        2
    } else {
        0
    };
    let mut previous_is_digit = start > 0;
    for &b in &bytes[start..] {
        if b == b'_' {
            if !previous_is_digit {
                return false;
            }
            previous_is_digit = false;
        } else {
            previous_is_digit = true;
        }
    }
    previous_is_digit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(
        text: &str,
        end: Option<i64>,
        protocol: Option<raw::Protocol>,
    ) -> Result<PortMatch, Error> {
        let raw = raw::PortProtocol {
            port: text.into(),
            end_port: end,
            protocol,
        };
        PortMatch::compile(&raw, &Location::new("t", None, "ports[0]"))
    }

    #[test]
    fn numbers_parse_as_go_parses_them() {
        assert_eq!(parse_uint("443"), Some(443));
        assert_eq!(parse_uint("017"), Some(15));
        assert_eq!(parse_uint("0o17"), Some(15));
        assert_eq!(parse_uint("1_000"), Some(1000));
        assert_eq!(parse_uint("0b101"), Some(5));
        assert_eq!(parse_uint("65536"), None);
        assert_eq!(parse_uint("1__0"), None);
        assert_eq!(parse_uint("_1"), None);
        assert_eq!(parse_uint("08"), None, "8 is no octal digit");
        // `0x1f` is a service name before it could be a number.
        assert_eq!(
            port("0x1f", None, None).unwrap().port,
            PortSpec::Named("0x1f".into())
        );
    }

    #[test]
    fn ports_ranges_names_and_protocols() {
        let any = port("80", Some(90), None).unwrap();
        assert!(any.matches(85, Protocol::Udp, &[]));
        assert!(any.matches(90, Protocol::Sctp, &[]));
        assert!(!any.matches(91, Protocol::Tcp, &[]));
        let single = port("80", Some(70), Some(raw::Protocol::Tcp)).unwrap();
        assert!(single.matches(80, Protocol::Tcp, &[]) && !single.matches(75, Protocol::Tcp, &[]));
        assert!(!single.matches(80, Protocol::Udp, &[]));
        let all = port("0", None, Some(raw::Protocol::Udp)).unwrap();
        assert!(all.matches(1, Protocol::Udp, &[]) && !all.matches(1, Protocol::Tcp, &[]));
        let named = port("HTTP", Some(100), None).unwrap();
        assert!(named.matches(8080, Protocol::Tcp, &[("http", 8080, Protocol::Tcp)]));
        assert!(!named.matches(8081, Protocol::Tcp, &[("http", 8080, Protocol::Tcp)]));
        assert!(
            !named.matches(8080, Protocol::Tcp, &[]),
            "no pod, no named port"
        );
    }

    #[test]
    fn bad_ports_name_their_field() {
        let error = port("http--alt", None, None).unwrap_err();
        assert!(error.to_string().contains("ports[0].port"), "{error}");
        let error = port("80", Some(70_000), None).unwrap_err();
        assert!(error.to_string().contains("ports[0].endPort"), "{error}");
        assert!(port("99999", None, None).is_err());
        let error = port("112", None, Some(raw::Protocol::Vrrp)).unwrap_err();
        assert!(error.to_string().contains("ports[0].port"), "{error}");
    }

    #[test]
    fn protocols_without_ports_match_no_connection() {
        for protocol in [raw::Protocol::Vrrp, raw::Protocol::Igmp, raw::Protocol::Esp] {
            for text in ["", "0"] {
                let item = port(text, None, Some(protocol)).unwrap();
                assert_eq!(item.protocols, Protocols::Portless);
                for p in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
                    assert!(!item.matches(80, p, &[("http", 80, p)]));
                }
            }
        }
        // A port left out is every port (taken only with the agent's option, see `leaves_port_out`).
        let every = port("", None, Some(raw::Protocol::Tcp)).unwrap();
        assert!(every.matches(1, Protocol::Tcp, &[]) && every.matches(65535, Protocol::Tcp, &[]));
    }
}
