//! Verification: do a set of NetworkPolicies allow every flow of the matrix, and what do they
//! allow beyond it?
//!
//! The matrix's endpoints are placed in a cluster — real pods and namespaces
//! (`kubectl get pods,namespaces -A -o yaml`) or a [model](model_cluster) built from the
//! matrix's own labels — and every flow becomes concrete connections that the
//! [evaluator](crate::evaluate) decides. Then connections from and to the Dynatrace pods that
//! no flow needs are tried, and those the policies allow are listed.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::cluster::ClusterProfile;
//! use dynakube_netpol::evaluate::Index;
//! use dynakube_netpol::input::{ParseOptions, parse_into};
//! use dynakube_netpol::resolve::{Fallback, FixedHosts, resolve_known};
//! use dynakube_netpol::resources::Inputs;
//! use dynakube_netpol::verify::{Status, model_cluster, verify};
//! use dynakube_netpol::{GenerateOptions, Policies};
//!
//! let yaml = "\
//! apiVersion: dynatrace.com/v1beta6
//! kind: DynaKube
//! metadata: {name: dk, namespace: dynatrace}
//! spec:
//!   apiUrl: https://abc12345.live.dynatrace.com/api
//!   activeGate: {capabilities: [routing]}
//! ";
//! let mut inputs = Inputs::default();
//! parse_into(&mut inputs, "dk.yaml", yaml, &ParseOptions::default())?;
//! let profile = ClusterProfile::parse("cluster.yaml", "nodeCIDRs: [192.0.2.0/24]")?;
//! let hosts = FixedHosts::parse("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]")?;
//! let generated =
//!     dynakube_netpol::generate(&inputs, &profile, &GenerateOptions::default(), &hosts)?;
//! let Policies::Kubernetes(policies) = &generated.policies else { unreachable!() };
//!
//! // Check the policies in a cluster modelled on the matrix's own labels.
//! let (namespaces, pods) = model_cluster(&generated.matrix);
//! let index = Index::new(namespaces, pods, policies)?;
//! let addresses = resolve_known(&generated.matrix, &hosts, Fallback::Fail, &Default::default())?;
//! let report = verify(&generated.matrix, &index, &addresses);
//! assert!(report.passed(), "{}", report.to_text());
//! assert_eq!(report.flows.len(), generated.matrix.flows.len());
//! assert!(report.flows.iter().any(|check| check.status == Status::Allowed));
//! assert!(report.failures(false, false).is_empty());
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

mod model;
mod place;
mod report;
mod unselected;

use std::collections::BTreeSet;
use std::net::IpAddr;

pub use model::model_cluster;
pub use place::Facts;
pub use report::{Extra, FlowCheck, Probe, Read, Report, Status};
pub use unselected::Unselected;

use crate::evaluate::{Connection, Index, Peer};
use crate::matrix::{ACTIVEGATE_HTTPS, Matrix, Port, Ports, Protocol};
use crate::resolve::Addresses;
use crate::values::PortNumber;

/// Ports tried beyond the matrix, besides every container port of the pods.
const SAMPLE_PORTS: [Port; 12] = [
    Port::tcp(22),
    Port::tcp(53),
    Port::udp(53),
    Port::tcp(80),
    Port::tcp(443),
    Port::tcp(3128),
    Port::tcp(6443),
    Port::tcp(8080),
    Port::tcp(8443),
    ACTIVEGATE_HTTPS,
    Port::tcp(10250),
    Port::udp(8125),
];

/// Addresses outside every known peer, tried beyond the matrix: a public and a private one.
const STRANGERS: [IpAddr; 2] = [
    IpAddr::V4(std::net::Ipv4Addr::new(9, 9, 9, 9)),
    IpAddr::V4(std::net::Ipv4Addr::new(10, 255, 255, 1)),
];

/// Checks every flow of `matrix` against the policies of `index`, and lists what the policies
/// allow from or to Dynatrace pods beyond the matrix.
///
/// `addresses` gives external hosts their addresses (see [`crate::resolve::resolve`]); hosts
/// without addresses make their flows unchecked.
pub fn verify(matrix: &Matrix, index: &Index, addresses: &Addresses) -> Report {
    let places = place::Places::new(matrix, index, addresses);
    let flows: Vec<FlowCheck> = matrix.flows.iter().map(|flow| places.check(flow)).collect();
    let extras = extras(matrix, index, &places);
    let unselected = unselected::unselected(matrix, index);
    Report {
        namespace: matrix.namespace.to_string(),
        read: Read::default(),
        assumptions: places.facts.assumptions.clone(),
        flows,
        extras,
        unselected,
    }
}

/// Connections from and to the Dynatrace pods that the policies allow and no flow needs.
fn extras(matrix: &Matrix, index: &Index, places: &place::Places<'_>) -> Vec<Extra> {
    let dynatrace: BTreeSet<usize> = matrix
        .flows
        .iter()
        .flat_map(|f| [&f.from, &f.to])
        .filter(|e| e.policy_subject().is_some())
        .flat_map(|e| places.pods_of(e))
        .collect();
    // One pod per distinct (namespace, labels) stands for its kind.
    let mut seen = BTreeSet::new();
    let others: Vec<usize> = (0..index.pods().len())
        .filter(|&id| {
            let pod = &index.pods()[id];
            seen.insert((pod.namespace.clone(), pod.labels.clone(), pod.host_network))
        })
        .collect();
    let mut outsiders: BTreeSet<IpAddr> = STRANGERS.into_iter().collect();
    outsiders.extend(places.facts.known_addresses());

    let mut found = Vec::new();
    for &pod in &dynatrace {
        let mut candidates = Vec::new();
        for &other in &others {
            if other == pod {
                continue;
            }
            for port in ports_of(index, other) {
                candidates.push(connection(Peer::Pod(pod), Peer::Pod(other), port));
            }
            for port in ports_of(index, pod) {
                candidates.push(connection(Peer::Pod(other), Peer::Pod(pod), port));
            }
        }
        for &ip in &outsiders {
            for port in SAMPLE_PORTS {
                candidates.push(connection(Peer::Pod(pod), Peer::Ip(ip), port));
            }
            for port in ports_of(index, pod) {
                candidates.push(connection(Peer::Ip(ip), Peer::Pod(pod), port));
            }
        }
        for candidate in candidates {
            let verdict = index.evaluate(&candidate);
            if verdict.allowed() && !matrix.flows.iter().any(|f| places.covers(f, &candidate)) {
                found.push(Extra::new(index, &candidate, &verdict));
            }
        }
    }
    report::merge_extras(found)
}

/// The container ports of a pod and the sample ports, without duplicates.
fn ports_of(index: &Index, pod: usize) -> BTreeSet<Port> {
    let mut ports: BTreeSet<Port> = SAMPLE_PORTS.into_iter().collect();
    for p in &index.pods()[pod].ports {
        if let Some(number) = PortNumber::new(p.port) {
            ports.insert(Port {
                number,
                protocol: p.protocol,
            });
        }
    }
    ports
}

fn connection(from: Peer, to: Peer, port: Port) -> Connection {
    Connection {
        from,
        to,
        port: port.number.get(),
        protocol: port.protocol,
    }
}

/// Whether `ports` admits `port` with `protocol`.
fn admits(ports: &Ports, port: u16, protocol: Protocol) -> bool {
    match ports {
        Ports::Any => true,
        Ports::List(list) => {
            PortNumber::new(port).is_some_and(|number| list.contains(&Port { number, protocol }))
        }
    }
}
