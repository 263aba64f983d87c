//! The verification report: one line per flow, the connections allowed beyond the matrix, as
//! text for people and JSON for tools.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;

use crate::evaluate::{Decision, Index, Verdict};
use crate::matrix::Flow;
use crate::values::escape;

/// The findings that fail a report besides denied flows and unselected Dynatrace pods
/// (`verify --fail-on`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailOn {
    /// Connections the policies allow beyond the matrix.
    pub extra: bool,
    /// Flows that could not be checked.
    pub unchecked: bool,
    /// Pods of the operator namespace that no Dynatrace component accounts for.
    pub foreign: bool,
}

/// The outcome for one flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "reason")]
#[non_exhaustive]
pub(crate) enum Status {
    /// Every connection of the flow is allowed.
    Allowed,
    /// Some connection of the flow is denied.
    Denied,
    /// The flow could not be checked, for the reason given.
    Unchecked(String),
}

/// One connection tried, and what decided it; it stands for `connections` connections that the
/// evaluator cannot tell apart (pods of one namespace with the same labels, ports and service
/// account, say: see `evaluate::classes`), which it decides alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Probe {
    /// The source: `namespace/pod` or an address.
    #[serde(serialize_with = "text")]
    pub(crate) from: Arc<str>,
    /// The destination: `namespace/pod` or an address.
    #[serde(serialize_with = "text")]
    pub(crate) to: Arc<str>,
    /// The DNS name the destination address was looked up by, for a host reached by name.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_text")]
    pub(crate) name: Option<Arc<str>>,
    /// The destination port.
    pub(crate) port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub(crate) protocol: &'static str,
    /// What was decided, shared by the probes decided alike.
    #[serde(flatten)]
    pub(crate) outcome: Shared,
    /// How many connections the probe stands for (left out of the JSON when one).
    #[serde(skip_serializing_if = "is_one")]
    pub(crate) connections: usize,
}

/// What was decided on a connection.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Outcome {
    /// Whether the policies allow it.
    pub(crate) allowed: bool,
    /// The source's egress side, in words.
    pub(crate) egress: String,
    /// The destination's ingress side, in words.
    pub(crate) ingress: String,
    /// Both sides as data: the verdict, the tier, and each policy and rule that decided (with
    /// its dialect), as `explain --format json` gives them.
    pub(crate) sides: serde_json::Value,
    /// The policies that isolate the side that denies it, as `namespace/name` (empty when it is
    /// allowed): where the CI formats point. The words above name them too.
    #[serde(skip)]
    pub(crate) isolated_by: Vec<String>,
}

impl Outcome {
    pub(super) fn new(verdict: &Verdict) -> Self {
        let isolated_by = [&verdict.egress, &verdict.ingress]
            .into_iter()
            .find(|side| !side.allows())
            .map(Decision::policies)
            .unwrap_or_default();
        Outcome {
            allowed: verdict.allowed(),
            egress: verdict.egress.to_string(),
            ingress: verdict.ingress.to_string(),
            sides: serde_json::json!({
                "egress": verdict.egress.to_json(),
                "ingress": verdict.ingress.to_json(),
            }),
            isolated_by,
        }
    }
}

/// An [`Outcome`] shared by the probes decided alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shared(pub(crate) Arc<Outcome>);

impl std::ops::Deref for Shared {
    type Target = Outcome;

    fn deref(&self) -> &Outcome {
        &self.0
    }
}

impl Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A shared string, serialized as a string.
fn text<S: serde::Serializer>(value: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

/// A shared text that is there (the field is left out where it is not).
fn some_text<S: serde::Serializer>(
    value: &Option<Arc<str>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_deref().unwrap_or_default())
}

/// Whether a count is one, for fields left out of the JSON then.
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_one(count: &usize) -> bool {
    *count == 1
}

/// The check of one flow of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FlowCheck {
    /// The row of the matrix.
    pub(crate) id: &'static str,
    /// Every reference row the flow implements.
    pub(crate) refs: Vec<&'static str>,
    /// Who opens the connections.
    pub(crate) from: String,
    /// Who accepts them.
    pub(crate) to: String,
    /// The destination ports.
    pub(crate) ports: String,
    /// The outcome.
    #[serde(flatten)]
    pub(crate) status: Status,
    /// The connections tried.
    pub(crate) probes: Vec<Probe>,
}

