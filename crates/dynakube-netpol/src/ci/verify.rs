//! `verify`'s report in the CI formats: a finding per denied or unchecked flow, per group of
//! connections allowed beyond the matrix, per workload with unselected pods and per foreign
//! pod; a check per flow, per such group and per such workload or pod.

use std::fmt::Write as _;

use super::markdown::{code, head, row, text};
use super::{Check, Ci, Finding, Format, Level, Logical, Outcome, Rule, Suite};
use crate::values::escape;
use crate::verify::{Extra, FailOn, FlowCheck, Report, Status};

const DENIED: Rule = Rule {
    id: "denied-flow",
    name: "DeniedFlow",
    short: "A flow of the traffic matrix is denied",
    full: "The policies deny a connection that a Dynatrace component needs: a flow of the traffic matrix, placed in the cluster, is refused by the egress policies of its source or the ingress policies of its destination.",
    help: "Allow the flow: `dynakube-netpol generate` writes its rule. The message names the policies that isolate the pod and refuse the connection.",
    level: Level::Error,
};

const UNSELECTED: Rule = Rule {
    id: "unselected-pod",
    name: "UnselectedPod",
    short: "Pods of a Dynatrace workload that its policies do not select",
    full: "Pods named after a Dynatrace workload's controllers in the operator namespace that none of the workload's policies select: the operator labels them in a way the policies do not know, so the namespace's default deny cuts them off.",
    help: "Generate the policies for the operator release the cluster runs (`operatorVersion` in the cluster profile, or `--operator-version`).",
    level: Level::Error,
};

const EXTRA: Rule = Rule {
    id: "extra-connection",
    name: "ExtraConnection",
    short: "Connections allowed beyond the traffic matrix",
    full: "A policy rule admits connections from or to Dynatrace pods that no flow of the matrix needs, or no policy isolates the pods in that direction, so that everything is admitted.",
    help: "Narrow the rule to the flows of the matrix, or isolate the pods. `verify --fail-on extra` makes these findings fail the run.",
    level: Level::Warning,
};

const UNCHECKED: Rule = Rule {
    id: "unchecked-flow",
    name: "UncheckedFlow",
    short: "A flow of the traffic matrix that could not be checked",
    full: "A flow whose peer has no address or no fixed port (an external host without addresses, pods annotated for Prometheus scraping): no connection of it could be tried.",
    help: "Give the host's addresses (`--hosts` or the lock file) or name the peer in the cluster profile. `verify --fail-on unchecked` makes these findings fail the run.",
    level: Level::Warning,
};

const FOREIGN: Rule = Rule {
    id: "foreign-pod",
    name: "ForeignPod",
    short: "A pod in the operator namespace that no Dynatrace component accounts for",
    full: "A pod of the operator namespace that belongs to no Dynatrace workload: the namespace's default deny isolates it, and nothing allows it anything.",
    help: "Run it in a namespace of its own, or allow its traffic with policies of yours. `verify --fail-on foreign` makes these findings fail the run.",
    level: Level::Warning,
};

/// Every rule of `verify`, in the order of its findings.
static RULES: [Rule; 5] = [DENIED, UNSELECTED, EXTRA, UNCHECKED, FOREIGN];

impl Report {
    /// The report in `format`; `fail_on` makes findings fail the run as for
    /// [`Report::failures`], and the formats for CI say so.
    ///
    /// - [`Format::Text`], [`Format::Json`]: the table of flows and extras, and everything as JSON.
    /// - [`Format::Sarif`]: a result per denied or unchecked flow, per group of connections
    ///   allowed beyond the matrix, per workload with unselected pods and per foreign pod, of
    ///   level `error` when it fails the run, `warning` otherwise. A result points at the file
    ///   of the policy involved (as [`Report::read_from`] recorded it), else at `resources`:
    ///   the file of the DynaKube and EdgeConnect resources verified, when there is one.
    /// - [`Format::Junit`]: a test case per flow (failed when denied, skipped when unchecked),
    ///   per group of connections allowed beyond the matrix and per workload with unselected
    ///   pods or foreign pod; a case fails exactly when it fails the run.
    /// - [`Format::Markdown`]: a summary line, the flows in a table with their verdicts, then
    ///   what is allowed beyond the matrix, unselected and foreign pods, and the assumptions.
    pub fn render(&self, format: Format, fail_on: &FailOn, resources: Option<&str>) -> String {
        match format {
            Format::Text => self.to_text(),
            Format::Json => self.to_json(),
            Format::Sarif => super::sarif::render(&self.ci(fail_on, resources)),
            Format::Junit => super::junit::render(&self.ci(fail_on, resources)),
            Format::Markdown => self.to_markdown(fail_on),
        }
    }

