//! `explain` on large inputs, fast from the first question on.
//!
//! One connection depends on little of a cluster: its two ends (their pods, namespaces and
//! nodes), the cluster DNS (for Cilium's `toFQDNs`), kube-apiserver's addresses, the Cilium
//! agent's options (its `cilium-config`), and the policies that may have an end as subject.
//! Policies that select neither end decide neither side (NetworkPolicy: "isolation" is by the
//! policies that select a pod; ClusterNetworkPolicy: a policy applies to its `subject`;
//! Cilium: a rule applies to the endpoints its `endpointSelector` or `nodeSelector` selects).
//! Reading a dump of 150,000 pods takes a second or more; reading that little takes
//! milliseconds.
//!
//! Where the dump is laid out as `kubectl get -o json` prints it, the layout tells where each
//! item is, and the items a question needs are found by their bytes, from the first question
//! on (see [`scan`]). Otherwise the first `explain` on a large dump reads every input whole,
//! as always, answers from them, and keeps an index of them in a cache directory: where in
//! each file every item is, which pod, node or namespace it holds, which policies may have pods
//! of each namespace as subject, and the network plugin decided. The next `explain` on the
//! same files reads the index, picks the items the question needs, and reads those alone, with
//! the readers that read the whole files, into a cluster and policies of their own; the answer
//! is the one the whole inputs give, and so is a question it refuses (the test
//! `kept_answers_are_those_of_the_whole_inputs` asks every kind of question all three ways).
//!
//! The index holds no value that reaches an answer: only places in the files and what to pick.
//! It is used only when every file has the length, modification time, inode and device it had
//! when the index was written (as `make` and Git judge files unchanged), when the files are
//! the same paths with the same options and limits, and when the index is a file of this user
//! that no one else may write. An index written while a file was changing is not kept. Any
//! error on the way (a file changed anyway, a place that no longer holds its item) drops back
//! to reading the whole inputs, whose answer or error is the one given.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use foldhash::HashMap;
use serde::Deserialize;

use super::read::{PolicyKind, RawPod, StreamedDump};
use super::{Cluster, Explanation, Index, NetworkPlugin, Options, PolicyFiles, cilium};
use crate::discover::Visit;
use crate::error::Result;
use crate::source::Limits;

/// The smallest dump `explain` keeps an index of: below it, reading the dump whole takes less
/// than a few tens of milliseconds.
pub(crate) const KEEP_FROM_BYTES: u64 = 8 << 20;

/// The smallest dump whose items `explain` finds by their bytes (see [`scan`]), for the same
/// reason.
const SCAN_FROM_BYTES: u64 = 8 << 20;

/// The first line of an index: what it is, and its version, raised when its format changes or
/// what reading the inputs whole checks or makes of them does (an index vouches for the items
/// it does not read again: an index of a dump read under laxer or other rules is not used).
const HEADER: &str = "dynakube-netpol explain index 9";

/// The files `explain` reads, and where it may keep what it learns of them.
#[derive(Debug, Clone, Copy)]
pub struct ExplainFiles<'a> {
    /// The dump of namespaces, pods and nodes: one file, named as the user named it.
    pub pods: &'a str,
    /// The policy files (files, not directories), named as the user named them.
    pub policies: &'a [String],
    /// How the policies are evaluated.
    pub options: Options,
    /// Bounds on every file.
    pub limits: Limits,
    /// The directory to keep indexes of large inputs in (created when missing); `None` takes
    /// no shortcut: every input is read whole, and every item checked, each time.
    pub cache: Option<&'a Path>,
    /// What standard input held, for the one input named `-` (`None` where none is): read
    /// whole, and no index kept, since it cannot be read again.
    pub stdin: Option<&'a str>,
}

/// The name of standard input among the inputs.
const STDIN: &str = "-";

impl ExplainFiles<'_> {
    /// The text of the input `name` where it is standard input; `None` for a file.
    fn stdin_text(&self, name: &str) -> Option<Result<&str>> {
        (name == STDIN).then(|| {
            self.stdin.ok_or_else(|| crate::Error::Read {
                file: STDIN.into(),
                reason: "standard input was not given".into(),
            })
        })
    }
}

/// How an answer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// From the items an index picked.
    Kept,
    /// From the items found by their bytes.
    Scanned,
    /// From the whole inputs; `true` when an index of them was written.
    Whole(bool),
}

