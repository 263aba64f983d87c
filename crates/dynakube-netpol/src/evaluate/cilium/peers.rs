//! Compiling the allow and deny rules of a policy: their peers, ports and DNS rules, with the
//! checks of `IngressRule.sanitize`, `EgressRule.sanitize`, `PortRule.sanitize` and
//! `L7Rules.sanitize` (`pkg/policy/api/rule_validation.go`) and the schema's `oneOf`s and
//! bounds.
//!
//! A few fields need more than a policy. `toServices` needs the cluster's Services: the rule
//! keeps the items, and the peers they name are added once the cluster is known
//! ([`super::services`]); so do the items of CIDR sets that name CiliumCIDRGroups
//! ([`super::cidr_groups`]). `fromGroups`/`toGroups` (a cloud provider's security groups) are
//! refused with an error naming the field instead of guessed; so are `fromRequires`/`toRequires`
//! in deny rules, whose meaning the documentation does not give.

use super::cidr_groups::{GroupRef, Groups};
use super::compile::{Completion, Context, Peer, PeerRule, Peers, PortItem, Ports, peer_selector};
use super::fqdn::Fqdn;
use super::labels::Selector;
use super::ports::{PortMatch, PortSpec, Protocols};
use super::raw::{self, AuthenticationMode, Entity, IntOrString};
use crate::error::{Error, Location};
use crate::evaluate::sets::AddressSet;

/// The most ports one `toPorts` item and the most fields one `icmps` item may list.
const MAX_ITEMS: usize = 40;

/// The peer fields of one rule, whatever its direction.
#[derive(Default)]
struct Fields<'a> {
    /// `fromEndpoints` or `toEndpoints`.
    endpoints: &'a [raw::Selector],
    /// `fromCIDR` or `toCIDR`.
    cidr: &'a [String],
    /// `fromCIDRSet` or `toCIDRSet`.
    cidr_set: &'a [raw::CidrRule],
    /// `fromEntities` or `toEntities`.
    entities: &'a [Entity],
    /// `fromNodes` or `toNodes`.
    nodes: &'a [raw::Selector],
    /// `toFQDNs`.
    fqdns: &'a [raw::FqdnSelector],
    /// Whether `fromGroups`/`toGroups` is set.
    groups: bool,
    /// `toServices`.
    services: &'a [raw::Service],
    /// `fromRequires` or `toRequires`.
    requires: &'a [raw::Selector],
}

/// `from` or `to`, the prefix of the peer fields of a direction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    From,
    To,
}

impl Side {
    fn field(self, name: &str) -> String {
        match self {
            Side::From => format!("from{name}"),
            Side::To => format!("to{name}"),
        }
    }
}

fn slice<T>(list: Option<&Vec<T>>) -> &[T] {
    list.map_or(&[], Vec::as_slice)
}

/// Compiles an item of `ingress`, with its `fromRequires`.
pub(super) fn ingress(
    context: &Context<'_>,
    completion: &Completion<'_>,
    raw: &raw::Ingress,
    host: bool,
    location: &Location,
    index: usize,
) -> Result<(PeerRule, Vec<Selector>), Error> {
    let fields = Fields {
        endpoints: slice(raw.from_endpoints.as_ref()),
        cidr: slice(raw.from_cidr.as_ref()),
        cidr_set: slice(raw.from_cidr_set.as_ref()),
        entities: slice(raw.from_entities.as_ref()),
        nodes: slice(raw.from_nodes.as_ref()),
        groups: raw.from_groups.as_ref().is_some_and(|g| !g.is_empty()),
        requires: slice(raw.from_requires.as_ref()),
        ..Fields::default()
    };
    let to_ports = slice(raw.to_ports.as_ref());
    let ports = allow_ports(
        to_ports,
        slice(raw.icmps.as_ref()),
        Direction::Ingress,
        host,
        location,
    )?;
    let Compiled {
        peers,
        requires,
        groups,
    } = peers(
        context,
        completion,
        &fields,
        Side::From,
        !to_ports.is_empty() || !slice(raw.icmps.as_ref()).is_empty(),
        location,
    )?;
    Ok((
        PeerRule {
            index,
            peers,
            ports,
            never_authenticated: fails(raw.authentication.as_ref()),
            sets_authentication: succeeds(raw.authentication.as_ref()),
            services: Vec::new(),
            cidr_groups: groups,
        },
        requires,
    ))
}

