//! Validated values: every string that reaches an output is one of these types, parsed once
//! when the input is read.
//!
//! Architecture invariant: renderers take only these types (and numbers), never raw input
//! strings, so that rendering cannot fail on data and no input string reaches an output
//! unchecked. Text that must quote input verbatim — file names, notes, error messages — goes
//! through [`Shown`] (control characters and line separators escaped) and, for values that may
//! carry credentials, `redact`.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::values::{Cidr, HostPattern, Name, PortNumber, Shown};
//!
//! // Parsed once, where the input is read; afterwards the type says the value is valid.
//! let namespace = Name::parse("dynatrace")?;
//! assert_eq!(namespace.as_str(), "dynatrace");
//! let refused = Name::parse("Dynatrace_Operator").unwrap_err();
//! assert!(refused.to_string().starts_with("is not a valid name"));
//!
//! assert_eq!(Cidr::parse("192.0.2.7")?.to_string(), "192.0.2.7/32");
//! assert!(PortNumber::new(0).is_none());
//! assert!(matches!(HostPattern::parse("*.example.com")?, HostPattern::Below(_)));
//!
//! // Input quoted in a comment or message cannot start a new line.
//! assert_eq!(Shown("name\n---").to_string(), "name\\n---");
//! # Ok::<(), dynakube_netpol::values::Invalid>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU16;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Why a value is not valid, in words that complete "`<value>` ...": the value itself is shown
/// by the caller, escaped and redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn invalid<T>(reason: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(reason.into()))
}

/// Implements `Display`, `FromStr`, `TryFrom<String>`, `AsRef<str>` and serde for a string
/// newtype with a `parse` function.
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Invalid;

            fn from_str(s: &str) -> Result<Self, Invalid> {
                $name::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;

            fn try_from(s: String) -> Result<Self, Invalid> {
                $name::parse(&s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text)
                    .map_err(|e| serde::de::Error::custom(format!("`{}` {e}", Shown(&text))))
            }
        }
    };
}

/// A release of the Dynatrace Operator, such as `1.10.2`; written `1.10`, `1.10.2` or
/// `v1.10.2`, never older than 1.4.0, the oldest release this tool knows. What differs between
/// releases is in `crate::matrix::releases`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperatorVersion {
    /// The major version.
    pub major: u16,
    /// The minor version.
    pub minor: u16,
    /// The patch version.
    pub patch: u16,
}

impl OperatorVersion {
    /// The release `major.minor.patch`.
    pub(crate) const fn new(major: u16, minor: u16, patch: u16) -> Self {
        OperatorVersion {
            major,
            minor,
            patch,
        }
    }

    /// The patch version of a release written without one (`1.7`): the newest patch of that
    /// line, since that is what a cluster that follows a minor line runs. It sorts after every
    /// real patch and prints as `1.7`.
    pub(crate) const ANY_PATCH: u16 = u16::MAX;

    /// A release as `1.9`, `1.9.0` or `v1.10.2`; a missing patch version means the newest
    /// patch of the line (`OperatorVersion::ANY_PATCH`).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = raw.strip_prefix('v').unwrap_or(raw);
        let numbers: Vec<Option<u16>> = text.split('.').map(|n| n.parse().ok()).collect();
        let version = match numbers.as_slice() {
            [Some(major), Some(minor)] => Self::new(*major, *minor, Self::ANY_PATCH),
            [Some(_), Some(_), Some(Self::ANY_PATCH)] => {
                return invalid("is not an operator release such as 1.10 or 1.9.0");
            }
            [Some(major), Some(minor), Some(patch)] => Self::new(*major, *minor, *patch),
            _ => return invalid("is not an operator release such as 1.10 or 1.9.0"),
        };
        let oldest = Self::new(1, 4, 0);
        if version < oldest {
            return invalid(format!(
                "is older than the oldest release this tool knows ({oldest})"
            ));
        }
        Ok(version)
    }
}

