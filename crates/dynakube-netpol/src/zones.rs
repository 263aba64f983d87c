//! The zone preflight: what must exist in the Dynatrace environment before the policies and
//! the DynaKubes are applied.
//!
//! A network zone with fallback NONE must be created before its DynaKube: an ActiveGate that
//! registers in a zone that does not exist creates it with fallback ANY, and the OneAgents
//! would then also use the tenant's endpoints, which restricted egress blocks. The plan says,
//! per tenant and zone, whether the zone must be created upfront (with the request that does
//! it) or is created implicitly. It is pure: applying it is the caller's (the CLI's
//! `zone-plan --apply`).
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::matrix::{Options, ZoneFallback};
//! use dynakube_netpol::resources::Inputs;
//! use dynakube_netpol::zones::plan;
//!
//! let yaml = "\
//! apiVersion: dynatrace.com/v1beta6
//! kind: DynaKube
//! metadata: {name: dk, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.live.dynatrace.com/api
//!   networkZone: k8s-prod
//!   activeGate: {capabilities: [routing]}
//! ";
//! let mut inputs = Inputs::default();
//! parse_into(&mut inputs, "dk.yaml", yaml, &ParseOptions::default())?;
//! let options = Options { zone_fallback: ZoneFallback::None, ..Options::default() };
//! let zones = plan(&inputs, &ClusterProfile::default(), &options)?;
//!
//! let zone = &zones.zones[0];
//! assert_eq!((zone.zone.as_str(), zone.fallback), ("k8s-prod", "NONE"));
//! // Fallback NONE: the zone must exist before the DynaKube is applied.
//! let request = zone.create.as_ref().unwrap();
//! assert_eq!(request.method, "PUT");
//! assert_eq!(request.url, "https://abc12345.live.dynatrace.com/api/v2/networkZones/k8s-prod");
//! assert_eq!(request.body, r#"{"fallbackMode":"NONE"}"#);
//! // The text gives a curl line, the token a placeholder.
//! assert!(zones.to_text().contains("Authorization: Api-Token ${DT_API_TOKEN}"));
//!
//! // With fallback ANY the ActiveGate's registration creates it: nothing to do upfront.
//! let any = plan(&inputs, &ClusterProfile::default(), &Options::default())?;
//! assert!(any.zones[0].create.is_none());
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::ClusterProfile;
use crate::error::{Error, Result};
use crate::matrix::{Options, ZoneFallback};
use crate::resources::Inputs;

/// The token permission the request needs.
pub(crate) const PERMISSION: &str = "networkZones.write";

/// A zone's fallback as the Dynatrace API writes it.
pub(crate) fn api_name(fallback: ZoneFallback) -> &'static str {
    match fallback {
        ZoneFallback::Any => "ANY",
        ZoneFallback::OnlyDefaultZone => "ONLY_DEFAULT_ZONE",
        ZoneFallback::None => "NONE",
    }
}

/// One zone of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedZone {
    /// The environment's API URL (`spec.apiUrl`, ending in `/api`).
    pub api_url: String,
    /// The zone's name.
    pub zone: String,
    /// Its fallback mode, as the Dynatrace API writes it.
    pub fallback: &'static str,
    /// The DynaKubes in it.
    pub dynakubes: Vec<String>,
    /// The request that creates it upfront; None when the ActiveGate's registration creates it
    /// (fallback ANY).
    pub create: Option<Request>,
}

/// An HTTP request of the Dynatrace API, without the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The method.
    pub method: &'static str,
    /// The full URL.
    pub url: String,
    /// The URL's path (`/api/v2/networkZones/<zone>` for a SaaS environment).
    pub path: String,
    /// The path below the environment's API URL, as the curl line appends it.
    #[serde(skip)]
    pub below_api: String,
    /// The JSON body.
    pub body: String,
    /// The token permission it needs.
    pub permission: &'static str,
}

impl Request {
    /// A curl command line with placeholders: `$DT_API_URL` for the environment's API URL and
    /// `$DT_API_TOKEN` for the token, which never appears here.
    pub(crate) fn curl(&self) -> String {
        format!(
            "curl -sS -X {} \"${{DT_API_URL}}\"{} -H \"Authorization: Api-Token ${{DT_API_TOKEN}}\" -H 'Content-Type: application/json' -d {}",
            self.method,
            single_quoted(&self.below_api),
            single_quoted(&self.body)
        )
    }
}

/// `text` in single quotes for a POSIX shell, where nothing expands.
fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The plan: every zone of the DynaKubes, by environment and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZonePlan {
    /// The zones.
    pub zones: Vec<PlannedZone>,
}

/// The URL path of a zone below the API URL, the name percent-encoded as one segment.
fn zone_path(zone: &str) -> String {
    let mut url = url::Url::parse("http://x/v2/networkZones").expect("a valid constant URL");
    url.path_segments_mut()
        .expect("an http URL has segments")
        .push(zone);
    url.path().to_owned()
}

