//! Remarks on the matrix and the policies: what they assume, cannot express, or had to widen.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{Flow, RowId};
use crate::advice::{Cause, Neutral, Setting, Words};

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Something the reviewer should know.
    Info,
    /// Something that makes the policies broader or weaker than the matrix; fix the input.
    Warning,
}

/// A remark on the generated policies, printed on stderr and in the output header.
///
/// Notes sort by level, then by their rows in the table's order, then by text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note {
    /// How much it matters.
    pub level: Level,
    /// The reference rows it concerns.
    pub refs: BTreeSet<RowId>,
    /// The remark, one sentence or two.
    pub text: String,
    /// What caused it, when something did: a resource's field, a field of the cluster
    /// profile, or a setting.
    pub cause: Option<Cause>,
    /// For a note that lists what it applies to (the peers of flows alike): the text around
    /// the list, and the list, so that such notes merge into one ([`merged`]).
    listing: Option<Listing>,
}

/// The text of a note around the list of what it applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Listing {
    before: String,
    items: BTreeSet<String>,
    after: String,
}

impl Note {
    /// A note about `refs`.
    pub fn new(level: Level, refs: &[RowId], text: impl Into<String>) -> Self {
        Note {
            level,
            refs: refs.iter().copied().collect(),
            text: text.into(),
            cause: None,
            listing: None,
        }
    }

    /// An informational note about one flow that lists `item` (its peer, say) between
    /// `before` and `after`: the notes of flows that differ only in that item merge into one
    /// listing them all ([`merged`]).
    pub(crate) fn listing(
        flow: &Flow,
        before: impl Into<String>,
        item: impl Into<String>,
        after: impl Into<String>,
    ) -> Self {
        let listing = Listing {
            before: before.into(),
            items: BTreeSet::from([item.into()]),
            after: after.into(),
        };
        Note {
            text: listing.text(),
            listing: Some(listing),
            ..Note::on_flow(flow, "")
        }
    }

    /// The same note, caused by a resource's field (`DynaKube dynatrace/dk spec.kspm`), or
    /// by a field of the cluster profile when `field` starts with `cluster profile `.
    pub(crate) fn at(self, field: impl Into<String>) -> Self {
        let field = field.into();
        let cause = match field.strip_prefix(PROFILE) {
            Some(path) => Cause::Profile(path.to_owned()),
            None => Cause::Resource(field),
        };
        Note {
            cause: Some(cause),
            ..self
        }
    }

    /// The same note, caused by a setting.
    pub(crate) fn by(self, setting: Setting) -> Self {
        Note {
            cause: Some(Cause::Setting(setting)),
            ..self
        }
    }

    /// The note in `words`: `warning (E2) [--fqdn-fallback]: text`.
    pub fn to_string_in(&self, words: &dyn Words) -> String {
        let level = match self.level {
            Level::Info => "note",
            Level::Warning => "warning",
        };
        let mut out = level.to_string();
        if !self.refs.is_empty() {
            out.push_str(&format!(" ({})", super::rows::joined(&self.refs)));
        }
        if let Some(cause) = &self.cause {
            out.push_str(&format!(
                " [{}]",
                crate::values::escape(&words.cause(cause))
            ));
        }
        out.push_str(&format!(": {}", crate::values::escape(&self.text)));
        out
    }

    /// An informational note about one flow: it concerns the flow's reference rows.
    pub(crate) fn on_flow(flow: &Flow, text: impl Into<String>) -> Self {
        Note {
            level: Level::Info,
            refs: flow.refs.clone(),
            text: text.into(),
            cause: None,
            listing: None,
        }
    }
}

impl Listing {
    fn text(&self) -> String {
        let items: Vec<&str> = self.items.iter().map(String::as_str).collect();
        format!("{}{}{}", self.before, items.join(", "), self.after)
    }
}

/// What makes two notes one when merged: everything but the items they list.
type MergeKey = (Level, BTreeSet<RowId>, Option<Cause>, String, String);

/// `notes` sorted, each once: notes that differ only in the items they list (the same
/// remark on the flows to several hosts) become one note listing every item, on the same rows.
pub(crate) fn merged(notes: impl IntoIterator<Item = Note>) -> Vec<Note> {
    let mut lists: BTreeMap<MergeKey, BTreeSet<String>> = BTreeMap::new();
    let mut plain = BTreeSet::new();
    for note in notes {
        match note.listing {
            Some(listing) => {
                let key = (
                    note.level,
                    note.refs,
                    note.cause,
                    listing.before,
                    listing.after,
                );
                lists.entry(key).or_default().extend(listing.items);
            }
            None => {
                plain.insert(note);
            }
        }
    }
    for ((level, refs, cause, before, after), items) in lists {
        let listing = Listing {
            before,
            items,
            after,
        };
        plain.insert(Note {
            level,
            refs,
            text: listing.text(),
            cause,
            listing: Some(listing),
        });
    }
    plain.into_iter().collect()
}

/// How a cause in the cluster profile is given to [`Note::at`].
const PROFILE: &str = "cluster profile ";

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_in(&Neutral))
    }
}

/// Whether `note` is left out when `rows` are acknowledged: a note, not a warning (a widening
/// is always said), on acknowledged rows alone.
pub(crate) fn is_acknowledged(note: &Note, rows: &BTreeSet<RowId>) -> bool {
    note.level == Level::Info && !note.refs.is_empty() && note.refs.is_subset(rows)
}