impl fmt::Display for OperatorVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == Self::ANY_PATCH {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

impl FromStr for OperatorVersion {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for OperatorVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // YAML reads an unquoted `1.10` as the number 1.1, so numbers are refused.
        let text = match serde_yaml::Value::deserialize(deserializer)? {
            serde_yaml::Value::String(text) => text,
            serde_yaml::Value::Number(number) => {
                return Err(serde::de::Error::custom(format!(
                    "`{number}` is a number, and YAML drops the trailing zeros of numbers: quote the release, as in \"1.10\""
                )));
            }
            _ => {
                return Err(serde::de::Error::custom(
                    "is not an operator release such as \"1.10\"",
                ));
            }
        };
        Self::parse(&text).map_err(|e| serde::de::Error::custom(format!("`{}` {e}", Shown(&text))))
    }
}

/// A Kubernetes name that can also be a label value: an RFC 1123 label (lowercase letters,
/// digits and `-`, starting and ending with a letter or digit, at most 63 characters), or for
/// resources whose names may have dots, such labels joined by `.` (at most 63 in all).
/// Namespaces and the names that become workload names, label values and parts of policy
/// names are of this type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

string_value!(Name);

impl Name {
    /// An RFC 1123 label, as namespaces must be.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if is_dns_label(s) {
            Ok(Name(s.to_string()))
        } else {
            invalid(
                "is not a valid name (lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63)",
            )
        }
    }

    /// An RFC 1123 subdomain of at most `max` characters (and never more than 63), as the
    /// names of other resources may be.
    pub(crate) fn parse_subdomain(s: &str, max: usize) -> Result<Self, Invalid> {
        let max = max.min(63);
        if s.len() > max {
            return invalid(format!("is longer than {max} characters"));
        }
        if !s.is_empty() && s.split('.').all(is_dns_label) {
            Ok(Name(s.to_string()))
        } else {
            invalid(
                "is not a valid name (lowercase letters, digits, `-` and `.`, each part starting and ending with a letter or digit)",
            )
        }
    }
}

/// Whether `s` is an RFC 1123 label (`IsDNS1123Label`: at most 63 lowercase letters, digits
/// and `-`, beginning and ending with a letter or digit).
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `IsQualifiedName`: an optional DNS subdomain and `/`, then a name of at most 63 letters,
/// digits, `-`, `_` and `.`, beginning and ending with a letter or digit.
pub(crate) fn is_qualified_name(text: &str) -> bool {
    let name = match text.split_once('/') {
        Some((prefix, name)) => {
            if !is_subdomain(prefix) {
                return false;
            }
            name
        }
        None => text,
    };
    !name.is_empty() && is_label_value(name)
}

/// `IsValidLabelValue`: empty, or at most 63 letters, digits, `-`, `_` and `.`, beginning and
/// ending with a letter or digit.
pub(crate) fn is_label_value(text: &str) -> bool {
    let bytes = text.as_bytes();
    let edge = |b: Option<&u8>| b.is_none_or(u8::is_ascii_alphanumeric);
    bytes.len() <= 63
        && edge(bytes.first())
        && edge(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `IsDNS1123Subdomain`: DNS-1123 labels joined by `.`, at most 253 in all (a label may be longer
/// than 63: the API server's expression does not limit it). One pass over the bytes: every pod
/// of a dump has its name, node and service account checked.
pub(crate) fn is_subdomain(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 253 {
        return false;
    }
    // What came before, `.` at the start: a label begins and ends with a letter or digit.
    let mut before = b'.';
    for &byte in bytes {
        let fits = match byte {
            b'a'..=b'z' | b'0'..=b'9' => true,
            b'-' => before != b'.',
            b'.' => before != b'.' && before != b'-',
            _ => false,
        };
        if !fits {
            return false;
        }
        before = byte;
    }
    before != b'-' && before != b'.'
}

/// `IsValidPortName`: an IANA service name, at most 15 lowercase letters, digits and `-`, with
/// a letter, no `-` at either end and no two in a row.
pub(crate) fn is_port_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 15
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.iter().any(u8::is_ascii_lowercase)
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
        && !name.contains("--")
}

/// A DNS host name: RFC 1123 labels separated by dots, in lowercase ASCII (internationalised
/// names as punycode), without a trailing dot, at most 253 characters. Single-label names
/// (a Service such as `squid`) are names too.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostName(String);

string_value!(HostName);

impl HostName {
    /// Normalises and checks `s`: IDN to punycode, lowercase, trailing dot removed.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if s.is_empty() {
            return invalid("is not a host name: it is empty");
        }
        let ascii =
            idna::domain_to_ascii_cow(s.as_bytes(), idna::AsciiDenyList::URL).map_err(|_| {
                Invalid("is not a host name: it has characters a host name cannot have".into())
            })?;
        let name = ascii.strip_suffix('.').unwrap_or(&ascii);
        if name.len() > 253 {
            return invalid("is not a host name: it is longer than 253 characters");
        }
        if name.parse::<IpAddr>().is_ok() {
            return invalid("is an IP address, not a host name");
        }
        match name.split('.').find(|label| !is_host_label(label)) {
            None => Ok(HostName(name.to_string())),
            Some("") => invalid("is not a host name: it has an empty label"),
            Some(_) => invalid(
                "is not a host name (RFC 1123: labels of letters, digits and `-`, at most 63 characters, not starting or ending with `-`)",
            ),
        }
    }
}

