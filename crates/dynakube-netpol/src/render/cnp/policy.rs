//! From the drafts of the ClusterNetworkPolicy renderer to policy objects: subjects, rules
//! within the CRD's limits, names and priorities.
//!
//! Priorities: a policy takes the lowest priority of the range at which no policy already
//! placed could decide one of its connections differently, and the policies of one workload
//! and direction (more than one only past 25 rules) follow each other, the closing Deny last.
//! Two policies can decide a connection differently only when they have the same direction,
//! their subjects may share a pod, and one of them denies (two that only accept agree wherever
//! both match): network-policy-api v0.2.0, `ClusterNetworkPolicySpec.Priority`, "If two (or
//! more) policies in the same tier with the same priority could match a connection, then the
//! implementation can apply any of the matching policies". Subjects share no pod when one
//! requires a label value the other excludes ([`PodsOf::disjoint`]): the workloads' selectors
//! differ in their component labels, and application namespaces exclude the operator's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::model::{
    Action, ClusterNetworkPolicy, EgressPeer, IngressPeer, MAX_ITEMS, MAX_RULE_NAME, NamespacedPod,
    Protocol, Rule, Spec, Subject, Transport,
};
use super::notes::Notes;
use super::select::{Labels, PodsOf};
use super::settings::Options;
use super::{Draft, KIND, Owner, Peer};
use crate::matrix::{Direction, Matrix, Pods, Ports, Protocol as Transported, RowId, Selection};
use crate::render::{DESCRIPTION_ANNOTATION, FLOWS_ANNOTATION, PREFIX, Policy, Rendered, Whom};
use crate::values::Cidr;

/// One policy before its priority is known.
struct Part {
    name: String,
    subject: PodsOf,
    direction: Direction,
    /// Whether it has only Accept rules.
    accept_only: bool,
    /// Its place in the chain of its owner's policies (0 for the first).
    link: usize,
    rules: Rules,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    sources: BTreeSet<crate::resources::ResourceRef>,
}

/// The rules of one policy.
enum Rules {
    Ingress(Vec<Rule<IngressPeer>>),
    Egress(Vec<Rule<EgressPeer>>),
}

/// The policies of the drafts, with the notes: the workloads' first, then the application
/// pods'.
pub(super) fn finish(
    matrix: &Matrix,
    options: &Options,
    named: bool,
    drafts: BTreeMap<Owner, Draft>,
    mut notes: Notes,
) -> Rendered {
    let mut parts = Vec::new();
    let mut apps: BTreeMap<String, BTreeSet<RowId>> = BTreeMap::new();
    for (owner, draft) in &drafts {
        if let Owner::Apps(_) | Owner::AppPods(_) = owner {
            apps.entry(whom(owner).name)
                .or_default()
                .extend(draft.refs.iter().copied());
        }
        parts.extend(parts_of(matrix, named, owner, draft));
    }
    let priorities = place(&parts, options);
    notes.tier(options, &apps);
    notes.outside_pods(drafts.keys().any(|o| matches!(o, Owner::Workload(..))));
    if priorities.iter().any(|p| *p > options.priorities.last) {
        notes.crowded(options, parts.len());
    }
    let policies = parts
        .into_iter()
        .zip(priorities)
        .map(|(part, priority)| {
            let priority = priority.min(options.priorities.last);
            let (ingress, egress) = match part.rules {
                Rules::Ingress(rules) => (rules, Vec::new()),
                Rules::Egress(rules) => (Vec::new(), rules),
            };
            let spec = Spec {
                tier: options.tier,
                priority,
                subject: subject(&part.subject),
                ingress,
                egress,
            };
            let metadata = ObjectMeta {
                name: Some(part.name.clone()),
                labels: Some(part.labels),
                annotations: Some(part.annotations),
                ..ObjectMeta::default()
            };
            let object = ClusterNetworkPolicy::new(metadata, spec);
            Policy::new(&object, KIND, object.name().to_string(), part.sources)
        })
        .collect();
    Rendered {
        policies,
        notes: notes.finish(),
    }
}

