//! `explain` from the bytes of pretty-printed JSON inputs: the first question on a large dump
//! reads the items it needs alone, without an index.
//!
//! A kept index answers from the second question on; the first reads the dump whole, 0.8 s for
//! 150,000 pods, nearly all of it spent on items the question does not need. Most dumps are
//! printed as `kubectl get -o json` prints them, and that printing tells where each item and
//! each of its members is without reading them: every member and element is on a line of its
//! own, indented one unit deeper than what holds it, and no line holds a line break of a string
//! (JSON escapes them). So an item of the list's `items` opens with a line `{` two units deep
//! and closes with a line `}` as deep, its members are the lines three units deep and its
//! metadata's the lines four units deep within its `metadata`. Finding those lines takes one
//! pass over the bytes of the dump, a few tens of milliseconds at that size, and reading the
//! kind, name and namespace of each item there a few more.
//!
//! The items picked are those a kept index picks (see the parent module), with more where
//! bytes cannot tell: every object that is no pod, node or namespace (Services, Endpoints,
//! ConfigMaps: few, and read as a dump of them all reads them); every object whose text holds
//! an address the question names (the address, as it ends a JSON string; an IPv6 address may
//! be written in several ways, so a question naming one is not answered here); every
//! ClusterNetworkPolicy whose subject's namespace selector may select a namespace of the
//! question's pods (its pod selector is not looked at). They are read with the readers that read the whole inputs, into a cluster and policies of their
//! own, and the answer is the one the whole inputs give (the test
//! `kept_answers_are_those_of_the_whole_inputs` asks every kind of question all three ways).
//!
//! What is not read is not checked: an item the API server would refuse among those not read
//! goes unnoticed here, where reading the inputs whole refuses them (without a cache directory
//! `explain` reads them whole each time). Anything unexpected on the way (a line out of place,
//! an item without a kind, a name with an escape, a policy file's object that is no policy, a
//! read that fails) gives no answer, and the inputs are read whole; so does a policy file that
//! is not laid out so, whose objects are all read instead.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use memchr::memmem::Finder;
use serde::Deserialize;

use super::{ExplainFiles, Picked, Wanted, items_of, picked_as};
use crate::error::Result;
use crate::evaluate::cilium_tier::DNS_PODS;
use crate::evaluate::labels::{Interner, LabelSet, Selector};
use crate::evaluate::read::NODE_LOCAL_DNS;
use crate::evaluate::read::{PolicyKind, policy_kind};
use crate::evaluate::{
    Explanation, Index, NAMESPACE_NAME_LABEL, NetworkPlugin, Options, PolicyFiles,
};
use crate::source::Limits;

/// How much of a file one pass reads at a time.
const CHUNK: u64 = 1 << 20;

/// How far past its part a pass reads, for the item and the address that cross into the next
/// part (a longer item is read again alone).
const OVERLAP: u64 = 16 << 10;

/// How far before its part a pass reads, for what must precede an item's first line.
const BEFORE: u64 = 64;

/// The answer to `question` from the items of the inputs of `files` it needs, found by their
/// bytes; `None` where the inputs are not laid out as this module expects, the dump is smaller
/// than `from_bytes`, or anything fails on the way (the inputs are then read whole).
pub(super) fn answer(
    files: &ExplainFiles<'_>,
    question: [&str; 3],
    from_bytes: u64,
) -> Option<Result<Explanation>> {
    let wanted = Wanted::of([question[0], question[1]]);
    if wanted.ips.iter().any(IpAddr::is_ipv6) {
        return None;
    }
    let limits = &files.limits;
    // The policies a question needs depend on the namespaces of its pods: the policy files
    // are gone through once the dump's pass has found them.
    let dump = Scanned::dump(files.pods, &wanted, limits, from_bytes)?;
    let picks = dump.picks(files.pods, &wanted, limits)?;
    let (policies, cilium) = picked_policies(files, &picks.near)?;
    let network_plugin = match (files.options.network_plugin, cilium) {
        (plugin, false) | (plugin @ Some(NetworkPlugin::Cilium), true) => plugin,
        (None, true) => Some(NetworkPlugin::Cilium),
        // Refused by the whole inputs, whose error is the one given.
        (Some(_), true) => return None,
    };
    let text = items_of(files.pods, &picks.places, limits)?;
    let cluster = crate::evaluate::read_cluster(files.pods, &text, limits).ok()?;
    let options = Options {
        network_plugin,
        ..files.options
    };
    let mut index = Index::with_options(cluster, &policies, options).ok()?;
    index.set_nodes_listed(picks.nodes_listed);
    Some(crate::evaluate::explain(
        &index,
        question[0],
        question[1],
        question[2],
    ))
}

