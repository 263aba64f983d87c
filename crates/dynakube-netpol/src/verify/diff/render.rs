//! The connectivity diff in words: text for a terminal, Markdown for a pull-request comment,
//! JSON for tools. Connections newly allowed that no row needs come first, then the rows, then
//! what no row needs that is no longer allowed; every name from an input is escaped.

use std::fmt::Write as _;

use super::{Change, Connection, Diff, RowChange};
use crate::ci::Format;
use crate::ci::markdown::{code, text};
use crate::evaluate::sets::PortSet;
use crate::values::escape;
use crate::verify::report::Peers;

/// What a sign stands for.
#[derive(Clone, Copy)]
enum Sign {
    /// Newly allowed.
    Plus,
    /// No longer allowed.
    Minus,
}

impl Sign {
    fn mark(self) -> char {
        match self {
            Sign::Plus => '+',
            Sign::Minus => '-',
        }
    }

    fn words(self) -> &'static str {
        match self {
            Sign::Plus => "newly allowed",
            Sign::Minus => "no longer allowed",
        }
    }
}

impl Diff {
    /// The diff in `format`; `widened_only` says that only connections newly allowed fail
    /// the run (`diff --fail-on widened`), as [`Diff::fails`] decides.
    ///
    /// - [`Format::Text`]: connections newly allowed that no row of the matrix needs, by the
    ///   rule that admits them; then each row of the matrix whose connections changed, `+`
    ///   for newly allowed and `-` for no longer allowed, with its peers and ports; then
    ///   connections no row needs that are no longer allowed; a closing count.
    /// - [`Format::Markdown`]: the same for a pull-request comment, under a title that says
    ///   whether the diff fails the run.
    /// - [`Format::Json`]: everything, with `changed` and `fails`.
    /// - [`Format::Sarif`], [`Format::Junit`]: JSON as well; a diff is no list of findings
    ///   for code scanning.
    pub fn render(&self, format: Format, widened_only: bool) -> String {
        match format {
            Format::Text => self.to_text(),
            Format::Markdown => self.to_markdown(widened_only),
            Format::Json | Format::Sarif | Format::Junit => self.to_json(widened_only),
        }
    }

    /// Whether the diff fails the run: when anything changed, or with `widened_only`, when
    /// some connection is newly allowed (whether a row needs it or not).
    pub fn fails(&self, widened_only: bool) -> bool {
        if widened_only {
            self.widens()
        } else {
            self.changed()
        }
    }

    fn to_json(&self, widened_only: bool) -> String {
        let mut value = serde_json::to_value(self).expect("the diff serializes");
        value["changed"] = self.changed().into();
        value["fails"] = self.fails(widened_only).into();
        serde_json::to_string_pretty(&value).expect("the diff serializes") + "\n"
    }