/// The priorities of `parts`, in order: each the lowest of the range after its chain's last at
/// which it shares with no placed policy that could decide differently; past the range's last
/// when the range is too small (the caller then warns and keeps the last).
fn place(parts: &[Part], options: &Options) -> Vec<u16> {
    let pins: Vec<Vec<Pin<'_>>> = parts.iter().map(|part| part.subject.pins()).collect();
    // Policies of the other direction never conflict: each direction has its own.
    let mut at: HashMap<(u16, bool), Placed<'_>> = HashMap::new();
    let mut placed: Vec<u16> = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let ingress = part.direction == Direction::Ingress;
        let mut priority = options.priorities.first;
        if part.link > 0 {
            priority = priority.max(placed[i - 1] + 1);
        }
        while at.get(&(priority, ingress)).is_some_and(|there| {
            (there.candidates(&pins[i]).into_iter()).any(|j| conflict(part, &parts[j]))
        }) {
            priority += 1;
        }
        at.entry((priority, ingress)).or_default().add(i, &pins[i]);
        placed.push(priority);
    }
    placed
}

/// A label a subject requires with one value: side (namespace or pod), key and value.
type Pin<'p> = (bool, &'p str, &'p str);

/// The policies placed at one priority, indexed by the labels their subjects pin, so that the
/// few that may share a pod with another are found without comparing it with all.
#[derive(Default)]
struct Placed<'p> {
    /// Every policy placed here, by position.
    all: Vec<usize>,
    /// The policies pinning a label to a value.
    pinned: HashMap<Pin<'p>, Vec<usize>>,
    /// For each label some policy here pins, the policies that do not.
    unpinned: HashMap<(bool, &'p str), Vec<usize>>,
}

