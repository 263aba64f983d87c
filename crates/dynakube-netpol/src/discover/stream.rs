//! Reading a JSON dump without holding its text: `kubectl get -o json` prints one object, a
//! `List` whose `items` hold every object, hundreds of megabytes for a large cluster. The
//! reader reads it a block at a time, cuts the items of the list out of each block as they end
//! and hands each run of complete items to a worker thread, which reads them alone (as
//! [`super::read::objects`] reads them); it reads the rest of the object (its kind, API version
//! and metadata, with an empty list) once the list has gone by. The workers' parts come back in
//! the order of the items, and at most a few blocks are held at a time.
//!
//! It knows JSON only as far as cutting needs: strings (with their escapes), and the brackets
//! that open and close arrays and objects, counted as the nesting limit counts them. Anything
//! else is the JSON parser's: an item or the rest that is no JSON fails there. The reader fails,
//! without saying why, on any text that is not of that shape, larger than the limit or nested
//! deeper; the caller then reads the text whole, and that reading's answer or error is the one
//! given.

use std::fmt::Write;
use std::io::Read;
use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::read::{Item, PodParts, collect_raw, parse_raw};
use crate::error::{Error, Location, Result};
use crate::source::Limits;

/// How much is read at a time.
const CHUNK: usize = 2 << 20;

/// The most worker threads that read items.
const MAX_WORKERS: usize = 4;

/// Where the cutting is.
#[derive(Debug, Default)]
struct Cut {
    /// How deep the brackets nest here (the object itself is 1, its list 2, an item 3).
    depth: usize,
    /// Inside a string.
    string: bool,
    /// After a backslash in a string.
    escaped: bool,
    /// At depth 1, where a key comes next.
    key_next: bool,
    /// The key being read at depth 1, or the last one read.
    key: Vec<u8>,
    /// Whether the key is being read.
    in_key: bool,
    /// Inside the list of `items`.
    in_items: bool,
    /// Whether a list of `items` was met.
    had_items: bool,
    /// Where the item being cut began in the buffer.
    start: Option<usize>,
    /// The items cut.
    items: usize,
}

/// What is done with each object read, and the part of the answer it goes to.
pub(crate) type Visit<P, T> = dyn Fn(&Location, Item<P>, &mut T) -> Result<()> + Sync;

/// A part of the answer, told where in the file each item it is handed comes from (what
/// `explain` keeps to read an item again alone: [`crate::evaluate`]'s index of a dump).
pub(crate) trait StreamPart: Default + Send {
    /// The objects handed on next are those of the item at `range` of the file (its bytes
    /// from the start of the file, a byte-order mark included).
    fn item(&mut self, range: Range<u64>) {
        let _ = range;
    }
}

impl StreamPart for () {}

/// A run of complete items cut out of a block of the dump, for a worker to read.
struct Batch {
    /// Its place among the runs.
    seq: usize,
    /// The index in the list of its first item.
    first: usize,
    /// Where `bytes` starts in the file.
    offset: u64,
    /// The block the items are in.
    bytes: Vec<u8>,
    /// Where each item is in `bytes`.
    items: Vec<Range<usize>>,
}

/// Fails: the caller reads the text whole.
fn unread() -> Error {
    Error::invalid(Location::new("", None, ""), "read whole")
}

/// Reads the JSON dump `reader` of `file` (see the module's documentation): `visit` gets every
/// pod and object of a kept kind, as [`super::read::objects`] hands them on, with the part of
/// the answer it adds them to. The parts come back in the order of the objects they hold (the
/// objects of a part in their order too), one part for each run of items.
pub(crate) fn objects<P: PodParts, T: StreamPart>(
    file: &str,
    reader: impl Read,
    limits: &Limits,
    visit: &Visit<P, T>,
) -> Result<Vec<T>> {
    in_blocks(file, reader, limits, CHUNK, visit)
}