/// Compiles an item of `egress`, with its `toRequires`.
pub(super) fn egress(
    context: &Context<'_>,
    completion: &Completion<'_>,
    raw: &raw::Egress,
    host: bool,
    location: &Location,
    index: usize,
) -> Result<(PeerRule, Vec<Selector>), Error> {
    let fields = Fields {
        endpoints: slice(raw.to_endpoints.as_ref()),
        cidr: slice(raw.to_cidr.as_ref()),
        cidr_set: slice(raw.to_cidr_set.as_ref()),
        entities: slice(raw.to_entities.as_ref()),
        nodes: slice(raw.to_nodes.as_ref()),
        fqdns: slice(raw.to_fqdns.as_ref()),
        groups: raw.to_groups.as_ref().is_some_and(|g| !g.is_empty()),
        services: slice(raw.to_services.as_ref()),
        requires: slice(raw.to_requires.as_ref()),
    };
    // `toServices` with `toPorts` is accepted (the agent since 1.17, `l3DependentL4Support`).
    let to_ports = slice(raw.to_ports.as_ref());
    let ports = allow_ports(
        to_ports,
        slice(raw.icmps.as_ref()),
        Direction::Egress,
        host,
        location,
    )?;
    let Compiled {
        peers,
        requires,
        groups,
    } = peers(
        context,
        completion,
        &fields,
        Side::To,
        !to_ports.is_empty() || !slice(raw.icmps.as_ref()).is_empty(),
        location,
    )?;
    Ok((
        PeerRule {
            index,
            peers,
            ports,
            never_authenticated: fails(raw.authentication.as_ref()),
            sets_authentication: succeeds(raw.authentication.as_ref()),
            services: super::services::compile(fields.services, location)?,
            cidr_groups: groups,
        },
        requires,
    ))
}

/// Compiles an item of `ingressDeny`.
pub(super) fn ingress_deny(
    context: &Context<'_>,
    completion: &Completion<'_>,
    raw: &raw::IngressDeny,
    location: &Location,
    index: usize,
) -> Result<PeerRule, Error> {
    let fields = Fields {
        endpoints: slice(raw.from_endpoints.as_ref()),
        cidr: slice(raw.from_cidr.as_ref()),
        cidr_set: slice(raw.from_cidr_set.as_ref()),
        entities: slice(raw.from_entities.as_ref()),
        nodes: slice(raw.from_nodes.as_ref()),
        groups: raw.from_groups.as_ref().is_some_and(|g| !g.is_empty()),
        requires: slice(raw.from_requires.as_ref()),
        ..Fields::default()
    };
    deny(
        context,
        completion,
        &fields,
        raw.to_ports.as_ref(),
        raw.icmps.as_ref(),
        Side::From,
        location,
        index,
    )
}

/// Compiles an item of `egressDeny`.
pub(super) fn egress_deny(
    context: &Context<'_>,
    completion: &Completion<'_>,
    raw: &raw::EgressDeny,
    location: &Location,
    index: usize,
) -> Result<PeerRule, Error> {
    let fields = Fields {
        endpoints: slice(raw.to_endpoints.as_ref()),
        cidr: slice(raw.to_cidr.as_ref()),
        cidr_set: slice(raw.to_cidr_set.as_ref()),
        entities: slice(raw.to_entities.as_ref()),
        nodes: slice(raw.to_nodes.as_ref()),
        groups: raw.to_groups.as_ref().is_some_and(|g| !g.is_empty()),
        // Read, but the agent translates the `toServices` of `egress` rules only: here they
        // name no peer.
        services: slice(raw.to_services.as_ref()),
        requires: slice(raw.to_requires.as_ref()),
        ..Fields::default()
    };
    deny(
        context,
        completion,
        &fields,
        raw.to_ports.as_ref(),
        raw.icmps.as_ref(),
        Side::To,
        location,
        index,
    )
}