/// Answers whether the connection from `from` to `port` on `to` is allowed under the policies
/// of `files`, as [`super::explain`] does on an index of the whole inputs (and with its
/// errors), but, given a cache directory, from the items it needs alone where it can (see the
/// module's notes): those of a JSON dump of 8 MiB or more laid out as `kubectl` prints it,
/// found by their bytes; else those a kept index of the inputs picks (reading whole a JSON dump
/// of 8 MiB or more, with JSON policy files, keeps one).
///
/// An input named `-` is [`ExplainFiles::stdin`]'s text. Policy kinds the evaluator cannot
/// evaluate are an error: the answer would not account for them.
pub fn explain_files(
    files: &ExplainFiles<'_>,
    from: &str,
    to: &str,
    port: &str,
) -> Result<Explanation> {
    answer(files, [from, to, port], [KEEP_FROM_BYTES, SCAN_FROM_BYTES]).map(|(answer, _)| answer)
}

/// [`explain_files`] from the items of the inputs found by their bytes alone, whatever the
/// size of the dump: `None` where they are not laid out for it (see the module's notes); for
/// the fuzz target that holds these answers to those of the whole inputs.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub fn explain_scanned(
    files: &ExplainFiles<'_>,
    from: &str,
    to: &str,
    port: &str,
) -> Option<Result<Explanation>> {
    scan::answer(files, [from, to, port], 0)
}

/// [`explain_files`], keeping indexes of dumps of `keep_from` bytes or more and finding the
/// items of dumps of `scan_from` bytes or more by their bytes; with how the answer was found.
pub(crate) fn answer(
    files: &ExplainFiles<'_>,
    question: [&str; 3],
    [keep_from, scan_from]: [u64; 2],
) -> Result<(Explanation, Found)> {
    let place = (files.cache.and_then(|dir| Place::of(dir, files)))
        .filter(|place| place.stamps[0].len >= keep_from);
    if let Some(place) = &place
        && let Some(answer) = place.load().and_then(|kept| kept.answer(files, question))
    {
        return answer.map(|answer| (answer, Found::Kept));
    }
    if files.cache.is_some()
        && let Some(answer) = scan::answer(files, question, scan_from)
    {
        return answer.map(|answer| (answer, Found::Scanned));
    }
    whole(files, question, place)
}

/// What makes a file the same as when an index was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: (i64, i64),
    inode: u64,
    device: u64,
}

impl Stamp {
    /// The stamp of the regular file at `path`; `None` for anything else.
    #[cfg(unix)]
    fn of(path: &Path) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path).ok()?;
        metadata.is_file().then(|| Stamp {
            len: metadata.len(),
            modified: (metadata.mtime(), metadata.mtime_nsec()),
            inode: metadata.ino(),
            device: metadata.dev(),
        })
    }

    #[cfg(not(unix))]
    fn of(_: &Path) -> Option<Stamp> {
        None
    }

    /// Whether the file was modified within the last two seconds: a change within the same
    /// tick of a coarse clock could leave its stamp as it was.
    fn recent(&self) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(i64::MAX, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.modified.0 >= now.saturating_sub(2)
    }

    fn line(&self) -> String {
        format!(
            "file\t{}\t{}\t{}\t{}\t{}",
            self.len, self.modified.0, self.modified.1, self.inode, self.device
        )
    }
}

/// The paths of the dump and the policy files of `files`, links resolved, and their stamps;
/// `None` when one is standard input or no regular file, or its path is no UTF-8.
fn stamps(files: &ExplainFiles<'_>) -> Option<(Vec<String>, Vec<Stamp>)> {
    let names = std::iter::once(files.pods).chain(files.policies.iter().map(String::as_str));
    let mut paths = Vec::new();
    let mut stamps = Vec::new();
    for name in names {
        if name == STDIN {
            return None;
        }
        let path = std::fs::canonicalize(name).ok()?;
        stamps.push(Stamp::of(&path)?);
        paths.push(path.to_str()?.to_string());
    }
    Some((paths, stamps))
}

/// Where the index of some inputs is, and what it must say to be theirs.
#[derive(Debug)]
struct Place {
    /// The index file.
    path: PathBuf,
    /// The inputs and options, as one line.
    key: String,
    /// The stamps of the dump, then of the policy files.
    stamps: Vec<Stamp>,
}