/// [`objects`], reading `block` bytes at a time.
fn in_blocks<P: PodParts, T: StreamPart>(
    file: &str,
    reader: impl Read,
    limits: &Limits,
    block: usize,
    visit: &Visit<P, T>,
) -> Result<Vec<T>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_WORKERS);
    let location = Location::new(file, None, "");
    // Blocks the workers are done with, to be filled again.
    let (spare, spares) = sync_channel::<Vec<u8>>(2 * workers);
    std::thread::scope(|scope| {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..workers {
            let (sender, batches) = sync_channel::<Batch>(1);
            senders.push(sender);
            let (spare, location) = (spare.clone(), &location);
            handles.push(scope.spawn(move || work(&batches, &spare, location, visit)));
        }
        drop(spare);
        let rest = cut_items(reader, (limits, block), &senders, &spares);
        drop(senders);
        let mut parts = Vec::new();
        for handle in handles {
            let done = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            parts.extend(done?);
        }
        let rest = rest?;
        parts.sort_by_key(|(seq, _)| *seq);
        let mut parts: Vec<T> = parts.into_iter().map(|(_, part)| part).collect();
        // The object without its items: a list, of the kind and version it says.
        let mut last = T::default();
        match parse_raw::<P>(&rest).map_err(|_| unread())? {
            raw @ super::read::Raw::List(_) => {
                collect_raw(raw, &location, &mut |at, item| visit(at, item, &mut last))?;
            }
            _ => return Err(unread()),
        }
        parts.push(last);
        Ok(parts)
    })
}

/// Reads the runs of items of `batches`: a part for each, with its place among the runs.
/// The blocks read go to `spare`, when it has room.
fn work<P: PodParts, T: StreamPart>(
    batches: &Receiver<Batch>,
    spare: &SyncSender<Vec<u8>>,
    location: &Location,
    visit: &Visit<P, T>,
) -> Result<Vec<(usize, T)>> {
    let mut parts = Vec::new();
    // The location of each item, written over for the next one.
    let mut at = location.join("items");
    for batch in batches {
        let mut part = T::default();
        for (i, range) in batch.items.iter().enumerate() {
            let raw = parse_raw::<P>(&batch.bytes[range.clone()]).map_err(|_| unread())?;
            at.field.truncate("items".len());
            write!(at.field, "[{}]", batch.first + i).map_err(|_| unread())?;
            part.item(batch.offset + range.start as u64..batch.offset + range.end as u64);
            collect_raw(raw, &at, &mut |at, item| visit(at, item, &mut part))?;
        }
        parts.push((batch.seq, part));
        // A full pool only means a new block is allocated later.
        let _ = spare.try_send(batch.bytes);
    }
    Ok(parts)
}

/// Reads `reader` `block` bytes at a time, hands each block's run of complete items to the
/// `workers` in turn, and gives the rest of the object, without its items. Blocks to fill come
/// from `spares` when it has some.
fn cut_items(
    mut reader: impl Read,
    (limits, block): (&Limits, usize),
    workers: &[SyncSender<Batch>],
    spares: &Receiver<Vec<u8>>,
) -> Result<Vec<u8>> {
    let max = limits.max_depth.min(Limits::MAX_DEPTH);
    let mut buffer: Vec<u8> = Vec::with_capacity(block);
    let (mut rest, mut items) = (Vec::new(), Vec::new());
    let mut cut = Cut::default();
    // `offset`: where `buffer` starts in the file.
    let (mut at, mut total, mut opened, mut seq, mut offset) = (0, 0, false, 0, 0u64);
    loop {
        buffer.reserve(block);
        let read = (&mut reader)
            .take(block as u64)
            .read_to_end(&mut buffer)
            .map_err(|_| unread())?;
        total += read;
        if total > limits.max_bytes {
            return Err(unread());
        }
        if read == 0 {
            break;
        }
        if !opened {
            let Some(mark) = opening(&mut buffer)? else {
                continue;
            };
            offset += mark as u64;
            opened = true;
        }
        while at < buffer.len() {
            if cut.start.is_some() {
                let passed = cut.inside_item(&buffer[at..], max)?;
                at += passed;
                if passed > 0 {
                    continue;
                }
            }
            let skip = cut.skip(&buffer[at..]);
            if skip > 0 {
                cut.pass(&buffer[at..at + skip], &mut rest)?;
                at += skip;
                continue;
            }
            let byte = buffer[at];
            at += 1;
            if let Some(item) = cut.take(byte, at, max, &mut rest)? {
                items.push(item);
                cut.items += 1;
            }
        }
        if !items.is_empty() {
            // The items go; what an item still being cut needs starts the next block.
            let keep = cut.start.unwrap_or(at);
            let mut next = spares.try_recv().unwrap_or_default();
            next.clear();
            next.extend_from_slice(&buffer[keep..]);
            let bytes = std::mem::replace(&mut buffer, next);
            at -= keep;
            if let Some(start) = &mut cut.start {
                *start -= keep;
            }
            let first = cut.items - items.len();
            let items = std::mem::take(&mut items);
            let batch = Batch {
                seq,
                first,
                offset,
                bytes,
                items,
            };
            offset += keep as u64;
            workers[seq % workers.len()]
                .send(batch)
                .map_err(|_| unread())?;
            seq += 1;
        } else if cut.start.is_none() {
            offset += buffer.len() as u64;
            buffer.clear();
            at = 0;
        }
    }
    if !opened || cut.depth != 0 || cut.string || !cut.had_items {
        return Err(unread());
    }
    Ok(rest)
}

