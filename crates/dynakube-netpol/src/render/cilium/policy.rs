//! From the drafts of the Cilium renderer to policy objects: names, subjects, rules and
//! annotations.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{
    CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy, DefaultDeny, EgressPeer, EgressRule,
    EndpointSelector, Entity, FqdnPattern, FqdnSelector, IngressPeer, IngressRule, L4PortRule,
    MAX_PORTS, PortProtocol, PortRule, Protocol as CiliumProtocol, Rule, Subject,
};
use super::{
    CiliumObject, Draft, Egress, Ingress, Owner, Typed, namespaces_selector, pods_selector,
    resolvable_names, workload_selector,
};
use crate::matrix::{Direction, Matrix, Note, Pods, Ports, Protocol, Selection, Workload};
use crate::render::{DESCRIPTION_ANNOTATION, Whom, annotations};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The policies of the drafts: the namespace's default deny first, then one per draft, the
/// clusterwide ones last.
pub(super) fn finish(
    matrix: &Matrix,
    drafts: BTreeMap<Owner, Draft>,
    notes: BTreeSet<Note>,
) -> Typed {
    let names = resolvable_names(&drafts, &matrix.profile.cluster_domain);
    let deny = CiliumObject::Namespaced(default_deny(matrix.namespace.as_str()));
    let mut objects = vec![(deny, BTreeSet::new())];
    let mut clusterwide = Vec::new();
    for (owner, draft) in &drafts {
        let names = names.get(&owner.resolver()).cloned().unwrap_or_default();
        let object = policy(matrix, owner, draft, names);
        match object {
            CiliumObject::Namespaced(_) => objects.push((object, draft.sources.clone())),
            CiliumObject::Clusterwide(_) => clusterwide.push((object, draft.sources.clone())),
        }
    }
    objects.extend(clusterwide);
    Typed {
        objects,
        notes: notes.into_iter().collect(),
    }
}

/// The policy of one owner.
fn policy(
    matrix: &Matrix,
    owner: &Owner,
    draft: &Draft,
    names: BTreeSet<FqdnSelector>,
) -> CiliumObject {
    let namespace = matrix.namespace.as_str();
    let (name, subject, whom, direction, peers) = match owner {
        Owner::Workload(group) => (
            group.name(),
            Subject::Endpoints(EndpointSelector::of(
                &group.workload.selection.pods().cloned().unwrap_or_default(),
                None,
            )),
            group.whom(),
            group.direction,
            group.peers.as_str(),
        ),
        Owner::Host(w) => (
            format!("{namespace}-{}-host-egress", w.name()),
            Subject::Nodes(EndpointSelector::default()),
            Whom::of(w),
            Direction::Egress,
            CLUSTERWIDE,
        ),
        Owner::Apps(w) => (
            format!("{namespace}-{}-egress", w.name()),
            Subject::Endpoints(apps_selector(w)),
            Whom::of(w),
            Direction::Egress,
            CLUSTERWIDE,
        ),
        Owner::AppPods(pods) => {
            let name = app_pods_name(pods);
            (
                format!("{namespace}-{name}-egress"),
                Subject::Endpoints(pods_selector(pods)),
                Whom {
                    component: pods.kind.name(),
                    instance: None,
                    name,
                },
                Direction::Egress,
                CLUSTERWIDE,
            )
        }
    };
    let mut rule = Rule::new(subject);
    rule.ingress = ingress_rules(draft);
    rule.egress = egress_rules(owner, draft, names);
    let (labels, mut annotations) =
        annotations(&whom, direction, peers, &draft.refs, &draft.purposes);
    rule.description = annotations.remove(DESCRIPTION_ANNOTATION);
    let mut metadata = ObjectMeta {
        name: Some(name),
        labels: Some(labels),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    };
    match owner {
        Owner::Workload(_) => {
            metadata.namespace = Some(namespace.to_string());
            CiliumObject::Namespaced(CiliumNetworkPolicy::new(metadata, rule))
        }
        Owner::Host(_) | Owner::Apps(_) | Owner::AppPods(_) => {
            // Only allows: the subjects keep whatever default they have.
            rule.enable_default_deny = Some(DefaultDeny {
                ingress: Some(false),
                egress: Some(false),
            });
            CiliumObject::Clusterwide(CiliumClusterwideNetworkPolicy::new(metadata, rule))
        }
    }
}

/// The peers a clusterwide policy's description names.
const CLUSTERWIDE: &str = "clusterwide";

/// The name of application pods of the cluster profile in policy names: their kind and
/// namespace (`classic-apps-shop`).
fn app_pods_name(pods: &Pods) -> String {
    let namespace = pods.namespace.as_ref().map_or("all", |n| n.as_str());
    format!("{}-{namespace}", pods.kind.name())
}

/// The injected application namespaces of a DynaKube.
fn apps_selector(workload: &Workload) -> EndpointSelector {
    match &workload.selection {
        Selection::Namespaces { key, value } => namespaces_selector(key, value),
        Selection::Pods(_) | Selection::HostNetwork(_) => workload_selector(workload),
    }
}