impl Place {
    /// The place of the index of `files` in `dir`; `None` when an input is no regular file,
    /// and on systems other than Linux (where whose an index is is not checked).
    fn of(dir: &Path, files: &ExplainFiles<'_>) -> Option<Place> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let (paths, stamps) = stamps(files)?;
        let key = serde_json::to_string(&(
            HEADER,
            &paths,
            format!("{:?}", files.options),
            files.limits.max_bytes,
            files.limits.max_depth,
        ))
        .ok()?;
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&key, &mut hasher);
        let name = format!("explain-{:016x}", std::hash::Hasher::finish(&hasher));
        Some(Place {
            path: dir.join(name),
            key,
            stamps,
        })
    }

    /// The index kept here, when it is one of these inputs as they are now, and safe to use.
    fn load(&self) -> Option<Kept> {
        if !owned_alone(&self.path) {
            return None;
        }
        let text = std::fs::read_to_string(&self.path).ok()?;
        let mut rest = text.as_str();
        if next_line(&mut rest)? != HEADER
            || next_line(&mut rest)?.strip_prefix("key\t")? != self.key
        {
            return None;
        }
        for stamp in &self.stamps {
            if next_line(&mut rest)? != stamp.line() {
                return None;
            }
        }
        let plugin = next_line(&mut rest)?
            .strip_prefix("plugin\t")?
            .parse()
            .ok()?;
        let body = text.len() - rest.len();
        Some(Kept { plugin, text, body })
    }

    /// Writes `index` here, readable and writable by this user alone (to a new file, renamed
    /// into place, so that a reader never sees half of it). Failing to is no error: the next
    /// `explain` reads the inputs whole again.
    fn write(&self, plugin: NetworkPlugin, body: &str) {
        let Some(dir) = self.path.parent() else {
            return;
        };
        let mut text = format!("{HEADER}\nkey\t{}\n", self.key);
        for stamp in &self.stamps {
            text.push_str(&stamp.line());
            text.push('\n');
        }
        let _ = writeln!(text, "plugin\t{plugin}");
        text.push_str(body);
        let temporary = dir.join(format!(".explain-{}.tmp", std::process::id()));
        let written = create_private_dir(dir)
            .and_then(|()| write_private(&temporary, text.as_bytes()))
            .and_then(|()| std::fs::rename(&temporary, &self.path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
    }
}

/// Whether the file at `path` and its directory belong to this process's user and no one
/// else may write them: an index someone else could write could hide a policy.
#[cfg(target_os = "linux")]
fn owned_alone(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    let safe = |path: &Path| {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.uid() == me && m.mode() & 0o022 == 0)
    };
    safe(path) && path.parent().is_some_and(safe)
}

