//! Reading a JSON dump without holding its text: `kubectl get -o json` prints one object, a
//! `List` whose `items` hold every object, hundreds of megabytes for a large cluster. The
//! reader reads it a buffer at a time, cuts each item of the list out as it ends and reads it
//! alone (as [`super::read::objects`] reads it), and reads the rest of the object (its kind,
//! API version and metadata, with an empty list) once the list has gone by.
//!
//! It knows JSON only as far as cutting needs: strings (with their escapes), and the brackets
//! that open and close arrays and objects, counted as the nesting limit counts them. Anything
//! else is the JSON parser's: an item or the rest that is no JSON fails there. The reader fails,
//! without saying why, on any text that is not of that shape, larger than the limit or nested
//! deeper; the caller then reads the text whole, and that reading's answer or error is the one
//! given.

use std::io::Read;

use super::read::{Item, PodParts, collect_raw, parse_raw};
use crate::error::{Error, Location, Result};
use crate::source::Limits;

/// How much is read at a time.
const CHUNK: usize = 8 << 20;

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
    /// The items read.
    items: usize,
}

/// Fails: the caller reads the text whole.
fn unread() -> Error {
    Error::invalid(Location::new("", None, ""), "read whole")
}

/// Reads the JSON dump `reader` of `file` (see the module's documentation), handing every
/// pod and object of a kept kind to `visit` as [`super::read::objects`] does.
pub(crate) fn objects<P: PodParts>(
    file: &str,
    mut reader: impl Read,
    limits: &Limits,
    visit: &mut dyn FnMut(&Location, Item<P>) -> Result<()>,
) -> Result<()> {
    let max = limits.max_depth.min(Limits::MAX_DEPTH);
    let location = Location::new(file, None, "");
    let mut buffer: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    let mut rest: Vec<u8> = Vec::new();
    let mut cut = Cut::default();
    let (mut at, mut total, mut first) = (0, 0, true);
    loop {
        let before = buffer.len();
        buffer.resize(before + CHUNK, 0);
        let read = reader.read(&mut buffer[before..]).map_err(|_| unread())?;
        buffer.truncate(before + read);
        total += read;
        if total > limits.max_bytes {
            return Err(unread());
        }
        if read == 0 {
            break;
        }
        if first {
            // A byte-order mark, then the object.
            let skip = if buffer.starts_with("\u{feff}".as_bytes()) {
                3
            } else {
                0
            };
            let bare = &buffer[skip..];
            let opening = bare.iter().find(|b| !b.is_ascii_whitespace());
            match opening {
                Some(b'{') => {
                    buffer.drain(..skip);
                    first = false;
                }
                Some(_) => return Err(unread()),
                None => continue,
            }
        }
        while at < buffer.len() {
            let skip = cut.skip(&buffer[at..]);
            if skip > 0 {
                cut.pass(&buffer[at..at + skip], &mut rest)?;
                at += skip;
                continue;
            }
            let byte = buffer[at];
            at += 1;
            if let Some(item) = cut.take(byte, at, max, &mut rest)? {
                let raw = parse_raw::<P>(&buffer[item]).map_err(|_| unread())?;
                let at_item = location.join(&format!("items[{}]", cut.items));
                cut.items += 1;
                collect_raw(raw, &at_item, visit)?;
            }
        }
        // Keep what an item still being cut needs.
        let keep = cut.start.unwrap_or(at);
        buffer.drain(..keep);
        at -= keep;
        if let Some(start) = &mut cut.start {
            *start -= keep;
        }
    }
    if first || cut.depth != 0 || cut.string || !cut.had_items {
        return Err(unread());
    }
    // The object without its items: a list, of the kind and version it says.
    match parse_raw::<P>(&rest).map_err(|_| unread())? {
        raw @ super::read::Raw::List(_) => collect_raw(raw, &location, visit),
        _ => Err(unread()),
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

impl Cut {
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
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.string = false;
                self.in_key = false;
            } else if self.in_key {
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
        let mut found = Vec::new();
        let reader = Trickle(text.as_bytes());
        objects::<RawPod>(
            "d.json",
            reader,
            &Limits::default(),
            &mut |location, item| {
                found.push(match item {
                    Item::Pod { pod, .. } => {
                        format!("{} {}", location.field, pod.facts(location)?.name)
                    }
                    Item::Kept { kind, .. } => format!("{} {kind}", location.field),
                });
                Ok(())
            },
        )?;
        Ok(found)
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