fn ingress_rules(draft: &Draft) -> Vec<IngressRule> {
    merge_ports(&draft.ingress)
        .into_iter()
        .map(|(peer, ports)| IngressRule {
            from: match peer {
                Ingress::Endpoints(s) => IngressPeer::Endpoints(vec![s.clone()]),
                Ingress::Entities(e) => IngressPeer::Entities(e.clone()),
            },
            to_ports: l4_ports(&ports).into_iter().map(L4PortRule::new).collect(),
        })
        .collect()
}

fn egress_rules(owner: &Owner, draft: &Draft, names: BTreeSet<FqdnSelector>) -> Vec<EgressRule> {
    let host = matches!(owner, Owner::Host(_));
    let names: Vec<FqdnSelector> = names.into_iter().collect();
    let any_name = [FqdnSelector::Pattern(FqdnPattern::Any)];
    let mut rules = Vec::new();
    for (peer, ports) in merge_ports(&draft.egress) {
        let to = match peer {
            Egress::Endpoints(s) => EgressPeer::Endpoints(vec![s.clone()]),
            Egress::Entities(e) => EgressPeer::Entities(e.clone()),
            Egress::Cidrs(c) => EgressPeer::Cidrs(c.clone()),
            Egress::Fqdn(n) => EgressPeer::Fqdns(vec![FqdnSelector::Name(n.clone())]),
            Egress::Pattern(d) => {
                EgressPeer::Fqdns(vec![FqdnSelector::Pattern(FqdnPattern::Below(d.clone()))])
            }
            Egress::Dns(selector, cache, any) => {
                let names: &[FqdnSelector] = if any { &any_name } else { &names };
                rules.extend(dns_rules(&selector, cache.as_ref(), &ports, host, names));
                continue;
            }
        };
        rules.push(EgressRule {
            to,
            to_ports: l4_ports(&ports).into_iter().map(PortRule::new).collect(),
        });
    }
    rules
}

/// Egress to the cluster DNS (and a node-local cache first), through Cilium's DNS proxy and
/// limited to `names`; host policies cannot carry DNS rules.
fn dns_rules(
    selector: &EndpointSelector,
    cache: Option<&crate::values::Cidr>,
    ports: &Ports,
    host: bool,
    names: &[FqdnSelector],
) -> Vec<EgressRule> {
    let to_ports: Vec<PortRule> = l4_ports(ports)
        .into_iter()
        .map(|ports| {
            if host {
                PortRule::new(ports)
            } else {
                PortRule::dns(ports, names.iter().cloned())
            }
        })
        .collect();
    let mut rules = Vec::new();
    if let Some(cache) = cache {
        rules.push(EgressRule {
            to: EgressPeer::Cidrs(vec![*cache]),
            to_ports: to_ports.clone(),
        });
    }
    rules.push(EgressRule {
        to: EgressPeer::Endpoints(vec![selector.clone()]),
        to_ports,
    });
    rules
}

/// The entries of a draft with one rule per peer: the ports of a peer joined.
fn merge_ports<P: Ord + Clone>(entries: &BTreeSet<(P, Ports)>) -> BTreeMap<P, Ports> {
    let mut merged: BTreeMap<P, Ports> = BTreeMap::new();
    for (peer, ports) in entries {
        let joined = match (merged.remove(peer), ports) {
            (None, ports) => ports.clone(),
            (Some(Ports::List(mut a)), Ports::List(b)) => {
                a.extend(b.iter().copied());
                Ports::List(a)
            }
            (Some(_), _) => Ports::Any,
        };
        merged.insert(peer.clone(), joined);
    }
    merged
}

/// The ports of `ports` in groups of at most 40 (Cilium's limit); none for any port.
fn l4_ports(ports: &Ports) -> Vec<Vec<PortProtocol>> {
    match ports {
        Ports::Any => Vec::new(),
        Ports::List(list) => list
            .iter()
            .map(|p| {
                let protocol = match p.protocol {
                    Protocol::Tcp => CiliumProtocol::Tcp,
                    Protocol::Udp => CiliumProtocol::Udp,
                    Protocol::Sctp => CiliumProtocol::Sctp,
                };
                PortProtocol::new(p.number, protocol)
            })
            .collect::<Vec<_>>()
            .chunks(MAX_PORTS)
            .map(<[PortProtocol]>::to_vec)
            .collect(),
    }
}

/// The default deny of the namespace: sections that admit only the `none` entity switch both
/// directions into default deny and allow nothing (a rule without sections has no effect).
fn default_deny(namespace: &str) -> CiliumNetworkPolicy {
    let mut rule = Rule::new(Subject::Endpoints(EndpointSelector::default()));
    rule.description = Some(format!(
        "Denies all ingress and egress of endpoints in {namespace} that no other policy allows."
    ));
    rule.enable_default_deny = Some(DefaultDeny {
        ingress: Some(true),
        egress: Some(true),
    });
    rule.ingress.push(IngressRule {
        from: IngressPeer::Entities(vec![Entity::None]),
        to_ports: Vec::new(),
    });
    rule.egress.push(EgressRule {
        to: EgressPeer::Entities(vec![Entity::None]),
        to_ports: Vec::new(),
    });
    let metadata = ObjectMeta {
        name: Some("default-deny".into()),
        namespace: Some(namespace.into()),
        labels: Some(BTreeMap::from([(
            crate::stream::MANAGED_BY.0.into(),
            crate::stream::MANAGED_BY.1.into(),
        )])),
        ..ObjectMeta::default()
    };
    CiliumNetworkPolicy::new(metadata, rule)
}