    fn ci(&self, fail_on: &FailOn, resources: Option<&str>) -> Ci {
        let resources = resources.map(str::to_string);
        let policy_file = |policy: Option<&String>| {
            policy
                .and_then(|p| self.read.files.get(p).cloned())
                .or_else(|| resources.clone())
        };
        let mut findings = Vec::new();
        for flow in self.flows.iter().filter(|f| f.status == Status::Denied) {
            let isolating = flow.probes.iter().find(|p| !p.outcome.allowed);
            let file = policy_file(isolating.and_then(|p| p.outcome.isolated_by.first()));
            findings.push(flow_finding(flow, &DENIED, Level::Error, file));
        }
        for unselected in &self.unselected {
            findings.push(Finding {
                rule: &UNSELECTED,
                level: Level::Error,
                message: format!(
                    "Pods of {} selected by none of its policies: {} (the policies select {}).",
                    unselected.workload,
                    escape(&super::some(&unselected.pods, "pods")),
                    escape(&unselected.selector)
                ),
                file: resources.clone(),
                logical: resource(
                    &unselected.workload,
                    &format!("{}/{}", self.namespace, unselected.workload),
                ),
                identity: unselected.workload.clone(),
            });
        }
        for extra in &self.extras {
            let level = Level::failing(fail_on.extra, Level::Warning);
            findings.push(extra_finding(
                extra,
                level,
                policy_file(extra.policy.as_ref()),
            ));
        }
        let level = Level::failing(fail_on.unchecked, Level::Warning);
        for flow in (self.flows.iter()).filter(|f| matches!(f.status, Status::Unchecked(_))) {
            findings.push(flow_finding(flow, &UNCHECKED, level, resources.clone()));
        }
        for pod in &self.foreign {
            findings.push(Finding {
                rule: &FOREIGN,
                level: Level::failing(fail_on.foreign, Level::Warning),
                message: format!(
                    "Pod {} belongs to no Dynatrace component: the operator namespace's default deny isolates it.",
                    escape(pod)
                ),
                file: resources.clone(),
                logical: resource(pod, pod),
                identity: pod.clone(),
            });
        }
        Ci {
            subcommand: "verify",
            rules: &RULES,
            findings,
            suites: vec![
                self.flow_suite(fail_on),
                self.extra_suite(fail_on),
                self.pod_suite(fail_on),
            ],
        }
    }

    fn flow_suite(&self, fail_on: &FailOn) -> Suite {
        let checks = (self.flows.iter())
            .map(|flow| {
                let name = flow_name(flow);
                let decided = escape(&flow.decided_by()).into_owned();
                let outcome = match &flow.status {
                    Status::Allowed => return Check::passed(name, decided),
                    Status::Denied => Outcome::Failed {
                        kind: DENIED.id,
                        message: decided,
                        details: (flow.probes.iter().filter(|p| !p.outcome.allowed))
                            .map(|p| {
                                let alike = match p.connections {
                                    1 => String::new(),
                                    n => format!(" ({} connections alike)", n),
                                };
                                escape(&format!(
                                    "{} -> {} {}/{}: egress {}; ingress {}{alike}",
                                    p.from,
                                    p.to,
                                    p.port,
                                    p.protocol,
                                    p.outcome.egress,
                                    p.outcome.ingress
                                ))
                                .into_owned()
                            })
                            .collect::<Vec<_>>()
                            .join("\n"),
                    },
                    Status::Unchecked(reason) if fail_on.unchecked => Outcome::Failed {
                        kind: UNCHECKED.id,
                        message: escape(reason).into_owned(),
                        details: String::new(),
                    },
                    Status::Unchecked(reason) => Outcome::Skipped(escape(reason).into_owned()),
                };
                Check {
                    name,
                    outcome,
                    output: String::new(),
                }
            })
            .collect();
        Suite {
            name: "flows",
            checks,
            output: self.summary(),
        }
    }