/// How a pretty-printed JSON `List` is laid out: the lines that open, close and name its items
/// and their members, for one unit of indentation.
struct Layout {
    /// Two units: where an item's first line (`{`) and last line (`}`) start.
    item_indent: usize,
    /// A line opening an item: a line break, two units, `{` and the next line break.
    open: Finder<'static>,
    /// What ends right before every item's opening line but the first: the last line of the
    /// item before, then a comma.
    after_item: Vec<u8>,
    /// What ends right before the first item's opening line: the line opening the list.
    items_key: Vec<u8>,
    /// The lines that close the last item and the list.
    close: Finder<'static>,
    kind: Finder<'static>,
    api_version: Finder<'static>,
    metadata: Finder<'static>,
    metadata_close: Finder<'static>,
    name: Finder<'static>,
    namespace: Finder<'static>,
}

impl Layout {
    /// The layout of the text that begins with `head`: an object whose first member's line is
    /// indented by one to eight spaces or tabs, one unit; `None` for anything else.
    fn of(head: &[u8]) -> Option<Layout> {
        let rest = head.strip_prefix(b"{\n")?;
        let unit_len = rest
            .iter()
            .take_while(|&&b| b == b' ')
            .count()
            .max(rest.iter().take_while(|&&b| b == b'\t').count());
        if !(1..=8).contains(&unit_len) || rest.get(unit_len) != Some(&b'"') {
            return None;
        }
        let unit = std::str::from_utf8(&rest[..unit_len]).ok()?;
        let at = |depth: usize| unit.repeat(depth);
        let finder = |text: String| Finder::new(text.as_bytes()).into_owned();
        let (one, two, three, four) = (at(1), at(2), at(3), at(4));
        Some(Layout {
            item_indent: two.len(),
            open: finder(format!("\n{two}{{\n")),
            after_item: format!("\n{two}}},").into_bytes(),
            items_key: format!("\n{one}\"items\": [").into_bytes(),
            close: finder(format!("\n{two}}}\n{one}]")),
            kind: finder(format!("\n{three}\"kind\": \"")),
            api_version: finder(format!("\n{three}\"apiVersion\": \"")),
            metadata: finder(format!("\n{three}\"metadata\": {{\n")),
            metadata_close: finder(format!("\n{three}}}")),
            name: finder(format!("\n{four}\"name\": \"")),
            namespace: finder(format!("\n{four}\"namespace\": \"")),
        })
    }

    /// The kind, API version, name, namespace and metadata of the item `item` (its text from
    /// `{` on); `None` where one is not where the layout puts it or holds an escape.
    fn head<'a>(&self, item: &'a [u8]) -> Option<ItemHead<'a>> {
        // As `kubectl` prints them (its members in the order of their names), the first lines
        // are those sought first, found where they are without searching.
        let (api_version, next) = string_at(item, &self.api_version, 1)?;
        let (kind, next) = string_at(item, &self.kind, next)?;
        let opened = find_at(item, &self.metadata, next)?;
        let from = opened + self.metadata.needle().len() - 1;
        let closed = from + self.metadata_close.find(&item[from..])?;
        let metadata = &item[from..closed];
        Some(ItemHead {
            item,
            kind,
            api_version,
            name: string_at(metadata, &self.name, 0).map_or("", |(name, _)| name),
            namespace: string_at(metadata, &self.namespace, 0).map(|(namespace, _)| namespace),
            metadata,
        })
    }
}

/// Where `finder` first matches in `text`: at `hint` when it matches there and nowhere
/// before (the lines before `hint` are no member's of this depth), else where it is found.
fn find_at(text: &[u8], finder: &Finder<'_>, hint: usize) -> Option<usize> {
    if (text.get(hint..)).is_some_and(|rest| rest.starts_with(finder.needle())) {
        Some(hint)
    } else {
        finder.find(text)
    }
}

