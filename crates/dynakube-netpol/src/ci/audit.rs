//! `audit`'s report in the CI formats: a finding and a check per owner with skipped pods, of
//! its class's rule; the DynaKubes' readiness as the suite's output.

use std::fmt::Write as _;

use super::markdown::{code, head, row, text};
use super::{Check, Ci, Finding, Format, Level, Logical, Outcome, Rule, Suite};
use crate::audit::{Audit, Class, Group};
use crate::values::escape;

const TRANSIENT: Rule = Rule {
    id: "skipped-injection-transient",
    name: "SkippedInjectionTransient",
    short: "Pods the webhook did not inject, which a restart injects once the DynaKube is ready",
    full: "The operator's webhook left these pods without (full) injection for a reason that passes: the DynaKube was not ready yet (no connection info in its status, its ActiveGate not up in the network zone). They stay so until their owner restarts them.",
    help: "Once the DynaKube's status holds its connection info, restart the owner: the message gives the command.",
    level: Level::Error,
};

const NEEDS_FIX: Rule = Rule {
    id: "skipped-injection-needs-fix",
    name: "SkippedInjectionNeedsFix",
    short: "Pods the webhook did not inject until a configuration is fixed",
    full: "The reason (an unknown code module, no code modules image, an invalid install path, conflicting volume types, a failed owner lookup) does not pass by itself: a restart alone does not inject the pods.",
    help: "Fix what the reason names, then restart the owner.",
    level: Level::Error,
};

const UNKNOWN: Rule = Rule {
    id: "skipped-injection-unknown",
    name: "SkippedInjectionUnknown",
    short: "Pods the webhook did not inject, for a reason this tool does not know",
    full: "The pods carry a skipped-injection reason that no operator release this tool knows writes; it is reported as found.",
    help: "Look the reason up in the documentation of the operator release that runs.",
    level: Level::Error,
};

const INFORMATIONAL: Rule = Rule {
    id: "skipped-injection-informational",
    name: "SkippedInjectionInformational",
    short: "Pods that needed no injection",
    full: "The webhook found nothing to inject into these pods (NoMutationNeeded).",
    help: "Nothing to do.",
    level: Level::Note,
};

/// Every rule of `audit`, in the order of the classes.
static RULES: [Rule; 4] = [TRANSIENT, NEEDS_FIX, UNKNOWN, INFORMATIONAL];

/// The rule and short words of a class.
fn rule(class: Class) -> (&'static Rule, &'static str) {
    match class {
        Class::Transient => (&TRANSIENT, "transient"),
        Class::NeedsFix => (&NEEDS_FIX, "needs a fix"),
        Class::Unknown => (&UNKNOWN, "unknown reason"),
        Class::Informational => (&INFORMATIONAL, "informational"),
    }
}

/// The owner of a group in words: `deployment shop/web`.
fn owner(group: &Group) -> String {
    format!(
        "{} {}/{}",
        escape(&group.owner.kind.to_ascii_lowercase()),
        escape(&group.owner.namespace),
        escape(&group.owner.name)
    )
}

/// The skipped-injection pairs of a group, as `prefix reason`.
fn skips(group: &Group) -> Vec<String> {
    (group.skips.iter())
        .map(|s| format!("{} {}", s.prefix, s.reason))
        .collect()
}