#[cfg(not(target_os = "linux"))]
fn owned_alone(_: &Path) -> bool {
    false
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(_: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(_: &Path, _: &[u8]) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Reads the inputs whole and answers; with `keep`, writes their index there.
fn whole(
    files: &ExplainFiles<'_>,
    [from, to, port]: [&str; 3],
    keep: Option<Place>,
) -> Result<(Explanation, Found)> {
    // The dump, by far the largest input, is read while the policies are.
    let (policies, dump) = std::thread::scope(|scope| {
        let dump = scope.spawn(|| read_dump(files, keep.is_some()));
        let policies = read_policy_files(files, keep.is_some());
        let dump = dump
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (policies, dump)
    });
    let ((policies, policy_items), (cluster, dump_items)) = (policies?, dump?);
    // The lines of the dump's items are written while the index is built.
    let (index, lines) = std::thread::scope(|scope| {
        let services = policies
            .cilium_policies
            .iter()
            .any(cilium::Policy::names_services);
        let lines = (keep.is_some())
            .then(|| scope.spawn(move || dump_items.as_deref().map(|i| item_lines(i, services))));
        let index = Index::with_options(cluster, &policies, files.options);
        let lines = lines.and_then(|lines| {
            (lines.join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (index, lines)
    });
    let index = index?;
    let answer = super::explain(&index, from, to, port);
    let kept = match (keep, lines, policy_items) {
        (Some(place), Some(lines), Some(policies)) => {
            let unchanged = stamps(files).is_some_and(|(_, now)| now == place.stamps);
            if unchanged && !place.stamps.iter().any(Stamp::recent) {
                place.write(index.network_plugin(), &body(&index, lines, &policies));
                true
            } else {
                false
            }
        }
        _ => false,
    };
    // The index of a large cluster takes a while to take apart; the answer need not wait.
    std::thread::spawn(move || drop(index));
    Ok((answer?, Found::Whole(kept)))
}

/// An item of a dump an index lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DumpItem {
    /// A pod: its namespace, name, node, addresses, and whether it serves the cluster DNS.
    Pod {
        at: Range<u64>,
        namespace: String,
        name: String,
        node: Option<String>,
        ips: Vec<IpAddr>,
        dns: bool,
    },
    /// A node: its name and addresses.
    Node {
        at: Range<u64>,
        name: String,
        ips: Vec<IpAddr>,
    },
    /// A namespace.
    Namespace { at: Range<u64>, name: String },
    /// An item every question needs (kube-apiserver's addresses, a node-local DNS cache, the
    /// Cilium agent's ConfigMap).
    Always { at: Range<u64> },
    /// A Service, EndpointSlice or Endpoints object: every question needs it where a Cilium
    /// policy names Services (`toServices`); otherwise a question that names one of a
    /// Service's cluster IPs (`ips`), which is refused.
    Service { at: Range<u64>, ips: Vec<IpAddr> },
}

/// Reads the dump of `files` (standard input's text, where it is named `-`); with `keep`,
/// also its items' places, when it streams by.
fn read_dump(files: &ExplainFiles<'_>, keep: bool) -> Result<(Cluster, Option<Vec<DumpItem>>)> {
    let (name, limits) = (files.pods, &files.limits);
    if let Some(text) = files.stdin_text(name) {
        return Ok((super::read_cluster(name, text?, limits)?, None));
    }
    let path = Path::new(name);
    if !keep {
        return Ok((super::read_cluster_file(name, path, limits)?, None));
    }
    let add: &Visit<RawPod, StreamedDump> = &|location, item, part| part.add(location, item);
    match super::read::streamed_parts(name, path, limits, add)? {
        Some(parts) => {
            let (clusters, items): (Vec<Cluster>, Vec<Vec<DumpItem>>) =
                parts.into_iter().map(StreamedDump::into_parts).unzip();
            Ok((super::read::merged(clusters), Some(items.concat())))
        }
        None => Ok((super::read::read_cluster_whole(name, path, limits)?, None)),
    }
}

/// How the index picks a policy (naming namespaces and policies by `S`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Picked<S = String> {
    /// A NetworkPolicy, for questions with an end in its namespace.
    NetworkPolicy(S),
    /// Another namespaced policy, for questions with an end in its namespace.
    Namespace(S),
    /// A ClusterNetworkPolicy, for questions with an end in a namespace whose pods it may have
    /// as subject.
    ClusterPolicy(S),
    /// Every question (a CiliumClusterwideNetworkPolicy, whose subject may be any pod or
    /// node).
    Always,
    /// No question (an object that is no policy).
    Never,
}

/// A policy, as an index lists it: its file (by number), place and how it is picked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PolicyItem {
    file: usize,
    at: Range<u64>,
    picked: Picked,
}

/// Reads the policy files of `inputs` (standard input's text for one named `-`); with `keep`,
/// also their items' places, when every file is JSON whose items can be cut out.
fn read_policy_files(
    inputs: &ExplainFiles<'_>,
    keep: bool,
) -> Result<(PolicyFiles, Option<Vec<PolicyItem>>)> {
    let (names, limits) = (inputs.policies, &inputs.limits);
    let mut files = PolicyFiles::default();
    let mut items = keep.then(Vec::new);
    for (number, name) in names.iter().enumerate() {
        let text = match inputs.stdin_text(name) {
            Some(text) => text?.to_string(),
            None => crate::source::read_file(name, Path::new(name), limits)?,
        };
        files.extend([super::read_policies(name, &text, limits)?]);
        if let Some(all) = &mut items {
            match policy_items(name, &text, limits) {
                Some(found) => all.extend(found.into_iter().map(|(at, picked)| PolicyItem {
                    file: number,
                    at,
                    picked,
                })),
                None => items = None,
            }
        }
    }
    files.evaluable(&names.join(", "))?;
    Ok((files, items))
}

/// The fields of an object that say how an index picks it.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    kind: String,
    #[serde(default, rename = "apiVersion")]
    api_version: String,
    #[serde(default)]
    metadata: HeadMetadata,
}

#[derive(Deserialize, Default)]
struct HeadMetadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

/// The policies of the JSON `text` of file `name` (one object, or a list of them), each with
/// its place and how an index picks it; `None` for other text.
fn policy_items(name: &str, text: &str, limits: &Limits) -> Option<Vec<(Range<u64>, Picked)>> {
    let places: Vec<Range<u64>> = match crate::discover::stream_objects::<RawPod, Places>(
        name,
        text.as_bytes(),
        limits,
        &|_, _, _| Ok(()),
    ) {
        Ok(parts) => parts.into_iter().flat_map(|part| part.0).collect(),
        Err(_) => {
            // One object: the text without the byte-order mark and blanks around it.
            let start = text.len()
                - text
                    .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
                    .len();
            let end = text.trim_end().len();
            if !text[start..].starts_with('{') || end <= start {
                return None;
            }
            std::iter::once(start as u64..end as u64).collect()
        }
    };
    let mut items = Vec::with_capacity(places.len());
    for at in places {
        let item = text.get(at.start as usize..at.end as usize)?;
        let head: Head = serde_json::from_str(item).ok()?;
        items.push((at, picked(&head)));
    }
    Some(items)
}

/// How an index picks the object `head` introduces (of the kinds [`super::read_policies`]
/// reads).
fn picked(head: &Head) -> Picked {
    let metadata = &head.metadata;
    let namespace = metadata.namespace.as_deref();
    match picked_as(&head.kind, &head.api_version, &metadata.name, namespace) {
        Picked::NetworkPolicy(namespace) => Picked::NetworkPolicy(namespace.to_string()),
        Picked::Namespace(namespace) => Picked::Namespace(namespace.to_string()),
        Picked::ClusterPolicy(name) => Picked::ClusterPolicy(name.to_string()),
        Picked::Always => Picked::Always,
        Picked::Never => Picked::Never,
    }
}

/// [`picked`], of an object of `kind`, `api_version`, `name` and `namespace`, naming what it
/// names by reference.
fn picked_as<'a>(
    kind: &str,
    api_version: &str,
    name: &'a str,
    namespace: Option<&'a str>,
) -> Picked<&'a str> {
    // A policy that names no namespace is read in `default`, and noted in every answer.
    let namespace = namespace.filter(|n| !n.is_empty());
    match super::read::policy_kind(kind, api_version) {
        Some(PolicyKind::NetworkPolicy) => namespace.map_or(Picked::Always, Picked::NetworkPolicy),
        Some(PolicyKind::Cilium(cilium::Kind::Namespaced)) => {
            namespace.map_or(Picked::Always, Picked::Namespace)
        }
        Some(PolicyKind::ClusterNetworkPolicy) => Picked::ClusterPolicy(name),
        Some(PolicyKind::Cilium(cilium::Kind::Clusterwide) | PolicyKind::CiliumCidrGroup) => {
            Picked::Always
        }
        None => Picked::Never,
    }
}