/// A deny rule of either direction.
#[allow(clippy::too_many_arguments)]
fn deny(
    context: &Context<'_>,
    completion: &Completion<'_>,
    fields: &Fields<'_>,
    to_ports: Option<&Vec<raw::PortDenyRule>>,
    icmps: Option<&Vec<raw::IcmpRule>>,
    side: Side,
    location: &Location,
    index: usize,
) -> Result<PeerRule, Error> {
    if !fields.requires.is_empty() {
        return Err(Error::invalid(
            location.join(&side.field("Requires")),
            "is not evaluated in a deny rule: the Cilium documentation does not say what it means there",
        ));
    }
    let to_ports = slice(to_ports);
    let icmps = slice(icmps);
    check_icmps(icmps, !to_ports.is_empty(), location)?;
    let mut items = Vec::new();
    for (i, item) in to_ports.iter().enumerate() {
        let at = location.join(&format!("toPorts[{i}]"));
        let ports = slice(item.ports.as_ref());
        items.push(PortItem {
            ports: port_list(ports, &at)?,
            dns: None,
            l7: None,
            port_left_out: first_port_left_out(ports, &at),
        });
    }
    let ports = ports_of(items, !icmps.is_empty());
    let Compiled { peers, groups, .. } = peers(
        context,
        completion,
        fields,
        side,
        !to_ports.is_empty() || !icmps.is_empty(),
        location,
    )?;
    Ok(PeerRule {
        index,
        peers,
        ports,
        never_authenticated: false,
        sets_authentication: false,
        services: Vec::new(),
        cidr_groups: groups,
    })
}

/// Whether `authentication` requires what never succeeds.
fn fails(authentication: Option<&raw::Authentication>) -> bool {
    authentication.is_some_and(|a| a.mode == AuthenticationMode::TestAlwaysFail)
}

/// Whether `authentication` sets a mode that succeeds.
fn succeeds(authentication: Option<&raw::Authentication>) -> bool {
    authentication.is_some_and(|a| a.mode != AuthenticationMode::TestAlwaysFail)
}

/// The peers of a rule, its requirements, and the CIDR groups it names.
struct Compiled {
    peers: Peers,
    requires: Vec<Selector>,
    groups: Vec<GroupRef>,
}

