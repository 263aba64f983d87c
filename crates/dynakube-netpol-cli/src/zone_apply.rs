//! `zone-plan --apply`: creates the planned network zones in the Dynatrace environments,
//! idempotently: GET the zone; PUT it only when it is missing or its fallback differs.
//!
//! The token comes from an environment variable and goes into the `Authorization` header only,
//! and only over https: every API URL is checked before the first request (plain http only to
//! a loopback address, with `--insecure-http`, for tests). Nothing a server says reaches the
//! terminal as it is: fallback modes are read into the values the API documents, and error
//! messages, header values and transport errors are shown with the token cut out, escaped and
//! shortened. Rate limits (429) are waited out as `Retry-After` says, at most 60 seconds at a
//! time and 120 in all, saying so on standard error; server errors (5xx) are retried twice
//! with a short pause; anything else that is not a success stops with the status and what it
//! means. An answer larger than 1 MiB, or one that does not arrive within the timeout, is
//! reported as such.

use std::cell::Cell;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use dynakube_netpol::matrix::{Level, Note};
use dynakube_netpol::values::Shown;
use dynakube_netpol::zones::{PlannedZone, ZonePlan};
use serde::Serialize;

/// How many times a request is sent at most (the first time and the retries).
const ATTEMPTS: u32 = 3;
/// The longest wait for one `Retry-After`.
const MAX_RETRY_AFTER: u64 = 60;
/// The longest wait for rate limits in one run.
const MAX_WAITED: u64 = 120;
/// The largest answer read.
const MAX_BODY: u64 = 1 << 20;

/// The fallback modes the API documents for a zone (`ANY` as older environments write it).
const FALLBACK_MODES: [&str; 4] = ["ANY", "ANY_ACTIVE_GATE", "NONE", "ONLY_DEFAULT_ZONE"];

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
        from: &'static str,
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

/// The zones applied, one line each.
pub fn to_text(applied: &[Applied]) -> String {
    let mut text = String::new();
    for zone in applied {
        let what = match &zone.outcome {
            Outcome::Unchanged => "exists with this fallback: unchanged".to_string(),
            Outcome::Created => "created".to_string(),
            Outcome::Updated { from } => format!("fallback changed from {from}"),
            Outcome::Implicit => {
                "created by its ActiveGate (fallback ANY): nothing to do".to_string()
            }
        };
        text.push_str(&format!(
            "zone {} (fallback {}) at {}: {what}\n",
            zone.zone, zone.fallback, zone.api_url
        ));
    }
    text
}

/// Refuses, before any request, an API URL the token must not be sent to: anything but https,
/// or, with `insecure_http`, http to a loopback address.
pub fn check_urls(plan: &ZonePlan, insecure_http: bool) -> anyhow::Result<()> {
    for zone in plan.zones.iter().filter(|z| z.create.is_some()) {
        let url = url::Url::parse(&zone.api_url)
            .with_context(|| format!("`{}` is not a URL", Shown(&zone.api_url)))?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            _ => false,
        };
        let whose = format!(
            "the apiUrl `{}` of DynaKube {}",
            Shown(&zone.api_url),
            zone.dynakubes.join(", ")
        );
        match url.scheme() {
            "https" => {}
            "http" if insecure_http && loopback => {}
            "http" if insecure_http => bail!(
                "{whose} is http to a host that is no loopback address: --insecure-http is only for a server on this machine"
            ),
            _ => bail!(
                "{whose} is not https: --apply would send the API token in cleartext; give the environment's https URL (the printed plan and its curl line need no token)"
            ),
        }
    }
    Ok(())
}

/// A response: status, `Retry-After`, the body or why it could not be read.
struct Response {
    status: u16,
    retry_after: Option<String>,
    body: Result<String, String>,
}

