//! The one entry point: resources, cluster profile and options in; policies, the matrix they
//! implement and every note out, in either flavor.
//!
//! [`generate`] runs the whole pipeline; [`render`] starts from a matrix already built (for a
//! caller that needs the matrix first, say to look up addresses of the hosts it names). Both
//! return a [`Generated`], whose notes are already merged, sorted and free of duplicates, and
//! which turns into the same YAML stream or directory the command-line tool writes
//! ([`Generated::output`]) or into plain JSON objects ([`Generated::objects`]) for a tool that
//! emits manifests of its own.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::{Flavor, GenerateOptions};
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::resolve::FixedHosts;
//! use dynakube_netpol::resources::Inputs;
//!
//! let mut inputs = Inputs::default();
//! parse_into(
//!     &mut inputs,
//!     "dynakube.yaml",
//!     "apiVersion: dynatrace.com/v1beta5\nkind: DynaKube\nmetadata: {name: dk, namespace: dynatrace}\nspec:\n  apiUrl: https://abc12345.live.dynatrace.com/api\n",
//!     &ParseOptions::default(),
//! )?;
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]")?;
//! let options = GenerateOptions { flavor: Flavor::Cilium, ..GenerateOptions::default() };
//!
//! let generated = dynakube_netpol::generate(&inputs, &ClusterProfile::default(), &options, &hosts)?;
//! assert!(generated.policies.iter().any(|p| p.name == "default-deny"));
//! assert_eq!(generated.policies[0].kind, ("cilium.io/v2", "CiliumNetworkPolicy"));
//! // Every object as JSON, for a tool that writes manifests itself.
//! let objects = generated.objects();
//! assert_eq!(objects[0]["apiVersion"], "cilium.io/v2");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use crate::advice::{Neutral, Words};
use crate::cluster::ClusterProfile;
use crate::error::Result;
use crate::flavor::{Flavor, FlavorSettings};
use crate::lock::Reach;
use crate::matrix::{self, Matrix, Note};
use crate::output::{Output, Provenance};
use crate::render::Policy;
use crate::resolve::{self, Fallback, Resolve};
use crate::resources::Inputs;
use crate::values::HostName;

/// How [`generate`] works, beyond what the resources and the profile say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The policy language.
    pub flavor: Flavor,
    /// The settings of the flavor besides its name (the others' are refused).
    pub settings: FlavorSettings,
    /// How the matrix is built (network zone fallback).
    pub matrix: matrix::Options,
    /// What to allow for a host without addresses (Kubernetes flavor; Cilium names hosts).
    pub fallback: Fallback,
    /// Hosts without addresses are no error: their flows get no rule and a warning says so.
    pub allow_unresolved: bool,
    /// What the addresses of hosts may be, wherever they come from (see [`crate::guard`]).
    pub addresses: crate::guard::AddressPolicy,
}

impl GenerateOptions {
    /// The host names of `matrix` the flavor needs addresses for, with their reach: for a
    /// lock file to hold.
    pub fn needed_hosts(&self, matrix: &Matrix) -> std::collections::BTreeMap<HostName, Reach> {
        self.flavor.needed_hosts(matrix, &self.settings)
    }
}

/// What [`generate`] gives: the matrix, the policies that implement it, and what to tell the
/// user.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The matrix the policies implement.
    pub matrix: Matrix,
    /// The policies, in the order they are written: the default deny first.
    pub policies: Vec<Policy>,
    /// The notes of the matrix and of the renderer: sorted by level, rows and text, without
    /// duplicates; notes that differ only in the hosts they name are one, naming them all.
    /// Without a cluster profile, the warnings on its missing fields are one. Notes on the
    /// rows the profile acknowledges ([`ClusterProfile::acknowledge`]) are not here but in
    /// [`Generated::acknowledged`], and one note says how many were left out.
    pub notes: Vec<Note>,
    /// The notes left out of [`Generated::notes`] because they concern acknowledged rows only.
    pub acknowledged: Vec<Note>,
}

