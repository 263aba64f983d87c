//! `toServices`: the Services an egress rule names, turned into peers as the agent turns them.
//!
//! layer3.rst, "Services based" (the documentation of Cilium's main branch): "Policies can
//! reference Kubernetes Services by name or label selector. This feature uses the discovered
//! services' label selector as an endpoint selector within the policy", and for "Services
//! without selectors ... The IPs in the service's EndpointSlices are converted to CIDR
//! selectors. CIDR selectors cannot select pods". The agent does so before it reads the policy
//! (`resolveToServices`, `pkg/policy/k8s/service.go`):
//!
//! - `k8sService` names a Service by `serviceName`, in `namespace`, or in any namespace when
//!   none is given (`serviceRefMatches`);
//! - `k8sServiceSelector` selects Services by their labels (the labels' source is ignored), in
//!   `namespace` or in any (`serviceSelectorMatches`); an item with both is read as a selector,
//!   one with neither names no Service;
//! - a Service with a selector adds `toEndpoints` of its selector in its namespace
//!   (`appendSelector`), one without adds `toCIDRSet` of its endpoints' addresses
//!   (`appendEndpoints`);
//! - only `egress` rules are translated (`processRule`): `toServices` in `egressDeny` names no
//!   peer.
//!
//! Decision: the agent of Cilium 1.16 selected only Services without a selector and refused
//! `toServices` with `toPorts`; the evaluator follows the current agent, as the documentation
//! describes it, as it does for `**.` in DNS patterns.

use super::compile::{Peer, Peers, Policy};
use super::labels::{K8S, Key, NAMESPACE, Requirement, Selector};
use super::raw;
use crate::error::{Error, Location};
use crate::evaluate::sets::AddressSet;

/// One item of `toServices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServiceRef {
    /// `k8sService`: the Service of this name, in `namespace` (any when `None`).
    Named {
        name: String,
        namespace: Option<String>,
    },
    /// `k8sServiceSelector`: the Services whose labels `selector` selects, in `namespace`
    /// (any when `None`).
    Selected {
        selector: Selector,
        namespace: Option<String>,
    },
    /// An item with neither: no Service.
    Nothing,
}

/// A Service of the cluster as `toServices` sees it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Service {
    /// The namespace.
    pub(crate) namespace: String,
    /// The name.
    pub(crate) name: String,
    /// The labels.
    pub(crate) labels: std::collections::BTreeMap<String, String>,
    /// The selector of its pods; empty for none.
    pub(crate) selector: std::collections::BTreeMap<String, String>,
    /// The addresses of its endpoints.
    pub(crate) addresses: Vec<std::net::IpAddr>,
}

/// The Services of a cluster as Cilium's `toServices` sees them, each with the addresses its
/// EndpointSlices and Endpoints objects list.
pub(crate) fn of_cluster(
    services: Vec<crate::evaluate::Service>,
    endpoints: &[crate::evaluate::ServiceEndpoints],
) -> Vec<Service> {
    let mut addresses: foldhash::HashMap<(&str, &str), Vec<std::net::IpAddr>> =
        foldhash::HashMap::default();
    for listed in endpoints {
        let all = addresses
            .entry((listed.namespace.as_str(), listed.service.as_str()))
            .or_default();
        for address in &listed.addresses {
            if !all.contains(address) {
                all.push(*address);
            }
        }
    }
    services
        .into_iter()
        .map(|service| Service {
            addresses: (addresses.get(&(service.namespace.as_str(), service.name.as_str())))
                .cloned()
                .unwrap_or_default(),
            namespace: service.namespace,
            name: service.name,
            labels: service.labels,
            selector: service.selector,
        })
        .collect()
}

/// Compiles the items of `toServices` at `location`.
pub(super) fn compile(
    items: &[raw::Service],
    location: &Location,
) -> Result<Vec<ServiceRef>, Error> {
    let namespace = |n: &Option<String>| n.clone().filter(|n| !n.is_empty());
    let mut refs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = location.join(&format!("toServices[{i}]"));
        refs.push(match (&item.k8s_service_selector, &item.k8s_service) {
            (Some(selected), _) => ServiceRef::Selected {
                selector: Selector::compile(
                    &selected.selector,
                    &at.join("k8sServiceSelector.selector"),
                )?,
                namespace: namespace(&selected.namespace),
            },
            (None, Some(named)) => ServiceRef::Named {
                name: named.service_name.clone().unwrap_or_default(),
                namespace: namespace(&named.namespace),
            },
            (None, None) => ServiceRef::Nothing,
        });
    }
    Ok(refs)
}

impl ServiceRef {
    /// Whether the item names or selects `service`.
    fn matches(&self, service: &Service) -> bool {
        let within =
            |namespace: &Option<String>| namespace.as_ref().is_none_or(|n| *n == service.namespace);
        match self {
            ServiceRef::Named { name, namespace } => within(namespace) && *name == service.name,
            ServiceRef::Selected {
                selector,
                namespace,
            } => within(namespace) && selector.matches_any_source(&service.labels),
            ServiceRef::Nothing => false,
        }
    }
}

/// The peer a Service adds to a rule that names it: its pods by its selector, in its
/// namespace, or the addresses of its endpoints.
fn peer(service: &Service) -> Peer {
    if service.selector.is_empty() {
        let mut set = AddressSet::empty();
        for address in &service.addresses {
            set = set.union(&AddressSet::net(&ipnet::IpNet::from(*address)));
        }
        return Peer::Cidrs(set);
    }
    let mut requirements: Vec<Requirement> = (service.selector.iter())
        .map(|(k, v)| {
            let key = Key {
                source: None,
                name: k.clone(),
            };
            Requirement::In(key, vec![v.clone()])
        })
        .collect();
    requirements.push(Requirement::In(
        Key {
            source: Some(K8S.into()),
            name: NAMESPACE.into(),
        },
        vec![service.namespace.clone()],
    ));
    Peer::Endpoints(Selector { requirements })
}

/// Adds to the egress rules of `policies` that name Services the peers of the `services` they
/// name, in the order of the Services.
pub(crate) fn resolve(policies: &mut [Policy], services: &[Service]) {
    for rule in policies.iter_mut().flat_map(|p| p.rules.iter_mut()) {
        for egress in &mut rule.egress {
            if egress.services.is_empty() {
                continue;
            }
            let Peers::Any(list) = &mut egress.peers else {
                continue;
            };
            for service in services {
                for item in &egress.services {
                    if item.matches(service) {
                        list.push(peer(service));
                    }
                }
            }
        }
    }
}