/// The string that follows `finder`'s first match in `text` (see [`find_at`]) up to its
/// closing quote, and where the next line would start after it (past the quote and a
/// comma); `None` where there is no match, no closing quote on the line, or an escape.
fn string_at<'a>(text: &'a [u8], finder: &Finder<'_>, hint: usize) -> Option<(&'a str, usize)> {
    let start = find_at(text, finder, hint)? + finder.needle().len();
    let rest = &text[start..];
    let end = memchr::memchr3(b'"', b'\\', b'\n', rest)?;
    let value = (rest[end] == b'"').then(|| std::str::from_utf8(&rest[..end]).ok())??;
    Some((value, start + end + 2))
}

/// The input file `name`, its length, and its layout (`None` where it is laid out otherwise);
/// `None` for standard input, a file larger than `limits` allow, or one that cannot be read.
fn open_laid_out(name: &str, limits: &Limits) -> Option<(std::fs::File, u64, Option<Layout>)> {
    if name == super::STDIN {
        return None;
    }
    let (file, length) = crate::source::open_file(name, Path::new(name)).ok()?;
    if length > limits.max_bytes as u64 {
        return None;
    }
    let mut head = vec![0; usize::try_from(length.min(64)).ok()?];
    super::read_at(&file, &mut head, 0)?;
    let layout = Layout::of(&head);
    Some((file, length, layout))
}

/// What the layout says of an item without reading it.
struct ItemHead<'a> {
    /// Its text.
    item: &'a [u8],
    kind: &'a str,
    api_version: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
    /// The lines of its metadata.
    metadata: &'a [u8],
}

/// What a pass over a file found: the items kept (with what was kept of each), where every
/// item opens (for finding the item at a place), and the places of the text sought.
struct Scan<T> {
    items: Vec<(Range<u64>, T)>,
    /// Every item's place, in order.
    places: Vec<Range<u64>>,
    /// The places where the text sought ends.
    hits: Vec<u64>,
}

/// What one part of a pass found: where each item opening in it starts, which of them follow
/// the line that opens the list (rather than an item), what was kept of them (by their number
/// in the part) and which ran past what the part read, and the places of the text sought.
struct Part<T> {
    start: u64,
    opened: Vec<u64>,
    open_list: Vec<usize>,
    kept: Vec<(usize, T)>,
    spilled: Vec<usize>,
    hits: Vec<u64>,
}

/// What a pass keeps of an item, from what the layout says of it (`None`: nothing).
type Keep<'a, T> = dyn Fn(&ItemHead<'_>) -> Option<T> + Sync + 'a;