/// A label of a host name: like [`is_dns_label`], after lowercasing.
fn is_host_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A network peer named by host: a host name or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Host {
    /// A DNS name.
    Name(HostName),
    /// An IP address (never the unspecified address `0.0.0.0` or `::`).
    Ip(IpAddr),
}

impl Host {
    /// A host name or IP address; IPv6 may be written in brackets.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let bare = s
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(s);
        match bare.parse::<IpAddr>() {
            Ok(ip) => Host::ip(ip),
            Err(_) => HostName::parse(s).map(Host::Name),
        }
    }

    /// An IP address as a host; the unspecified address is no host.
    pub(crate) fn ip(ip: IpAddr) -> Result<Self, Invalid> {
        if ip.is_unspecified() {
            invalid("is the unspecified address, not a host")
        } else {
            Ok(Host::Ip(ip))
        }
    }

    /// The host of a parsed URL; the error completes "`<url>` ...".
    pub(crate) fn from_url(url: &url::Url) -> Result<Self, Invalid> {
        let host = match url.host() {
            Some(url::Host::Domain(name)) => HostName::parse(name).map(Host::Name),
            Some(url::Host::Ipv4(ip)) => Host::ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Host::ip(IpAddr::V6(ip)),
            None => return invalid("has no host"),
        };
        host.map_err(|e| {
            let shown = url.host_str().unwrap_or_default();
            Invalid(format!("has the host `{}`, which {e}", Shown(shown)))
        })
    }

    /// The IP address, when the host is one.
    #[cfg(test)]
    pub(crate) fn ip_address(&self) -> Option<IpAddr> {
        match self {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }

    /// The host name, when the host is one.
    pub(crate) fn name(&self) -> Option<&HostName> {
        match self {
            Host::Name(name) => Some(name),
            Host::Ip(_) => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name.as_str()),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A TCP or UDP port: 1 to 65535. Port 0 means "any port" to some network plugins and is
/// never a port here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PortNumber(NonZeroU16);

impl PortNumber {
    /// A port; `None` for 0.
    pub const fn new(number: u16) -> Option<Self> {
        match NonZeroU16::new(number) {
            Some(n) => Some(PortNumber(n)),
            None => None,
        }
    }

    /// A port from a constant; fails to compile for 0.
    pub(crate) const fn of(number: u16) -> Self {
        match NonZeroU16::new(number) {
            Some(n) => PortNumber(n),
            None => panic!("port 0 is not a port"),
        }
    }

    /// The number.
    pub(crate) const fn get(self) -> u16 {
        self.0.get()
    }
}

impl fmt::Display for PortNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<u16> for PortNumber {
    type Error = Invalid;

    fn try_from(number: u16) -> Result<Self, Invalid> {
        PortNumber::new(number).ok_or_else(|| Invalid("is not a port (1 to 65535)".into()))
    }
}

impl<'de> Deserialize<'de> for PortNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = u16::deserialize(deserializer)?;
        PortNumber::new(number)
            .ok_or_else(|| serde::de::Error::custom("0 is not a port (1 to 65535)"))
    }
}