impl FlowCheck {
    pub(super) fn new(flow: &Flow) -> Self {
        // The ids of a flow sort in the reference's order.
        let refs: Vec<&'static str> = flow.refs.iter().map(|r| r.name()).collect();
        FlowCheck {
            id: flow.id.name(),
            refs,
            from: flow.from.to_string(),
            to: flow.to.to_string(),
            ports: flow.ports.to_string(),
            status: Status::Unchecked("not checked".into()),
            probes: Vec::new(),
        }
    }

    /// Which policies decided the flow, in words.
    pub(crate) fn decided_by(&self) -> String {
        match &self.status {
            Status::Unchecked(reason) => reason.clone(),
            Status::Denied => match self.probes.iter().find(|p| !p.outcome.allowed) {
                Some(p) => {
                    let side = if p.outcome.egress.starts_with("denied") {
                        format!("egress {}", p.outcome.egress)
                    } else {
                        format!("ingress {}", p.outcome.ingress)
                    };
                    // A destination looked up by name as `explain --to` takes it: NAME=IP.
                    let to = match &p.name {
                        Some(name) => format!("{name}={}", p.to),
                        None => p.to.to_string(),
                    };
                    format!("{} -> {to} {}/{}: {side}", p.from, p.port, p.protocol)
                }
                None => String::new(),
            },
            Status::Allowed => {
                // The probes decided alike share their outcome: each is looked at once.
                let mut seen: foldhash::HashSet<*const Outcome> = foldhash::HashSet::default();
                let (mut egress, mut ingress) = (BTreeSet::new(), BTreeSet::new());
                for probe in &self.probes {
                    if seen.insert(Arc::as_ptr(&probe.outcome.0)) {
                        egress.insert(probe.outcome.egress.as_str());
                        ingress.insert(probe.outcome.ingress.as_str());
                    }
                }
                let join = |set: BTreeSet<&str>| set.into_iter().collect::<Vec<_>>().join(", ");
                format!("egress {}; ingress {}", join(egress), join(ingress))
            }
        }
    }
}

/// Connections that one rule admits from or to Dynatrace pods and that no flow needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct Extra {
    /// The Dynatrace pods, as `namespace/name`: pods of one namespace with the same labels and
    /// ports, which every policy and flow treats alike.
    pub(crate) pods: Vec<String>,
    /// `egress` (connections the pods open) or `ingress` (connections to them).
    pub(crate) direction: &'static str,
    /// The policy whose rule admits the connections, as `namespace/name` for a NetworkPolicy,
    /// with its kind for other dialects (`ClusterNetworkPolicy name`,
    /// `CiliumNetworkPolicy namespace/name`); none when no policy isolates the pods in this
    /// direction, so that everything is admitted.
    pub(crate) policy: Option<String>,
    /// The index of the rule in its list: the policy's `spec.egress` or `spec.ingress`, or a
    /// Cilium rule's `egress` or `ingress`.
    pub(crate) rule: Option<usize>,
    /// The kind of the policy: `NetworkPolicy`, `ClusterNetworkPolicy`,
    /// `CiliumNetworkPolicy` or `CiliumClusterwideNetworkPolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dialect: Option<&'static str>,
    /// The field of the rule in the policy: `spec.egress[0]`, `specs[1].ingress[2]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) field: Option<String>,
    /// The peers and ports admitted beyond the matrix, peers with equal ports together.
    pub(crate) beyond: Vec<Peers>,
}

/// Peers and the ports admitted with each of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct Peers {
    /// Pods, as `namespace/name`.
    pub(crate) pods: Vec<String>,
    /// Addresses, as CIDR blocks with exceptions.
    pub(crate) addresses: Vec<AddressBlock>,
    /// Destinations looked up by DNS names, as the patterns that admit them
    /// (`*.example.com`): whatever addresses the names have outside the cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) names: Vec<String>,
    /// The destination ports, ranges per protocol: `443/TCP`, `40000-65535/UDP`.
    pub(crate) ports: Vec<String>,
}

/// A CIDR block less the networks of `except`, as an `ipBlock` writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct AddressBlock {
    /// The block.
    pub(crate) cidr: String,
    /// Networks within it that are not part of the set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) except: Vec<String>,
}