/// One pass over the file `file` (of `length` bytes) laid out as `layout`, on a few threads:
/// every item is handed to `keep` with what the layout says of it (an item of which it says
/// nothing fails the pass), and every place where one of `sought` ends is noted.
fn scan<T: Send>(
    file: &std::fs::File,
    length: u64,
    layout: &Layout,
    sought: &[Finder<'_>],
    keep: &Keep<'_, T>,
) -> Option<Scan<T>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4)) as u64;
    // Each thread takes the parts in turn.
    let found: Vec<Option<Vec<Part<T>>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || {
                    let mut parts = Vec::new();
                    let mut buffer = Vec::new();
                    let mut start = thread * CHUNK;
                    while start < length {
                        let part = start..(start + CHUNK).min(length);
                        let pass = (layout, sought, keep);
                        parts.push(scan_part(file, length, part, pass, &mut buffer)?);
                        start += threads * CHUNK;
                    }
                    Some(parts)
                })
            })
            .collect();
        (workers.into_iter())
            .map(|worker| (worker.join()).unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut parts = Vec::new();
    for thread in found {
        parts.extend(thread?);
    }
    parts.sort_unstable_by_key(|part| part.start);
    let (mut opened, mut hits, mut kept, mut spilled) = (vec![], vec![], vec![], vec![]);
    let mut open_list = Vec::new();
    for part in parts {
        let base = opened.len();
        open_list.extend(part.open_list.iter().map(|n| base + n));
        opened.extend(part.opened);
        hits.extend(part.hits);
        kept.extend(
            part.kept
                .into_iter()
                .map(|(n, kept)| (base + n, Some(kept))),
        );
        spilled.extend(part.spilled.into_iter().map(|n| (base + n, None)));
    }
    // Only the first item follows the list's opening; every other follows an item.
    if open_list != [0] {
        return None;
    }
    let end = list_end(file, length, *opened.last()?, layout)?;
    let indent = layout.item_indent as u64 + 1;
    let places: Vec<Range<u64>> = (opened.iter().enumerate())
        .map(|(n, at)| at + indent..opened.get(n + 1).map_or(end, |next| next - 1))
        .collect();
    // Items longer than a part reaches are read alone.
    let mut bytes = Vec::new();
    for (n, kept) in &mut spilled {
        let at = &places[*n];
        bytes.resize(usize::try_from(at.end - at.start).ok()?, 0);
        super::read_at(file, &mut bytes, at.start)?;
        *kept = keep(&layout.head(&bytes)?);
    }
    kept.extend(spilled);
    kept.sort_unstable_by_key(|(n, _)| *n);
    let items = (kept.into_iter())
        .filter_map(|(n, kept)| Some((places[n].clone(), kept?)))
        .collect();
    Some(Scan {
        items,
        places,
        hits,
    })
}

/// The end of the list's last item, which opens at `last`: right after the `}` of the lines
/// that close it and the list.
fn list_end(file: &std::fs::File, length: u64, last: u64, layout: &Layout) -> Option<u64> {
    let mut bytes = Vec::new();
    let mut size = OVERLAP;
    loop {
        let end = (last + size).min(length);
        bytes.resize(usize::try_from(end - last).ok()?, 0);
        super::read_at(file, &mut bytes, last)?;
        // Past the opening line: the item's own lines are deeper than the closing ones.
        if let Some(at) = layout.close.find(&bytes[1..]) {
            return Some(last + 1 + at as u64 + layout.item_indent as u64 + 2);
        }
        if end == length {
            return None;
        }
        size *= 4;
    }
}

