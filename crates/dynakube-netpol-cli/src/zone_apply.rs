//! `zone-plan --apply`: creates the planned network zones in the Dynatrace environments,
//! idempotently: GET the zone; PUT it only when it is missing or its fallback differs.
//!
//! The token comes from an environment variable and goes into the `Authorization` header only:
//! no message, output or error of this module contains it. Rate limits (429) are waited out as
//! `Retry-After` says (at most 60 seconds), and server errors (5xx) are retried twice with a
//! short pause; anything else that is not a success stops with the status and what it means.

use std::time::Duration;

use anyhow::{Context, bail};
use dynakube_netpol::zones::{PlannedZone, ZonePlan};
use serde::Serialize;

/// How many times a request is sent at most (the first time and the retries).
const ATTEMPTS: u32 = 3;
/// The longest `Retry-After` that is waited for.
const MAX_RETRY_AFTER: u64 = 60;

/// What applying did to one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum Outcome {
    /// The zone exists with the planned fallback.
    Unchanged,
    /// The zone was missing and was created.
    Created,
    /// The zone existed with another fallback, which was changed.
    Updated {
        /// The fallback it had.
        from: String,
    },
    /// Nothing to do upfront: the ActiveGate's registration creates it with fallback ANY.
    Implicit,
}

/// One zone and what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The environment's API URL.
    pub api_url: String,
    /// The zone.
    pub zone: String,
    /// Its planned fallback.
    pub fallback: &'static str,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A response: status, `Retry-After` seconds, body.
struct Response {
    status: u16,
    retry_after: Option<u64>,
    body: String,
}

/// Applies `plan` with `token`, each request limited to `timeout`.
pub fn apply(plan: &ZonePlan, token: &str, timeout: Duration) -> anyhow::Result<Vec<Applied>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let client = Client { agent, token };
    plan.zones.iter().map(|zone| client.zone(zone)).collect()
}

struct Client<'a> {
    agent: ureq::Agent,
    token: &'a str,
}

impl Client<'_> {
    fn zone(&self, zone: &PlannedZone) -> anyhow::Result<Applied> {
        let applied = |outcome| Applied {
            api_url: zone.api_url.clone(),
            zone: zone.zone.clone(),
            fallback: zone.fallback,
            outcome,
        };
        let Some(request) = &zone.create else {
            return Ok(applied(Outcome::Implicit));
        };
        let what = format!("zone `{}` at {}", zone.zone, zone.api_url);
        let current = self
            .send("GET", &request.url, None)
            .with_context(|| format!("reading {what}"))?;
        let from = match current.status {
            200 => {
                let fallback = fallback_of(&current.body)
                    .with_context(|| format!("reading {what}: unexpected answer"))?;
                if fallback == zone.fallback {
                    return Ok(applied(Outcome::Unchanged));
                }
                Some(fallback)
            }
            404 => None,
            status => bail!("reading {what}: {}", meaning(status, "networkZones.read")),
        };
        let written = self
            .send("PUT", &request.url, Some(&request.body))
            .with_context(|| format!("writing {what}"))?;
        if !(200..300).contains(&written.status) {
            bail!(
                "writing {what}: {}",
                meaning(written.status, request.permission)
            );
        }
        Ok(applied(match from {
            None => Outcome::Created,
            Some(from) => Outcome::Updated { from },
        }))
    }

    /// Sends a request, waiting out rate limits and retrying server errors.
    fn send(&self, method: &str, url: &str, body: Option<&str>) -> anyhow::Result<Response> {
        let mut attempt = 1;
        loop {
            let response = self.once(method, url, body)?;
            let retry = match response.status {
                429 => Some(response.retry_after.unwrap_or(1).min(MAX_RETRY_AFTER)),
                500..=599 => Some(u64::from(attempt)),
                _ => None,
            };
            match retry {
                Some(seconds) if attempt < ATTEMPTS => {
                    std::thread::sleep(Duration::from_secs(seconds));
                    attempt += 1;
                }
                _ => return Ok(response),
            }
        }
    }

    fn once(&self, method: &str, url: &str, body: Option<&str>) -> anyhow::Result<Response> {
        let authorization = format!("Api-Token {}", self.token);
        let result = match (method, body) {
            ("PUT", Some(body)) => self
                .agent
                .put(url)
                .header("Authorization", &authorization)
                .header("Accept", "application/json")
                .content_type("application/json")
                .send(body),
            _ => self
                .agent
                .get(url)
                .header("Authorization", &authorization)
                .header("Accept", "application/json")
                .call(),
        };
        let mut response = result.map_err(|e| match e {
            ureq::Error::Timeout(_) => anyhow::anyhow!("{method} {url}: no answer in time"),
            other => anyhow::anyhow!("{method} {url}: {other}"),
        })?;
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        Ok(Response {
            status: response.status().as_u16(),
            retry_after,
            body,
        })
    }
}

/// The `fallbackMode` of a zone as the API returns it.
fn fallback_of(body: &str) -> anyhow::Result<String> {
    let value: serde_json::Value = serde_json::from_str(body).context("not JSON")?;
    value["fallbackMode"]
        .as_str()
        .map(str::to_owned)
        .context("no fallbackMode")
}

/// A status in words, naming the permission the token needs where that is the cause.
fn meaning(status: u16, permission: &str) -> String {
    match status {
        401 => "401: the token was refused (missing, expired or wrong)".into(),
        403 => format!("403: the token lacks the permission {permission}"),
        404 => "404: not found (is the API URL right?)".into(),
        429 => "429: rate limited, and still after waiting as told".into(),
        500..=599 => format!("{status}: the server failed, also when asked again"),
        other => format!("{other}: unexpected answer"),
    }
}
