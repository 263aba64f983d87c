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
//! use dynakube_netpol::{Flavor, GenerateOptions, Policies};
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
//! let Policies::Cilium(policies) = &generated.policies else { unreachable!() };
//! assert!(policies.iter().any(|p| p.name() == "default-deny"));
//! // Every object as JSON, for a tool that writes manifests itself.
//! let objects = generated.objects();
//! assert_eq!(objects[0]["apiVersion"], "cilium.io/v2");
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::networking::v1::NetworkPolicy;

use crate::cluster::ClusterProfile;
use crate::error::Result;
use crate::matrix::{self, Matrix, Note};
use crate::output::{Output, Provenance};
use crate::render::cilium::CiliumObject;
use crate::resolve::{self, Fallback, Resolve};
use crate::resources::{Inputs, ResourceRef};

/// The policy language of the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// `networking.k8s.io/v1` NetworkPolicies; hosts become address blocks.
    #[default]
    Kubernetes,
    /// `cilium.io/v2` CiliumNetworkPolicies (and clusterwide ones where the cluster profile
    /// asks for them); hosts become `toFQDNs`.
    Cilium,
}

impl Flavor {
    /// The name the command line uses: `kubernetes` or `cilium`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Kubernetes => "kubernetes",
            Flavor::Cilium => "cilium",
        }
    }
}

/// How [`generate`] works, beyond what the resources and the profile say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The policy language.
    pub flavor: Flavor,
    /// How the matrix is built (network zone fallback).
    pub matrix: matrix::Options,
    /// What to allow for a host without addresses (Kubernetes flavor; Cilium names hosts).
    pub fallback: Fallback,
    /// Hosts without addresses are no error: their flows get no rule and a warning says so.
    pub allow_unresolved: bool,
    /// What the addresses of hosts may be, wherever they come from (see [`crate::guard`]).
    pub addresses: crate::guard::AddressPolicy,
}

/// The policies of one flavor.
#[derive(Debug, Clone, PartialEq)]
pub enum Policies {
    /// Kubernetes NetworkPolicies: the default deny first, then the allow policies.
    Kubernetes(Vec<NetworkPolicy>),
    /// Cilium policies, in the same order.
    Cilium(Vec<CiliumObject>),
}

impl Policies {
    /// How many policies there are.
    pub fn len(&self) -> usize {
        match self {
            Policies::Kubernetes(p) => p.len(),
            Policies::Cilium(p) => p.len(),
        }
    }

    /// Whether there is none (never the case for a successful [`generate`]: the default deny
    /// is always there).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The policies' names, in order.
    pub fn names(&self) -> Vec<String> {
        match self {
            Policies::Kubernetes(p) => p
                .iter()
                .map(|p| p.metadata.name.clone().unwrap_or_default())
                .collect(),
            Policies::Cilium(p) => p.iter().map(CiliumObject::name).collect(),
        }
    }
}

/// What [`generate`] gives: the matrix, the policies that implement it, and what to tell the
/// user.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The matrix the policies implement.
    pub matrix: Matrix,
    /// The policies.
    pub policies: Policies,
    /// The resources each policy comes from, by policy name.
    pub sources: BTreeMap<String, BTreeSet<ResourceRef>>,
    /// The notes of the matrix and of the renderer: sorted by level, rows and text, without
    /// duplicates.
    pub notes: Vec<Note>,
}

impl Generated {
    /// Adds notes of the caller's own (say, of a lock file), keeping the order and uniqueness.
    pub fn add_notes(&mut self, notes: impl IntoIterator<Item = Note>) {
        self.notes.extend(notes);
        self.notes.sort();
        self.notes.dedup();
    }

    /// The output as the command-line tool writes it; the resources and the notes of its
    /// provenance header come from `inputs` and `self`. `arguments` are the words that
    /// reproduce the output, written after `dynakube-netpol generate` in the header (the
    /// command-line tool passes its inputs and options); with none, that line is left out.
    ///
    /// Fails only when two policies have the same name (two resources whose names collide).
    pub fn output(&self, inputs: &Inputs, arguments: Vec<String>) -> Result<Output> {
        let provenance = Provenance {
            resources: inputs
                .resources()
                .into_iter()
                .map(|(resource, version)| format!("{resource} ({version})"))
                .collect(),
            arguments,
            notes: self.notes.clone(),
            subcommand: None,
        };
        let sources = |name: &str| self.sources.get(name).cloned().unwrap_or_default();
        match &self.policies {
            Policies::Kubernetes(policies) => Output::new(provenance, policies, |p| {
                let name = p.metadata.name.clone().unwrap_or_default();
                let from = sources(&name);
                (name, from)
            }),
            Policies::Cilium(policies) => Output::new(provenance, policies, |p| {
                let name = p.name();
                let from = sources(&name);
                (name, from)
            }),
        }
    }

    /// Every policy as a JSON object (`apiVersion`, `kind`, `metadata`, `spec`), in order.
    pub fn objects(&self) -> Vec<serde_json::Value> {
        fn json<T: serde::Serialize>(items: &[T]) -> Vec<serde_json::Value> {
            items
                .iter()
                .map(|item| serde_json::to_value(item).expect("policies serialize"))
                .collect()
        }
        match &self.policies {
            Policies::Kubernetes(p) => json(p),
            Policies::Cilium(p) => json(p),
        }
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
    let (policies, sources, notes) = match options.flavor {
        Flavor::Kubernetes => {
            let addresses = if options.allow_unresolved {
                resolve::resolve_known(&matrix, resolver, options.fallback, &options.addresses)?
            } else {
                resolve::resolve(&matrix, resolver, options.fallback, &options.addresses)?
            };
            let rendered = crate::render::kubernetes::render(&matrix, &addresses);
            let policies = Policies::Kubernetes(rendered.policies);
            let notes = rendered.notes.into_iter().chain(addresses.notes);
            (policies, rendered.sources, notes.collect::<Vec<_>>())
        }
        Flavor::Cilium => {
            // Cilium names hosts; addresses matter only for IP-literal hosts and host policies.
            let addresses =
                resolve::resolve_known(&matrix, resolver, Fallback::Fail, &options.addresses)?;
            let rendered = crate::render::cilium::render(&matrix, &addresses);
            let policies = Policies::Cilium(rendered.policies);
            let notes = rendered.notes.into_iter().chain(addresses.notes);
            (policies, rendered.sources, notes.collect::<Vec<_>>())
        }
    };
    let mut generated = Generated {
        notes: matrix.notes.clone(),
        matrix,
        policies,
        sources,
    };
    generated.add_notes(notes);
    Ok(generated)
}