/// A host and port, such as the Dynatrace API or a registry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostPort {
    /// The host.
    pub host: Host,
    /// The TCP port.
    pub port: PortNumber,
}

impl HostPort {
    /// A host and port.
    pub(crate) fn new(host: Host, port: PortNumber) -> Self {
        HostPort { host, port }
    }

    /// The host and port of an absolute URL; the port defaults to the scheme's.
    pub(crate) fn from_url(url: &url::Url) -> Result<Self, Invalid> {
        let host = Host::from_url(url)?;
        let port = match url.port_or_known_default() {
            Some(port) => PortNumber::new(port)
                .ok_or_else(|| Invalid("has port 0, which is not a port".into()))?,
            None => return invalid("has no port and a scheme without a default port"),
        };
        Ok(HostPort { host, port })
    }
}

impl HostPort {
    /// A communication endpoint as the tenant's connection info lists it: an http or https URL
    /// (`https://10.0.0.1:443/communication`), whose host and port (the scheme's default when
    /// absent) are what is reached.
    pub(crate) fn from_endpoint_url(raw: &str) -> Result<Self, Invalid> {
        let url = url::Url::parse(raw).map_err(|_| Invalid("is not a URL".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return invalid("is not an http or https URL");
        }
        HostPort::from_url(&url)
    }
}

/// A communication endpoint URL read from a file, kept as its host and port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointUrl(pub HostPort);

impl<'de> Deserialize<'de> for EndpointUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        HostPort::from_endpoint_url(&text)
            .map(EndpointUrl)
            .map_err(|e| serde::de::Error::custom(format!("`{}` {e}", Shown(&text))))
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            host => write!(f, "{host}:{}", self.port),
        }
    }
}

/// An EdgeConnect host pattern: a host name, `*.` followed by a host name (every host below
/// it), or an IP address. A bare `*` would be every host and is no pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostPattern {
    /// One host.
    Name(HostName),
    /// Every host below a domain: `*.<domain>`.
    Below(HostName),
    /// One address.
    Ip(IpAddr),
}

impl HostPattern {
    /// Normalises and checks `s` like a host name.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if s == "*" || s == "*." {
            return invalid("would match every host: name the hosts, or a domain as `*.<domain>`");
        }
        match s.strip_prefix("*.") {
            Some(domain) => {
                let domain = HostName::parse(domain).map_err(|e| {
                    Invalid(format!("is not a host pattern: after `*.`, the rest {e}"))
                })?;
                match public_suffix(&domain) {
                    Some(why) => invalid(format!(
                        "would match the hosts of every owner of a domain under {why}: name the hosts, or a domain of one owner, as `*.example.com`"
                    )),
                    None => Ok(HostPattern::Below(domain)),
                }
            }
            None if s.contains('*') => invalid(
                "is not a host pattern: `*` may only stand for the leftmost labels, as in `*.example.com`",
            ),
            None => match Host::parse(s)? {
                Host::Name(name) => Ok(HostPattern::Name(name)),
                Host::Ip(ip) => Ok(HostPattern::Ip(ip)),
            },
        }
    }
}