/// The plan for the DynaKubes of `inputs`, with each zone's fallback from the profile
/// (`networkZones`) or `options`. A zone name that Dynatrace does not accept
/// (`ZoneName::is_dynatrace_name`) is an error naming the DynaKube's field: the operator
/// passes any name on, but no request for it could create the zone.
pub fn plan(inputs: &Inputs, profile: &ClusterProfile, options: &Options) -> Result<ZonePlan> {
    let mut zones: BTreeMap<(String, String), (ZoneFallback, Vec<String>)> = BTreeMap::new();
    for dk in &inputs.dynakubes {
        let Some(zone) = &dk.network_zone else {
            continue;
        };
        if !zone.is_dynatrace_name() {
            return Err(Error::invalid(
                dk.origin.join("spec.networkZone"),
                format!(
                    "`{}` is no network zone name Dynatrace accepts: letters, digits, `-` and `_`, in parts separated by single dots, at most 256 characters",
                    crate::values::Shown(zone.as_str())
                ),
            ));
        }
        let fallback = profile
            .network_zones
            .get(zone)
            .copied()
            .unwrap_or(options.zone_fallback);
        let api_url = dk.api_url.base.clone();
        let entry = zones
            .entry((api_url, zone.to_string()))
            .or_insert((fallback, Vec::new()));
        entry.1.push(dk.name.to_string());
    }
    let zones = zones
        .into_iter()
        .map(|((api_url, zone), (fallback, dynakubes))| {
            let create = (fallback != ZoneFallback::Any).then(|| {
                let below_api = zone_path(&zone);
                let url = format!("{api_url}{below_api}");
                let path = url::Url::parse(&url)
                    .map(|u| u.path().to_owned())
                    .unwrap_or_else(|_| below_api.clone());
                Request {
                    method: "PUT",
                    url,
                    path,
                    below_api,
                    body: format!("{{\"fallbackMode\":\"{}\"}}", api_name(fallback)),
                    permission: PERMISSION,
                }
            });
            PlannedZone {
                api_url,
                zone,
                fallback: api_name(fallback),
                dynakubes,
                create,
            }
        })
        .collect();
    Ok(ZonePlan { zones })
}

impl ZonePlan {
    /// The plan as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the plan serializes") + "\n"
    }

    /// The plan for people.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        if self.zones.is_empty() {
            return "No DynaKube names a networkZone: nothing to create.\n".into();
        }
        let mut out = String::new();
        for zone in &self.zones {
            let _ = writeln!(
                out,
                "Zone {} (fallback {}) of {}, DynaKube{} {}:",
                crate::values::Shown(&zone.zone),
                zone.fallback,
                zone.api_url,
                if zone.dynakubes.len() == 1 { "" } else { "s" },
                zone.dynakubes.join(", ")
            );
            match &zone.create {
                None => out.push_str(
                    "  created when its ActiveGate registers, with fallback ANY: nothing to do upfront\n",
                ),
                Some(request) => {
                    let _ = writeln!(
                        out,
                        "  create it before applying the DynaKube (token permission {}):\n    {} {}\n    {}\n  with curl, DT_API_URL={} and DT_API_TOKEN a token with {}:\n    {}",
                        request.permission,
                        request.method,
                        request.url,
                        request.body,
                        zone.api_url,
                        request.permission,
                        request.curl()
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{ParseOptions, parse_into};

    fn plan_of(yaml: &str, profile: &str, fallback: ZoneFallback) -> ZonePlan {
        let mut inputs = Inputs::default();
        parse_into(&mut inputs, "dk.yaml", yaml, &ParseOptions::default()).unwrap();
        let profile = ClusterProfile::parse("cluster.yaml", profile).unwrap();
        let options = Options {
            zone_fallback: fallback,
            ..Options::default()
        };
        plan(&inputs, &profile, &options).unwrap()
    }

    const DK: &str = "apiVersion: dynatrace.com/v1beta5\nkind: DynaKube\nmetadata: {name: prod, namespace: dynatrace}\nspec:\n  apiUrl: https://user:secret@abc12345.live.dynatrace.com/api\n  networkZone: ZONE\n  activeGate: {capabilities: [routing]}\n";

    #[test]
    fn the_guides_request_for_a_zone_with_fallback_none() {
        let plan = plan_of(&DK.replace("ZONE", "k8s-prod"), "", ZoneFallback::None);
        let request = plan.zones[0].create.as_ref().unwrap();
        assert_eq!(request.method, "PUT");
        assert_eq!(request.path, "/api/v2/networkZones/k8s-prod");
        assert_eq!(
            request.url,
            "https://abc12345.live.dynatrace.com/api/v2/networkZones/k8s-prod"
        );
        assert_eq!(request.body, r#"{"fallbackMode":"NONE"}"#);
        assert_eq!(request.permission, "networkZones.write");
        let text = plan.to_text();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("curl -sS -X PUT \"${DT_API_URL}\"'/v2/networkZones/k8s-prod' -H \"Authorization: Api-Token ${DT_API_TOKEN}\""), "{text}");
    }

    #[test]
    fn zones_created_implicitly_and_per_zone_fallbacks() {
        let plan = plan_of(
            &DK.replace("ZONE", "k8s-prod"),
            "networkZones: {k8s-prod: any}",
            ZoneFallback::None,
        );
        assert_eq!(plan.zones[0].create, None);
        assert!(
            plan.to_text()
                .contains("created when its ActiveGate registers")
        );
    }

    #[test]
    fn zone_names_dynatrace_refuses_are_refused_naming_the_field() {
        for zone in ["'.'", "'..'", "\"a'$(id)`b c\"", "a/b", "'-.'"] {
            let mut inputs = Inputs::default();
            let yaml = DK.replace("ZONE", zone);
            parse_into(&mut inputs, "dk.yaml", &yaml, &ParseOptions::default()).unwrap();
            let options = Options {
                zone_fallback: ZoneFallback::None,
                ..Options::default()
            };
            let error = plan(&inputs, &ClusterProfile::default(), &options).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("dk.yaml, document 1, field `spec.networkZone`: `"),
                "{zone}: {error}"
            );
        }
    }
}