/// One part of a pass (see [`scan`]): reads `part` of the file with a little before and
/// after it into `buffer`, and finds the items opening in it and the places where what is
/// sought ends in it. `None` where reading fails, an item says nothing, or an opening line
/// follows neither an item nor the list's opening.
fn scan_part<T>(
    file: &std::fs::File,
    length: u64,
    part: Range<u64>,
    (layout, sought, keep): (&Layout, &[Finder<'_>], &Keep<'_, T>),
    buffer: &mut Vec<u8>,
) -> Option<Part<T>> {
    let from = part.start.saturating_sub(BEFORE);
    let to = (part.end + OVERLAP).min(length);
    buffer.resize(usize::try_from(to - from).ok()?, 0);
    super::read_at(file, buffer, from)?;
    let text = &buffer[..];
    let local = |at: u64| usize::try_from(at - from).ok();
    let own = local(part.start)?..local(part.end)?;
    let mut found = Part {
        start: part.start,
        opened: Vec::new(),
        open_list: Vec::new(),
        kept: Vec::new(),
        spilled: Vec::new(),
        hits: Vec::new(),
    };
    for finder in sought {
        let ends = finder.find_iter(text).map(|at| at + finder.needle().len());
        let ends = ends.filter(|end| *end > own.start && *end <= own.end);
        found.hits.extend(ends.map(|end| from + end as u64));
    }
    let mut openings = (layout.open.find_iter(text))
        .skip_while(|at| *at < own.start)
        .peekable();
    while let Some(at) = openings.next().filter(|at| own.contains(at)) {
        let n = found.opened.len();
        let before = &text[..at];
        if before.ends_with(&layout.items_key) {
            found.open_list.push(n);
        } else if !before.ends_with(&layout.after_item) {
            return None;
        }
        found.opened.push(from + at as u64);
        let item_start = at + 1 + layout.item_indent;
        // The last item of the file, or one longer than was read, is read alone.
        match openings.peek() {
            Some(&next) => {
                if let Some(kept) = keep(&layout.head(&text[item_start..next - 1])?) {
                    found.kept.push((n, kept));
                }
            }
            None => found.spilled.push(n),
        }
    }
    Some(found)
}

/// What a dump's pass keeps of an item.
enum DumpEntry {
    /// A pod the question names, or one of the cluster DNS or a node-local DNS cache.
    Pod {
        dns: bool,
    },
    Node(String),
    Namespace(String),
    /// Any other object.
    Other,
}

/// The lines of the labels that make a pod one of the cluster DNS's or a node-local DNS
/// cache, as the readers take them, as they are printed.
fn dns_labels() -> Vec<String> {
    let dns = DNS_PODS.iter().map(|&(key, value, _)| (key, value));
    (dns.chain([NODE_LOCAL_DNS]))
        .map(|(key, value)| format!("\"{key}\": \"{value}\""))
        .collect()
}

/// A dump's pass.
struct Scanned {
    scan: Scan<DumpEntry>,
}

impl Scanned {
    /// The pass over the dump `name`, when it is a file of `from_bytes` or more laid out as
    /// this module expects: the pods `wanted` names and the cluster DNS's, the nodes, the
    /// namespaces and every other object, and the places of the addresses it names.
    fn dump(name: &str, wanted: &Wanted<'_>, limits: &Limits, from_bytes: u64) -> Option<Scanned> {
        let (file, length, layout) = open_laid_out(name, limits)?;
        let layout = layout.filter(|_| length >= from_bytes)?;
        let labels = dns_labels();
        let labels: Vec<Finder<'_>> = labels.iter().map(Finder::new).collect();
        let any_dns = Finder::new("dns");
        let keep = |head: &ItemHead<'_>| match (head.kind, head.api_version) {
            ("Pod", "v1") => {
                let named = wanted.pods.iter().any(|&(namespace, name)| {
                    head.name == name && head.namespace == Some(namespace)
                });
                // Most pods have no `dns` in their metadata at all.
                let dns = any_dns.find(head.metadata).is_some()
                    && labels.iter().any(|l| l.find(head.metadata).is_some());
                (named || dns).then_some(DumpEntry::Pod { dns })
            }
            ("Node", "v1") => Some(DumpEntry::Node(head.name.to_string())),
            ("Namespace", "v1") => Some(DumpEntry::Namespace(head.name.to_string())),
            _ => Some(DumpEntry::Other),
        };
        // An address as it ends a JSON string (`10.0.0.1`, `::ffff:10.0.0.1`).
        let sought: Vec<String> = wanted.ips.iter().map(|ip| format!("{ip}\"")).collect();
        let sought: Vec<Finder<'_>> = sought.iter().map(Finder::new).collect();
        let scan = scan(&file, length, &layout, &sought, &keep)?;
        Some(Scanned { scan })
    }

    /// The places of the items of the dump `name` the question of `wanted` needs, the
    /// namespaces of its pods (whose policies it needs), and whether the dump lists any node.
    fn picks(&self, name: &str, wanted: &Wanted<'_>, limits: &Limits) -> Option<DumpPicks> {
        let mut picks = Vec::new();
        // The pods named and those that hold an address named are the question's; the cluster
        // DNS's pods are every question's.
        let mut ends = Vec::new();
        let mut dns = Vec::new();
        for (at, entry) in &self.scan.items {
            match entry {
                DumpEntry::Pod { dns: true } => dns.push(at.clone()),
                DumpEntry::Pod { dns: false } => ends.push(at.clone()),
                DumpEntry::Other => picks.push(at.clone()),
                DumpEntry::Node(_) | DumpEntry::Namespace(_) => {}
            }
        }
        for hit in &self.scan.hits {
            let places = &self.scan.places;
            // An address outside every item (in the list's own fields) is no end's.
            let item = places.partition_point(|at| at.start < *hit).checked_sub(1);
            if let Some(at) = item.map(|item| &places[item])
                && at.contains(hit)
            {
                ends.push(at.clone());
            }
        }
        ends.sort_by_key(|at| at.start);
        ends.dedup();
        let (mut namespaces, mut near, mut nodes) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
        for (places, question) in [(&ends, true), (&dns, false)] {
            for peek in peeks(name, places, limits)? {
                let Some(namespace) = peek.metadata.namespace else {
                    continue;
                };
                if question {
                    near.insert(namespace.clone());
                }
                namespaces.insert(namespace);
                nodes.extend(peek.spec.and_then(|spec| spec.node_name));
            }
            picks.extend(places.iter().cloned());
        }
        nodes.extend(wanted.nodes.iter().map(ToString::to_string));
        let mut nodes_listed = false;
        let mut near_listed = Vec::new();
        for (at, entry) in &self.scan.items {
            match entry {
                DumpEntry::Node(node) => {
                    nodes_listed = true;
                    if nodes.contains(node) {
                        picks.push(at.clone());
                    }
                }
                DumpEntry::Namespace(namespace) if namespaces.contains(namespace) => {
                    picks.push(at.clone());
                    if near.contains(namespace) {
                        near_listed.push(at.clone());
                    }
                }
                _ => {}
            }
        }
        // The labels of the question's namespaces, as the index takes them: with their name's
        // label where it is missing (and only that one where the dump lists no such namespace).
        let mut labels: BTreeMap<String, Labels> = (near.into_iter())
            .map(|namespace| (namespace, Labels::new()))
            .collect();
        for peek in peeks(name, &near_listed, limits)? {
            if let Some(name) = peek.metadata.name
                && let Some(own) = labels.get_mut(&name)
            {
                own.extend(peek.metadata.labels.unwrap_or_default());
            }
        }
        for (namespace, own) in &mut labels {
            (own.entry(NAMESPACE_NAME_LABEL.to_string())).or_insert_with(|| namespace.clone());
        }
        Some(DumpPicks {
            places: picks,
            near: labels,
            nodes_listed,
        })
    }
}