/// Why every host below `domain` belongs to many owners, or `None` when it may belong to one:
/// `domain` is a suffix of the Public Suffix List (`com`, `co.uk`, and shared hosting domains
/// such as `github.io`), or every name right below it is one (the list's wildcard rules, as
/// `*.ck`). Names the list does not know (`corp`, `internal`) are no suffix.
fn public_suffix(domain: &HostName) -> Option<String> {
    let known = |name: &str| {
        psl::suffix(name.as_bytes())
            .is_some_and(|s| s.is_known() && s.as_bytes() == name.as_bytes())
    };
    if known(domain.as_str()) {
        return Some(format!("the public suffix `{domain}`"));
    }
    // A label no registry hands out stands for every name right below `domain`.
    let below = format!("x--probe-label.{domain}");
    known(&below).then(|| format!("`{domain}`, where every name is a public suffix"))
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Name(name) => f.write_str(name.as_str()),
            HostPattern::Below(domain) => write!(f, "*.{domain}"),
            HostPattern::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// An address block without host bits set, such as `10.0.0.0/8`; a single address is a `/32`
/// or `/128`.
///
/// A block of every address (`/0`) is a valid value; readers of user files refuse it unless
/// the user allows it, since it makes a rule admit everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr(IpNet);

impl Cidr {
    /// Checks `s`: an IP address, or a block whose host bits are clear.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Cidr(IpNet::from(ip)));
        }
        let net: IpNet = s
            .parse()
            .map_err(|_| Invalid("is not an IP address or CIDR".into()))?;
        if net.trunc() != net {
            return invalid(format!("has host bits set: the block is {}", net.trunc()));
        }
        Ok(Cidr(net))
    }

    /// The block of one address.
    pub(crate) fn of_ip(ip: IpAddr) -> Self {
        Cidr(IpNet::from(ip))
    }

    /// A block from a network, with host bits cleared.
    pub(crate) fn of_net(net: IpNet) -> Self {
        Cidr(net.trunc())
    }

    /// The network.
    pub(crate) fn net(&self) -> IpNet {
        self.0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Cidr {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        Cidr::parse(s)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Cidr::parse(&text).map_err(|e| serde::de::Error::custom(format!("`{}` {e}", Shown(&text))))
    }
}

/// A Kubernetes label key: an optional DNS-subdomain prefix and `/`, then a name of at most
/// 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelKey(String);

string_value!(LabelKey);

impl LabelKey {
    /// `s` as a label key, or why it is none (see [`LabelKey`] for the syntax).
    pub(crate) fn parse(s: &str) -> Result<Self, Invalid> {
        let (prefix, name) = match s.split_once('/') {
            Some((prefix, name)) => (Some(prefix), name),
            None => (None, s),
        };
        if let Some(prefix) = prefix
            && !is_subdomain(prefix)
        {
            return invalid(
                "is not a label key: its prefix before `/` must be a lowercase DNS subdomain",
            );
        }
        if name.is_empty() || !is_label_value(name) {
            return invalid(
                "is not a label key (at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit, optionally after a DNS prefix and `/`)",
            );
        }
        Ok(LabelKey(s.to_string()))
    }
}

/// A Kubernetes label value: empty, or at most 63 letters, digits, `-`, `_` and `.`, starting
/// and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelValue(String);

string_value!(LabelValue);

impl LabelValue {
    /// `s` as a label value, or why it is none (see [`LabelValue`] for the syntax).
    pub(crate) fn parse(s: &str) -> Result<Self, Invalid> {
        if is_label_value(s) {
            Ok(LabelValue(s.to_string()))
        } else {
            invalid(
                "is not a label value (at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit)",
            )
        }
    }
}

impl From<Name> for LabelValue {
    fn from(name: Name) -> Self {
        LabelValue(name.0)
    }
}

/// The name of a Dynatrace network zone (`spec.networkZone`): any text on one line, as the
/// operator accepts it (it refuses control characters since v1.10.2; Dynatrace itself allows
/// letters, digits, `-`, `_` and `.`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ZoneName(String);

string_value!(ZoneName);

impl ZoneName {
    /// `s` as a zone name: refused when empty or with control or invisible characters; see
    /// [`ZoneName::is_dynatrace_name`] for the stricter rule of Dynatrace.
    pub(crate) fn parse(s: &str) -> Result<Self, Invalid> {
        if s.is_empty() {
            invalid("is not a network zone name: it is empty")
        } else if s.chars().any(must_escape) {
            invalid("is not a network zone name: it has control or invisible characters")
        } else {
            Ok(ZoneName(s.to_string()))
        }
    }