impl std::fmt::Display for AddressBlock {
    /// `10.0.0.0/8`, or `0.0.0.0/0 (except 10.0.0.0/8, 192.168.0.0/16)`, with at most
    /// ten (`SHOWN`) exceptions and how many more.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cidr)?;
        if !self.except.is_empty() {
            let except = shortened(self.except.iter().cloned(), "");
            write!(f, " (except {except})")?;
        }
        Ok(())
    }
}

impl Extra {
    /// The extra in words, for the text report: the pods, the direction and the admitting
    /// rule on one line, then one line per peer group. Long lists are cut to
    /// [`SHOWN`] items; the JSON report has them all.
    pub(crate) fn write_text(&self, out: &mut String) {
        let pods = shortened(self.pods.iter().map(|p| escape(p).into_owned()), "pods");
        match (&self.policy, &self.field) {
            (Some(policy), Some(field)) => {
                let _ = writeln!(
                    out,
                    "  {} of {pods}, admitted by {} {field}:",
                    self.direction,
                    escape(policy),
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "  {} of {pods}, which no policy isolates for {}, so everything is admitted:",
                    self.direction, self.direction
                );
            }
        }
        let towards = if self.direction == "egress" {
            "to"
        } else {
            "from"
        };
        let every = crate::evaluate::sets::PortSet::all().describe();
        for peers in &self.beyond {
            let ports = if peers.ports == every {
                "every port and protocol".to_string()
            } else {
                peers.ports.join(", ")
            };
            if !peers.pods.is_empty() {
                let pods = shortened(peers.pods.iter().map(|p| escape(p).into_owned()), "pods");
                let _ = writeln!(out, "    {towards} pods {pods} on {ports}");
            }
            if !peers.addresses.is_empty() {
                let blocks = shortened(peers.addresses.iter().map(ToString::to_string), "blocks");
                let _ = writeln!(out, "    {towards} {blocks} on {ports}");
            }
            if !peers.names.is_empty() {
                let names = shortened(peers.names.iter().map(|n| escape(n).into_owned()), "names");
                let _ = writeln!(out, "    {towards} names {names} on {ports}");
            }
        }
    }
}

/// How many pods or address blocks a line of the text report names.
const SHOWN: usize = 10;

/// `items` joined with commas, at most [`SHOWN`] of them and how many more `what`.
fn shortened(items: impl ExactSizeIterator<Item = String>, what: &str) -> String {
    let total = items.len();
    let mut shown: Vec<String> = items.take(SHOWN).collect();
    if total > SHOWN {
        let more = format!("and {} more {what}", total - SHOWN);
        shown.push(more.trim_end().to_string());
    }
    shown.join(", ")
}

/// Whether a count is zero, for fields left out of the JSON then.
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// What the policy files held, by `Kind (apiVersion)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Read {
    /// The NetworkPolicies evaluated.
    pub(crate) evaluated: usize,
    /// The ClusterNetworkPolicies evaluated.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) cluster_network_policies: usize,
    /// The CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies evaluated.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) cilium_policies: usize,
    /// Policies of kinds the evaluator cannot evaluate (Cilium, Calico, ...), not checked.
    pub(crate) unevaluated: BTreeMap<String, usize>,
    /// Objects that are no policies.
    pub(crate) skipped: BTreeMap<String, usize>,
    /// The file each NetworkPolicy was read from, by `namespace/name`: where SARIF points.
    #[serde(skip)]
    pub(crate) files: BTreeMap<String, String>,
}

/// The whole verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The operator namespace.
    pub(crate) namespace: String,
    /// What the policy files held.
    pub(crate) read: Read,
    /// What was assumed for lack of facts.
    pub(crate) assumptions: Vec<String>,
    /// One check per flow of the matrix.
    pub(crate) flows: Vec<FlowCheck>,
    /// Connections allowed beyond the matrix, by the rule that admits them.
    pub(crate) extras: Vec<Extra>,
    /// Workloads with pods that their policies do not select.
    pub(crate) unselected: Vec<super::Unselected>,
    /// Pods of the operator namespace that no Dynatrace component accounts for, as
    /// `namespace/name`: the default deny isolates them, and nothing allows them anything.
    pub(crate) foreign: Vec<String>,
}

impl Report {
    /// Records what the policy files held beside the policies evaluated, and the file of each
    /// policy.
    pub fn read_from(&mut self, files: &crate::evaluate::PolicyFiles) {
        self.read = Read {
            evaluated: files.policies.len(),
            cluster_network_policies: files.cluster_network_policies.len(),
            cilium_policies: files.cilium_policies.len(),
            unevaluated: files.unevaluated.clone(),
            skipped: files.skipped.clone(),
            files: files.files.clone(),
        };
    }