/// Applies `plan` with `token`, each request limited to `timeout`; http only with
/// `insecure_http`, to the URLs [`check_urls`] let through.
pub fn apply(
    plan: &ZonePlan,
    token: &str,
    timeout: Duration,
    insecure_http: bool,
) -> anyhow::Result<Vec<Applied>> {
    check_urls(plan, insecure_http)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .https_only(!insecure_http)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let client = Client {
        agent,
        token,
        timeout,
        waited: Cell::new(0),
    };
    plan.zones.iter().map(|zone| client.zone(zone)).collect()
}

struct Client<'a> {
    agent: ureq::Agent,
    token: &'a str,
    timeout: Duration,
    /// Seconds waited for rate limits so far.
    waited: Cell<u64>,
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
            .send("GET", &request.url, None, &what)
            .with_context(|| format!("reading {what}"))?;
        let from = match current.status {
            200 => {
                let fallback = self
                    .fallback_of(current.body)
                    .with_context(|| format!("reading {what}: unexpected answer"))?;
                if fallback == zone.fallback {
                    return Ok(applied(Outcome::Unchanged));
                }
                Some(fallback)
            }
            404 => None,
            status => bail!(
                "reading {what}: {}",
                self.meaning(status, "networkZones.read", &current.body)
            ),
        };
        let written = self
            .send("PUT", &request.url, Some(&request.body), &what)
            .with_context(|| format!("writing {what}"))?;
        if !(200..300).contains(&written.status) {
            bail!(
                "writing {what}: {}",
                self.meaning(written.status, request.permission, &written.body)
            );
        }
        Ok(applied(match from {
            None => Outcome::Created,
            Some(from) => Outcome::Updated { from },
        }))
    }

    /// Sends a request, waiting out rate limits and retrying server errors.
    fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
        what: &str,
    ) -> anyhow::Result<Response> {
        let mut attempt = 1;
        loop {
            let response = self.once(method, url, body)?;
            if attempt == ATTEMPTS {
                return Ok(response);
            }
            let pause = match response.status {
                429 => self.rate_limit_wait(response.retry_after.as_deref()),
                500..=599 => Some((
                    u64::from(attempt),
                    format!("the server failed ({})", response.status),
                )),
                _ => None,
            };
            match pause {
                Some((seconds, why)) => {
                    crate::say::print_notes(&[Note::new(
                        Level::Info,
                        &[],
                        format!("{what}: {why}; waiting {seconds} s before asking again"),
                    )]);
                    std::thread::sleep(Duration::from_secs(seconds));
                    attempt += 1;
                }
                _ => return Ok(response),
            }
        }
    }

    /// How long to wait for a 429 with `retry_after`, and why; None once the run has waited
    /// all it may.
    fn rate_limit_wait(&self, retry_after: Option<&str>) -> Option<(u64, String)> {
        let left = MAX_WAITED.saturating_sub(self.waited.get());
        let asked = retry_after.and_then(|v| v.trim().parse::<u64>().ok());
        let seconds = asked.unwrap_or(1).clamp(1, MAX_RETRY_AFTER).min(left);
        if seconds == 0 {
            return None;
        }
        self.waited.set(self.waited.get() + seconds);
        let why = match (asked, retry_after) {
            (Some(asked), _) if asked > seconds => format!(
                "rate limited (429); the server asks to wait {asked} s, at most {MAX_RETRY_AFTER} s at a time and {MAX_WAITED} s in all are waited"
            ),
            (Some(_), _) => "rate limited (429)".to_string(),
            (None, Some(value)) => format!(
                "rate limited (429), Retry-After `{}` is no number of seconds",
                self.shown(value)
            ),
            (None, None) => "rate limited (429) without Retry-After".to_string(),
        };
        Some((seconds, why))
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
        let mut response =
            result.map_err(|e| anyhow::anyhow!("{method} {url}: {}", self.failure(&e)))?;
        let retry_after = response
            .headers()
            .get("Retry-After")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| self.failure(&e));
        Ok(Response {
            status: response.status().as_u16(),
            retry_after,
            body,
        })
    }

    /// A transport error in words: a timeout and an answer over the limit as such, anything
    /// else as the client says it, shown safely.
    fn failure(&self, error: &ureq::Error) -> String {
        let timed_out = matches!(error, ureq::Error::Timeout(_) | ureq::Error::BodyStalled)
            || matches!(error, ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut);
        if timed_out {
            return format!(
                "timed out: no complete answer within {} s (--timeout)",
                self.timeout.as_secs()
            );
        }
        match error {
            ureq::Error::BodyExceedsLimit(_) => {
                format!("the answer is too large (over {} MiB)", MAX_BODY >> 20)
            }
            other => format!("`{}`", self.shown(&other.to_string())),
        }
    }

    /// The `fallbackMode` of a zone as the API returns it: one of the documented values.
    fn fallback_of(&self, body: Result<String, String>) -> anyhow::Result<&'static str> {
        let body = body.map_err(anyhow::Error::msg)?;
        let value: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| anyhow::anyhow!("not JSON ({e})"))?;
        let mode = value["fallbackMode"].as_str().context("no fallbackMode")?;
        FALLBACK_MODES
            .into_iter()
            .find(|known| *known == mode)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "fallbackMode `{}` is none the API documents",
                    self.shown(mode)
                )
            })
    }

    /// A status in words, naming the permission the token needs where that is the cause, and
    /// the server's own message when it gave one.
    fn meaning(&self, status: u16, permission: &str, body: &Result<String, String>) -> String {
        let mut text = match status {
            401 => "401: the token was refused (missing, expired or wrong)".into(),
            403 => format!("403: the token lacks the permission {permission}"),
            404 => "404: not found (is the API URL right?)".into(),
            429 => format!(
                "429: rate limited, also after waiting {} s",
                self.waited.get()
            ),
            500..=599 => format!("{status}: the server failed, also when asked again"),
            other => format!("{other}: unexpected answer"),
        };
        let said = body
            .as_ref()
            .ok()
            .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned));
        if let Some(said) = said {
            text.push_str(&format!("; the server says `{}`", self.shown(&said)));
        }
        text
    }

    /// `text` from the server as a message may show it: without the token (nor any long part
    /// of it), escaped and shortened.
    fn shown(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let parts =
            std::iter::once(self.token).chain(self.token.split('.').filter(|p| p.len() >= 8));
        for secret in parts.filter(|s| !s.is_empty()) {
            text = text.replace(secret, "<token>");
        }
        Shown(&text).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(token: &str) -> Client<'_> {
        Client {
            agent: ureq::Agent::new_with_defaults(),
            token,
            timeout: Duration::from_secs(2),
            waited: Cell::new(0),
        }
    }

    #[test]
    fn rate_limits_are_waited_out_within_bounds() {
        let client = client("t");
        let (seconds, why) = client.rate_limit_wait(Some("100000")).unwrap();
        assert_eq!(seconds, 60);
        assert!(why.contains("asks to wait 100000 s"), "{why}");
        assert_eq!(client.rate_limit_wait(Some("5")).unwrap().0, 5);
        assert_eq!(client.rate_limit_wait(Some("100")).unwrap().0, 55);
        assert_eq!(client.rate_limit_wait(Some("1")), None);
        let client = super::tests::client("t");
        let (seconds, why) = client.rate_limit_wait(Some("soon\u{1b}[2J")).unwrap();
        assert_eq!(seconds, 1);
        assert!(why.contains("`soon\\u{1b}[2J`"), "{why}");
        assert_eq!(client.rate_limit_wait(Some("0")).unwrap().0, 1);
    }

    #[test]
    fn what_the_server_says_is_shown_without_the_token() {
        let client = client("dt0c01.ABCDEFGHIJKL.SECRETSECRETSECRET");
        let shown = client.shown(
            "echo dt0c01.ABCDEFGHIJKL.SECRETSECRETSECRET and SECRETSECRETSECRET\nerror: forged",
        );
        assert_eq!(shown, "echo <token> and <token>\\nerror: forged");
    }
}