    fn extra_suite(&self, fail_on: &FailOn) -> Suite {
        let mut checks: Vec<Check> = (self.extras.iter())
            .map(|extra| {
                let (first, rest) = extra_text(extra);
                let outcome = if fail_on.extra {
                    Outcome::Failed {
                        kind: EXTRA.id,
                        message: first.clone(),
                        details: rest.clone(),
                    }
                } else {
                    Outcome::Passed
                };
                let output = if fail_on.extra { String::new() } else { rest };
                Check {
                    name: first,
                    outcome,
                    output,
                }
            })
            .collect();
        if checks.is_empty() {
            checks.push(Check::passed(
                "nothing is allowed beyond the matrix".into(),
                String::new(),
            ));
        }
        Suite {
            name: "beyond the matrix",
            checks,
            output: String::new(),
        }
    }

    fn pod_suite(&self, fail_on: &FailOn) -> Suite {
        let mut checks = Vec::new();
        for unselected in &self.unselected {
            checks.push(Check {
                name: format!("pods of {}", unselected.workload),
                outcome: Outcome::Failed {
                    kind: UNSELECTED.id,
                    message: format!(
                        "selected by none of its policies (they select {})",
                        escape(&unselected.selector)
                    ),
                    details: (unselected.pods.iter())
                        .map(|pod| escape(pod).into_owned())
                        .collect::<Vec<_>>()
                        .join("\n"),
                },
                output: String::new(),
            });
        }
        for pod in &self.foreign {
            let message = "no Dynatrace component accounts for it; the default deny isolates it";
            let name = format!("pod {}", escape(pod));
            checks.push(if fail_on.foreign {
                Check {
                    name,
                    outcome: Outcome::Failed {
                        kind: FOREIGN.id,
                        message: message.into(),
                        details: String::new(),
                    },
                    output: String::new(),
                }
            } else {
                Check::passed(name, message.into())
            });
        }
        if checks.is_empty() {
            checks.push(Check::passed(
                "every pod of the operator namespace is accounted for".into(),
                String::new(),
            ));
        }
        Suite {
            name: "pods",
            checks,
            output: String::new(),
        }
    }

    /// The closing lines of the text report: what was read and the counts.
    fn summary(&self) -> String {
        let text = self.to_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(2)..].join("\n")
    }
}

/// The finding of a denied or unchecked flow.
fn flow_finding(
    flow: &FlowCheck,
    rule: &'static Rule,
    level: Level,
    file: Option<String>,
) -> Finding {
    let what = match &flow.status {
        Status::Unchecked(reason) => format!("could not be checked: {}", escape(reason)),
        _ => format!("is denied: {}", escape(&flow.decided_by())),
    };
    Finding {
        rule,
        level,
        message: format!(
            "Flow {} ({} -> {}, {}) {what}.",
            flow.id,
            escape(&flow.from),
            escape(&flow.to),
            flow.ports
        ),
        file,
        logical: Logical {
            name: flow.id.to_string(),
            qualified: flow_name(flow),
            kind: "object",
        },
        identity: format!("{}\n{}\n{}\n{}", flow.id, flow.from, flow.to, flow.ports),
    }
}

/// The finding of a group of connections allowed beyond the matrix.
fn extra_finding(extra: &Extra, level: Level, file: Option<String>) -> Finding {
    let (first, rest) = extra_text(extra);
    let qualified = match (&extra.policy, extra.rule) {
        (Some(policy), Some(rule)) => {
            format!("{} spec.{}[{rule}]", escape(policy), extra.direction)
        }
        _ => format!(
            "{} of {}",
            extra.direction,
            escape(&super::some(&extra.pods, "pods"))
        ),
    };
    let name = extra.policy.as_deref().map_or_else(
        || escape(extra.pods.first().map_or("", String::as_str)).into_owned(),
        |p| escape(p).into_owned(),
    );
    Finding {
        rule: &EXTRA,
        level,
        message: format!("Allowed beyond the matrix: {first}.\n{rest}"),
        file,
        logical: Logical {
            name,
            qualified,
            kind: "resource",
        },
        identity: format!(
            "{}\n{}\n{}\n{}",
            extra.direction,
            extra.policy.as_deref().unwrap_or_default(),
            extra.rule.map_or(String::new(), |r| r.to_string()),
            extra.pods.join(" ")
        ),
    }
}

