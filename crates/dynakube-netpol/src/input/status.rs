//! A DynaKube's `status`, as `kubectl get dynakube -o yaml` hands it over: the operator's
//! record of the tenant's communication endpoints, the ActiveGate Service's addresses and the
//! kind of API token.
//!
//! The status is written by the operator, not by the user, and its shape changed between
//! releases; it is read leniently. A part that cannot be read is left out with a warning, so
//! that the policies fall back to what the spec says (and its notes), never to something
//! broader.

use std::net::IpAddr;

use serde_yaml::Value;

use crate::resources::DynaKubeStatus;
use crate::values::{HostPort, Shown};

/// The parts of `status` (None when absent) that change peers; problems go to `warnings`.
pub(super) fn dynakube_status(
    status: Option<&Value>,
    warnings: &mut Vec<String>,
) -> DynaKubeStatus {
    let Some(status) = status.filter(|s| !s.is_null()) else {
        return DynaKubeStatus::default();
    };
    let mut read = Reader { warnings };
    let ag = "status.activeGate.connectionInfoStatus.endpoints";
    let oa = "status.oneAgent.connectionInfoStatus.endpoints";
    let hosts = "status.oneAgent.connectionInfoStatus.communicationHosts";
    let mut one_agent_endpoints = read.endpoints(oa, at(status, oa));
    if one_agent_endpoints.is_empty() {
        one_agent_endpoints = read.communication_hosts(hosts, at(status, hosts));
    }
    DynaKubeStatus {
        active_gate_endpoints: read.endpoints(ag, at(status, ag)),
        one_agent_endpoints,
        active_gate_service_ips: read.ips(
            "status.activeGate.serviceIPs",
            at(status, "status.activeGate.serviceIPs"),
        ),
        platform_token: read.flag(
            "status.apiToken.platform",
            at(status, "status.apiToken.platform"),
        ),
    }
}

/// The value at `path` (dotted, starting with `status.`) below `status`.
fn at<'a>(status: &'a Value, path: &str) -> Option<&'a Value> {
    let mut value = status;
    for key in path.split('.').skip(1) {
        value = value.get(key)?;
    }
    (!value.is_null()).then_some(value)
}

struct Reader<'a> {
    warnings: &'a mut Vec<String>,
}

impl Reader<'_> {
    fn skip(&mut self, field: &str, what: &str) {
        self.warnings
            .push(format!("`{field}`: {what}; the status is ignored there"));
    }

    /// A list of endpoint URLs in one string. The ActiveGate's is separated by commas, the
    /// OneAgent's by semicolons (operators before 1.10.1 read it with commas): both are
    /// accepted. Entries that are not http(s) URLs are left out, as the operator does.
    fn endpoints(&mut self, field: &str, value: Option<&Value>) -> Vec<HostPort> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(text) = value.as_str() else {
            self.skip(field, "is not a string");
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in text
            .split([',', ';'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            match endpoint(entry) {
                Ok(endpoint) if !found.contains(&endpoint) => found.push(endpoint),
                Ok(_) => {}
                Err(reason) => self.warnings.push(format!(
                    "`{field}`: `{}` {reason} and is left out",
                    Shown(entry)
                )),
            }
        }
        found
    }

    /// The items of the list at `field`; empty with a warning when it is no list.
    fn items<'v>(&mut self, field: &str, value: Option<&'v Value>) -> &'v [Value] {
        match value.map(Value::as_sequence) {
            None => &[],
            Some(Some(items)) => items,
            Some(None) => {
                self.skip(field, "is not a list");
                &[]
            }
        }
    }

    /// `communicationHosts`, items of `{protocol, host, port}` (operators before 1.9).
    fn communication_hosts(&mut self, field: &str, value: Option<&Value>) -> Vec<HostPort> {
        let mut found = Vec::new();
        for (i, item) in self.items(field, value).iter().enumerate() {
            let protocol = item
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("https");
            let host = item.get("host").and_then(Value::as_str);
            let port = item.get("port").and_then(Value::as_u64);
            let read = match (host, port) {
                (Some(host), Some(port)) => endpoint(&format!("{protocol}://{host}:{port}")),
                _ => Err("has no host or no port".to_string()),
            };
            match read {
                Ok(endpoint) if !found.contains(&endpoint) => found.push(endpoint),
                Ok(_) => {}
                Err(reason) => self
                    .warnings
                    .push(format!("`{field}[{i}]` {reason} and is left out")),
            }
        }
        found
    }

    fn ips(&mut self, field: &str, value: Option<&Value>) -> Vec<IpAddr> {
        let mut found = Vec::new();
        for (i, item) in self.items(field, value).iter().enumerate() {
            match item.as_str().map(str::parse::<IpAddr>) {
                Some(Ok(ip)) if !ip.is_unspecified() => found.push(ip),
                _ => self.warnings.push(format!(
                    "`{field}[{i}]` is not an IP address and is left out"
                )),
            }
        }
        found
    }

    fn flag(&mut self, field: &str, value: Option<&Value>) -> bool {
        match value.map(Value::as_bool) {
            None => false,
            Some(Some(flag)) => flag,
            Some(None) => {
                self.skip(field, "is not a boolean");
                false
            }
        }
    }
}

/// One endpoint URL: http or https, host and port (the scheme's default when absent).
fn endpoint(raw: &str) -> Result<HostPort, String> {
    HostPort::from_endpoint_url(raw).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(yaml: &str) -> (DynaKubeStatus, Vec<String>) {
        let value: Value = serde_yaml::from_str(yaml).unwrap();
        let mut warnings = Vec::new();
        let status = dynakube_status(Some(&value), &mut warnings);
        (status, warnings)
    }

    fn shown(endpoints: &[HostPort]) -> Vec<String> {
        endpoints.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn endpoints_of_both_separators_and_the_older_host_list() {
        let (status, warnings) = read(
            "activeGate:\n  connectionInfoStatus:\n    endpoints: https://10.0.0.1:443/communication,https://eag.example.com:9999/communication\n  serviceIPs: [10.96.4.2]\noneAgent:\n  connectionInfoStatus:\n    endpoints: 'https://dk-activegate.dynatrace/communication;https://abc.live.dynatrace.com:443;ftp://x;https://abc.live.dynatrace.com'\napiToken: {platform: true}\n",
        );
        assert_eq!(
            shown(&status.active_gate_endpoints),
            ["10.0.0.1:443", "eag.example.com:9999"]
        );
        assert_eq!(
            shown(&status.one_agent_endpoints),
            ["dk-activegate.dynatrace:443", "abc.live.dynatrace.com:443"]
        );
        assert_eq!(
            status.active_gate_service_ips,
            ["10.96.4.2".parse::<IpAddr>().unwrap()]
        );
        assert!(status.platform_token);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("`ftp://x` is not an http or https URL"));

        let (status, warnings) = read(
            "oneAgent:\n  connectionInfoStatus:\n    communicationHosts:\n    - {protocol: https, host: eag.example.com, port: 9999}\n    - {host: x}\n",
        );
        assert_eq!(shown(&status.one_agent_endpoints), ["eag.example.com:9999"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn unreadable_parts_are_left_out_with_a_warning() {
        let (status, warnings) = read(
            "activeGate: {connectionInfoStatus: {endpoints: [a]}, serviceIPs: x}\napiToken: {platform: 'yes'}\n",
        );
        assert_eq!(status, DynaKubeStatus::default());
        assert_eq!(warnings.len(), 3, "{warnings:?}");
    }
}
