//! Least-privilege network policies for the Dynatrace Operator.
//!
//! `dynakube-netpol` reads DynaKube (`dynatrace.com/v1beta3` to `v1beta6`) and EdgeConnect
//! (`v1alpha1`, `v1alpha2`) resources and a [cluster profile](cluster::ClusterProfile), builds
//! the [traffic matrix](matrix) of every Dynatrace component, and renders it as
//! `networking.k8s.io/v1` NetworkPolicies that allow exactly the matrix.
//!
//! Data flows one way, one module per step:
//!
//! 1. [`input`]: YAML text → [`resources::Inputs`] (errors name file, document and field), read
//!    through [`source`] (bounded, YAML as Kubernetes reads it) into the validated types of
//!    [`values`];
//! 2. [`matrix::build`]: inputs + profile → [`matrix::Matrix`] (pure);
//! 3. [`resolve::resolve`]: host names → addresses, the only step that may use the network;
//! 4. [`render`]: matrix + addresses → policies;
//! 5. [`output`]: policies → YAML stream or directory.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::matrix::RowId;
//! use dynakube_netpol::resources::Inputs;
//! use dynakube_netpol::resolve::{Fallback, FixedHosts};
//!
//! let dynakube = r#"
//! apiVersion: dynatrace.com/v1beta6
//! kind: DynaKube
//! metadata: {name: dynakube, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.live.dynatrace.com/api
//!   activeGate:
//!     capabilities: [routing]
//! "#;
//! let mut inputs = Inputs::default();
//! parse_into(&mut inputs, "dynakube.yaml", dynakube, &ParseOptions::default())?;
//! let profile = ClusterProfile::parse("cluster.yaml", "nodeCIDRs: [192.0.2.0/24]")?;
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]")?;
//!
//! let options = dynakube_netpol::matrix::Options::default();
//! let (matrix, rendered) = dynakube_netpol::kubernetes(&inputs, &profile, &options, &hosts, Fallback::Fail)?;
//! assert!(matrix.flows.iter().any(|flow| flow.id == RowId::E8));
//! let names: Vec<_> = rendered.policies.iter().filter_map(|p| p.metadata.name.as_deref()).collect();
//! assert!(names.contains(&"dynakube-activegate-egress-communication-endpoints"));
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```
//!
//! # Crate features
//!
//! `dns` (off by default): [`dns::resolve_all`], resolving host names with DNS into a
//! [`lock::Lock`]; it brings tokio and hickory-resolver. Without it the crate does no network
//! I/O. The crate does not choose a Kubernetes version for `k8s-openapi`: the binary that
//! links it does (for example with the `latest` feature).

pub mod audit;
pub mod cluster;
#[cfg(feature = "dns")]
pub mod dns;
pub mod error;
pub mod evaluate;
pub mod input;
pub mod lock;
pub mod matrix;
pub mod output;
pub mod render;
pub mod resolve;
pub mod resources;
pub mod source;
pub mod synthetic;
pub mod values;
pub mod verify;
pub mod zones;

pub use error::{Error, Location, Result};

/// Runs the pipeline for the Kubernetes flavor: matrix, addresses, policies.
pub fn kubernetes(
    inputs: &resources::Inputs,
    profile: &cluster::ClusterProfile,
    options: &matrix::Options,
    resolver: &dyn resolve::Resolve,
    fallback: resolve::Fallback,
) -> Result<(matrix::Matrix, render::kubernetes::Rendered)> {
    let matrix = matrix::build(inputs, profile, options)?;
    let addresses = resolve::resolve(&matrix, resolver, fallback)?;
    let rendered = render::kubernetes::render(&matrix, &addresses);
    Ok((matrix, rendered))
}

/// Renders the Kubernetes flavor of a matrix already built, with the addresses `resolver`
/// gives. With `allow_unresolved`, hosts without addresses are no error: their flows get no
/// rule and a note says so (the caller warns).
pub fn render_kubernetes(
    matrix: &matrix::Matrix,
    resolver: &dyn resolve::Resolve,
    fallback: resolve::Fallback,
    allow_unresolved: bool,
) -> Result<render::kubernetes::Rendered> {
    let addresses = if allow_unresolved {
        resolve::resolve_known(matrix, resolver, fallback)?
    } else {
        resolve::resolve(matrix, resolver, fallback)?
    };
    Ok(render::kubernetes::render(matrix, &addresses))
}

/// Runs the pipeline for the Cilium flavor: matrix, addresses (for IP-literal hosts and host
/// policies only; hosts that have none are named by `toFQDNs`), policies.
pub fn cilium(
    inputs: &resources::Inputs,
    profile: &cluster::ClusterProfile,
    options: &matrix::Options,
    resolver: &dyn resolve::Resolve,
) -> Result<(matrix::Matrix, render::cilium::Rendered)> {
    let matrix = matrix::build(inputs, profile, options)?;
    let addresses = resolve::resolve_known(&matrix, resolver, resolve::Fallback::Fail)?;
    let rendered = render::cilium::render(&matrix, &addresses);
    Ok((matrix, rendered))
}

/// Renders the Cilium flavor of a matrix already built; `resolver` gives the addresses of the
/// hosts host policies reach (the only place Cilium needs them).
pub fn render_cilium(
    matrix: &matrix::Matrix,
    resolver: &dyn resolve::Resolve,
) -> Result<render::cilium::Rendered> {
    let addresses = resolve::resolve_known(matrix, resolver, resolve::Fallback::Fail)?;
    Ok(render::cilium::render(matrix, &addresses))
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
