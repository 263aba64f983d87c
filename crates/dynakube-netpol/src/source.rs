//! Reading input text: bounded, from regular files or standard input only, and YAML read as
//! Kubernetes reads it (merge keys applied, a byte-order mark accepted).
//!
//! Every reader of the library — resources, cluster profile, hosts file, policies, pods —
//! goes through [`documents`] or [`objects`], so the same bounds hold everywhere: the input
//! size and the nesting of flow collections are checked before the YAML parser runs (its work
//! grows with the square of the nesting), so that any input is parsed or refused quickly. The
//! nesting is measured per document by a scan that reads the text as the parser's scanner
//! does (brackets in quoted strings, block scalars, plain scalars and comments open nothing),
//! in time linear in the size of the text.
//!
//! # Example
//!
//! ```
//! use dynakube_netpol::source::{Limits, documents, objects};
//!
//! // `kubectl get -o yaml` prints a List; `objects` gives its items.
//! let dump = "\
//! apiVersion: v1
//! kind: List
//! items:
//! - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
//! - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop}}
//! ";
//! let items = objects("dump.yaml", dump, &Limits::default())?;
//! let kinds: Vec<&str> = items.iter().map(|o| o.kind.as_str()).collect();
//! assert_eq!(kinds, ["Namespace", "Pod"]);
//! assert_eq!(items[1].location.to_string(), "dump.yaml, document 1, field `items[1]`");
//!
//! // Documents with merge keys applied, as Kubernetes reads them.
//! let text = "base: &base {app: web}\nderived: {<<: *base, tier: front}\n---\n---\nsecond: 2\n";
//! let read = documents("values.yaml", text, &Limits::default())?;
//! assert_eq!(read.len(), 2); // the empty document is skipped
//! assert_eq!(read[0].1["derived"]["app"].as_str(), Some("web"));
//! assert_eq!(read[1].0.document, Some(3));
//!
//! // Nesting beyond the limit is refused before the YAML parser sees it; brackets in
//! // strings and comments are no nesting.
//! let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
//! assert!(documents("deep.yaml", &deep, &Limits::default()).is_err());
//! let quoted = "- '^[a-z' # [[[\n".repeat(100);
//! assert!(documents("quoted.yaml", &quoted, &Limits::default()).is_ok());
//! # Ok::<(), dynakube_netpol::Error>(())
//! ```

use std::io::Read;
use std::path::Path;

use serde_yaml::Value;

use crate::advice::{Remedy, Setting};
use crate::error::{Error, Location, Result};

mod nesting;

/// Bounds on input text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes one input may have (default 16 MiB).
    pub max_bytes: usize,
    /// The deepest nesting of flow collections (`[...]`, `{...}`) a document may have
    /// (default 64; Kubernetes objects need fewer than 20). Values above
    /// [`Limits::MAX_DEPTH`] count as that.
    pub max_depth: usize,
}

impl Limits {
    /// The deepest nesting the YAML parser itself reads: serde_norway 0.9 refuses a document
    /// with collections, flow or block, nested deeper than 128 (`remaining_depth: 128` in its
    /// `de.rs`), so a higher `max_depth` would only let the parser's quadratic work through.
    pub const MAX_DEPTH: usize = 128;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 << 20,
            max_depth: 64,
        }
    }
}

/// Reads the file at `path`, named `name` in messages: a regular file (or a link to one) of at
/// most `limits.max_bytes`. Devices, pipes, sockets and directories are refused before they
/// are read, so that `/dev/zero` or a FIFO cannot stall or exhaust the tool.
pub fn read_file(name: &str, path: &Path, limits: &Limits) -> Result<String> {
    let (file, length) = open_file(name, path)?;
    // Room for the whole file at once (a dump of a large cluster is hundreds of megabytes),
    // within the limit.
    let room = usize::try_from(length).map_or(limits.max_bytes, |len| len.min(limits.max_bytes));
    read_into(
        name,
        file,
        limits,
        Vec::with_capacity(room.saturating_add(1)),
    )
}

