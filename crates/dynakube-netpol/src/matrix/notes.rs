//! Remarks on the matrix and the policies: what they assume, cannot express, or had to widen.

use std::collections::BTreeSet;
use std::fmt;

use super::{Flow, RowId};

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
    /// The input that caused it, when one did: a resource's field (`DynaKube dynatrace/dk
    /// spec.kspm`), a field of the cluster profile (`cluster profile nodeCIDRs`) or an option
    /// (`--fqdn-fallback`).
    pub field: Option<String>,
}

impl Note {
    /// A note about `refs`.
    pub fn new(level: Level, refs: &[RowId], text: impl Into<String>) -> Self {
        Note {
            level,
            refs: refs.iter().copied().collect(),
            text: text.into(),
            field: None,
        }
    }

    /// The same note, caused by `field`.
    pub fn at(self, field: impl Into<String>) -> Self {
        Note {
            field: Some(field.into()),
            ..self
        }
    }

    /// An informational note about one flow: it concerns the flow's reference rows.
    pub fn on_flow(flow: &Flow, text: impl Into<String>) -> Self {
        Note {
            level: Level::Info,
            refs: flow.refs.clone(),
            text: text.into(),
            field: None,
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Info => "note",
            Level::Warning => "warning",
        };
        let text = crate::values::escape(&self.text);
        f.write_str(level)?;
        if !self.refs.is_empty() {
            write!(f, " ({})", super::rows::joined(&self.refs))?;
        }
        if let Some(field) = &self.field {
            write!(f, " [{}]", crate::values::escape(field))?;
        }
        write!(f, ": {text}")
    }
}