/// The peers of a rule, and its requirements: one kind of peer per rule (the agent refuses
/// "Combining FromEndpoints and FromCIDR" and every other pair), and, without any peer field,
/// every peer when the rule has ports and no requirements (layer4.rst), else none.
fn peers(
    context: &Context<'_>,
    completion: &Completion<'_>,
    fields: &Fields<'_>,
    side: Side,
    has_ports: bool,
    location: &Location,
) -> Result<Compiled, Error> {
    let kinds: Vec<String> = [
        (!fields.endpoints.is_empty(), "Endpoints"),
        (!fields.cidr.is_empty(), "CIDR"),
        (!fields.cidr_set.is_empty(), "CIDRSet"),
        (!fields.entities.is_empty(), "Entities"),
        (!fields.nodes.is_empty(), "Nodes"),
        (fields.groups, "Groups"),
        (!fields.services.is_empty(), "Services"),
        (!fields.fqdns.is_empty(), "FQDNs"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| side.field(name))
    .collect();
    if let [first, second, ..] = kinds.as_slice() {
        return Err(Error::invalid(
            location.clone(),
            format!("combines `{first}` and `{second}`; Cilium accepts one kind of peer per rule"),
        ));
    }
    if fields.groups {
        return Err(Error::invalid(
            location.join(&side.field("Groups")),
            "is not evaluated: it needs a cloud provider's groups, which the evaluator does not read",
        ));
    }
    let requires = fields
        .requires
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = location.join(&format!("{}[{i}]", side.field("Requires")));
            Selector::compile(s, &at).map(|s| peer_selector(completion, s))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (list, groups) = peer_list(context, completion, fields, side, location)?;
    let peers = if !kinds.is_empty() {
        Peers::Any(list)
    } else if has_ports && requires.is_empty() {
        Peers::All
    } else {
        Peers::Nothing
    };
    Ok(Compiled {
        peers,
        requires,
        groups,
    })
}

/// The peers of the one peer field that a rule sets.
fn peer_list(
    context: &Context<'_>,
    completion: &Completion<'_>,
    fields: &Fields<'_>,
    side: Side,
    location: &Location,
) -> Result<(Vec<Peer>, Vec<GroupRef>), Error> {
    let mut list = Vec::new();
    let mut groups = Vec::new();
    for (i, selector) in fields.endpoints.iter().enumerate() {
        let at = location.join(&format!("{}[{i}]", side.field("Endpoints")));
        list.push(Peer::Endpoints(peer_selector(
            completion,
            Selector::compile(selector, &at)?,
        )));
    }
    list.extend(fields.entities.iter().map(|&e| Peer::Entities(e)));
    if !fields.nodes.is_empty() {
        let at = location.join(&side.field("Nodes"));
        if !context.options.node_selector_labels {
            // `ErrFromToNodesRequiresNodeSelectorOption`.
            return Err(Error::invalid(
                at,
                "needs Cilium's `enable-node-selector-labels` option (Helm `nodeSelectorLabels: true`), which the evaluator's options leave off",
            ));
        }
        context.node_peers.borrow_mut().get_or_insert(at);
    }
    for (i, selector) in fields.nodes.iter().enumerate() {
        let at = location.join(&format!("{}[{i}]", side.field("Nodes")));
        list.push(Peer::Nodes(Selector::compile(selector, &at)?));
    }
    let mut blocks = AddressSet::empty();
    for (i, text) in fields.cidr.iter().enumerate() {
        let at = location.join(&format!("{}[{i}]", side.field("CIDR")));
        blocks = blocks.union(&AddressSet::net(&cidr(text, &at)?));
    }
    for (i, rule) in fields.cidr_set.iter().enumerate() {
        let at = location.join(&format!("{}[{i}]", side.field("CIDRSet")));
        match cidr_rule(rule, &at)? {
            CidrItem::Block(block) => blocks = blocks.union(&block),
            CidrItem::Groups(named) => groups.push(named),
        }
    }
    if !fields.cidr.is_empty() || !fields.cidr_set.is_empty() {
        list.push(Peer::Cidrs(blocks));
    }
    if !fields.fqdns.is_empty() {
        let names = fields
            .fqdns
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let at = location.join(&format!("toFQDNs[{i}]"));
                Fqdn::compile(f.match_name.as_deref(), f.match_pattern.as_deref(), &at)
            })
            .collect::<Result<Vec<_>, _>>()?;
        list.push(Peer::Fqdns(names));
    }
    Ok((list, groups))
}

/// A CIDR of the schema's `format: cidr` (the API server's check: an address and a prefix
/// length), host bits cleared.
pub(super) fn cidr(text: &str, location: &Location) -> Result<ipnet::IpNet, Error> {
    text.parse::<ipnet::IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| {
            Error::invalid(
                location.clone(),
                format!("`{text}` is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32"),
            )
        })
}

/// An item of `fromCIDRSet`/`toCIDRSet`: exactly one of `cidr`, `cidrGroupRef` and
/// `cidrGroupSelector` (the schema's `oneOf`, and `CIDRRule.sanitize`), its exceptions each
/// holding an address of the block (`CIDRRule.sanitize`: "allow CIDR prefix ... does not
/// contain exclude CIDR prefix"; the agent checks a group's exceptions against nothing).
fn cidr_rule(rule: &raw::CidrRule, location: &Location) -> Result<CidrItem, Error> {
    let mut holes = Vec::new();
    for (i, text) in rule.except.iter().flatten().enumerate() {
        let at = location.join(&format!("except[{i}]"));
        holes.push((cidr(text, &at)?, text.as_str(), at));
    }
    let groups = match (&rule.cidr, &rule.cidr_group_ref, &rule.cidr_group_selector) {
        (Some(block), None, None) => return cidr_block(block, &holes, location),
        (None, Some(name), None) => Groups::named(name, location)?,
        (None, None, Some(selector)) => Groups::selected(selector, location)?,
        _ => {
            return Err(Error::invalid(
                location.clone(),
                "needs exactly one of cidr, cidrGroupRef and cidrGroupSelector",
            ));
        }
    };
    let except = holes.into_iter().map(|(hole, ..)| hole).collect();
    Ok(CidrItem::Groups(GroupRef { groups, except }))
}