/// Opens the file at `path`, named `name` in messages, as [`read_file`] does: a regular file
/// (or a link to one) only; with its length.
pub(crate) fn open_file(name: &str, path: &Path) -> Result<(std::fs::File, u64)> {
    let error = |reason: String| Error::Read {
        file: name.to_string(),
        reason,
    };
    let metadata = std::fs::metadata(path).map_err(|e| error(io_reason(&e)))?;
    if !metadata.is_file() {
        return Err(error(format!(
            "not a regular file ({}); give a file, or `-` for standard input",
            file_type(&metadata)
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| error(io_reason(&e)))?;
    // The path may have been swapped between the two checks: check what was opened.
    let opened = file.metadata().map_err(|e| error(io_reason(&e)))?;
    if !opened.is_file() {
        return Err(error(format!(
            "not a regular file ({})",
            file_type(&opened)
        )));
    }
    Ok((file, opened.len()))
}

/// The operating system's explanation without the error number Rust appends to it
/// ("No such file or directory", not "... (os error 2)").
fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(end) if text.ends_with(')') => text[..end].to_owned(),
        _ => text,
    }
}

/// Reads `reader` (standard input, say), named `name` in messages, up to `limits.max_bytes`.
pub fn read_bounded(name: &str, reader: impl Read, limits: &Limits) -> Result<String> {
    read_into(name, reader, limits, Vec::new())
}

/// [`read_bounded`] into `bytes`.
fn read_into(name: &str, reader: impl Read, limits: &Limits, mut bytes: Vec<u8>) -> Result<String> {
    let error = |reason: String| Error::Read {
        file: name.to_string(),
        reason,
    };
    reader
        .take(u64::try_from(limits.max_bytes).map_or(u64::MAX, |max| max.saturating_add(1)))
        .read_to_end(&mut bytes)
        .map_err(|e| error(io_reason(&e)))?;
    if bytes.len() > limits.max_bytes {
        return Err(too_large(name, limits));
    }
    String::from_utf8(bytes).map_err(|e| {
        error(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn file_type(metadata: &std::fs::Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// The error of an input larger than `limits` allow.
fn too_large(file: &str, limits: &Limits) -> Error {
    Error::invalid_unless(
        Location::new(file, None, ""),
        format!("larger than {} bytes", limits.max_bytes),
        vec![Remedy::Set {
            setting: Setting::MaxInputBytes,
            value: Some("BYTES"),
            when: "to raise the limit, if this is intended",
        }],
    )
}

/// [`check`] for the fuzz targets of the workspace; not part of the public API.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub fn check_bounds<'a>(file: &str, text: &'a str, limits: &Limits) -> Result<&'a str> {
    check(file, text, limits)
}

/// Checks the bounds of `text` and removes a leading byte-order mark.
pub(crate) fn check<'a>(file: &str, text: &'a str, limits: &Limits) -> Result<&'a str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > limits.max_bytes {
        return Err(too_large(file, limits));
    }
    let max_depth = limits.max_depth.min(Limits::MAX_DEPTH);
    nesting::check(text, max_depth).map_err(|deep| {
        let (advice, remedies) = if max_depth < Limits::MAX_DEPTH {
            let raise = Remedy::Set {
                setting: Setting::MaxDepth,
                value: Some("LEVELS"),
                when: "to raise the limit (at most 128), if this is intended",
            };
            ("", vec![raise])
        } else {
            ("; the YAML parser reads no deeper nesting", Vec::new())
        };
        Error::invalid_unless(
            Location::new(file, Some(deep.document), ""),
            format!(
                "line {}, column {}: brackets nested deeper than {max_depth} levels{advice}",
                deep.line, deep.column
            ),
            remedies,
        )
    })?;
    Ok(text)
}

/// [`check`] for text that a JSON parser reads: the same bounds, the nesting measured by a scan
/// of JSON, which is several times faster than the scan of YAML (brackets count outside
/// strings). Where it finds the text nested too deep, the scan of YAML decides, and gives its
/// error; the two agree on JSON, and text that is no JSON is refused by the JSON parser, which
/// reads any nesting in linear time (and no deeper than [`Limits::MAX_DEPTH`]).
pub(crate) fn check_json<'a>(file: &str, text: &'a str, limits: &Limits) -> Result<&'a str> {
    let bare = text.strip_prefix('\u{feff}').unwrap_or(text);
    if bare.len() > limits.max_bytes {
        return Err(too_large(file, limits));
    }
    if nesting::json_within(bare, limits.max_depth.min(Limits::MAX_DEPTH)) {
        Ok(bare)
    } else {
        check(file, text, limits)
    }
}