    /// Whether Dynatrace accepts the name for a zone: letters, digits, `-` and `_`, in parts
    /// separated by single dots, at most 256 characters ("Network zone naming" of the
    /// Dynatrace documentation on network zones; a dot is only a separator and may not start
    /// the name). A name such as `.` or `..` would address the collection of zones in the
    /// API's URL path.
    pub(crate) fn is_dynatrace_name(&self) -> bool {
        self.0.len() <= 256
            && self.0.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            })
    }
}

/// Characters that never appear verbatim in text this tool writes: control characters,
/// Unicode line and paragraph separators, and invisible formatting characters (byte-order
/// mark, zero-width and bidirectional controls) that could hide or reorder what a reviewer
/// reads.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{feff}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
        )
}

/// `text` safe for one line of a comment or message: control characters, line and paragraph
/// separators and invisible formatting characters (zero-width, bidirectional) become Rust-style
/// escapes (`\n`, `\u{2028}`), so that input can never start a new line, a new
/// YAML document or hide text.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(must_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if must_escape(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` with the credentials a URL may carry replaced by `***`: the user information before
/// `@` in the authority, the query after `?` and, in a URL, the fragment after `#`. Text that
/// is not a URL is treated the same way but for fragments, so a proxy host written as
/// `user:password@host` is redacted too and `file.yaml#2` is not.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    let (scheme, rest) = match text.find("://") {
        Some(i) => text.split_at(i + 3),
        None => ("", text),
    };
    let ends: &[char] = if scheme.is_empty() {
        &['/', '?']
    } else {
        &['/', '?', '#']
    };
    let authority_end = rest.find(ends).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let userinfo = authority.rfind('@');
    let secret_tail = if scheme.is_empty() {
        tail.find('?')
    } else {
        tail.find(['?', '#'])
    }
    // A `?` that ends the text (a question in a message) hides nothing.
    .filter(|&i| i + 1 < tail.len());
    if userinfo.is_none() && secret_tail.is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::from(scheme);
    match userinfo {
        Some(at) => {
            out.push_str("***");
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    match secret_tail {
        Some(i) => {
            out.push_str(&tail[..=i]);
            out.push_str("***");
        }
        None => out.push_str(tail),
    }
    Cow::Owned(out)
}

/// Every word of `text` (split at whitespace, quotes and backticks) [redacted](redact): for
/// messages of other libraries that may quote an input value.
pub(crate) fn redact_words(text: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut word_start = 0;
    let boundary = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`');
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        if i == text.len() || boundary(c) {
            let word = &text[word_start..i];
            let redacted = redact(word);
            changed |= matches!(redacted, Cow::Owned(_));
            out.push_str(&redacted);
            if i < text.len() {
                out.push(c);
            }
            word_start = i + c.len_utf8();
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// The most characters of an input value a message shows.
const SHOWN_CHARS: usize = 120;

/// An input value as a message shows it: redacted, escaped and cut to 120 characters.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = redact(self.0);
        let escaped = escape(&redacted);
        match escaped.char_indices().nth(SHOWN_CHARS) {
            Some((cut, _)) => write!(f, "{}…", &escaped[..cut]),
            None => f.write_str(&escaped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass check against the expression read label by label, on every string of
    /// up to six of `a`, `0`, `-`, `.` and `A`.
    #[test]
    fn subdomains_are_checked_in_one_pass_as_label_by_label() {
        let expression = |text: &str| {
            text.split('.').all(|label| {
                let edge = |c: Option<char>| {
                    c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                };
                edge(label.chars().next())
                    && edge(label.chars().last())
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
        };
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = (texts.iter())
                .filter(|t| t.len() == texts.last().map_or(0, String::len))
                .flat_map(|t| ['a', '0', '-', '.', 'A'].map(|c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        assert_eq!(texts.len(), (0..=6).map(|n| 5usize.pow(n)).sum::<usize>());
        for text in &texts {
            assert_eq!(is_subdomain(text), expression(text), "{text:?}");
            assert_eq!(
                is_dns_label(text),
                expression(text) && !text.contains('.'),
                "{text:?}"
            );
        }
    }

    #[test]
    fn label_keys_and_values_follow_the_api_servers_expressions() {
        for (key, valid) in [
            ("app", true),
            ("App_1.x-y", true),
            ("example.com/app", true),
            ("app.kubernetes.io/name", true),
            ("/app", false),
            ("example.com/", false),
            ("Example.com/app", false),
            ("a/b/c", false),
            ("k8s:app", false),
            ("a b", false),
            ("_app", false),
            ("", false),
        ] {
            assert_eq!(is_qualified_name(key), valid, "{key:?}");
        }
        assert!(is_qualified_name(&"a".repeat(63)));
        assert!(!is_qualified_name(&"a".repeat(64)));
        for (value, valid) in [
            ("", true),
            ("a", true),
            ("A.b_c-9", true),
            ("a b", false),
            ("-a", false),
            ("a.", false),
        ] {
            assert_eq!(is_label_value(value), valid, "{value:?}");
        }
        assert!(!is_label_value(&"a".repeat(64)));
    }

    #[test]
    fn port_names_are_iana_service_names() {
        for (name, valid) in [
            ("http", true),
            ("h2c-9", true),
            ("a23456789012345", true),
            ("a234567890123456", false),
            ("80", false),
            ("Http", false),
            ("-http", false),
            ("ht--tp", false),
            ("", false),
        ] {
            assert_eq!(is_port_name(name), valid, "{name:?}");
        }
    }

    #[test]
    fn host_names_are_normalised() {
        assert_eq!(
            HostName::parse("ABC.Live.Dynatrace.com.").unwrap().as_str(),
            "abc.live.dynatrace.com"
        );
        assert_eq!(
            HostName::parse("bücher.example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
        assert_eq!(HostName::parse("squid").unwrap().as_str(), "squid");
        for bad in [
            "",
            "a..b.com",
            "*",
            "*.example.com",
            "https://a.example.com",
            "a b",
            "-a.example.com",
            "a_b.example.com",
            "user:pw@host",
            "a.example.com/path",
            "10.0.0.1",
            "a\n---\nkind: NetworkPolicy",
        ] {
            assert!(HostName::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}.com", "a.".repeat(130));
        assert!(HostName::parse(&long).is_err());
    }

    #[test]
    fn hosts_are_names_or_addresses() {
        assert_eq!(
            Host::parse("[2001:db8::1]").unwrap(),
            Host::Ip("2001:db8::1".parse().unwrap())
        );
        assert!(Host::parse("0.0.0.0").is_err());
        assert!(Host::parse("::").is_err());
        let url = url::Url::parse("https://[2001:db8::1]:8443/api").unwrap();
        let hp = HostPort::from_url(&url).unwrap();
        assert_eq!(hp.to_string(), "[2001:db8::1]:8443");
        let url = url::Url::parse("https://a.example.com:0/api").unwrap();
        assert!(HostPort::from_url(&url).is_err());
    }

    #[test]
    fn ports_are_never_zero() {
        assert!(PortNumber::new(0).is_none());
        assert_eq!(PortNumber::of(443).get(), 443);
        assert!(serde_yaml::from_str::<PortNumber>("0").is_err());
        assert!(serde_yaml::from_str::<PortNumber>("65536").is_err());
    }

    #[test]
    fn host_patterns() {
        assert_eq!(
            HostPattern::parse("*.Internal.Example.com")
                .unwrap()
                .to_string(),
            "*.internal.example.com"
        );
        assert_eq!(
            HostPattern::parse("10.0.0.5").unwrap(),
            HostPattern::Ip("10.0.0.5".parse().unwrap())
        );
        for bad in ["*", "*.", "a.*.example.com", "*example.com", "*.*.com", ""] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn host_patterns_below_a_public_suffix_are_refused() {
        for (bad, why) in [
            ("*.com", "the public suffix `com`"),
            ("*.CO.UK", "the public suffix `co.uk`"),
            ("*.github.io", "the public suffix `github.io`"),
            ("*.s3.amazonaws.com", "the public suffix `s3.amazonaws.com`"),
            ("*.xn--p1ai", "the public suffix `xn--p1ai`"),
            ("*.рф", "the public suffix `xn--p1ai`"),
            ("*.ck", "`ck`, where every name is a public suffix"),
            (
                "*.kawasaki.jp",
                "`kawasaki.jp`, where every name is a public suffix",
            ),
        ] {
            let err = HostPattern::parse(bad).unwrap_err().0;
            assert!(err.contains(why), "{bad}: {err}");
        }
        for good in [
            "*.example.com",
            "*.amazonaws.com",
            "*.corp",
            "*.internal",
            "*.city.kawasaki.jp",
            "*.example.co.uk",
            "com",
        ] {
            assert!(HostPattern::parse(good).is_ok(), "{good} was refused");
        }
    }

    #[test]
    fn cidrs_keep_host_bits_clear() {
        assert_eq!(
            Cidr::parse("192.0.2.1").unwrap().to_string(),
            "192.0.2.1/32"
        );
        assert_eq!(Cidr::parse("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        let err = Cidr::parse("10.0.0.1/8").unwrap_err();
        assert_eq!(err.0, "has host bits set: the block is 10.0.0.0/8");
        assert!(Cidr::parse("1.2.3.4/0").is_err());
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().net().prefix_len(), 0);
        assert_eq!(Cidr::parse("::/0").unwrap().net().prefix_len(), 0);
        assert!(Cidr::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn labels() {
        for good in [
            "app.kubernetes.io/name",
            "k8s-app",
            "a",
            "example.com/A_b.c",
        ] {
            assert!(LabelKey::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/a",
            "a/",
            "Example.com/a",
            "a/b/c",
            "-a",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(LabelKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(LabelValue::parse("").is_ok());
        assert!(LabelValue::parse("Prometheus_1.0").is_ok());
        for bad in ["-a", "a b", "a\n", &"a".repeat(64)] {
            assert!(LabelValue::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn names_and_zones() {
        assert!(Name::parse("dynakube").is_ok());
        for bad in ["", "Dynatrace", "a.b", "-a", &"a".repeat(64)] {
            assert!(Name::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Name::parse_subdomain("ec.one", 40).is_ok());
        assert!(Name::parse_subdomain(&"a".repeat(41), 40).is_err());
        assert!(Name::parse_subdomain("a..b", 40).is_err());
        assert!(
            ZoneName::parse("k8s-prod_eu1.a")
                .unwrap()
                .is_dynatrace_name()
        );
        for bad in [
            "zone one",
            ".",
            "..",
            ".zone",
            "zone.",
            "a..b",
            "a/b",
            "%2e",
            &"a".repeat(257),
        ] {
            assert!(
                !ZoneName::parse(bad).unwrap().is_dynatrace_name(),
                "{bad:?} was accepted"
            );
        }
        assert!(
            ZoneName::parse(&"a".repeat(256))
                .unwrap()
                .is_dynatrace_name()
        );
        assert!(ZoneName::parse("zone\n# injected").is_err());
        assert!(ZoneName::parse("").is_err());
    }

    #[test]
    fn escaping_keeps_text_on_one_line() {
        assert_eq!(escape("plain text"), "plain text");
        assert_eq!(escape("a\n---\nb"), "a\\n---\\nb");
        assert_eq!(escape("a\u{2028}b\u{202e}c\r"), "a\\u{2028}b\\u{202e}c\\r");
    }

    #[test]
    fn redaction_hides_credentials() {
        assert_eq!(
            redact("https://user:SECRET@host.example.com:8443/api?token=SECRET#x"),
            "https://***@host.example.com:8443/api?***"
        );
        assert_eq!(redact("user:SECRET@proxy"), "***@proxy");
        assert_eq!(redact("dynakube.yaml#2"), "dynakube.yaml#2");
        assert_eq!(redact("https://host/api"), "https://host/api");
        assert_eq!(
            redact_words("invalid type: string \"http://u:SECRET@p:1\", expected u16"),
            "invalid type: string \"http://***@p:1\", expected u16"
        );
        let shown = Shown("http://u:SECRET@p\n").to_string();
        assert_eq!(shown, "http://***@p\\n");
        assert_eq!(Shown(&"x".repeat(500)).to_string().chars().count(), 121);
    }
}