/// The places of the items of a list.
#[derive(Default)]
struct Places(Vec<Range<u64>>);

impl crate::discover::StreamPart for Places {
    fn item(&mut self, range: Range<u64>) {
        self.0.push(range);
    }
}

/// `at` as `start<TAB>end`.
struct Span<'a>(&'a Range<u64>);

impl fmt::Display for Span<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\t{}", self.0.start, self.0.end)
    }
}

/// Addresses as `a,b`, or `-` for none.
struct Addresses<'a>(&'a [IpAddr]);

impl fmt::Display for Addresses<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.0.split_first() else {
            return f.write_str("-");
        };
        write!(f, "{first}")?;
        rest.iter().try_for_each(|ip| write!(f, ",{ip}"))
    }
}

/// The lines of an index that a dump's `items` make alone: the items every question needs
/// (`A`; Services too where the policies name some, `services`), the cluster DNS's pods (`D`),
/// the namespaces (`S`), nodes (`N`) and otherwise the Services with cluster IPs (`V`); and
/// apart, every pod (`P`). Made while the index of the cluster is built, which the rest needs
/// ([`body`]).
fn item_lines(items: &[DumpItem], services: bool) -> (String, String) {
    let mut pods = String::new();
    let mut sections: [String; 4] = Default::default();
    for item in items {
        let _ = match item {
            DumpItem::Always { at } => writeln!(sections[0], "A\t{}", Span(at)),
            DumpItem::Service { at, .. } if services => writeln!(sections[0], "A\t{}", Span(at)),
            DumpItem::Service { ips, .. } if ips.is_empty() => Ok(()),
            DumpItem::Service { at, ips } => {
                writeln!(sections[3], "V\t{}\t{}", Span(at), Addresses(ips))
            }
            DumpItem::Namespace { at, name } => writeln!(sections[2], "S\t{}\t{name}", Span(at)),
            DumpItem::Node { at, name, ips } => {
                writeln!(sections[3], "N\t{}\t{name}\t{}", Span(at), Addresses(ips))
            }
            DumpItem::Pod {
                at,
                namespace,
                name,
                node,
                ips,
                dns,
            } => {
                let node = node.as_deref().unwrap_or("-");
                if *dns {
                    let _ = writeln!(sections[1], "D\t{}\t{namespace}\t{node}", Span(at));
                }
                writeln!(
                    pods,
                    "P\t{}\t{namespace}/{name}\t{node}\t{}",
                    Span(at),
                    Addresses(ips),
                )
            }
        };
    }
    (sections.concat(), pods)
}