/// The one line that stands for the notes left out on the acknowledged `rows`; none when no
/// row is acknowledged.
pub(crate) fn acknowledged_line(rows: &BTreeSet<RowId>, left_out: &[Note]) -> Option<Note> {
    if rows.is_empty() {
        return None;
    }
    let ids: Vec<&str> = rows.iter().map(|id| id.name()).collect();
    let count = match left_out.len() {
        0 => "no note on them".to_string(),
        1 => "1 note on them left out".to_string(),
        n => format!("{n} notes on them left out"),
    };
    Some(Note::new(
        Level::Info,
        &[],
        format!(
            "acknowledged rows {}: {count}; `dynakube-netpol matrix {}` says what their notes mean",
            ids.join(", "),
            ids.join(" ")
        ),
    ))
}

/// `notes` with the warnings on rows that a field of a cluster profile that names nothing
/// (none given) would have narrowed or opened, as one warning on the setting that lists the
/// fields. A single such warning stays as it is, and so do warnings on no row (the namespace
/// assumed, say), which say more than that the profile is missing.
pub(crate) fn without_profile(notes: Vec<Note>) -> Vec<Note> {
    let (missing, mut kept): (Vec<Note>, Vec<Note>) = notes.into_iter().partition(|n| {
        n.level == Level::Warning
            && !n.refs.is_empty()
            && matches!(n.cause, Some(Cause::Profile(_)))
    });
    if missing.len() < 2 {
        kept.extend(missing);
        return kept;
    }
    let fields: BTreeSet<&str> = missing
        .iter()
        .filter_map(|n| match &n.cause {
            Some(Cause::Profile(field)) => Some(field.as_str()),
            _ => None,
        })
        .collect();
    let refs: Vec<RowId> = missing
        .iter()
        .flat_map(|n| n.refs.iter().copied())
        .collect();
    let fields: Vec<&str> = fields.into_iter().collect();
    kept.push(
        Note::new(
            Level::Warning,
            &refs,
            format!(
                "no cluster profile: the rules that need its fields ({}) admit any address on their ports, or stay closed; give one",
                fields.join(", ")
            ),
        )
        .by(Setting::Cluster),
    );
    kept.sort();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A note on `refs` listing `item`, as [`Note::listing`] makes one for a flow.
    fn listing(refs: &[RowId], item: &str) -> Note {
        let listing = Listing {
            before: "dk-oneagent reaches ".into(),
            items: BTreeSet::from([item.to_owned()]),
            after: " directly".into(),
        };
        Note {
            text: listing.text(),
            listing: Some(listing),
            ..Note::new(Level::Info, refs, "")
        }
    }

    #[test]
    fn notes_that_differ_in_their_items_merge() {
        let notes = merged([
            listing(&[RowId::E11], "b.example.com (443/TCP)"),
            Note::new(Level::Warning, &[], "w"),
            listing(&[RowId::E11], "a.example.com (443/TCP)"),
            listing(&[RowId::E11], "b.example.com (443/TCP)"),
            listing(&[RowId::E1], "cluster DNS (53/UDP)"),
            Note::new(Level::Warning, &[], "w"),
        ]);
        let texts: Vec<String> = notes.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "note (E1): dk-oneagent reaches cluster DNS (53/UDP) directly",
                "note (E11): dk-oneagent reaches a.example.com (443/TCP), b.example.com (443/TCP) directly",
                "warning: w",
            ]
        );
        // Merging again changes nothing.
        assert_eq!(merged(notes.clone()), notes);
    }

    #[test]
    fn a_missing_profile_is_one_warning_on_rows() {
        let field = |refs: &[RowId], field: &str| {
            Note::new(Level::Warning, refs, format!("no {field}"))
                .at(format!("cluster profile {field}"))
        };
        let namespace = field(&[], "namespace");
        let notes = without_profile(vec![
            field(&[RowId::I1, RowId::I3], "nodeCIDRs"),
            namespace.clone(),
            field(&[RowId::E10], "prometheusTargets"),
            Note::new(Level::Info, &[RowId::E9], "a note"),
        ]);
        let texts: Vec<String> = notes.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "note (E9): a note".to_string(),
                namespace.to_string(),
                "warning (I1, I3, E10) [the setting `cluster`]: no cluster profile: the rules that need its fields (nodeCIDRs, prometheusTargets) admit any address on their ports, or stay closed; give one".to_string(),
            ]
        );
        // One warning says more than the summary would.
        let one = vec![field(&[RowId::I1], "nodeCIDRs")];
        assert_eq!(without_profile(one.clone()), one);
    }

    #[test]
    fn acknowledged_rows_take_notes_not_warnings() {
        let rows = BTreeSet::from([RowId::E9, RowId::E10]);
        assert!(is_acknowledged(
            &Note::new(Level::Info, &[RowId::E9], "x"),
            &rows
        ));
        assert!(is_acknowledged(
            &Note::new(Level::Info, &[RowId::E9, RowId::E10], "x"),
            &rows
        ));
        assert!(!is_acknowledged(
            &Note::new(Level::Info, &[RowId::E9, RowId::E8], "x"),
            &rows
        ));
        assert!(!is_acknowledged(&Note::new(Level::Info, &[], "x"), &rows));
        assert!(!is_acknowledged(
            &Note::new(Level::Warning, &[RowId::E9], "x"),
            &rows
        ));
        assert_eq!(acknowledged_line(&BTreeSet::new(), &[]), None);
        assert_eq!(
            acknowledged_line(&rows, &[]).unwrap().text,
            "acknowledged rows E9, E10: no note on them; `dynakube-netpol matrix E9 E10` says what their notes mean"
        );
    }
}
