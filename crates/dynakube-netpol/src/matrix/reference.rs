//! The rows of the traffic matrix as a reader looks them up (`dynakube-netpol matrix E9`): what
//! each is for, who talks to whom on which ports, when and through which proxy, and what the
//! notes on it mean. The data are the table's and the notes' own; this module only writes them,
//! as text, Markdown or JSON.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{
    Direction, FlowRule, Level, MEANINGS, Meaning, ProxyUse, RowId, RowsFormat, TABLE, ZoneRoute,
};

/// The rows `ids` as [`super::describe_rows`] writes them.
pub(crate) fn describe(ids: &[RowId], format: RowsFormat) -> String {
    let mut seen = BTreeSet::new();
    let chosen: Vec<RowId> = if ids.is_empty() {
        RowId::ALL.to_vec()
    } else {
        ids.iter().copied().filter(|id| seen.insert(*id)).collect()
    };
    let rows: Vec<Row> = chosen.into_iter().map(Row::of).collect();
    match format {
        RowsFormat::Text => text(&rows),
        RowsFormat::Markdown => markdown(&rows),
        RowsFormat::Json => {
            let rows: Vec<serde_json::Value> = rows.iter().map(Row::json).collect();
            let json = serde_json::json!({ "rows": rows });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            )
        }
    }
}

/// A row of the reference, gathered from the table and the meanings of the notes.
struct Row {
    id: RowId,
    /// Its rows in the table (a reference row may take several, one per scope or condition).
    parts: Vec<&'static FlowRule>,
    /// For a reference row without a part of its own: the rows that implement it.
    by: Vec<RowId>,
    /// What the notes on it mean.
    meanings: Vec<&'static Meaning>,
}

impl Row {
    fn of(id: RowId) -> Self {
        let parts: Vec<&FlowRule> = TABLE.iter().filter(|rule| rule.id == id).collect();
        let mut by: Vec<RowId> = Vec::new();
        if parts.is_empty() {
            // E30, the proxy, is no row of the table: the proxy column sends rows through it.
            let implements = |rule: &FlowRule| match id {
                RowId::E30 => rule.proxy != ProxyUse::Never,
                _ => rule.also.contains(&id),
            };
            by = TABLE
                .iter()
                .filter(|r| implements(r))
                .map(|r| r.id)
                .collect();
            by.dedup();
        }
        let meanings = MEANINGS.iter().filter(|m| m.rows.contains(&id)).collect();
        Row {
            id,
            parts,
            by,
            meanings,
        }
    }

    /// The heading: `E9 (egress)`.
    fn heading(&self) -> String {
        format!("{} ({})", self.id, self.id.direction().name())
    }

    /// What a row without a part of its own is, in words.
    fn implemented_by(&self) -> Option<String> {
        if self.by.is_empty() {
            return None;
        }
        let rows = super::rows::joined(&self.by);
        Some(match self.id {
            RowId::E30 => format!(
                "no row of its own: the proxy, which carries the rows that go through one: {rows}"
            ),
            _ => format!("no row of its own: the other side of {rows}"),
        })
    }

    fn json(&self) -> serde_json::Value {
        let table: Vec<serde_json::Value> = self
            .parts
            .iter()
            .map(|rule| {
                let mut part = serde_json::Map::new();
                part.insert("purpose".into(), rule.purpose.into());
                for (key, _, value) in fields(rule) {
                    part.insert(key.into(), value.into());
                }
                part.into()
            })
            .collect();
        let notes: Vec<serde_json::Value> = self
            .meanings
            .iter()
            .map(|m| serde_json::json!({"level": level(m.level), "says": m.says, "means": m.means}))
            .collect();
        let by: Vec<&str> = self.by.iter().map(|id| id.name()).collect();
        serde_json::json!({
            "id": self.id.name(),
            "direction": self.id.direction().name(),
            "table": table,
            "implementedBy": by,
            "notes": notes,
        })
    }
}

/// The fields of a part, as (JSON key, label, value): who talks to whom, on which ports,
/// when, through which proxy, which other rows it implements, and where a zone narrows it.
fn fields(rule: &FlowRule) -> Vec<(&'static str, &'static str, String)> {
    let components: Vec<&str> = rule.components.iter().map(|c| c.name()).collect();
    let (components, peer) = (components.join(", "), rule.peer.describe());
    let (from, to) = match rule.direction {
        Direction::Egress => (components, peer),
        Direction::Ingress => (peer, components),
    };
    let mut fields = vec![
        ("from", "from", from),
        ("to", "to", to),
        ("ports", "ports", rule.ports.describe(rule.peer)),
        ("when", "when", rule.when.describe().to_string()),
        ("proxy", "proxy", rule.proxy.describe().to_string()),
    ];
    if !rule.also.is_empty() {
        fields.push(("also", "also", super::rows::joined(rule.also)));
    }
    if rule.zone == ZoneRoute::ActiveGateOnly {
        fields.push((
            "zoneFallbackNone",
            "zone fallback NONE",
            "to the zone's ActiveGate only".to_string(),
        ));
    }
    fields
}