    /// What fails the report: denied flows and unselected Dynatrace pods always, and the
    /// findings `also` asks for. Empty when it passes.
    pub fn failures(&self, also: &FailOn) -> Vec<String> {
        let mut failures = Vec::new();
        let denied = self.count(|s| *s == Status::Denied);
        if denied > 0 {
            failures.push(format!("{denied} flow(s) denied"));
        }
        if !self.unselected.is_empty() {
            let pods: usize = self.unselected.iter().map(|u| u.pods.len()).sum();
            failures.push(format!(
                "{pods} pod(s) of Dynatrace workloads selected by none of their policies"
            ));
        }
        if also.foreign && !self.foreign.is_empty() {
            failures.push(format!(
                "{} pod(s) in the operator namespace that no Dynatrace component accounts for, isolated by default-deny",
                self.foreign.len()
            ));
        }
        if also.extra && !self.extras.is_empty() {
            failures.push(format!(
                "{} connection group(s) allowed beyond the matrix",
                self.extras.len()
            ));
        }
        let open = self.count(|s| matches!(s, Status::Unchecked(_)));
        if also.unchecked && open > 0 {
            failures.push(format!("{open} flow(s) unchecked"));
        }
        failures
    }

    fn count(&self, what: fn(&Status) -> bool) -> usize {
        self.flows.iter().filter(|f| what(&f.status)).count()
    }