/// The block of an item's `cidr` (`text`) less its exceptions `holes`, each of which must hold
/// an address of the block.
fn cidr_block(
    text: &str,
    holes: &[(ipnet::IpNet, &str, Location)],
    location: &Location,
) -> Result<CidrItem, Error> {
    let net = cidr(text, &location.join("cidr"))?;
    if let Some((_, hole, at)) = holes
        .iter()
        .find(|(hole, ..)| !net.contains(&hole.network()))
    {
        return Err(Error::invalid(
            at.clone(),
            format!("`{hole}` is not within the cidr {net}"),
        ));
    }
    let holes: Vec<ipnet::IpNet> = holes.iter().map(|(hole, ..)| *hole).collect();
    Ok(CidrItem::Block(AddressSet::block(&net, &holes)))
}

/// An item of a CIDR set: a block, or groups the policy names.
enum CidrItem {
    Block(AddressSet),
    Groups(super::cidr_groups::GroupRef),
}

/// Whether a rule is an ingress or an egress rule, for the checks of port rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

/// The ports of an allow rule: its `toPorts` (with their L7 rules) or its `icmps`.
fn allow_ports(
    to_ports: &[raw::PortRule],
    icmps: &[raw::IcmpRule],
    direction: Direction,
    host: bool,
    location: &Location,
) -> Result<Ports, Error> {
    check_icmps(icmps, !to_ports.is_empty(), location)?;
    let mut items = Vec::new();
    for (i, item) in to_ports.iter().enumerate() {
        let at = location.join(&format!("toPorts[{i}]"));
        items.push(port_rule(item, direction, host, &at)?);
    }
    Ok(ports_of(items, !icmps.is_empty()))
}

fn ports_of(items: Vec<PortItem>, icmp: bool) -> Ports {
    if icmp {
        Ports::Icmp
    } else if items.is_empty() {
        Ports::All
    } else {
        Ports::Items(items)
    }
}

/// The ports of a `toPorts` item, at most 40.
fn port_list(ports: &[raw::PortProtocol], location: &Location) -> Result<Vec<PortMatch>, Error> {
    if ports.len() > MAX_ITEMS {
        return Err(Error::invalid(
            location.join("ports"),
            format!(
                "lists {} ports; at most {MAX_ITEMS} are allowed",
                ports.len()
            ),
        ));
    }
    ports
        .iter()
        .enumerate()
        .map(|(i, p)| PortMatch::compile(p, &location.join(&format!("ports[{i}]"))))
        .collect()
}

/// Where the first of `ports` (of the `toPorts` item at `location`) leaves its port out.
fn first_port_left_out(ports: &[raw::PortProtocol], location: &Location) -> Option<Location> {
    (ports.iter().position(PortMatch::leaves_port_out))
        .map(|i| location.join(&format!("ports[{i}].port")))
}