impl<'p> Placed<'p> {
    fn add(&mut self, at: usize, pins: &[Pin<'p>]) {
        for &(side, key, value) in pins {
            // The policies placed before any pins this label pin nothing of it.
            (self.unpinned)
                .entry((side, key))
                .or_insert_with(|| self.all.clone());
            self.pinned.entry((side, key, value)).or_default().push(at);
        }
        for (&(side, key), without) in &mut self.unpinned {
            if !pins.iter().any(|&(s, k, _)| (s, k) == (side, key)) {
                without.push(at);
            }
        }
        self.all.push(at);
    }

    /// The policies here whose subjects may share a pod with one that pins `pins`: for the pin
    /// that leaves fewest, those pinning its label to the same value or not at all (the others
    /// pin it to another value, so share no pod); every policy when nothing is pinned.
    fn candidates(&self, pins: &[Pin<'p>]) -> Vec<usize> {
        let fewest = (pins.iter())
            .map(|&(side, key, value)| {
                let same = self
                    .pinned
                    .get(&(side, key, value))
                    .map_or(&[][..], Vec::as_slice);
                let without =
                    (self.unpinned.get(&(side, key))).map_or(&self.all[..], Vec::as_slice);
                (same, without)
            })
            .min_by_key(|(same, without)| same.len() + without.len());
        match fewest {
            Some((same, without)) => same.iter().chain(without).copied().collect(),
            None => self.all.clone(),
        }
    }
}

/// Whether two policies at one priority could decide a connection differently.
fn conflict(a: &Part, b: &Part) -> bool {
    a.direction == b.direction
        && !(a.accept_only && b.accept_only)
        && !a.subject.disjoint(&b.subject)
}

/// The policies of one owner: one, or a chain of them where its rules are more than a policy
/// holds.
fn parts_of(matrix: &Matrix, named: bool, owner: &Owner, draft: &Draft) -> Vec<Part> {
    let direction = owner.direction();
    let deny = matches!(owner, Owner::Workload(..));
    let base = format!("{PREFIX}.{}.{}", matrix.namespace, owner_name(owner));
    let whom = whom(owner);
    let groups: Vec<&str> = draft.groups.keys().map(String::as_str).collect();
    let (labels, mut annotations) = crate::render::annotations(
        &whom,
        direction,
        &if groups.is_empty() {
            "no peer".to_string()
        } else {
            groups.join(", ")
        },
        &draft.refs,
        &draft.purposes,
    );
    let denied = match direction {
        Direction::Ingress => "from every pod",
        Direction::Egress => "to every pod and address",
    };
    if draft.refs.is_empty() {
        annotations.remove(FLOWS_ANNOTATION);
        annotations.insert(
            DESCRIPTION_ANNOTATION.into(),
            format!(
                "{} of {}: denied {denied}.",
                capitalized(direction.name()),
                whom.name
            ),
        );
    } else if deny && let Some(text) = annotations.get_mut(DESCRIPTION_ANNOTATION) {
        text.push_str(&format!(" Denied {denied} else."));
    }
    let rules = match direction {
        Direction::Ingress => chunks(ingress_rules(draft, deny))
            .into_iter()
            .map(Rules::Ingress)
            .collect::<Vec<_>>(),
        Direction::Egress => chunks(egress_rules(draft, deny, named))
            .into_iter()
            .map(Rules::Egress)
            .collect(),
    };
    let last = rules.len().saturating_sub(1);
    rules
        .into_iter()
        .enumerate()
        .map(|(link, rules)| Part {
            name: match link {
                0 => base.clone(),
                n => format!("{base}-{}", n + 1),
            },
            subject: subject_of(matrix, owner),
            direction,
            accept_only: !(deny && link == last),
            link,
            rules,
            labels: labels.clone(),
            annotations: annotations.clone(),
            sources: draft.sources.clone(),
        })
        .collect()
}

/// The rules of a policy in chains of at most 25; at least one chain, even when empty.
fn chunks<P: Clone>(rules: Vec<Rule<P>>) -> Vec<Vec<Rule<P>>> {
    if rules.is_empty() {
        return vec![Vec::new()];
    }
    rules.chunks(MAX_ITEMS).map(<[Rule<P>]>::to_vec).collect()
}

/// The name of an owner's policy after the prefix and namespace: `dk-activegate-egress`.
fn owner_name(owner: &Owner) -> String {
    match owner {
        Owner::Workload(w, direction) => format!("{}-{}", w.name(), direction.name()),
        Owner::Apps(w) => format!("{}-egress", w.name()),
        Owner::AppPods(pods) => format!("{}-egress", app_pods_name(pods)),
    }
}

/// Application pods in names: their kind and namespace (`classic-apps-shop`), or their kind
/// alone for every namespace (`all-pods`).
fn app_pods_name(pods: &Pods) -> String {
    match &pods.namespace {
        Some(namespace) => format!("{}-{namespace}", pods.kind.name()),
        None => pods.kind.name().to_string(),
    }
}

/// Whom an owner's policy is for, for its labels and description.
fn whom(owner: &Owner) -> Whom<'_> {
    match owner {
        Owner::Workload(w, _) | Owner::Apps(w) => Whom::of(w),
        Owner::AppPods(pods) => Whom {
            component: pods.kind.name(),
            instance: None,
            name: pods.describe(),
        },
    }
}

/// The pods an owner's policy applies to. Application pods exclude the operator namespace,
/// whose pods the workloads' own policies decide.
fn subject_of(matrix: &Matrix, owner: &Owner) -> PodsOf {
    let operator = matrix.namespace.as_str();
    match owner {
        Owner::Workload(w, _) | Owner::Apps(w) => match &w.selection {
            Selection::Namespaces { key, value } => PodsOf {
                namespaces: Labels::label(key, value).except_namespace(operator),
                pods: None,
            },
            Selection::Pods(selector) | Selection::HostNetwork(selector) => PodsOf {
                namespaces: Labels::namespace(w.namespace.as_str()),
                pods: Some(Labels::of(selector)),
            },
        },
        Owner::AppPods(pods) => PodsOf {
            namespaces: match &pods.namespace {
                Some(namespace) => Labels::namespace(namespace.as_str()),
                None => Labels::everything().except_namespace(operator),
            },
            pods: (!pods.labels.is_empty()).then(|| Labels::pairs(&pods.labels)),
        },
    }
}

fn subject(pods: &PodsOf) -> Subject {
    match &pods.pods {
        None => Subject::Namespaces(pods.namespaces.selector()),
        Some(labels) => Subject::Pods(NamespacedPod {
            namespace_selector: pods.namespaces.selector(),
            pod_selector: labels.selector(),
        }),
    }
}

/// Pods as a peer of either direction.
fn pods_peer(pods: &PodsOf) -> (Option<LabelSelector>, Option<NamespacedPod>) {
    match &pods.pods {
        None => (Some(pods.namespaces.selector()), None),
        Some(labels) => (
            None,
            Some(NamespacedPod {
                namespace_selector: pods.namespaces.selector(),
                pod_selector: labels.selector(),
            }),
        ),
    }
}

fn ingress_rules(draft: &Draft, deny: bool) -> Vec<Rule<IngressPeer>> {
    let mut rules = accepts(draft, |peers| {
        peers
            .iter()
            .filter_map(|peer| match peer {
                Peer::Pods(pods) => Some(match pods_peer(pods) {
                    (Some(namespaces), _) => IngressPeer::Namespaces(namespaces),
                    (_, Some(pods)) => IngressPeer::Pods(pods),
                    (None, None) => return None,
                }),
                Peer::Network(_) | Peer::Nodes | Peer::Domain(_) => None,
            })
            .collect()
    });
    if deny {
        rules.push(Rule {
            name: "deny-other-pods".into(),
            action: Action::Deny,
            peers: vec![IngressPeer::Namespaces(LabelSelector::default())],
            protocols: Vec::new(),
        });
    }
    rules
}

fn egress_rules(draft: &Draft, deny: bool, named: bool) -> Vec<Rule<EgressPeer>> {
    let mut rules = accepts(draft, egress_peers);
    if deny {
        let mut peers = vec![
            EgressPeer::Namespaces(LabelSelector::default()),
            EgressPeer::Networks(super::anywhere().into_iter().filter_map(network).collect()),
        ];
        if named {
            peers.push(EgressPeer::Nodes(LabelSelector::default()));
        }
        rules.push(Rule {
            name: "deny-everything-else".into(),
            action: Action::Deny,
            peers,
            protocols: Vec::new(),
        });
    }
    rules
}

fn network(peer: Peer) -> Option<Cidr> {
    match peer {
        Peer::Network(cidr) => Some(cidr),
        _ => None,
    }
}

/// The egress peers of a rule: each selector a peer, addresses and names in lists of at most
/// 25.
fn egress_peers(peers: &BTreeSet<Peer>) -> Vec<EgressPeer> {
    let mut out = Vec::new();
    let mut cidrs = Vec::new();
    let mut names = Vec::new();
    for peer in peers {
        match peer {
            Peer::Pods(pods) => out.push(match pods_peer(pods) {
                (Some(namespaces), _) => EgressPeer::Namespaces(namespaces),
                (_, Some(pods)) => EgressPeer::Pods(pods),
                (None, None) => continue,
            }),
            Peer::Nodes => out.push(EgressPeer::Nodes(LabelSelector::default())),
            Peer::Network(cidr) => cidrs.push(*cidr),
            Peer::Domain(name) => names.push(name.clone()),
        }
    }
    out.extend(
        cidrs
            .chunks(MAX_ITEMS)
            .map(|c| EgressPeer::Networks(c.to_vec())),
    );
    out.extend(
        names
            .chunks(MAX_ITEMS)
            .map(|n| EgressPeer::DomainNames(n.to_vec())),
    );
    out
}

/// The Accept rules of a draft: one per group and port set (`accept-<group>`), more where a
/// rule would hold more than 25 peers or protocols. A rule without peers, or with an empty
/// port list, would admit everything or nothing, and is never written.
fn accepts<P: Clone>(draft: &Draft, peers_of: impl Fn(&BTreeSet<Peer>) -> Vec<P>) -> Vec<Rule<P>> {
    let mut rules = Vec::new();
    for (group, by_ports) in &draft.groups {
        let mut count = 0;
        for (ports, peers) in by_ports {
            let peers = peers_of(peers);
            let protocols = match protocols(ports) {
                Some(list) => list,
                None => continue,
            };
            if peers.is_empty() {
                continue;
            }
            let protocol_chunks: Vec<Vec<Protocol>> = if protocols.is_empty() {
                vec![Vec::new()]
            } else {
                protocols
                    .chunks(MAX_ITEMS)
                    .map(<[Protocol]>::to_vec)
                    .collect()
            };
            for protocols in &protocol_chunks {
                for peers in peers.chunks(MAX_ITEMS) {
                    count += 1;
                    rules.push(Rule {
                        name: rule_name(group, count),
                        action: Action::Accept,
                        peers: peers.to_vec(),
                        protocols: protocols.clone(),
                    });
                }
            }
        }
    }
    rules
}

/// `accept-<group>`, then `accept-<group>-2` and so on; at most 100 characters.
fn rule_name(group: &str, count: usize) -> String {
    let suffix = if count == 1 {
        String::new()
    } else {
        format!("-{count}")
    };
    let room = MAX_RULE_NAME - "accept-".len() - suffix.len();
    let group: String = group.chars().take(room).collect();
    format!("accept-{group}{suffix}")
}

/// The protocols of `ports`: empty for every port; `None` for an empty port list.
fn protocols(ports: &Ports) -> Option<Vec<Protocol>> {
    match ports {
        Ports::Any => Some(Vec::new()),
        Ports::List(list) if list.is_empty() => None,
        Ports::List(list) => Some(
            list.iter()
                .filter_map(|p| {
                    let transport = match p.protocol {
                        Transported::Tcp => Transport::Tcp,
                        Transported::Udp => Transport::Udp,
                        Transported::Sctp => Transport::Sctp,
                    };
                    Protocol::new(transport, p.number, p.number)
                })
                .collect(),
        ),
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_uppercase().to_string() + chars.as_str()
    })
}