/// The body of the index of a dump's items (their [`item_lines`]) and the `policies`, under
/// `index`, which holds them all, one line for each: first the items every question needs
/// (`A`), the cluster DNS's pods (`D`), the namespaces (`S`), nodes (`N`) and Services (`V`),
/// the policies (`Q`), the lists of ClusterNetworkPolicies whose subject may be pods of a
/// namespace (`L`, by the numbers of their `Q` lines) and the list of each namespace (`C`);
/// then every pod (`P`), last, where a question's pods are found by their names without
/// reading the lines of the others.
fn body(index: &Index, (head, pods): (String, String), policies: &[PolicyItem]) -> String {
    let mut text = head;
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (number, item) in policies.iter().enumerate() {
        let (kind, what) = match &item.picked {
            Picked::NetworkPolicy(namespace) => ("networkpolicy", namespace.as_str()),
            Picked::Namespace(namespace) => ("namespace", namespace.as_str()),
            Picked::ClusterPolicy(name) => {
                by_name.entry(name).or_default().push(number);
                ("cluster", name.as_str())
            }
            Picked::Always => ("always", "-"),
            Picked::Never => ("never", "-"),
        };
        let _ = writeln!(text, "Q\t{}\t{}\t{kind}\t{what}", item.file, Span(&item.at));
    }
    // The `Q` lines of each ClusterNetworkPolicy (by its position in the index), and of the
    // policies of each namespace, the same for namespaces that share their policies.
    let lines_of: Vec<&[usize]> = (index.cluster_policy_names().into_iter())
        .map(|name| by_name.get(name).map_or(&[][..], Vec::as_slice))
        .collect();
    let mut lists: BTreeMap<Vec<usize>, usize> = BTreeMap::new();
    let mut of_namespace = Vec::new();
    let mut made: HashMap<Vec<u32>, Option<usize>> = HashMap::default();
    for (namespace, policies) in index.cluster_policies_by_namespace() {
        let list = *made.entry(policies).or_insert_with_key(|policies| {
            let mut numbers: Vec<usize> = (policies.iter())
                .flat_map(|&policy| lines_of[policy as usize].iter().copied())
                .collect();
            numbers.sort_unstable();
            numbers.dedup();
            let next = lists.len();
            (!numbers.is_empty()).then(|| *lists.entry(numbers).or_insert(next))
        });
        if let Some(list) = list {
            of_namespace.push((namespace, list));
        }
    }
    let mut ordered: Vec<(&Vec<usize>, &usize)> = lists.iter().collect();
    ordered.sort_by_key(|(_, number)| **number);
    for (numbers, number) in ordered {
        let written: Vec<String> = numbers.iter().map(ToString::to_string).collect();
        let _ = writeln!(text, "L\t{number}\t{}", written.join(","));
    }
    for (namespace, list) in of_namespace {
        let _ = writeln!(text, "C\t{namespace}\t{list}");
    }
    text.push_str(&pods);
    text
}

/// A kept index of some inputs: the network plugin decided, and the text whose lines from
/// `body` on list the items.
#[derive(Debug)]
struct Kept {
    plugin: NetworkPlugin,
    text: String,
    body: usize,
}

/// The line at the start of `rest`, which then starts after it.
fn next_line<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let (line, after) = rest.split_once('\n')?;
    *rest = after;
    Some(line)
}

/// What a question names: pods (namespace and name), nodes and addresses.
#[derive(Debug, Default)]
struct Wanted<'a> {
    pods: Vec<(&'a str, &'a str)>,
    nodes: Vec<&'a str>,
    ips: Vec<IpAddr>,
}

impl<'a> Wanted<'a> {
    /// What the ends `from` and `to` name, read as [`super::explain`] reads them (what it
    /// refuses is refused there).
    fn of(ends: [&'a str; 2]) -> Wanted<'a> {
        let mut wanted = Wanted::default();
        for end in ends {
            let end = end.split_once('=').map_or(end, |(_, address)| address);
            if let Ok(ip) = end.parse::<IpAddr>() {
                wanted.ips.push(ip);
            } else if let Some((namespace, name)) = end.split_once('/') {
                wanted.pods.push((namespace, name));
                if namespace == "node" {
                    wanted.nodes.push(name);
                }
            }
        }
        wanted
    }

    /// Whether `ips` (as an index writes them) hold an address wanted.
    fn has_address(&self, ips: &str) -> bool {
        !self.ips.is_empty()
            && ips
                .split(',')
                .any(|ip| ip.parse().is_ok_and(|ip: IpAddr| self.ips.contains(&ip)))
    }
}

/// The items of the dump and the policies an index picks for a question.
#[derive(Debug, Default)]
struct Picks<'a> {
    dump: Vec<Range<u64>>,
    /// Whether the dump lists any node.
    nodes_listed: bool,
    /// By file number.
    policies: BTreeMap<usize, Vec<Range<u64>>>,
    /// The namespaces of the pods picked.
    namespaces: BTreeSet<&'a str>,
}

/// `start<TAB>end` as a place.
fn read_place(start: &str, end: &str) -> Option<Range<u64>> {
    let (start, end) = (start.parse().ok()?, end.parse().ok()?);
    (start < end).then_some(start..end)
}

impl Kept {
    /// The answer from the items this index picks for the question, or `None` where reading
    /// them fails (the whole inputs then answer). A question the index's cluster cannot answer
    /// (a pod it does not list, an address that is a pod's) is refused as the whole cluster
    /// refuses it: the index lists every pod, node and address.
    fn answer(&self, files: &ExplainFiles<'_>, question: [&str; 3]) -> Option<Result<Explanation>> {
        let picks = self.picks(&Wanted::of([question[0], question[1]]))?;
        let limits = &files.limits;
        let text = items_of(files.pods, &picks.dump, limits)?;
        let cluster = super::read_cluster(files.pods, &text, limits).ok()?;
        let mut policies = PolicyFiles::default();
        for (number, places) in &picks.policies {
            let name = files.policies.get(*number)?;
            let text = items_of(name, places, limits)?;
            policies.extend([super::read_policies(name, &text, limits).ok()?]);
        }
        let options = Options {
            network_plugin: Some(self.plugin),
            ..files.options
        };
        let mut index = Index::with_options(cluster, &policies, options).ok()?;
        // The items picked may hold no node where the dump holds some.
        index.set_nodes_listed(picks.nodes_listed);
        Some(super::explain(
            &index,
            question[0],
            question[1],
            question[2],
        ))
    }