/// Whether the text read into `buffer` so far opens an object, after a byte-order mark (which
/// goes: the answer is its length) and blanks; `None` while it holds blanks alone, an error when
/// it opens anything else.
fn opening(buffer: &mut Vec<u8>) -> Result<Option<usize>> {
    let skip = if buffer.starts_with("\u{feff}".as_bytes()) {
        3
    } else {
        0
    };
    match buffer[skip..].iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {
            buffer.drain(..skip);
            Ok(Some(skip))
        }
        Some(_) => Err(unread()),
        None => Ok(None),
    }
}

/// The bytes that matter outside strings: quotes, brackets and commas.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let special = b"\"{}[],";
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table
};

/// Where the quotes, backslashes, opening and closing brackets are in a block of 64 bytes: bit
/// `i` of each for byte `i`.
struct Marks {
    /// `"`.
    quotes: u64,
    /// Backslashes.
    backslashes: u64,
    /// `{` and `[`.
    opening: u64,
    /// `}` and `]`.
    closing: u64,
}

impl Marks {
    /// The marks of `block`, found 16 bytes at a time (which compilers turn into vector
    /// instructions).
    fn of(block: &[u8; 64]) -> Marks {
        let mut marks = Marks {
            quotes: 0,
            backslashes: 0,
            opening: 0,
            closing: 0,
        };
        for (k, lane) in block.chunks_exact(16).enumerate() {
            let (mut quotes, mut backslashes, mut opening, mut closing) = (0u16, 0u16, 0u16, 0u16);
            for (i, &byte) in lane.iter().enumerate() {
                quotes |= u16::from(byte == b'"') << i;
                backslashes |= u16::from(byte == b'\\') << i;
                // `[` and `]` are `{` and `}` but for bit 5.
                opening |= u16::from(byte | 0x20 == b'{') << i;
                closing |= u16::from(byte | 0x20 == b'}') << i;
            }
            let shift = 16 * k;
            marks.quotes |= u64::from(quotes) << shift;
            marks.backslashes |= u64::from(backslashes) << shift;
            marks.opening |= u64::from(opening) << shift;
            marks.closing |= u64::from(closing) << shift;
        }
        marks
    }
}

