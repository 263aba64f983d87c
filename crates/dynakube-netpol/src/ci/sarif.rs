//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format, errata 01), as GitHub code
//! scanning reads it: one run whose `tool.driver` lists every rule of the subcommand (id,
//! name, short and full description, help, default level), and one result per finding with
//! its level, message, one location (the file when one holds it, and always what the finding
//! is about as a logical location) and a partial fingerprint. The run's category
//! (`automationDetails.id`) is the subcommand's, so that the uploads of `verify`, `audit` and
//! `generate --check` keep their alerts apart.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Ci, Finding, Rule};

/// The schema of SARIF 2.1.0 with errata 01, the one `$schema` names.
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The name of the fingerprint every result carries, versioned as SARIF recommends.
const FINGERPRINT: &str = "dynakubeNetpolFinding/v1";
/// Where the tool is described.
const INFORMATION: &str = "https://github.com/dynakube-netpol/dynakube-netpol";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    automation_details: Automation,
    results: Vec<Result<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Text<'a>,
    full_description: Text<'a>,
    help: Help<'a>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Help<'a> {
    text: &'a str,
    markdown: &'a str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    severity: &'static str,
}

#[derive(Serialize)]
struct Automation {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Result<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text<'a>,
    locations: [Location<'a>; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<Physical>,
    logical_locations: [Logical<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
struct Artifact {
    uri: String,
}

/// The whole file: the tool does not know lines.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical<'a> {
    name: &'a str,
    fully_qualified_name: &'a str,
    kind: &'static str,
}

/// `ci` as a SARIF log.
pub(crate) fn render(ci: &Ci) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let rules = ci.rules.iter().map(descriptor).collect();
    let results = ci.findings.iter().map(|f| result(ci, f)).collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "dynakube-netpol",
                    version,
                    semantic_version: version,
                    information_uri: INFORMATION,
                    rules,
                },
            },
            automation_details: Automation {
                id: format!("dynakube-netpol/{}/", super::slug(ci.subcommand)),
            },
            results,
        }],
    };
    serde_json::to_string_pretty(&log).expect("a SARIF log serializes") + "\n"
}

fn descriptor(rule: &Rule) -> Descriptor<'_> {
    Descriptor {
        id: rule.id,
        name: rule.name,
        short_description: Text { text: rule.short },
        full_description: Text { text: rule.full },
        help: Help {
            text: rule.help,
            markdown: rule.help,
        },
        default_configuration: Configuration {
            level: rule.level.name(),
        },
        properties: RuleProperties {
            tags: ["kubernetes", "network-policy"],
            precision: "very-high",
            severity: match rule.level {
                super::Level::Error => "error",
                super::Level::Warning => "warning",
                super::Level::Note => "recommendation",
            },
        },
    }
}

fn result<'a>(ci: &Ci, finding: &'a Finding) -> Result<'a> {
    let rule_index = ci
        .rules
        .iter()
        .position(|rule| rule.id == finding.rule.id)
        .expect("a finding's rule is one of its report's");
    // Standard input (`-`) is no file a viewer could open.
    let file = finding.file.as_deref().filter(|file| *file != "-");
    let physical_location = file.map(|file| Physical {
        artifact_location: Artifact {
            uri: super::uri(file),
        },
        region: Region { start_line: 1 },
    });
    Result {
        rule_id: finding.rule.id,
        rule_index,
        level: finding.level.name(),
        message: Text {
            text: &finding.message,
        },
        locations: [Location {
            physical_location,
            logical_locations: [Logical {
                name: &finding.logical.name,
                fully_qualified_name: &finding.logical.qualified,
                kind: finding.logical.kind,
            }],
        }],
        partial_fingerprints: BTreeMap::from([(
            FINGERPRINT,
            super::digest(&format!("{}\n{}", finding.rule.id, finding.identity)),
        )]),
    }
}