/// One item of an allow rule's `toPorts`, with the checks of `PortRule.sanitize` and
/// `L7Rules.sanitize`.
fn port_rule(
    raw: &raw::PortRule,
    direction: Direction,
    host: bool,
    location: &Location,
) -> Result<PortItem, Error> {
    let ports = port_list(slice(raw.ports.as_ref()), location)?;
    let l7 = match &raw.rules {
        None => None,
        Some(rules) => Some(l7_rules(
            rules,
            &ports,
            direction,
            host,
            &location.join("rules"),
        )?),
    };
    let has_l7 = l7.as_ref().is_some_and(|(_, any)| *any);
    if let Some(names) = &raw.server_names {
        if has_l7 && raw.terminating_tls.is_none() {
            return Err(Error::invalid(
                location.join("serverNames"),
                "cannot go with L7 rules without terminatingTLS",
            ));
        }
        if let Some(i) = names.iter().position(String::is_empty) {
            return Err(Error::invalid(
                location.join(&format!("serverNames[{i}]")),
                "an empty server name is not allowed",
            ));
        }
    }
    if let Some(listener) = &raw.listener {
        let reason = if direction == Direction::Ingress {
            Some("a listener is not allowed on ingress")
        } else if has_l7 {
            Some("a listener cannot go with L7 rules")
        } else if listener.name.is_empty() || listener.envoy_config.name.is_empty() {
            Some("a listener needs a name and an envoyConfig name")
        } else if listener.priority.is_some_and(|p| !(1..=100).contains(&p)) {
            Some("priority must be from 1 to 100")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::invalid(location.join("listener"), reason));
        }
    }
    Ok(PortItem {
        ports,
        dns: l7.and_then(|(dns, _)| dns),
        l7: has_l7.then(|| location.join("rules")),
        port_left_out: first_port_left_out(slice(raw.ports.as_ref()), location),
    })
}

/// The DNS rules of `rules` (none for other L7 rules), and whether it has any L7 rule.
fn l7_rules(
    rules: &raw::L7Rules,
    ports: &[PortMatch],
    direction: Direction,
    host: bool,
    location: &Location,
) -> Result<(Option<Vec<Fqdn>>, bool), Error> {
    let kinds = [
        rules.http.is_some(),
        rules.kafka.is_some(),
        rules.dns.is_some(),
        rules.l7proto.is_some(),
    ];
    if kinds.iter().filter(|&&k| k).count() != 1 {
        return Err(Error::invalid(
            location.clone(),
            "needs exactly one of http, kafka, dns and l7proto",
        ));
    }
    let count = |list: Option<usize>| list.unwrap_or(0);
    let entries = count(rules.http.as_ref().map(Vec::len))
        + count(rules.kafka.as_ref().map(Vec::len))
        + count(rules.dns.as_ref().map(Vec::len));
    let any = entries > 0 || rules.l7.as_ref().is_some_and(|l| !l.is_empty());
    let dns_only = entries == count(rules.dns.as_ref().map(Vec::len));
    if host && entries > 0 && (direction == Direction::Ingress || !dns_only) {
        // `IngressRule.Validate`: "L7 policy is not supported on host ingress yet";
        // `EgressRule.Validate`: DNS rules only on host egress (host.rst: host policies "can
        // also have layer 7 DNS rules, but no other kinds of layer 7 rules").
        return Err(Error::invalid(
            location.clone(),
            "host policies (nodeSelector) can have L7 rules only as DNS rules on egress",
        ));
    }
    if rules.l7.is_some() && rules.l7proto.is_none() {
        return Err(Error::invalid(location.join("l7"), "needs l7proto"));
    }
    check_http_and_kafka(rules, location)?;
    let Some(dns) = &rules.dns else {
        // "L7 rules can only apply to TCP ... except for DNS rules"; "L7 rules can not be used
        // when a port is 0".
        if any {
            for port in ports {
                if port.protocols != Protocols::One(crate::matrix::Protocol::Tcp) {
                    return Err(Error::invalid(
                        location.clone(),
                        "L7 rules other than DNS rules apply to TCP ports only",
                    ));
                }
                if port.port == PortSpec::All {
                    return Err(Error::invalid(
                        location.clone(),
                        "L7 rules cannot go with port 0",
                    ));
                }
            }
        }
        return Ok((None, any));
    };
    if direction == Direction::Ingress {
        return Err(Error::invalid(
            location.join("dns"),
            "DNS rules are not allowed on ingress",
        ));
    }
    if ports.is_empty() {
        return Err(Error::invalid(
            location.join("dns"),
            "DNS rules need their ports (53)",
        ));
    }
    if !dns.is_empty()
        && ports
            .iter()
            .any(|p| p.is_range() || p.port == PortSpec::All)
    {
        return Err(Error::invalid(
            location.join("dns"),
            "DNS rules do not support port ranges or port 0",
        ));
    }
    let names = dns
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let at = location.join(&format!("dns[{i}]"));
            Fqdn::compile(f.match_name.as_deref(), f.match_pattern.as_deref(), &at)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((Some(names), any))
}