    fn to_text(&self) -> String {
        let mut out = String::new();
        if !self.widened.is_empty() {
            out.push_str("Newly allowed, needed by no row of the matrix:\n");
            for change in &self.widened {
                beyond_text(&mut out, Sign::Plus, change);
            }
            out.push('\n');
        }
        if !self.rows.is_empty() {
            out.push_str("Rows of the matrix:\n");
            for row in &self.rows {
                row_text(&mut out, row);
            }
            out.push('\n');
        }
        if !self.narrowed.is_empty() {
            out.push_str("No longer allowed, needed by no row of the matrix:\n");
            for change in &self.narrowed {
                beyond_text(&mut out, Sign::Minus, change);
            }
            out.push('\n');
        }
        if !self.notes.is_empty() {
            out.push_str("Assumed:\n");
            for note in &self.notes {
                let _ = writeln!(out, "  {note}");
            }
            out.push('\n');
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// One line: what changed from which set to which, or that nothing did.
    fn summary(&self) -> String {
        let (old, new) = (escape(&self.old), escape(&self.new));
        if !self.changed() {
            let scope = if self.exact {
                "the same connections"
            } else {
                "the same connections of the matrix's rows (nothing beyond them was computed)"
            };
            return format!("{old} -> {new}: unchanged; both allow {scope}");
        }
        let rows = |pick: fn(&RowChange) -> bool| self.rows.iter().filter(|r| pick(r)).count();
        format!(
            "{old} -> {new}: {} group(s) of connections newly allowed that no row needs; {} row(s) with connections newly allowed, {} with connections no longer allowed; {} group(s) no longer allowed that no row needs",
            self.widened.len(),
            rows(|r| !r.gained.is_empty()),
            rows(|r| !r.lost.is_empty()),
            self.narrowed.len()
        )
    }

    fn to_markdown(&self, widened_only: bool) -> String {
        let mut out = if self.fails(widened_only) {
            "### ❌ dynakube-netpol diff: changed\n\n".to_string()
        } else if self.changed() {
            "### ⚠️ dynakube-netpol diff: changed, nothing newly allowed\n\n".to_string()
        } else {
            "### ✅ dynakube-netpol diff: unchanged\n\n".to_string()
        };
        let _ = writeln!(out, "{}\n", text(&self.summary()));
        let widened = "Newly allowed, needed by no row";
        beyond_markdown(&mut out, widened, Sign::Plus, &self.widened);
        if !self.rows.is_empty() {
            out.push_str("#### Rows of the matrix\n\n");
            for row in &self.rows {
                row_markdown(&mut out, row);
            }
            out.push('\n');
        }
        let narrowed = "No longer allowed, needed by no row";
        beyond_markdown(&mut out, narrowed, Sign::Minus, &self.narrowed);
        if !self.notes.is_empty() {
            out.push_str("<details><summary>Assumed</summary>\n\n");
            for note in &self.notes {
                let _ = writeln!(out, "- {}", text(note));
            }
            out.push_str("\n</details>\n");
        }
        out
    }
}

/// `items` joined with commas, at most ten and how many more `what`.
fn some(items: &[String], what: &str) -> String {
    crate::ci::some(items, what)
}

/// Who rules name: `dynatrace/x spec.egress[0]`, or that no policy isolates the pods.
fn by(change: &Change) -> String {
    let names: Vec<String> = (change.by.iter())
        .map(|rule| match rule {
            Some(rule) => escape(rule).into_owned(),
            None => format!("no policy isolating them for {}", change.direction),
        })
        .collect();
    names.join(", ")
}

/// The pods of a change in words: `dynakube-activegate (dynatrace/dynakube-activegate-0)`.
fn subject(change: &Change) -> String {
    let pods: Vec<String> = change.pods.iter().map(|p| escape(p).into_owned()).collect();
    format!("{} ({})", change.workload, some(&pods, "pods"))
}

/// The peers of a group in words: `pods a/b, a/c`, `10.0.0.0/8 (except 10.1.0.0/16)`.
fn peer_words(peers: &Peers) -> Vec<String> {
    let mut words = Vec::new();
    if !peers.pods.is_empty() {
        let pods: Vec<String> = peers.pods.iter().map(|p| escape(p).into_owned()).collect();
        words.push(format!("pods {}", some(&pods, "pods")));
    }
    let blocks: Vec<String> = peers.addresses.iter().map(ToString::to_string).collect();
    let names: Vec<String> = (peers.names.iter())
        .map(|name| escape(name).into_owned())
        .collect();
    match (blocks.is_empty(), names.is_empty()) {
        (false, true) => words.push(some(&blocks, "blocks")),
        (true, false) => words.push(format!(
            "any address looked up as {}",
            some(&names, "names")
        )),
        (false, false) => words.push(format!(
            "{} looked up as {}",
            some(&blocks, "blocks"),
            some(&names, "names")
        )),
        (true, true) => {}
    }
    words
}

/// Ports in words: `443/TCP, 53/UDP`, or every port and protocol.
fn ports(ports: &[String]) -> String {
    if ports == PortSet::all().describe() {
        "every port and protocol".into()
    } else {
        ports.join(", ")
    }
}

/// One line per peer group of `change`: `from X to Y on PORTS`, the pods of the change on
/// their side of the connection.
fn connections(change: &Change) -> Vec<String> {
    let pods: Vec<String> = change.pods.iter().map(|p| escape(p).into_owned()).collect();
    let own = some(&pods, "pods");
    let mut lines = Vec::new();
    for peers in &change.peers {
        for peer in peer_words(peers) {
            let (from, to) = if change.direction == "egress" {
                (own.as_str(), peer.as_str())
            } else {
                (peer.as_str(), own.as_str())
            };
            lines.push(format!("from {from} to {to} on {}", ports(&peers.ports)));
        }
    }
    lines
}

fn beyond_text(out: &mut String, sign: Sign, change: &Change) {
    let verb = match sign {
        Sign::Plus => "admitted by",
        Sign::Minus => "was admitted by",
    };
    let _ = writeln!(
        out,
        "  {} {} of {}, {verb} {}:",
        sign.mark(),
        change.direction,
        subject(change),
        by(change)
    );
    for line in connections(change) {
        let _ = writeln!(out, "      {line}");
    }
}

/// The head of a row's change: `+I12 dynakube-injected-apps -> dynakube-activegate 9998/TCP:
/// newly allowed`.
fn row_head(row: &RowChange, sign: Sign) -> String {
    let changed = match sign {
        Sign::Plus => &row.gained,
        Sign::Minus => &row.lost,
    };
    format!(
        "{}{} {} -> {} {}: {}",
        sign.mark(),
        row.id,
        escape(&row.from),
        escape(&row.to),
        ports(changed),
        sign.words()
    )
}

fn row_text(out: &mut String, row: &RowChange) {
    for (sign, changes) in [(Sign::Plus, &row.allowed), (Sign::Minus, &row.denied)] {
        let one_by_one: Vec<&Connection> = (row.connections.iter())
            .filter(|c| c.allowed == matches!(sign, Sign::Plus))
            .collect();
        if changes.is_empty() && one_by_one.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {}", row_head(row, sign));
        for change in changes {
            for line in connections(change) {
                let _ = writeln!(out, "      {line}");
            }
        }
        for connection in one_by_one {
            let _ = writeln!(out, "      {}", connection_words(connection));
        }
    }
}

/// A connection decided one by one: `a/b -> 10.0.0.1 443/TCP (egress ...; ingress ...)`.
fn connection_words(connection: &Connection) -> String {
    escape(&format!(
        "{} -> {} {}/{} ({})",
        connection.from, connection.to, connection.port, connection.protocol, connection.decided
    ))
    .into_owned()
}

/// A section of changes no row needs, under `title`; nothing when there are none.
fn beyond_markdown(out: &mut String, title: &str, sign: Sign, changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(out, "#### {title}\n");
    for change in changes {
        let rules: Vec<String> = (change.by.iter())
            .map(|rule| match rule {
                Some(rule) => code(rule),
                None => format!("no policy isolating them for {}", change.direction),
            })
            .collect();
        let pods: Vec<String> = change.pods.iter().map(|p| code(p)).collect();
        let verb = match sign {
            Sign::Plus => "admitted by",
            Sign::Minus => "was admitted by",
        };
        let _ = writeln!(
            out,
            "- **{}** {} of {} ({}), {verb} {}:",
            sign.mark(),
            change.direction,
            text(&change.workload),
            some(&pods, "pods"),
            rules.join(", ")
        );
        for line in connections(change) {
            let _ = writeln!(out, "  - {}", text(&line));
        }
    }
    out.push('\n');
}

fn row_markdown(out: &mut String, row: &RowChange) {
    for (sign, changes) in [(Sign::Plus, &row.allowed), (Sign::Minus, &row.denied)] {
        let one_by_one: Vec<&Connection> = (row.connections.iter())
            .filter(|c| c.allowed == matches!(sign, Sign::Plus))
            .collect();
        if changes.is_empty() && one_by_one.is_empty() {
            continue;
        }
        let _ = writeln!(out, "- {}", code(&row_head(row, sign)));
        for change in changes {
            for line in connections(change) {
                let _ = writeln!(out, "  - {}", text(&line));
            }
        }
        for connection in one_by_one {
            let _ = writeln!(out, "  - {}", text(&connection_words(connection)));
        }
    }
}