impl Generated {
    /// Adds notes of the caller's own (say, of a lock file), keeping the order and uniqueness:
    /// the same remark on several hosts stays one note listing them.
    pub fn add_notes(&mut self, notes: impl IntoIterator<Item = Note>) {
        let rows = &self.matrix.profile.acknowledge;
        let line = matrix::acknowledged_line(rows, &self.acknowledged);
        let all = std::mem::take(&mut self.notes)
            .into_iter()
            .filter(|note| Some(note) != line.as_ref())
            .chain(std::mem::take(&mut self.acknowledged))
            .chain(notes);
        let mut all = matrix::merged_notes(all);
        if self.matrix.profile.names_nothing() {
            all = matrix::without_profile(all);
        }
        let (acknowledged, mut shown): (Vec<Note>, Vec<Note>) = all
            .into_iter()
            .partition(|note| matrix::is_acknowledged(note, rows));
        shown.extend(matrix::acknowledged_line(rows, &acknowledged));
        self.notes = matrix::merged_notes(shown);
        self.acknowledged = acknowledged;
    }

    /// The output as the command-line tool writes it; the resources and the notes of its
    /// provenance header come from `inputs` and `self`. `arguments` are the words that
    /// reproduce the output, written after `dynakube-netpol generate` in the header (the
    /// command-line tool passes its inputs and options); with none, that line is left out.
    ///
    /// Fails only when two policies have the same name (two resources whose names collide).
    pub fn output(&self, inputs: &Inputs, arguments: Vec<String>) -> Result<Output> {
        self.output_in(inputs, arguments, &Neutral)
    }

    /// [`Generated::output`] with the notes of its header in `words`: a front end's terms for
    /// the settings they name.
    pub fn output_in(
        &self,
        inputs: &Inputs,
        arguments: Vec<String>,
        words: &dyn Words,
    ) -> Result<Output> {
        let provenance = Provenance {
            resources: inputs
                .resources()
                .into_iter()
                .map(|(resource, version)| format!("{resource} ({version})"))
                .collect(),
            arguments,
            notes: self.notes.iter().map(|n| n.to_string_in(words)).collect(),
            subcommand: None,
        };
        Output::new(provenance, &self.policies)
    }

    /// Every policy as a JSON object (`apiVersion`, `kind`, `metadata`, `spec`), in order.
    pub fn objects(&self) -> Vec<serde_json::Value> {
        self.policies.iter().map(Policy::to_json).collect()
    }
}

/// Builds the matrix of `inputs` on the cluster `profile`, looks up the addresses of its hosts
/// in `resolver`, and renders the policies of `options.flavor`.
///
/// Fails on a profile or resources that contradict each other (for example a network zone
/// with fallback NONE and no routing ActiveGate) and, in the Kubernetes flavor, on hosts
/// without addresses unless `options.fallback` or `options.allow_unresolved` says otherwise.
pub fn generate(
    inputs: &Inputs,
    profile: &ClusterProfile,
    options: &GenerateOptions,
    resolver: &dyn Resolve,
) -> Result<Generated> {
    let matrix = matrix::build(inputs, profile, &options.matrix)?;
    render(matrix, options, resolver)
}

/// Renders a matrix already built (see [`generate`]); `options.matrix` is not used.
pub fn render(
    matrix: Matrix,
    options: &GenerateOptions,
    resolver: &dyn Resolve,
) -> Result<Generated> {
    let unit = options.flavor.unit();
    options.flavor.check(&options.settings).map_err(|e| {
        crate::Error::invalid(
            crate::Location::new("the options", None, "flavor"),
            e.to_string(),
        )
    })?;
    // A flavor that names hosts needs addresses only where its language cannot name them, and
    // never falls back to the internet for them.
    let fallback = if unit.needs_every_address {
        options.fallback
    } else {
        Fallback::Fail
    };
    let addresses = resolve::resolve_known(&matrix, resolver, fallback, &options.addresses)?;
    if unit.needs_every_address && !options.allow_unresolved {
        let needed = options.needed_hosts(&matrix);
        let hosts: Vec<String> = (addresses.unresolved_hosts.iter())
            .filter(|host| needed.contains_key(*host))
            .map(ToString::to_string)
            .collect();
        if !hosts.is_empty() {
            return Err(crate::Error::UnresolvedHosts { hosts });
        }
    }
    let rendered = (unit.render)(&matrix, &addresses, &options.settings);
    let mut generated = Generated {
        notes: Vec::new(),
        acknowledged: Vec::new(),
        matrix,
        policies: rendered.policies,
    };
    let unused = resolve::unused_hosts(&generated.matrix, resolver);
    let notes = generated.matrix.notes.clone();
    generated.add_notes(
        notes
            .into_iter()
            .chain(rendered.notes)
            .chain(addresses.notes)
            .chain(unused),
    );
    Ok(generated)
}