    /// A cross-check case for other analyzers, as files by name: the cluster of `index`
    /// (`cluster.yaml`), the `policies` (`policies.yaml`), and every connection this report
    /// tried with its verdict (`expected.yaml`). A node's host network is written as the node's
    /// first address, which analyzers that know no nodes read as an address.
    pub fn case_files(
        &self,
        index: &Index,
        policies: &[k8s_openapi::api::networking::v1::NetworkPolicy],
    ) -> BTreeMap<String, String> {
        #[derive(Serialize)]
        struct Expected<'a> {
            from: String,
            to: String,
            port: u16,
            protocol: &'a str,
            allowed: bool,
        }
        let end = |end: &str| -> String {
            let address = end.strip_prefix("node/").and_then(|name| {
                let node = index
                    .node_id(name)
                    .filter(|_| index.pod_id("node", name).is_none())?;
                index.nodes()[node]
                    .addresses
                    .first()
                    .map(ToString::to_string)
            });
            address.unwrap_or_else(|| end.to_string())
        };
        let expected: Vec<Expected<'_>> = (self.flows.iter().flat_map(|f| &f.probes))
            .map(|probe| Expected {
                from: end(&probe.from),
                to: end(&probe.to),
                port: probe.port,
                protocol: probe.protocol,
                allowed: probe.outcome.allowed,
            })
            .collect();
        let expected = serde_yaml::to_string(&expected).expect("the connections serialize");
        let case = crate::evaluate::Case {
            namespaces: index.namespaces().to_vec(),
            pods: index.pods().to_vec(),
            policies: policies.to_vec(),
        };
        BTreeMap::from([
            ("cluster.yaml".to_string(), case.cluster_yaml()),
            ("policies.yaml".to_string(), case.policies_yaml()),
            (
                "expected.yaml".to_string(),
                format!(
                    "# Connections tried by `dynakube-netpol verify`, with its verdicts.\n{expected}"
                ),
            ),
        ])
    }

    /// The report as JSON.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes") + "\n"
    }

    /// The report as a table for people.
    pub(crate) fn to_text(&self) -> String {
        let mut out = self.table();
        if !self.extras.is_empty() {
            out.push_str("\nAllowed beyond the matrix, by the rule that admits it:\n");
            for extra in &self.extras {
                extra.write_text(&mut out);
            }
        }
        if !self.unselected.is_empty() {
            out.push_str("\nNot selected by their policies (labelled as another operator release labels them?):\n");
            for u in &self.unselected {
                let _ = writeln!(
                    out,
                    "  {}: {} (the policies select {})",
                    u.workload,
                    escape(&u.pods.join(", ")),
                    u.selector
                );
            }
        }
        if !self.foreign.is_empty() {
            let _ = writeln!(
                out,
                "\nIn namespace {} but no Dynatrace component's (default-deny isolates them; run them in a namespace of their own, or allow their traffic with policies of yours):",
                self.namespace
            );
            for pod in &self.foreign {
                let _ = writeln!(out, "  {}", escape(pod));
            }
        }
        if !self.assumptions.is_empty() {
            out.push_str("\nAssumed:\n");
            for assumption in &self.assumptions {
                let _ = writeln!(out, "  {assumption}");
            }
        }
        let kinds = |counts: &BTreeMap<String, usize>| {
            counts
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = write!(out, "\nRead {} NetworkPolicies", self.read.evaluated);
        if self.read.cluster_network_policies > 0 {
            let _ = write!(
                out,
                " and {} ClusterNetworkPolicies",
                self.read.cluster_network_policies
            );
        }
        if self.read.cilium_policies > 0 {
            let _ = write!(out, " and {} Cilium policies", self.read.cilium_policies);
        }
        if !self.read.unevaluated.is_empty() {
            let _ = write!(out, "; not evaluated: {}", kinds(&self.read.unevaluated));
        }
        if !self.read.skipped.is_empty() {
            let _ = write!(out, "; skipped: {}", kinds(&self.read.skipped));
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "{} flows: {} allowed, {} denied, {} unchecked; {} connection group(s) allowed beyond the matrix",
            self.flows.len(),
            self.count(|s| *s == Status::Allowed),
            self.count(|s| *s == Status::Denied),
            self.count(|s| matches!(s, Status::Unchecked(_))),
            self.extras.len()
        );
        out
    }

    /// The flows, one row each, columns aligned.
    fn table(&self) -> String {
        let mut rows =
            vec![["ROW", "FROM", "TO", "PORTS", "RESULT", "DECIDED BY"].map(String::from)];
        for flow in &self.flows {
            let result = match flow.status {
                Status::Allowed => "allowed",
                Status::Denied => "DENIED",
                Status::Unchecked(_) => "unchecked",
            };
            rows.push([
                flow.id.to_string(),
                flow.from.clone(),
                flow.to.clone(),
                flow.ports.clone(),
                result.into(),
                // Pod and policy names come from the input: escaped for the terminal.
                escape(&flow.decided_by()).into_owned(),
            ]);
        }
        let widths: Vec<usize> = (0..5)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            for (c, width) in widths.iter().enumerate() {
                let _ = write!(out, "{:width$}  ", row[c], width = width);
            }
            out.push_str(&row[5]);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extra(policy: Option<&str>, pods: usize, holes: usize) -> Extra {
        Extra {
            pods: vec!["dynatrace/ag-0".into(), "dynatrace/ag-\u{1b}[1m".into()],
            direction: "ingress",
            policy: policy.map(String::from),
            rule: policy.map(|_| 2),
            dialect: policy.map(|_| "NetworkPolicy"),
            field: policy.map(|_| "spec.ingress[2]".into()),
            beyond: vec![Peers {
                pods: (0..pods).map(|i| format!("apps/app-{i:02}")).collect(),
                addresses: vec![AddressBlock {
                    cidr: "10.0.0.0/8".into(),
                    except: (0..holes).map(|i| format!("10.0.0.{i}/32")).collect(),
                }],
                names: Vec::new(),
                ports: vec!["30000-32767/TCP".into()],
            }],
        }
    }

    #[test]
    fn extras_in_words_are_bounded_and_escaped() {
        let mut out = String::new();
        extra(Some("dynatrace/open"), 12, 11).write_text(&mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "  ingress of dynatrace/ag-0, dynatrace/ag-\\u{1b}[1m, admitted by dynatrace/open spec.ingress[2]:"
        );
        assert!(lines[1].starts_with("    from pods apps/app-00, "), "{out}");
        assert!(
            lines[1].ends_with("apps/app-09, and 2 more pods on 30000-32767/TCP"),
            "{out}"
        );
        assert!(
            lines[2].ends_with("10.0.0.9/32, and 1 more) on 30000-32767/TCP"),
            "{out}"
        );
        assert_eq!(lines.len(), 3);

        let mut out = String::new();
        extra(None, 1, 0).write_text(&mut out);
        assert_eq!(
            out,
            "  ingress of dynatrace/ag-0, dynatrace/ag-\\u{1b}[1m, which no policy isolates for ingress, so everything is admitted:\n    from pods apps/app-00 on 30000-32767/TCP\n    from 10.0.0.0/8 on 30000-32767/TCP\n"
        );
    }
}