/// A note's level as the notes print it.
fn level(level: Level) -> &'static str {
    match level {
        Level::Info => "note",
        Level::Warning => "warning",
    }
}

fn text(rows: &[Row]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", row.heading());
        if let Some(by) = row.implemented_by() {
            let _ = writeln!(out, "  {by}");
        }
        for rule in &row.parts {
            let _ = writeln!(out, "  {}", rule.purpose);
            for (_, label, value) in fields(rule) {
                let _ = writeln!(out, "    {label:<18} {value}");
            }
        }
        if !row.meanings.is_empty() {
            let _ = writeln!(out, "  notes on {}:", row.id);
            for m in &row.meanings {
                let _ = writeln!(
                    out,
                    "  - {} saying \"{}\": {}",
                    level(m.level),
                    m.says,
                    m.means
                );
            }
        }
    }
    out
}

fn markdown(rows: &[Row]) -> String {
    let cell = |text: &str| text.replace('|', "\\|");
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "## {}\n", row.heading());
        if let Some(by) = row.implemented_by() {
            let _ = writeln!(out, "{}.\n", capitalized(&by));
        }
        for rule in &row.parts {
            let _ = writeln!(out, "{}:\n", capitalized(rule.purpose));
            out.push_str("| | |\n| --- | --- |\n");
            for (_, label, value) in fields(rule) {
                let _ = writeln!(out, "| {label} | {} |", cell(&value));
            }
            out.push('\n');
        }
        if !row.meanings.is_empty() {
            let _ = writeln!(out, "Notes on {}:\n", row.id);
            for m in &row.meanings {
                let _ = writeln!(
                    out,
                    "- **{}** saying \"{}\": {}",
                    level(m.level),
                    m.says,
                    m.means
                );
            }
            out.push('\n');
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_with_its_parts_and_the_meaning_of_its_notes() {
        let text = describe(&[RowId::E9, RowId::E9], RowsFormat::Text);
        assert!(text.starts_with(
            "E9 (egress)\n  Kubernetes API monitoring\n    from               activegate\n    to                 kube-apiserver\n    ports              443/TCP\n"
        ), "{text}");
        assert_eq!(text.matches("E9 (egress)").count(), 1, "each row once");
        assert!(text.contains("  notes on E9:\n  - note saying \"may read node metrics from the kubelet\": no source settles"), "{text}");
        assert!(
            text.contains("  - warning saying \"has no apiServer.endpointCIDRs\": "),
            "{text}"
        );
        // Ingress rows name the peer first.
        let i1 = describe(&[RowId::I1], RowsFormat::Text);
        assert!(
            i1.contains(
                "    from               nodes (kubelet)\n    to                 operator\n"
            ),
            "{i1}"
        );
    }

    #[test]
    fn rows_without_a_part_of_their_own_name_those_that_implement_them() {
        let text = describe(&[RowId::I14, RowId::E30], RowsFormat::Text);
        assert!(
            text.starts_with("I14 (ingress)\n  no row of its own: the other side of E21, E22\n"),
            "{text}"
        );
        assert!(text.contains("E30 (egress)\n  no row of its own: the proxy, which carries the rows that go through one: E2, E5, E6, E8, E11, E12, E13, E14, E19, E23, E24\n"), "{text}");
    }

    #[test]
    fn every_row_in_every_format() {
        let json: serde_json::Value =
            serde_json::from_str(&describe(&[], RowsFormat::Json)).unwrap();
        let rows = json["rows"].as_array().unwrap();
        assert_eq!(rows.len(), RowId::ALL.len());
        for row in rows {
            let parts = row["table"].as_array().unwrap().len();
            let by = row["implementedBy"].as_array().unwrap().len();
            assert!(parts > 0 || by > 0, "{row}");
        }
        let e12 = &rows.iter().find(|r| r["id"] == "E12").unwrap()["table"];
        assert_eq!(e12.as_array().unwrap().len(), 2, "E12 has two parts");
        assert_eq!(e12[0]["zoneFallbackNone"], "to the zone's ActiveGate only");
        let markdown = describe(&[RowId::E1], RowsFormat::Markdown);
        assert!(markdown.starts_with("## E1 (egress)\n\nName resolution; the startup probes need it:\n\n| | |\n| --- | --- |\n| from | operator, webhook,"), "{markdown}");
        assert!(
            markdown.ends_with(")\n") && !markdown.ends_with("\n\n"),
            "{markdown}"
        );
    }
}