impl Audit {
    /// The audit in `format`.
    ///
    /// - [`Format::Text`]: grouped by class, with the restart commands.
    /// - [`Format::Json`]: every group with all its pods.
    /// - [`Format::Sarif`]: a result per owner with skipped pods, of the rule of its class,
    ///   pointing at the pod dump that holds them; `error` for the classes that fail the run,
    ///   `note` for pods that needed no injection.
    /// - [`Format::Junit`]: a test case per owner with skipped pods, failed when it needs
    ///   attention; the DynaKubes' readiness as the suite's output.
    /// - [`Format::Markdown`]: a summary line, a table of the owners (class, owner, pods,
    ///   reasons, what to do) and the DynaKubes' readiness.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.to_text(),
            Format::Json => self.to_json(),
            Format::Sarif => super::sarif::render(&self.ci()),
            Format::Junit => super::junit::render(&self.ci()),
            Format::Markdown => self.to_markdown(),
        }
    }

    fn ci(&self) -> Ci {
        let findings = (self.groups.iter())
            .map(|group| {
                let (rule, _) = rule(group.class);
                let mut message = format!(
                    "{} ({} pod{}): {}. {}",
                    owner(group),
                    group.pods.len(),
                    if group.pods.len() == 1 { "" } else { "s" },
                    escape(&skips(group).join(", ")),
                    group.class.heading()
                );
                if let Some(command) = &group.restart {
                    let _ = write!(message, ": {command}");
                }
                message.push('.');
                Finding {
                    rule,
                    level: if group.class == Class::Informational {
                        Level::Note
                    } else {
                        Level::Error
                    },
                    message,
                    file: group.files.first().cloned(),
                    logical: Logical {
                        name: escape(&group.owner.name).into_owned(),
                        qualified: escape(&format!(
                            "{}/{}/{}",
                            group.owner.namespace, group.owner.kind, group.owner.name
                        ))
                        .into_owned(),
                        kind: "resource",
                    },
                    identity: format!(
                        "{}\n{}\n{}",
                        group.owner.namespace, group.owner.kind, group.owner.name
                    ),
                }
            })
            .collect();
        Ci {
            subcommand: "audit",
            rules: &RULES,
            findings,
            suites: vec![self.owner_suite()],
        }
    }

    fn owner_suite(&self) -> Suite {
        let mut checks: Vec<Check> = (self.groups.iter())
            .map(|group| {
                let (rule, _) = rule(group.class);
                let mut details = format!(
                    "pods: {}\nskipped: {}",
                    escape(&group.pods.join(", ")),
                    escape(&skips(group).join(", "))
                );
                if let Some(command) = &group.restart {
                    let _ = write!(details, "\nrestart: {command}");
                }
                if group.class == Class::Informational {
                    return Check::passed(owner(group), details);
                }
                Check {
                    name: owner(group),
                    outcome: Outcome::Failed {
                        kind: rule.id,
                        message: group.class.heading().into(),
                        details,
                    },
                    output: String::new(),
                }
            })
            .collect();
        if checks.is_empty() {
            checks.push(Check::passed(
                "no pod skipped injection".into(),
                String::new(),
            ));
        }
        let mut output = self.summary();
        for dk in &self.dynakubes {
            let _ = write!(
                output,
                "\nDynaKube {}: {}",
                escape(&dk.dynakube),
                dk.state()
            );
        }
        Suite {
            name: "owners",
            checks,
            output,
        }
    }

    /// The audit as Markdown for a pull-request comment: a summary line, a table of the owners
    /// with skipped pods (class, owner, pods, reasons, what to do), and the DynaKubes'
    /// readiness. Names from the inputs are code spans.
    fn to_markdown(&self) -> String {
        let attention = (self.groups.iter())
            .filter(|g| g.class != Class::Informational)
            .count();
        let mut out = if attention == 0 {
            "### ✅ dynakube-netpol audit: no pod needs attention\n\n".to_string()
        } else {
            format!(
                "### ❌ dynakube-netpol audit: {attention} owner{} with pods that need attention\n\n",
                if attention == 1 { "" } else { "s" }
            )
        };
        let _ = writeln!(out, "{}\n", text(&self.summary()));
        if !self.groups.is_empty() {
            out.push_str(&head(&["Class", "Owner", "Pods", "Reasons", "What to do"]));
        }
        for group in &self.groups {
            let (_, class) = rule(group.class);
            let reasons: Vec<String> = skips(group).iter().map(|s| code(s)).collect();
            let todo = match (&group.restart, group.class) {
                (Some(command), _) => code(command),
                (None, Class::Informational) => "nothing".into(),
                (None, Class::Transient) => "restart once the DynaKube is ready".into(),
                (None, Class::NeedsFix) => "fix what the reason names, then restart".into(),
                (None, Class::Unknown) => "look the reason up".into(),
            };
            out.push_str(&row(&[
                class.into(),
                format!(
                    "{} {}",
                    text(&group.owner.kind.to_ascii_lowercase()),
                    code(&format!("{}/{}", group.owner.namespace, group.owner.name))
                ),
                group.pods.len().to_string(),
                reasons.join(", "),
                todo,
            ]));
        }
        if !self.dynakubes.is_empty() {
            out.push_str("\n#### DynaKubes\n\n");
            for dk in &self.dynakubes {
                let _ = writeln!(out, "- {}: {}", code(&dk.dynakube), text(&dk.state()));
            }
        }
        out
    }
}