    /// The items the question of `wanted` needs: its pods, nodes and addresses, the nodes
    /// and namespaces of its pods, the cluster DNS's pods (with theirs), the items every
    /// question needs; and the policies of the namespaces of its pods, those whose subject may
    /// be pods there, and those that may have any subject.
    fn picks<'a>(&'a self, wanted: &Wanted<'_>) -> Option<Picks<'a>> {
        let body = &self.text[self.body..];
        let split = if body.starts_with("P\t") {
            0
        } else {
            body.find("\nP\t").map_or(body.len(), |at| at + 1)
        };
        let (head, pods) = body.split_at(split);
        let (mut picks, mut pod_nodes, near) = question_pods(pods, wanted)?;
        let mut policies = Vec::new();
        let mut lists: BTreeMap<&str, &str> = BTreeMap::new();
        // One policy of each dialect whose namespaces or subjects keep it out: whether the
        // cluster enforces the dialect at all is said of the policies given (see
        // `Index::unenforced`), and one that selects neither end changes no answer.
        let mut firsts: [Option<(usize, Range<u64>)>; 2] = [None, None];
        for line in head.lines() {
            match line.as_bytes().first() {
                Some(b'A') => {
                    let [start, end] = fields(line, "A")?;
                    picks.dump.push(read_place(start, end)?);
                }
                Some(b'D') => {
                    let [start, end, namespace, node] = fields(line, "D")?;
                    picks.dump.push(read_place(start, end)?);
                    picks.namespaces.insert(namespace);
                    pod_nodes.insert(node);
                }
                Some(b'S') => {
                    let [start, end, name] = fields(line, "S")?;
                    if picks.namespaces.contains(name) {
                        picks.dump.push(read_place(start, end)?);
                    }
                }
                Some(b'V') => {
                    let [start, end, ips] = fields(line, "V")?;
                    if wanted.has_address(ips) {
                        picks.dump.push(read_place(start, end)?);
                    }
                }
                Some(b'N') => {
                    let [start, end, name, ips] = fields(line, "N")?;
                    picks.nodes_listed = true;
                    let node_of_question = wanted.nodes.contains(&name) || pod_nodes.contains(name);
                    if node_of_question || wanted.has_address(ips) {
                        picks.dump.push(read_place(start, end)?);
                    }
                }
                Some(b'Q') => {
                    policy_line(line, &near, &mut picks, &mut policies, &mut firsts)?;
                }
                Some(b'L') => {
                    let [number, list] = fields(line, "L")?;
                    lists.insert(number, list);
                }
                Some(b'C') => {
                    let [namespace, list] = fields(line, "C")?;
                    if near.contains(namespace) {
                        for number in lists.get(list)?.split(',') {
                            let (file, at) = policies.get(number.parse::<usize>().ok()?)?;
                            picks.policies.entry(*file).or_default().push(at.clone());
                        }
                    }
                }
                _ => return None,
            }
        }
        for (file, at) in firsts.into_iter().flatten() {
            picks.policies.entry(file).or_default().push(at);
        }
        Some(picks)
    }
}

/// A policy's line (`Q`) of an index: listed in `policies` (the `L` lines name policies by
/// their numbers there), picked where it is of a namespace `near` the question or may have any
/// subject, and kept in `firsts` where it is its dialect's first. `None` for a broken line.
fn policy_line(
    line: &str,
    near: &BTreeSet<&str>,
    picks: &mut Picks<'_>,
    policies: &mut Vec<(usize, Range<u64>)>,
    firsts: &mut [Option<(usize, Range<u64>)>; 2],
) -> Option<()> {
    let [file, start, end, kind, what] = fields(line, "Q")?;
    let file: usize = file.parse().ok()?;
    let pick = match kind {
        "networkpolicy" | "namespace" => near.contains(what),
        "always" => true,
        "cluster" | "never" => false,
        _ => return None,
    };
    let at = read_place(start, end)?;
    let first = match kind {
        "networkpolicy" => Some(0),
        "cluster" => Some(1),
        _ => None,
    };
    if let Some(first) = first {
        firsts[first].get_or_insert_with(|| (file, at.clone()));
    }
    if pick {
        picks.policies.entry(file).or_default().push(at.clone());
    }
    policies.push((file, at));
    Some(())
}

/// The fields of `line`, a line of kind `kind` with `N` fields after it; `None` for any
/// other line.
fn fields<'a, const N: usize>(line: &'a str, kind: &str) -> Option<[&'a str; N]> {
    let mut parts = line.split('\t');
    if parts.next()? != kind {
        return None;
    }
    let mut fields = [""; N];
    for field in &mut fields {
        *field = parts.next()?;
    }
    parts.next().is_none().then_some(fields)
}