/// The YAML documents of `text`, each with its location and merge keys (`<<`) applied; empty
/// documents are skipped. Fails on the first document that is not YAML.
///
/// JSON text (an object, as `kubectl get -o json` prints) is read by a JSON parser, several
/// times faster than the YAML parser, into the same values; where the JSON parser stops, the
/// YAML parser reads the text and its answer or error is the one given.
pub fn documents(file: &str, text: &str, limits: &Limits) -> Result<Vec<(Location, Value)>> {
    json_document(file, text, limits).unwrap_or_else(|| yaml_documents(file, text, limits))
}

/// [`documents`], read by the YAML parser.
fn yaml_documents(file: &str, text: &str, limits: &Limits) -> Result<Vec<(Location, Value)>> {
    let text = check(file, text, limits)?;
    let mut documents = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let location = Location::new(file, Some(index + 1), "");
        let mut value: Value = serde::Deserialize::deserialize(document)
            .map_err(|e| Error::invalid(location.clone(), format!("not valid YAML: {e}")))?;
        apply_merges(&mut value)
            .map_err(|e| Error::invalid(location.clone(), format!("bad merge key (<<): {e}")))?;
        if !value.is_null() {
            documents.push((location, value));
        }
    }
    Ok(documents)
}

/// The one document of the JSON `text`, as [`documents`] gives it; `None` when the text is no
/// JSON object, or the JSON parser refuses it.
fn json_document(
    file: &str,
    text: &str,
    limits: &Limits,
) -> Option<Result<Vec<(Location, Value)>>> {
    let bare = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !bare.trim_start().starts_with('{') {
        return None;
    }
    let bare = match check_json(file, text, limits) {
        Ok(bare) => bare,
        Err(error) => return Some(Err(error)),
    };
    let mut value: Value = serde_json::from_str(bare).ok()?;
    let location = Location::new(file, Some(1), "");
    if let Err(e) = apply_merges(&mut value) {
        return Some(Err(Error::invalid(
            location,
            format!("bad merge key (<<): {e}"),
        )));
    }
    Some(Ok(vec![(location, value)]))
}

/// Applies merge keys until none is left: a merged mapping may carry merge keys of its own.
fn apply_merges(value: &mut Value) -> std::result::Result<(), serde_yaml::Error> {
    // Each round resolves one level of merges within merges; YAML aliases are bounded by the
    // parser, so a few rounds suffice for any real input.
    for _ in 0..16 {
        if !has_merge_key(value) {
            return Ok(());
        }
        value.apply_merge()?;
    }
    if has_merge_key(value) {
        return Err(serde::de::Error::custom("merge keys nested too deeply"));
    }
    Ok(())
}

fn has_merge_key(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Mapping(mapping) => {
                if mapping.contains_key("<<") {
                    return true;
                }
                stack.extend(mapping.values());
            }
            Value::Sequence(items) => stack.extend(items),
            Value::Tagged(tagged) => stack.push(&tagged.value),
            _ => {}
        }
    }
    false
}

/// One Kubernetes object of an input: where it is, its kind and API version, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The file and document, with the item of a list as the field (`items[3]`).
    pub location: Location,
    /// `kind`.
    pub kind: String,
    /// `apiVersion`.
    pub api_version: String,
    /// The whole object.
    pub value: Value,
}

/// The objects of `text`: its documents, with lists (`kind: List` or `<Kind>List`, as
/// `kubectl get -o yaml` prints) replaced by their items. Every object must be a mapping with
/// `apiVersion` and `kind`.
pub fn objects(file: &str, text: &str, limits: &Limits) -> Result<Vec<Object>> {
    let mut objects = Vec::new();
    for (location, value) in documents(file, text, limits)? {
        collect(location, value, &mut objects)?;
    }
    Ok(objects)
}

