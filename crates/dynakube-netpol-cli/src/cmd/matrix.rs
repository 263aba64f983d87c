//! `matrix`: rows of the traffic matrix as the library describes them (purpose, peers, ports,
//! condition, proxy, and what the notes on them mean), printed as asked.

use std::process::ExitCode;

use clap::ValueEnum;
use dynakube_netpol::matrix::{RowId, RowsFormat, describe_rows};

use crate::exit;

#[derive(Debug, clap::Args)]
pub(crate) struct MatrixArgs {
    /// The rows to print, such as E9 I11 (every row without).
    #[arg(value_name = "ROW", value_parser = crate::settings::parse_row)]
    rows: Vec<RowId>,

    /// How to print them.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: MatrixFormat,
}

/// `--format` of `matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MatrixFormat {
    /// A block per row, for people.
    Text,
    /// A section per row, for a review or a wiki.
    Markdown,
    /// JSON for tools.
    Json,
}

impl MatrixArgs {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let format = match self.format {
            MatrixFormat::Text => RowsFormat::Text,
            MatrixFormat::Markdown => RowsFormat::Markdown,
            MatrixFormat::Json => RowsFormat::Json,
        };
        exit::write(describe_rows(&self.rows, format))?;
        Ok(ExitCode::SUCCESS)
    }
}