/// The schema's bounds on HTTP and Kafka rules.
fn check_http_and_kafka(rules: &raw::L7Rules, location: &Location) -> Result<(), Error> {
    for (i, http) in rules.http.iter().flatten().enumerate() {
        for (j, header) in http.header_matches.iter().flatten().enumerate() {
            if header.name.is_empty() {
                return Err(Error::invalid(
                    location.join(&format!("http[{i}].headerMatches[{j}].name")),
                    "cannot be empty",
                ));
            }
        }
    }
    for (i, kafka) in rules.kafka.iter().flatten().enumerate() {
        if kafka.topic.as_ref().is_some_and(|t| t.len() > 255) {
            return Err(Error::invalid(
                location.join(&format!("kafka[{i}].topic")),
                "is longer than 255 characters",
            ));
        }
    }
    Ok(())
}

/// The ICMP rules: not with `toPorts` ("The ICMPs block may only be present without
/// ToPorts"), at most 40 fields each, types of the schema's pattern.
fn check_icmps(
    icmps: &[raw::IcmpRule],
    with_ports: bool,
    location: &Location,
) -> Result<(), Error> {
    if !icmps.is_empty() && with_ports {
        return Err(Error::invalid(
            location.join("icmps"),
            "cannot be combined with toPorts in one rule",
        ));
    }
    for (i, rule) in icmps.iter().enumerate() {
        let fields = slice(rule.fields.as_ref());
        if fields.len() > MAX_ITEMS {
            return Err(Error::invalid(
                location.join(&format!("icmps[{i}].fields")),
                format!(
                    "lists {} types; at most {MAX_ITEMS} are allowed",
                    fields.len()
                ),
            ));
        }
        for (j, field) in fields.iter().enumerate() {
            let valid = match &field.kind {
                IntOrString::Int(n) => (0..=255).contains(n),
                IntOrString::String(s) => {
                    s.parse::<u8>().is_ok_and(|n| n.to_string() == *s)
                        || ICMP_TYPES.contains(&s.as_str())
                }
            };
            if !valid {
                return Err(Error::invalid(
                    location.join(&format!("icmps[{i}].fields[{j}].type")),
                    "is not an ICMP type (0 to 255, or a name such as EchoRequest)",
                ));
            }
        }
    }
    Ok(())
}

/// The ICMP type names of the schema's pattern, spelt as it spells them (`ExtendedEcho Reply`
/// with its space).
const ICMP_TYPES: [&str; 33] = [
    "EchoReply",
    "DestinationUnreachable",
    "Redirect",
    "Echo",
    "RouterAdvertisement",
    "RouterSelection",
    "TimeExceeded",
    "ParameterProblem",
    "Timestamp",
    "TimestampReply",
    "Photuris",
    "ExtendedEchoRequest",
    "ExtendedEcho Reply",
    "PacketTooBig",
    "EchoRequest",
    "MulticastListenerQuery",
    "MulticastListenerReport",
    "MulticastListenerDone",
    "RouterSolicitation",
    "NeighborSolicitation",
    "NeighborAdvertisement",
    "RedirectMessage",
    "RouterRenumbering",
    "ICMPNodeInformationQuery",
    "ICMPNodeInformationResponse",
    "InverseNeighborDiscoverySolicitation",
    "InverseNeighborDiscoveryAdvertisement",
    "HomeAgentAddressDiscoveryRequest",
    "HomeAgentAddressDiscoveryReply",
    "MobilePrefixSolicitation",
    "MobilePrefixAdvertisement",
    "DuplicateAddressRequestCodeSuffix",
    "DuplicateAddressConfirmationCodeSuffix",
];
