//! `audit`: the pods the operator's webhook left uninjected, and how to bring them back.

use std::process::ExitCode;

use dynakube_netpol::input::{ParseOptions, UnknownFields, parse_into};
use dynakube_netpol::resources::Inputs;

use crate::exit;
use crate::say::ReportFormat;
use crate::settings::read;

#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    /// The pod dumps.
    #[command(flatten)]
    input: crate::inputs::InputArgs,

    /// DynaKubes with their status, to say whether restarting now would inject; may be given
    /// more than once, and name a directory.
    #[arg(long, value_name = "FILE")]
    dynakube: Vec<String>,

    /// `text` (grouped, with restart commands), `json`, `sarif` (SARIF 2.1.0 for code
    /// scanning), `junit` (JUnit XML, a test case per owner) or `markdown` (for a pull-request
    /// comment).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: ReportFormat,

    #[command(flatten)]
    limits: crate::settings::LimitArgs,
}

impl AuditArgs {
    pub(crate) fn run(&self) -> anyhow::Result<ExitCode> {
        let limits = self.limits.dump_limits();
        let mut files = Vec::new();
        for file in self.input.files(&[])? {
            let text = read(&file, &limits)?;
            files.push((file, text));
        }
        let mut inputs = Inputs::default();
        let options = ParseOptions {
            limits,
            // The audit only reads the status; a field of a newer operator must not stop it.
            unknown_fields: UnknownFields::Warn,
            ..ParseOptions::default()
        };
        for name in &self.dynakube {
            for file in crate::inputs::expand(name, self.input.recursive)? {
                parse_into(&mut inputs, &file, &read(&file, &limits)?, &options)?;
            }
        }
        let audit = dynakube_netpol::audit::audit(&files, &inputs.dynakubes, &limits)?;
        exit::write(audit.render(self.format.format()))?;
        Ok(if audit.needs_attention() {
            exit::code(exit::FAILED)
        } else {
            ExitCode::SUCCESS
        })
    }
}