/// The pods of the question of `wanted` among `pods` (the `P` lines of an index), with
/// their nodes and namespaces (the namespaces of the question, whose policies it needs).
fn question_pods<'a>(
    pods: &'a str,
    wanted: &Wanted<'_>,
) -> Option<(Picks<'a>, BTreeSet<&'a str>, BTreeSet<&'a str>)> {
    let mut picks = Picks::default();
    let mut nodes: BTreeSet<&str> = BTreeSet::new();
    let mut near: BTreeSet<&str> = BTreeSet::new();
    for line in candidate_lines(pods, wanted) {
        let [start, end, pod, node, ips] = fields(line, "P")?;
        let (namespace, name) = pod.split_once('/')?;
        if wanted.pods.contains(&(namespace, name)) || wanted.has_address(ips) {
            picks.dump.push(read_place(start, end)?);
            picks.namespaces.insert(namespace);
            near.insert(namespace);
            if node != "-" {
                nodes.insert(node);
            }
        }
    }
    Some((picks, nodes, near))
}

/// The lines of `pods` (the `P` lines of an index) that may be pods of a question: those
/// holding the name of a pod it names, or an address it names (as the index writes
/// addresses).
fn candidate_lines<'a>(pods: &'a str, wanted: &Wanted<'_>) -> Vec<&'a str> {
    let names = (wanted.pods.iter()).map(|(namespace, name)| format!("\t{namespace}/{name}\t"));
    let addresses = wanted.ips.iter().map(ToString::to_string);
    let mut lines = Vec::new();
    for needle in names.chain(addresses) {
        for at in memchr::memmem::find_iter(pods.as_bytes(), needle.as_bytes()) {
            let start = pods[..at].rfind('\n').map_or(0, |n| n + 1);
            let end = pods[at..].find('\n').map_or(pods.len(), |n| at + n);
            lines.push(&pods[start..end]);
        }
    }
    lines.sort_unstable_by_key(|line| line.as_ptr());
    lines.dedup_by_key(|line| line.as_ptr());
    lines
}

/// The items at `places` of file `name`, in the order of the file, as the text of a `List`;
/// `None` when one is not where it should be or the file is larger than `limits` allows.
fn items_of(name: &str, places: &[Range<u64>], limits: &Limits) -> Option<String> {
    let mut places = places.to_vec();
    places.sort_by_key(|at| at.start);
    places.dedup();
    let (file, length) = crate::source::open_file(name, Path::new(name)).ok()?;
    if length > limits.max_bytes as u64 {
        return None;
    }
    let mut text = String::from("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [");
    let mut bytes = Vec::new();
    for (i, at) in places.iter().enumerate() {
        if at.end > length || places.get(i + 1).is_some_and(|next| next.start < at.end) {
            return None;
        }
        bytes.resize(usize::try_from(at.end - at.start).ok()?, 0);
        read_at(&file, &mut bytes, at.start)?;
        let item = std::str::from_utf8(&bytes).ok()?;
        if !item.starts_with('{') || !item.ends_with('}') {
            return None;
        }
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(item);
    }
    text.push_str("]}");
    Some(text)
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, bytes: &mut [u8], offset: u64) -> Option<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, bytes, offset).ok()
}

#[cfg(not(unix))]
fn read_at(_: &std::fs::File, _: &mut [u8], _: u64) -> Option<()> {
    None
}

mod scan;

#[cfg(test)]
mod tests;