fn collect(location: Location, value: Value, objects: &mut Vec<Object>) -> Result<()> {
    let Value::Mapping(mut mapping) = value else {
        return Err(Error::invalid(
            location,
            "a document must be a mapping with apiVersion and kind",
        ));
    };
    let text = |field: &str| -> Result<String> {
        match mapping.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(Error::invalid(location.join(field), "must be a string")),
            None => Err(Error::invalid(location.join(field), "is missing")),
        }
    };
    let api_version = text("apiVersion")?;
    let kind = text("kind")?;
    if kind.ends_with("List") {
        let items = match mapping.remove("items") {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Sequence(items)) => items,
            Some(_) => return Err(Error::invalid(location.join("items"), "must be a list")),
        };
        for (i, item) in items.into_iter().enumerate() {
            collect(location.join(&format!("items[{i}]")), item, objects)?;
        }
        return Ok(());
    }
    objects.push(Object {
        location,
        kind,
        api_version,
        value: Value::Mapping(mapping),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_errors_leave_out_the_error_number() {
        let missing = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-file.yaml");
        let error = read_file("no-such-file.yaml", &missing, &Limits::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no-such-file.yaml: cannot read: No such file or directory"
        );
    }

    #[test]
    fn json_reads_as_the_yaml_parser_reads_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut dirs = vec![root];
        let mut read = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let name = path.display().to_string();
                    let limits = Limits {
                        max_bytes: usize::MAX,
                        ..Limits::default()
                    };
                    let json = json_document(&name, &text, &limits).map(|r| r.unwrap());
                    if let Some(json) = json {
                        assert_eq!(
                            json,
                            yaml_documents(&name, &text, &limits).unwrap(),
                            "{name}"
                        );
                        read += 1;
                    }
                }
            }
        }
        assert!(read >= 3, "{read} JSON files");
        let scale = crate::synthetic::Scale {
            nodes: 3,
            namespaces: 5,
            pods: 30,
            network_policies: 40,
            cluster_network_policies: 20,
            cilium_policies: 20,
        };
        for (name, text) in crate::synthetic::large_files(&scale, 2) {
            if name.ends_with(".json") {
                let json = json_document(&name, &text, &Limits::default());
                let json = json.expect("JSON").unwrap();
                assert_eq!(
                    json,
                    yaml_documents(&name, &text, &Limits::default()).unwrap()
                );
            }
        }
        // Merge keys, numbers, escapes, and text the JSON parser refuses (YAML's flow style,
        // a duplicate key), which the YAML parser reads, or refuses with its own error.
        for text in [
            "{\"base\": {\"a\": 1}, \"x\": {\"<<\": {\"b\": 2.5e3}, \"c\": \"\\/\\u00e9\"}}",
            "{\"a\": [1, -2, 18446744073709551615, true, null, \"1\"]}",
            "{a: [b, 'c']}",
            "{\"a\": 1, \"a\": 2}",
            "{\"a\": \"x\\\"[[[{{\", \"b\": \"\\\\\", \"c\": [[\"]]\"]]}",
        ] {
            let shown = |read: Result<Vec<(Location, Value)>>| read.map_err(|e| e.to_string());
            assert_eq!(
                shown(documents("j.json", text, &Limits::default())),
                shown(yaml_documents("j.json", text, &Limits::default())),
                "{text}"
            );
        }
        let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
        let deep = format!("{{\"a\": {deep}}}");
        assert_eq!(
            documents("d.json", &deep, &Limits::default())
                .unwrap_err()
                .to_string(),
            "d.json, document 1: line 1, column 70: brackets nested deeper than 64 levels; set the setting `max-depth` to LEVELS to raise the limit (at most 128), if this is intended"
        );
    }

    #[test]
    fn json_nesting_counts_brackets_outside_strings() {
        let within = nesting::json_within;
        assert!(within("{\"a\": [[1]]}", 3));
        assert!(!within("{\"a\": [[1]]}", 2));
        assert!(within("{\"a\": \"[[[[\", \"b\\\"[[[\": {}}", 2));
        assert!(within("{\"a\": \"\\\\\", \"b\": [1]}", 2));
        assert!(!within("{\"a\": \"\\\\\", \"b\": [[1]]}", 2));
        // Text that is no JSON ends without a panic: a string left open, a last backslash.
        assert!(within("{\"a\": \"[[[", 1));
        assert!(within("{\"a\": \"\\", 1));
        assert!(within("\"", 0));
    }

    #[test]
    fn merge_keys_are_applied_like_kubernetes() {
        let text = "base: &base {a: 1, b: 2}\nmore: &more {<<: *base, c: 3}\nobject:\n  <<: *more\n  b: 9\n";
        let docs = documents("m.yaml", text, &Limits::default()).unwrap();
        let object = &docs[0].1["object"];
        assert_eq!(object["a"], Value::from(1));
        assert_eq!(object["b"], Value::from(9));
        assert_eq!(object["c"], Value::from(3));
        assert!(object.get("<<").is_none());
    }

    #[test]
    fn byte_order_mark_is_accepted() {
        let docs = documents("b.yaml", "\u{feff}kind: DynaKube\n", &Limits::default()).unwrap();
        assert_eq!(docs[0].1["kind"], Value::from("DynaKube"));
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let text = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let err = documents("d.yaml", &text, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.yaml, document 1: line 1, column 68: brackets nested deeper than 64 levels; set the setting `max-depth` to LEVELS to raise the limit (at most 128), if this is intended"
        );
        let shallow = format!("a: {}1{}\n", "[".repeat(60), "]".repeat(60));
        assert!(documents("s.yaml", &shallow, &Limits::default()).is_ok());
    }

    /// The depth the scan measures, or where it refused `text` under `max`.
    fn depth(text: &str) -> usize {
        (0..=Limits::MAX_DEPTH)
            .find(|max| nesting::check(text, *max).is_ok())
            .expect("nested at most 128 deep")
    }

    #[test]
    fn brackets_that_open_nothing_are_not_counted() {
        let cases = [
            ("single quotes", "regex: '^[a-z{'\n"),
            ("single quotes, doubled quote", "a: 'it''s [ [ ['\n"),
            ("double quotes with escapes", "a: \"\\\" [ \\\\\" \n"),
            ("double quotes over lines", "a: \"[\n  [ [\"\n"),
            ("comment", "a: 1 # [[[ {{\n# [[\n"),
            ("plain scalar", "regex: ^[a-z{\n"),
            (
                "plain scalar over lines",
                "a: one\n  [ two\n  {three\nb: 2\n",
            ),
            ("plain key", "a[b: 1\n"),
            ("literal block", "a: |\n  [[[\n  {{\n\n  [\nb: 1\n"),
            ("folded block, indicators", "a: >-2\n   [[[\n  {{{\nb: 1\n"),
            ("block in a sequence", "- a: |\n    [[[\n- b\n"),
            ("apostrophe in a plain scalar", "a: it's [ here\n"),
            ("hash without a space", "a: b#[c\n"),
            ("verbatim tag", "a: !<tag:x,[]> b\n"),
            ("JSON", "{\"a\": \"[[[{{{\", \"b\": [1, \"]]]\"]}\n"),
        ];
        for (name, text) in cases {
            assert!(
                serde_yaml::from_str::<Value>(text).is_ok(),
                "{name}: the case must be YAML: {text}"
            );
            let expected = usize::from(name == "JSON") * 2;
            assert_eq!(depth(text), expected, "{name}: {text}");
        }
    }

    #[test]
    fn flow_collections_are_counted_where_they_open() {
        let cases = [
            ("flow in flow", "a: [[1, {b: [2]}]]\n", 4),
            (
                "plain scalars end at flow indicators",
                "a: [b, [c], {d: e}]\n",
                2,
            ),
            ("after a block scalar", "a: |\n  x\nb: [[1]]\n", 2),
            (
                "block scalar ends at its indentation",
                "- a: |\n    x\n  b: [[1]]\n",
                2,
            ),
            (
                "a line less indented ends a plain scalar",
                "a:\n  b\nc: [[[1]]]\n",
                3,
            ),
            ("a flow key", "? [[a]]\n: b\n", 2),
            ("after a tag", "a: !!seq [[1]]\n", 2),
            ("after an anchor", "a: &x [[1]]\nb: *x\n", 2),
        ];
        for (name, text, expected) in cases {
            assert!(
                serde_yaml::from_str::<Value>(text).is_ok(),
                "{name}: the case must be YAML: {text}"
            );
            assert_eq!(depth(text), expected, "{name}: {text}");
        }
    }

    #[test]
    fn nesting_is_measured_per_document() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        // An unclosed bracket in a comment or string of one document is nothing to the next.
        let text = "a: '[[[' # [[[\n---\nb: [[[1]]]\n---\nc: \"[[[\"\n";
        assert_eq!(documents("d.yaml", text, &limits).unwrap().len(), 3);
        let deep = "a: [[[1]]]\n---\nb: [[[1]]]\n---\n# c\nc: [[[[1]]]]\n";
        let err = documents("d.yaml", deep, &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.yaml, document 3: line 6, column 7: brackets nested deeper than 3 levels; set the setting `max-depth` to LEVELS to raise the limit (at most 128), if this is intended"
        );
        // Documents are counted as the parser counts them (the empty one too).
        let deep = "---\na: 1\n---\n---\nb: [[[[1]]]]\n";
        let err = documents("d.yaml", deep, &limits).unwrap_err();
        assert!(
            err.to_string().starts_with("d.yaml, document 3: line 5"),
            "{err}"
        );
    }

    #[test]
    fn many_dynakubes_with_brackets_in_strings_are_read() {
        let dynakube = "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {name: dk, namespace: dynatrace}\nspec:\n  regex: '^[a-z'\n  note: \"{[\"\n";
        let text = vec![dynakube; 70].join("---\n");
        assert_eq!(
            documents("dk.yaml", &text, &Limits::default())
                .unwrap()
                .len(),
            70
        );
    }

    #[test]
    fn the_limit_stops_where_the_parser_stops() {
        let limits = Limits {
            max_depth: usize::MAX,
            ..Limits::default()
        };
        let at_most = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(check("a.yaml", &at_most, &limits).is_ok());
        let deeper = format!("{}{}", "[".repeat(129), "]".repeat(129));
        let err = check("a.yaml", &deeper, &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.yaml, document 1: line 1, column 129: brackets nested deeper than 128 levels; the YAML parser reads no deeper nesting"
        );
    }

    #[test]
    fn large_bracket_inputs_take_linear_time() {
        // Quadratic work on these would take minutes; there is no timing assertion, the test
        // just has to finish.
        let limits = Limits {
            max_depth: Limits::MAX_DEPTH,
            max_bytes: usize::MAX,
        };
        let nested = "[".repeat(200_000);
        assert!(documents("n.yaml", &nested, &limits).is_err());
        let wide = format!("a: [{}]\n", vec!["[[[[1]]]]"; 200_000].join(", "));
        assert!(documents("w.yaml", &wide, &limits).is_ok());
        let quoted = format!("a: '{}'\n", "[".repeat(1_000_000));
        assert!(documents("q.yaml", &quoted, &limits).is_ok());
        let lines = "a: |\n".to_string() + &"  [[[[[[[[[[\n".repeat(200_000);
        assert!(documents("b.yaml", &lines, &limits).is_ok());
    }

    #[test]
    fn size_is_bounded() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(check("s.yaml", "a: 1234567890\n", &limits).is_err());
        assert!(read_bounded("-", &b"a: 1234567890\n"[..], &limits).is_err());
        assert_eq!(
            read_bounded("-", &b"a: 1\n"[..], &limits).unwrap(),
            "a: 1\n"
        );
    }

    #[test]
    fn lists_are_flattened_with_item_locations() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap}\n- {apiVersion: v1, kind: PodList, items: [{apiVersion: v1, kind: Pod}]}\n";
        let objects = objects("l.yaml", text, &Limits::default()).unwrap();
        let found: Vec<(&str, &str)> = objects
            .iter()
            .map(|o| (o.kind.as_str(), o.location.field.as_str()))
            .collect();
        assert_eq!(
            found,
            [("ConfigMap", "items[0]"), ("Pod", "items[1].items[0]")]
        );
        let err = super::objects("l.yaml", "- a\n", &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "l.yaml, document 1: a document must be a mapping with apiVersion and kind"
        );
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_unread() {
        let err = read_file("/dev/zero", Path::new("/dev/zero"), &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: cannot read: not a regular file (a device); give a file, or `-` for standard input"
        );
        let err = read_file(".", Path::new("."), &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }
}