/// Bit `i` of the answer is the parity of bits 0 to `i` of `bits`: set from an opening quote
/// up to the byte before the closing one.
fn prefix_parity(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

impl Cut {
    /// Passes over the inside of the item being cut, 64 bytes at a time, up to the bracket that
    /// ends it (which [`Cut::take`] takes) or the last whole block of `bytes`: how many bytes
    /// it passed.
    fn inside_item(&mut self, bytes: &[u8], max: usize) -> Result<usize> {
        let mut passed = 0;
        for block in bytes.chunks_exact(64) {
            let Ok(block) = <&[u8; 64]>::try_from(block) else {
                break;
            };
            let marks = Marks::of(block);
            let end = if marks.backslashes == 0 && !self.escaped {
                self.brackets(&marks, max)?
            } else {
                self.bytewise(block, max)?
            };
            if let Some(end) = end {
                return Ok(passed + end);
            }
            passed += 64;
        }
        Ok(passed)
    }

    /// Counts the brackets outside strings of a block without backslashes inside an item, by
    /// its `marks`: where the bracket that ends the item is, if the block holds it.
    fn brackets(&mut self, marks: &Marks, max: usize) -> Result<Option<usize>> {
        let carried = if self.string { u64::MAX } else { 0 };
        let in_string = prefix_parity(marks.quotes) ^ carried;
        let mut brackets = (marks.opening | marks.closing) & !in_string;
        while brackets != 0 {
            let at = brackets.trailing_zeros();
            if marks.opening >> at & 1 == 1 {
                self.depth += 1;
                if self.depth > max {
                    return Err(unread());
                }
            } else if self.depth == 3 {
                // Outside a string: the item ends here.
                self.string = false;
                return Ok(Some(at as usize));
            } else {
                self.depth -= 1;
            }
            brackets &= brackets - 1;
        }
        self.string ^= marks.quotes.count_ones() % 2 == 1;
        Ok(None)
    }

    /// Takes `byte` of a string: after a backslash it is escaped, a quote ends the string.
    /// Whether the string goes on.
    fn in_string(&mut self, byte: u8) -> bool {
        if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.string = false;
        }
        self.string
    }

    /// [`Cut::brackets`] a byte at a time, for a block with backslashes.
    fn bytewise(&mut self, block: &[u8; 64], max: usize) -> Result<Option<usize>> {
        for (at, &byte) in block.iter().enumerate() {
            if self.string {
                self.in_string(byte);
                continue;
            }
            match byte {
                b'"' => self.string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth > max {
                        return Err(unread());
                    }
                }
                b'}' | b']' if self.depth == 3 => return Ok(Some(at)),
                b'}' | b']' => self.depth -= 1,
                _ => {}
            }
        }
        Ok(None)
    }

    /// How many bytes at the start of `bytes` change nothing but what `rest` gets: the inside
    /// of a string up to its next quote or backslash (but for a key being read), or what is
    /// outside strings up to the next quote, bracket or comma.
    fn skip(&self, bytes: &[u8]) -> usize {
        if self.string {
            if self.escaped || self.in_key {
                return 0;
            }
            memchr::memchr2(b'"', b'\\', bytes).unwrap_or(bytes.len())
        } else {
            bytes
                .iter()
                .position(|&b| SPECIAL[usize::from(b)])
                .unwrap_or(bytes.len())
        }
    }

    /// Passes over `bytes`, which [`Cut::skip`] skipped: `rest` gets them where it gets what
    /// is outside the list of items; between the items of the list only blanks may stand.
    fn pass(&self, bytes: &[u8], rest: &mut Vec<u8>) -> Result<()> {
        if !self.in_items || self.depth < 2 {
            rest.extend_from_slice(bytes);
        } else if self.depth == 2 && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(unread());
        }
        Ok(())
    }

    /// Takes `byte`, which ends at `end` in the buffer; `rest` gets what is not in the list of
    /// items. The span of an item when `byte` ends one.
    fn take(
        &mut self,
        byte: u8,
        end: usize,
        max: usize,
        rest: &mut Vec<u8>,
    ) -> Result<Option<std::ops::Range<usize>>> {
        if !self.in_items || self.depth < 2 {
            rest.push(byte);
        }
        if self.string {
            let escape = self.escaped || byte == b'\\';
            if !self.in_string(byte) {
                self.in_key = false;
            } else if self.in_key && !escape {
                self.key.push(byte);
            }
            return Ok(None);
        }
        if self.in_items
            && self.depth == 2
            && !matches!(byte, b'{' | b']' | b',' | b' ' | b'\n' | b'\r' | b'\t')
        {
            // An item that is no object.
            return Err(unread());
        }
        match byte {
            b'"' => {
                self.string = true;
                if self.depth == 1 && self.key_next {
                    self.key.clear();
                    self.in_key = true;
                    self.key_next = false;
                }
            }
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth > max {
                    return Err(unread());
                }
                if self.depth == 1 {
                    self.key_next = true;
                } else if self.depth == 2 && byte == b'[' && self.key == b"items" {
                    if self.had_items {
                        return Err(unread());
                    }
                    (self.in_items, self.had_items) = (true, true);
                } else if self.depth == 3 && self.in_items {
                    self.start = Some(end - 1);
                }
            }
            b'}' | b']' => {
                if self.depth == 0 {
                    return Err(unread());
                }
                self.depth -= 1;
                if self.depth == 2 && self.in_items {
                    let start = self.start.take().ok_or_else(unread)?;
                    return Ok(Some(start..end));
                }
                if self.depth == 1 && self.in_items {
                    self.in_items = false;
                    rest.push(b']');
                }
            }
            b',' if self.depth == 1 => self.key_next = true,
            _ => {}
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::read::RawPod;

    /// Hands out three bytes at a time, so that items end across reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(3).min(buffer.len());
            buffer[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The pods' names, and the kinds of the other objects, read from `text` a few bytes at a
    /// time.
    fn read(text: &str) -> Result<Vec<String>> {
        read_in(text, 7)
    }

    /// What a part found: the names and kinds, and the items' places in the file.
    #[derive(Default)]
    struct Found {
        names: Vec<String>,
        items: Vec<Range<u64>>,
    }

    impl StreamPart for Found {
        fn item(&mut self, range: Range<u64>) {
            self.items.push(range);
        }
    }

    /// [`read`], in blocks of `block` bytes.
    fn read_in(text: &str, block: usize) -> Result<Vec<String>> {
        Ok(found_in(text, block)?.names)
    }

    /// What [`read_in`] finds, with where each item is.
    fn found_in(text: &str, block: usize) -> Result<Found> {
        let reader = Trickle(text.as_bytes());
        let parts = in_blocks::<RawPod, Found>(
            "d.json",
            reader,
            &Limits::default(),
            block,
            &|location, item, found| {
                found.names.push(match item {
                    Item::Pod { pod, .. } => {
                        format!("{} {}", location.field, pod.facts(location)?.name)
                    }
                    Item::Kept { kind, .. } => format!("{} {kind}", location.field),
                });
                Ok(())
            },
        )?;
        let mut all = Found::default();
        for part in parts {
            all.names.extend(part.names);
            all.items.extend(part.items);
        }
        Ok(all)
    }

    #[test]
    fn items_are_cut_out_and_read_alone() {
        let text = "\u{feff}{\"apiVersion\": \"v1\", \"items\": [{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\\\"]}\"}}, {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"n\"}}, {\"kind\": \"Service\", \"spec\": {\"ports\": [[{}]]}}], \"kind\": \"List\", \"metadata\": {\"items\": [1]}}\n";
        assert_eq!(
            read(text).unwrap(),
            ["items[0] a\"]}", "items[1] Namespace", "items[2] Service"]
        );
    }

    #[test]
    fn strings_and_escapes_end_items_nowhere() {
        // Brackets, quotes and runs of backslashes in strings, at every offset of a block.
        let tricky = ["a\"]}", "\\\\", "{[", "x\\\"}", "\\\\\\\"]"];
        let names: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    "{}{}{}",
                    " ".repeat(i % 67),
                    tricky[i % 5],
                    "}".repeat(i % 3)
                )
            })
            .collect();
        let items: Vec<String> = (names.iter().enumerate())
            .map(|(i, name)| {
                format!(
                    "{{\"kind\": \"Pod\",{}\"metadata\": {{\"annotations\": {{\"x\": \"{}\"}}, \"name\": {}}}, \"spec\": {{\"a\": [[{{}}], \"]\"]}}}}",
                    " ".repeat(i % 71),
                    "\\\"}]".repeat(i % 13),
                    serde_json::to_string(name).unwrap()
                )
            })
            .collect();
        let text = format!(
            "{{\"apiVersion\": \"v1\", \"items\": [{}], \"kind\": \"List\"}}",
            items.join(",\n")
        );
        let expected: Vec<String> = (names.iter().enumerate())
            .map(|(i, name)| format!("items[{i}] {name}"))
            .collect();
        for block in [7, 64, 1000, 1 << 20] {
            assert_eq!(read_in(&text, block).unwrap(), expected, "{block}");
            // Each item is where the reader says, after a byte-order mark too.
            for mark in ["", "\u{feff}"] {
                let marked = format!("{mark}{text}");
                let found = found_in(&marked, block).unwrap();
                let cut: Vec<&str> = (found.items.iter())
                    .map(|r| &marked[r.start as usize..r.end as usize])
                    .collect();
                assert_eq!(cut, items, "{block}");
            }
        }
        let deep = format!(
            "{{\"items\": [{{\"a\": {}{}}}]}}{}",
            "[".repeat(70),
            "]".repeat(70),
            " ".repeat(200)
        );
        assert!(read_in(&deep, 1 << 20).is_err());
    }

    #[test]
    fn other_shapes_are_read_whole() {
        for text in [
            "apiVersion: v1\nkind: List\nitems: []\n",
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}",
            "{\"items\": [{\"kind\": \"Pod\"}], \"items\": []}",
            "{\"items\": [{\"kind\": \"Pod\"}]} {}",
            "{\"items\": [{\"kind\": \"Pod\"}, 1]}",
            "{\"items\": [{\"kind\": \"Pod\"}]",
            "{\"items\": [{\"kind\": \"Pod\" \"metadata\": {}}]}",
            "{\"items\": null}",
        ] {
            assert!(read(text).is_err(), "{text}");
        }
        let deep = format!("{{\"items\": [{}1{}]}}", "[".repeat(70), "]".repeat(70));
        assert!(read(&deep).is_err());
    }
}