/// A namespace's labels.
pub(super) type Labels = BTreeMap<String, String>;

/// The items of a dump a question needs.
struct DumpPicks {
    places: Vec<Range<u64>>,
    /// The namespaces of the question's pods (whose policies it needs), with their labels.
    near: BTreeMap<String, Labels>,
    /// Whether the dump lists any node.
    nodes_listed: bool,
}

/// What picking needs of an object of a dump: its namespace, node, and a namespace's name and
/// labels.
#[derive(Deserialize)]
struct Peek {
    #[serde(default)]
    metadata: PeekMetadata,
    #[serde(default)]
    spec: Option<PeekSpec>,
}

#[derive(Deserialize, Default)]
struct PeekMetadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: Option<Labels>,
}

#[derive(Deserialize)]
struct PeekSpec {
    #[serde(default, rename = "nodeName")]
    node_name: Option<String>,
}

/// What picking needs of the objects at `places` of the dump `name`.
fn peeks(name: &str, places: &[Range<u64>], limits: &Limits) -> Option<Vec<Peek>> {
    if places.is_empty() {
        return Some(Vec::new());
    }
    #[derive(Deserialize)]
    struct Items {
        items: Vec<Peek>,
    }
    let text = items_of(name, places, limits)?;
    serde_json::from_str::<Items>(&text)
        .ok()
        .map(|list| list.items)
}

/// What picking needs of a policy file's object, as its file's pass finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PolicyEntry {
    /// Whether the question needs it, where it is no first of its dialect.
    needed: bool,
    first_of: Option<Dialect>,
    cilium: bool,
}

/// The dialects whose first policy says that a cluster has some (see `Index::unenforced`),
/// whatever it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    NetworkPolicy,
    ClusterNetworkPolicy,
}