/// An extra in the words of the text report: its first line (pods, direction, rule) without
/// the colon, and the lines of its peers, without indentation.
fn extra_text(extra: &Extra) -> (String, String) {
    let mut out = String::new();
    extra.write_text(&mut out);
    let mut lines = out.lines().map(str::trim);
    let first = lines
        .next()
        .unwrap_or_default()
        .trim_end_matches(':')
        .to_string();
    (first, lines.collect::<Vec<_>>().join("\n"))
}

/// A flow's name: its row, endpoints and ports.
fn flow_name(flow: &FlowCheck) -> String {
    escape(&format!(
        "{} {} -> {} {}",
        flow.id, flow.from, flow.to, flow.ports
    ))
    .into_owned()
}

/// A Kubernetes object as a logical location.
fn resource(name: &str, qualified: &str) -> Logical {
    Logical {
        name: escape(name).into_owned(),
        qualified: escape(qualified).into_owned(),
        kind: "resource",
    }
}

impl Report {
    /// The report as Markdown for a pull-request comment: a summary line, the flows in a table
    /// with their verdicts, then what is allowed beyond the matrix (grouped by the rule that
    /// admits it), unselected and foreign pods, and the assumptions. Names from the inputs are
    /// code spans.
    fn to_markdown(&self, fail_on: &FailOn) -> String {
        let failures = self.failures(fail_on);
        let mut out = if failures.is_empty() {
            "### ✅ dynakube-netpol verify: passed\n\n".to_string()
        } else {
            format!(
                "### ❌ dynakube-netpol verify: failed ({})\n\n",
                text(&failures.join("; "))
            )
        };
        for line in self.summary().lines().rev() {
            let _ = writeln!(out, "{}.  ", text(line));
        }
        out.push('\n');
        out.push_str(&head(&[
            "Row",
            "From",
            "To",
            "Ports",
            "Verdict",
            "Decided by",
        ]));
        for flow in &self.flows {
            let verdict = match flow.status {
                Status::Allowed => "allowed",
                Status::Denied => "**denied**",
                Status::Unchecked(_) => "unchecked",
            };
            out.push_str(&row(&[
                text(flow.id),
                text(&flow.from),
                text(&flow.to),
                text(&flow.ports),
                verdict.into(),
                code(&flow.decided_by()),
            ]));
        }
        self.markdown_findings(&mut out);
        out
    }

    fn markdown_findings(&self, out: &mut String) {
        if !self.extras.is_empty() {
            out.push_str("\n#### Allowed beyond the matrix\n\n");
            for extra in &self.extras {
                let pods: Vec<String> = extra.pods.iter().map(|p| code(p)).collect();
                let pods = super::some(&pods, "pods");
                match (&extra.policy, extra.rule) {
                    (Some(policy), Some(rule)) => {
                        let place = format!("spec.{}[{rule}]", extra.direction);
                        let _ = writeln!(
                            out,
                            "- {} of {pods}, admitted by {} {}:",
                            extra.direction,
                            code(policy),
                            code(&place)
                        );
                    }
                    _ => {
                        let _ = writeln!(
                            out,
                            "- {} of {pods}, which no policy isolates for {}, so everything is admitted:",
                            extra.direction, extra.direction
                        );
                    }
                }
                for line in extra_text(extra).1.lines() {
                    let _ = writeln!(out, "  - {}", code(line));
                }
            }
        }
        if !self.unselected.is_empty() {
            out.push_str("\n#### Not selected by their policies\n\n");
            for u in &self.unselected {
                let pods: Vec<String> = u.pods.iter().map(|p| code(p)).collect();
                let _ = writeln!(
                    out,
                    "- {}: {} (the policies select {})",
                    text(&u.workload),
                    super::some(&pods, "pods"),
                    code(&u.selector)
                );
            }
        }
        if !self.foreign.is_empty() {
            let _ = writeln!(
                out,
                "\n#### In namespace {} but no Dynatrace component's (default deny isolates them)\n",
                code(&self.namespace)
            );
            for pod in &self.foreign {
                let _ = writeln!(out, "- {}", code(pod));
            }
        }
        if !self.assumptions.is_empty() {
            out.push_str("\n#### Assumed\n\n");
            for assumption in &self.assumptions {
                let _ = writeln!(out, "- {}", text(assumption));
            }
        }
    }
}