/// The blocks of `cidr` outside every block of `except`, without exceptions: what `networks`,
/// which have none, can say of an `ipBlock` with exceptions.
pub(super) fn subtract(cidr: Cidr, except: &[Cidr]) -> Vec<Cidr> {
    use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};
    let bounds = |net: IpNet| -> (u128, u128, bool) {
        match net {
            IpNet::V4(n) => (
                u32::from(n.network()).into(),
                u32::from(n.broadcast()).into(),
                true,
            ),
            IpNet::V6(n) => (n.network().into(), n.broadcast().into(), false),
        }
    };
    let (first, last, v4) = bounds(cidr.net());
    let mut ranges = vec![(first, last)];
    for hole in except {
        let (a, b, hole_v4) = bounds(hole.net());
        if hole_v4 != v4 {
            continue;
        }
        ranges = ranges
            .into_iter()
            .flat_map(|(x, y)| {
                let mut kept = Vec::new();
                if a > x {
                    kept.push((x, y.min(a - 1)));
                }
                if b < y {
                    kept.push((x.max(b + 1), y));
                }
                if b < x || a > y {
                    kept = vec![(x, y)];
                }
                kept
            })
            .collect();
    }
    let mut out = Vec::new();
    for (x, y) in ranges {
        if v4 {
            let (x, y) = (u32::try_from(x), u32::try_from(y));
            if let (Ok(x), Ok(y)) = (x, y) {
                out.extend(
                    Ipv4Subnets::new(x.into(), y.into(), 0)
                        .map(|n: Ipv4Net| Cidr::of_net(n.into())),
                );
            }
        } else {
            out.extend(
                Ipv6Subnets::new(x.into(), y.into(), 0).map(|n: Ipv6Net| Cidr::of_net(n.into())),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::cnp::settings::Priorities;

    fn part(direction: Direction, accept_only: bool, subject: PodsOf, link: usize) -> Part {
        Part {
            name: String::new(),
            subject,
            direction,
            accept_only,
            link,
            rules: Rules::Egress(Vec::new()),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            sources: BTreeSet::new(),
        }
    }

    fn pods(app: &str) -> PodsOf {
        PodsOf {
            namespaces: Labels::namespace("dynatrace"),
            pods: Some(Labels::label("app", app)),
        }
    }

    #[test]
    fn priorities_are_shared_only_where_no_connection_can_be_decided_differently() {
        let apps = PodsOf {
            namespaces: Labels::label("instance", "dk").except_namespace("dynatrace"),
            pods: None,
        };
        let anyone = PodsOf {
            namespaces: Labels::namespace("dynatrace"),
            pods: Some(Labels::label("tier", "web")),
        };
        let parts = [
            part(Direction::Egress, false, pods("a"), 0),
            part(Direction::Egress, false, pods("b"), 0),
            // Application pods never share a pod with the operator namespace's.
            part(Direction::Egress, true, apps.clone(), 0),
            // The second policy of a chain follows the first.
            part(Direction::Egress, false, pods("a"), 1),
            // Another direction never decides the same side of a connection.
            part(Direction::Ingress, false, pods("a"), 0),
            // Pods labelled tier=web may be a's and b's.
            part(Direction::Egress, false, anyone.clone(), 0),
            // Two policies that only accept agree wherever both match.
            part(Direction::Egress, true, anyone, 0),
            part(Direction::Egress, true, apps, 0),
        ];
        let options = |first, last| Options {
            priorities: Priorities { first, last },
            ..Options::default()
        };
        assert_eq!(
            place(&parts, &options(10, 20)),
            [10, 10, 10, 11, 10, 12, 13, 10]
        );
        // Too small a range: the caller warns and keeps the last.
        assert_eq!(place(&parts, &options(5, 6))[5], 7);
    }

    /// The priorities as the definition says, comparing each policy with every one placed.
    fn placed_by_comparing_all(parts: &[Part], first: u16) -> Vec<u16> {
        let mut placed: Vec<u16> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let mut priority = first;
            if part.link > 0 {
                priority = priority.max(placed[i - 1] + 1);
            }
            while (parts[..i].iter().zip(&placed))
                .any(|(other, &p)| p == priority && conflict(part, other))
            {
                priority += 1;
            }
            placed.push(priority);
        }
        placed
    }

    #[test]
    fn the_index_of_placed_policies_places_as_comparing_all_does() {
        // Subjects of a few labels, pinned to one value, several, excluded or absent, in
        // namespaces named or chosen by label; chains; both directions; accept-only or not.
        let mut seed: u64 = 7;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        let value = |v: u64| ["a", "b", "c"][v as usize];
        let mut parts = Vec::new();
        for _ in 0..400 {
            let mut namespaces = match next(3) {
                0 => Labels::namespace(value(next(3))),
                1 => Labels::label("team", value(next(3))),
                _ => Labels::everything(),
            };
            if next(4) == 0 {
                namespaces = namespaces.except_namespace(value(next(3)));
            }
            let pods = match next(4) {
                0 => None,
                1 => Some(Labels::label("app", value(next(3)))),
                2 => Some(Labels::label("app", value(next(3))).and("tier", value(next(3)))),
                _ => Some(Labels::of(&crate::matrix::Selector {
                    labels: BTreeMap::new(),
                    one_of: BTreeMap::from([(
                        "tier".to_string(),
                        BTreeSet::from(["a".to_string(), value(next(3)).to_string()]),
                    )]),
                })),
            };
            let direction = [Direction::Ingress, Direction::Egress][next(2) as usize];
            let link = usize::from(!parts.is_empty() && next(5) == 0);
            let direction = if link > 0 {
                parts.last().map_or(direction, |p: &Part| p.direction)
            } else {
                direction
            };
            parts.push(part(
                direction,
                next(3) == 0,
                PodsOf { namespaces, pods },
                link,
            ));
        }
        let options = Options {
            priorities: Priorities {
                first: 100,
                last: 1000,
            },
            ..Options::default()
        };
        let placed = place(&parts, &options);
        assert_eq!(placed, placed_by_comparing_all(&parts, 100));
        let shared = placed.iter().filter(|&&p| p == 100).count();
        assert!(shared > 20 && placed.iter().any(|&p| p > 105), "{placed:?}");
    }

    #[test]
    fn networks_without_exceptions_cover_the_block_less_its_holes() {
        let cidr = |s: &str| Cidr::parse(s).unwrap();
        let blocks: Vec<String> =
            subtract(cidr("10.0.0.0/8"), &[cidr("10.128.0.0/9"), cidr("::/0")])
                .iter()
                .map(ToString::to_string)
                .collect();
        assert_eq!(blocks, ["10.0.0.0/9"]);
        let blocks = subtract(
            cidr("0.0.0.0/0"),
            &[cidr("10.0.0.0/8"), cidr("192.168.0.0/16")],
        );
        let set = |nets: &[Cidr]| {
            nets.iter()
                .fold(crate::evaluate::sets::AddressSet::empty(), |s, n| {
                    s.union(&crate::evaluate::sets::AddressSet::net(&n.net()))
                })
        };
        let expected = set(&[cidr("0.0.0.0/0")])
            .difference(&set(&[cidr("10.0.0.0/8"), cidr("192.168.0.0/16")]));
        assert_eq!(set(&blocks), expected);
        assert_eq!(subtract(cidr("10.0.0.0/8"), &[cidr("0.0.0.0/0")]), []);
    }
}