/// The policies of `files` the question needs, with the pods of the namespaces `near` (and
/// the first of each dialect), and whether any of those not read whole is Cilium's; `None`
/// where a file is standard input or holds an object that is no policy, or reading fails.
fn picked_policies(
    files: &ExplainFiles<'_>,
    near: &BTreeMap<String, Labels>,
) -> Option<(PolicyFiles, bool)> {
    let limits = &files.limits;
    let mut policies = PolicyFiles::default();
    let mut cilium = false;
    let mut firsts = [true; 2];
    for name in files.policies {
        let (file, length, layout) = open_laid_out(name, limits)?;
        // An object that is no policy gives no answer (`None` below): reading the inputs
        // whole counts it, or refuses it.
        let entry = |head: &ItemHead<'_>| Some(policy_entry(head, near));
        let scanned = layout.and_then(|layout| scan(&file, length, &layout, &[], &entry));
        let Some(scanned) = scanned else {
            // A single object, YAML, or another layout.
            let text = crate::source::read_file(name, Path::new(name), limits).ok()?;
            policies.extend([crate::evaluate::read_policies(name, &text, limits).ok()?]);
            continue;
        };
        let mut places = Vec::new();
        for (at, entry) in scanned.items {
            let entry = entry?;
            cilium |= entry.cilium;
            let first = (entry.first_of)
                .is_some_and(|dialect| std::mem::take(&mut firsts[dialect as usize]));
            if entry.needed || first {
                places.push(at);
            }
        }
        if !places.is_empty() {
            let text = items_of(name, &places, limits)?;
            policies.extend([crate::evaluate::read_policies(name, &text, limits).ok()?]);
        }
    }
    policies.evaluable(&files.policies.join(", ")).ok()?;
    Some((policies, cilium))
}

/// What picking needs of the policy file's object `head` introduces, for a question with the
/// pods of the namespaces `near`; `None` for an object that is no policy.
fn policy_entry(head: &ItemHead<'_>, near: &BTreeMap<String, Labels>) -> Option<PolicyEntry> {
    let picked = picked_as(head.kind, head.api_version, head.name, head.namespace);
    let (needed, first_of) = match picked {
        Picked::NetworkPolicy(namespace) => {
            (near.contains_key(namespace), Some(Dialect::NetworkPolicy))
        }
        Picked::Namespace(namespace) => (near.contains_key(namespace), None),
        Picked::ClusterPolicy(_) => {
            let subject = subject_of(head.item);
            let needed = may_select(subject.as_ref(), near);
            (needed, Some(Dialect::ClusterNetworkPolicy))
        }
        Picked::Always => (true, None),
        Picked::Never => return None,
    };
    let cilium = matches!(
        policy_kind(head.kind, head.api_version),
        Some(PolicyKind::Cilium(_))
    );
    Some(PolicyEntry {
        needed,
        first_of,
        cilium,
    })
}

/// The `subject` of the ClusterNetworkPolicy `item`; `None` where it cannot be read so.
fn subject_of(item: &[u8]) -> Option<serde_json::Value> {
    #[derive(Deserialize)]
    struct Policy {
        spec: Spec,
    }
    #[derive(Deserialize)]
    struct Spec {
        subject: serde_json::Value,
    }
    let policy: Policy = serde_json::from_slice(item).ok()?;
    Some(policy.spec.subject)
}

/// Whether a ClusterNetworkPolicy of `subject` may have pods of a namespace of `near` as
/// subject: its `namespaces`, or the `namespaceSelector` of its `pods`, may select one (its pod
/// selector is not looked at). What cannot be told so (a subject or selector the reading would
/// refuse, an operator it does not know) may.
fn may_select(subject: Option<&serde_json::Value>, near: &BTreeMap<String, Labels>) -> bool {
    let selector = subject.and_then(|subject| {
        let subject = subject.as_object()?;
        match (subject.get("namespaces"), subject.get("pods")) {
            (Some(namespaces), None) if subject.len() == 1 => Some(namespaces),
            (None, Some(pods)) if subject.len() == 1 => pods.get("namespaceSelector"),
            _ => None,
        }
    });
    let Some(selector) = selector else {
        return true;
    };
    near.values()
        .any(|labels| selects(selector, labels).unwrap_or(true))
}

/// Whether the label selector `selector` selects `labels`, as the evaluator's compiled
/// selectors do; `None` for a selector that is none or that reading would refuse.
pub(super) fn selects(selector: &serde_json::Value, labels: &Labels) -> Option<bool> {
    let selector: LabelSelector = serde_json::from_value(selector.clone()).ok()?;
    let mut interner = Interner::default();
    let at = crate::error::Location::new("", None, "");
    let compiled = Selector::compile(&mut interner, &selector, &at).ok()?;
    Some(compiled.matches(&LabelSet::new(&mut interner, labels)))
}
