//! How deep the flow collections (`[...]`, `{...}`) of YAML text nest, measured per document
//! before the YAML parser sees the text, in one pass.
//!
//! The parser under serde_norway (libyaml, translated to Rust as unsafe-libyaml-norway 0.2)
//! does work proportional to the flow depth for every token it reads, so a deep nesting makes
//! it quadratic; serde_norway refuses nesting deeper than 128 only after the parser has read
//! the whole document. Counting every bracket of the text would refuse brackets in quoted
//! strings, block scalars, comments and plain scalars, and would carry an unclosed one into
//! the next document. So this scanner follows the parser's scanner (`scanner.rs` of
//! unsafe-libyaml-norway: `yaml_parser_fetch_next_token` and the `scan_*` functions it calls)
//! in everything that decides whether a bracket opens a collection: the flow level, where a
//! token may start, the block indentation (which ends plain and block scalars), simple keys
//! (whose `:` sets the indentation), quoted, plain and block scalars, tags, anchors,
//! comments, directives and document markers. It builds no tokens and reports no syntax
//! errors: where the parser would stop with an error, the scanner goes on, which can only
//! count more brackets than the parser would ever read, never fewer.

/// Where the nesting first went deeper than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep {
    /// The document (1-based, as the parser counts them).
    pub(crate) document: usize,
    /// The line (1-based) of the bracket.
    pub(crate) line: usize,
    /// The column (1-based, in characters) of the bracket.
    pub(crate) column: usize,
}

/// Checks that no flow collection of `text` nests deeper than `max` within its document.
pub(crate) fn check(text: &str, max: usize) -> Result<(), TooDeep> {
    let mut scanner = Scanner {
        at: Cursor {
            bytes: text.as_bytes(),
            pos: 0,
            index: 0,
            line: 0,
            column: 0,
        },
        flow_level: 0,
        simple_key_allowed: true,
        indent: -1,
        indents: Vec::new(),
        key: None,
        document: 1,
        started: false,
        max,
    };
    scanner.run()
}

/// Whether no array or object of the JSON `text` nests deeper than `max`. Brackets in strings
/// do not count; on text that is no JSON the answer means nothing (the JSON parser refuses
/// such text).
pub(crate) fn json_within(text: &str, max: usize) -> bool {
    /// The bytes that matter outside strings: a quote, and brackets that open and close.
    const SPECIAL: [bool; 256] = {
        let mut table = [false; 256];
        table[b'"' as usize] = true;
        table[b'[' as usize] = true;
        table[b'{' as usize] = true;
        table[b']' as usize] = true;
        table[b'}' as usize] = true;
        table
    };
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        at += 1;
        if !SPECIAL[usize::from(byte)] {
            continue;
        }
        match byte {
            b'"' => {
                // To the closing quote, past escaped characters.
                loop {
                    let rest = bytes.get(at..).unwrap_or_default();
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(found) if bytes[at + found] == b'\\' => at += found + 2,
                        Some(found) => {
                            at += found + 1;
                            break;
                        }
                        None => return true,
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            _ => depth = depth.saturating_sub(1),
        }
    }
    true
}

/// A position in the text, counted as the parser counts: characters, lines and columns from 0.
#[derive(Debug, Clone, Copy)]
struct Mark {
    index: usize,
    line: usize,
    column: usize,
}

/// The text and the position in it.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    index: usize,
    line: usize,
    column: usize,
}

impl Cursor<'_> {
    /// The byte `ahead` bytes on (0 at the end). Only used where the characters before it are
    /// ASCII, so that bytes and characters coincide.
    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn byte(&self) -> u8 {
        self.peek(0)
    }

    fn is(&self, byte: u8) -> bool {
        self.pos < self.bytes.len() && self.byte() == byte
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The length in bytes of the line break `ahead` bytes on, 0 when there is none: LF, CR,
    /// NEL (U+0085), LS (U+2028) and PS (U+2029), as the parser's `IS_BREAK`.
    fn break_at(&self, ahead: usize) -> usize {
        match (self.peek(ahead), self.peek(ahead + 1), self.peek(ahead + 2)) {
            (b'\r' | b'\n', _, _) => 1,
            (0xC2, 0x85, _) => 2,
            (0xE2, 0x80, 0xA8 | 0xA9) => 3,
            _ => 0,
        }
    }

    fn is_break(&self) -> bool {
        self.break_at(0) > 0
    }

    fn is_blank_at(&self, ahead: usize) -> bool {
        self.pos + ahead < self.bytes.len() && matches!(self.peek(ahead), b' ' | b'\t')
    }

    fn is_blank(&self) -> bool {
        self.is_blank_at(0)
    }

    /// A blank, a line break or the end, `ahead` bytes on (`IS_BLANKZ_AT`).
    fn is_blankz_at(&self, ahead: usize) -> bool {
        self.pos + ahead >= self.bytes.len() || self.is_blank_at(ahead) || self.break_at(ahead) > 0
    }

    fn is_blankz(&self) -> bool {
        self.is_blankz_at(0)
    }

    /// Letters, digits, `_` and `-`: the characters of anchors and tag handles (`IS_ALPHA`).
    fn is_alpha(&self) -> bool {
        self.pos < self.bytes.len()
            && (self.byte().is_ascii_alphanumeric() || b"_-".contains(&self.byte()))
    }

    /// `---` or `...` at the start of a line, followed by a blank, a break or the end.
    fn at_document_marker(&self) -> bool {
        self.column == 0
            && (self.bytes[self.pos..].starts_with(b"---")
                || self.bytes[self.pos..].starts_with(b"..."))
            && self.is_blankz_at(3)
    }

    fn mark(&self) -> Mark {
        Mark {
            index: self.index,
            line: self.line,
            column: self.column,
        }
    }

    /// Moves over one character (not a line break).
    fn skip(&mut self) {
        if self.at_end() {
            return;
        }
        let width = match self.byte() {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        };
        self.pos = (self.pos + width).min(self.bytes.len());
        self.index += 1;
        self.column += 1;
    }

    /// Moves over a line break (CR LF counts as one line and two characters).
    fn skip_line(&mut self) {
        if self.byte() == b'\r' && self.peek(1) == b'\n' {
            self.pos += 2;
            self.index += 2;
        } else {
            let width = self.break_at(0);
            if width == 0 {
                return;
            }
            self.pos += width;
            self.index += 1;
        }
        self.line += 1;
        self.column = 0;
    }

    /// Moves to the next line break or the end.
    fn skip_to_break(&mut self) {
        while !self.at_end() && !self.is_break() {
            self.skip();
        }
    }
}

/// The state of the parser's scanner that decides what a bracket is.
struct Scanner<'a> {
    at: Cursor<'a>,
    /// How many flow collections are open.
    flow_level: usize,
    /// Whether a simple key (or a block entry) may start here.
    simple_key_allowed: bool,
    /// The column of the innermost block collection (-1 outside any).
    indent: isize,
    /// The columns of the enclosing block collections.
    indents: Vec<isize>,
    /// Where a simple key outside flow collections may have started.
    key: Option<Mark>,
    /// The current document.
    document: usize,
    /// Whether the current document has begun (with `---` or any token).
    started: bool,
    /// The deepest nesting allowed.
    max: usize,
}

impl Scanner<'_> {
    fn run(&mut self) -> Result<(), TooDeep> {
        loop {
            self.skip_to_next_token();
            self.unroll_indent(self.column());
            if self.at.at_end() {
                return Ok(());
            }
            if self.at.column == 0 && self.at.is(b'%') {
                // A directive: up to the end of its line, and the line break.
                self.unroll_indent(-1);
                self.key = None;
                self.simple_key_allowed = false;
                self.at.skip_to_break();
                self.at.skip_line();
            } else if self.at.at_document_marker() {
                self.document_marker();
            } else {
                self.started = true;
                self.token()?;
            }
        }
    }

    fn column(&self) -> isize {
        isize::try_from(self.at.column).unwrap_or(isize::MAX)
    }

    /// `---` or `...`: a document starts or ends. The parser would stop with an error at a
    /// marker inside a flow collection; each document is measured on its own.
    fn document_marker(&mut self) {
        if self.at.is(b'-') {
            if self.started {
                self.document += 1;
            }
            self.started = true;
        }
        self.flow_level = 0;
        self.unroll_indent(-1);
        self.key = None;
        self.simple_key_allowed = false;
        for _ in 0..3 {
            self.at.skip();
        }
    }

    /// Spaces, tabs where they cannot start a token, comments and line breaks
    /// (`yaml_parser_scan_skip_to_next_token`).
    fn skip_to_next_token(&mut self) {
        loop {
            if self.at.column == 0 && self.at.bytes[self.at.pos..].starts_with(b"\xEF\xBB\xBF") {
                self.at.skip();
            }
            while self.at.is(b' ')
                || ((self.flow_level > 0 || !self.simple_key_allowed) && self.at.is(b'\t'))
            {
                self.at.skip();
            }
            if self.at.is(b'#') {
                self.at.skip_to_break();
            }
            if !self.at.is_break() {
                return;
            }
            self.at.skip_line();
            if self.flow_level == 0 {
                self.simple_key_allowed = true;
            }
        }
    }

    /// One token, as `yaml_parser_fetch_next_token` tells them apart.
    fn token(&mut self) -> Result<(), TooDeep> {
        let flow = self.flow_level > 0;
        match self.at.byte() {
            b'[' | b'{' => return self.flow_start(),
            b']' | b'}' => {
                self.remove_key();
                self.flow_level = self.flow_level.saturating_sub(1);
                self.simple_key_allowed = false;
                self.at.skip();
            }
            b',' => {
                self.remove_key();
                self.simple_key_allowed = true;
                self.at.skip();
            }
            b'-' if self.at.is_blankz_at(1) => {
                self.roll_indent(self.column());
                self.remove_key();
                self.simple_key_allowed = true;
                self.at.skip();
            }
            b'?' if flow || self.at.is_blankz_at(1) => {
                self.roll_indent(self.column());
                self.remove_key();
                self.simple_key_allowed = !flow;
                self.at.skip();
            }
            b':' if flow || self.at.is_blankz_at(1) => self.value(),
            b'*' | b'&' => {
                self.save_key();
                self.at.skip();
                while self.at.is_alpha() {
                    self.at.skip();
                }
            }
            b'!' => {
                self.save_key();
                self.tag();
            }
            b'|' | b'>' if !flow => {
                self.remove_key();
                self.simple_key_allowed = true;
                self.block_scalar();
            }
            b'\'' | b'"' => {
                self.save_key();
                self.quoted();
            }
            _ if self.starts_plain() => {
                self.save_key();
                self.plain();
            }
            // No token starts here: the parser stops with an error.
            _ => self.at.skip(),
        }
        Ok(())
    }

    /// `[` or `{`: one level deeper.
    fn flow_start(&mut self) -> Result<(), TooDeep> {
        self.save_key();
        self.flow_level += 1;
        if self.flow_level > self.max {
            return Err(TooDeep {
                document: self.document,
                line: self.at.line + 1,
                column: self.at.column + 1,
            });
        }
        self.simple_key_allowed = true;
        self.at.skip();
        Ok(())
    }

    /// `:` as a value indicator: a simple key before it opens a block mapping at its column.
    fn value(&mut self) {
        if self.flow_level == 0 {
            let here = self.at.mark();
            let key = self
                .key
                .take()
                .filter(|key| key.line == here.line && key.index + 1024 >= here.index);
            match key {
                Some(key) => {
                    self.roll_indent(isize::try_from(key.column).unwrap_or(isize::MAX));
                    self.simple_key_allowed = false;
                }
                None => {
                    self.roll_indent(self.column());
                    self.simple_key_allowed = true;
                }
            }
        } else {
            self.simple_key_allowed = false;
        }
        self.at.skip();
    }

    /// Whether a plain scalar starts here (the last condition of
    /// `yaml_parser_fetch_next_token`).
    fn starts_plain(&self) -> bool {
        let byte = self.at.byte();
        let indicator = self.at.is_blankz() || b"-?:,[]{}#&*!|>'\"%@`".contains(&byte);
        !indicator
            || (byte == b'-' && !self.at.is_blank_at(1))
            || (self.flow_level == 0 && (byte == b'?' || byte == b':') && !self.at.is_blankz_at(1))
    }

    /// A token that may be a simple key starts here; tokens after it on the line may not.
    fn save_key(&mut self) {
        if self.flow_level == 0 && self.simple_key_allowed {
            self.key = Some(self.at.mark());
        }
        self.simple_key_allowed = false;
    }

    fn remove_key(&mut self) {
        if self.flow_level == 0 {
            self.key = None;
        }
    }

    fn roll_indent(&mut self, column: isize) {
        if self.flow_level == 0 && self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
        }
    }

    fn unroll_indent(&mut self, column: isize) {
        if self.flow_level > 0 {
            return;
        }
        while self.indent > column {
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }
}

impl Scanner<'_> {
    /// A tag: `!<uri>` or `!handle!suffix`, up to the first character no tag holds
    /// (`yaml_parser_scan_tag`).
    fn tag(&mut self) {
        let verbatim = self.at.peek(1) == b'<';
        self.at.skip();
        if verbatim {
            self.at.skip();
        }
        let uri = |byte: u8| {
            byte.is_ascii_alphanumeric()
                || b"_-;/?:@&=+$.%!~*'()".contains(&byte)
                || (verbatim && b",[]".contains(&byte))
        };
        while !self.at.at_end() && uri(self.at.byte()) {
            self.at.skip();
        }
        if verbatim && self.at.is(b'>') {
            self.at.skip();
        }
    }

    /// A single- or double-quoted scalar, to its closing quote (`yaml_parser_scan_flow_scalar`).
    fn quoted(&mut self) {
        let quote = self.at.byte();
        let single = quote == b'\'';
        self.at.skip();
        loop {
            if self.at.at_document_marker() || self.at.at_end() {
                return;
            }
            while !self.at.is_blankz() {
                if single && self.at.is(b'\'') && self.at.peek(1) == b'\'' {
                    self.at.skip();
                    self.at.skip();
                } else if self.at.is(quote) {
                    break;
                } else if !single && self.at.is(b'\\') && self.at.break_at(1) > 0 {
                    self.at.skip();
                    self.at.skip_line();
                    break;
                } else if !single && self.at.is(b'\\') {
                    self.at.skip();
                    self.at.skip();
                } else {
                    self.at.skip();
                }
            }
            if self.at.is(quote) {
                self.at.skip();
                return;
            }
            while self.at.is_blank() || self.at.is_break() {
                if self.at.is_blank() {
                    self.at.skip();
                } else {
                    self.at.skip_line();
                }
            }
        }
    }

    /// A plain scalar: in a flow collection it ends at `,`, `[`, `]`, `{` and `}`; outside,
    /// it goes on over line breaks while the lines are indented deeper than the block
    /// collection around it (`yaml_parser_scan_plain_scalar`).
    fn plain(&mut self) {
        let flow = self.flow_level > 0;
        let indent = self.indent + 1;
        let mut leading_blanks = false;
        loop {
            if self.at.at_document_marker() || self.at.is(b'#') {
                break;
            }
            while !self.at.is_blankz() {
                let byte = self.at.byte();
                let next = self.at.peek(1);
                let ends = (byte == b':'
                    && (self.at.is_blankz_at(1) || (flow && b",?[]{}".contains(&next))))
                    || (flow && b",[]{}".contains(&byte));
                if ends {
                    break;
                }
                self.at.skip();
            }
            if !(self.at.is_blank() || self.at.is_break()) {
                break;
            }
            while self.at.is_blank() || self.at.is_break() {
                if self.at.is_blank() {
                    self.at.skip();
                } else {
                    self.at.skip_line();
                    leading_blanks = true;
                }
            }
            if !flow && self.column() < indent {
                break;
            }
        }
        if leading_blanks {
            self.simple_key_allowed = true;
        }
    }

    /// A literal (`|`) or folded (`>`) scalar: its header line, then every line indented at
    /// least as deep as its first non-empty line (`yaml_parser_scan_block_scalar`).
    fn block_scalar(&mut self) {
        self.at.skip();
        let mut increment = 0;
        for _ in 0..2 {
            match self.at.byte() {
                b'+' | b'-' => self.at.skip(),
                digit @ b'1'..=b'9' if increment == 0 => {
                    increment = isize::from(digit - b'0');
                    self.at.skip();
                }
                _ => break,
            }
        }
        while self.at.is_blank() {
            self.at.skip();
        }
        if self.at.is(b'#') {
            self.at.skip_to_break();
        }
        if !self.at.is_break() && !self.at.at_end() {
            // The parser stops here with an error.
            return;
        }
        self.at.skip_line();
        let mut indent = match increment {
            0 => 0,
            _ if self.indent >= 0 => self.indent + increment,
            _ => increment,
        };
        self.block_breaks(&mut indent);
        while self.column() == indent && !self.at.at_end() {
            self.at.skip_to_break();
            self.at.skip_line();
            self.block_breaks(&mut indent);
        }
    }

    /// The indentation and empty lines of a block scalar; decides its indentation from the
    /// first non-empty line when no indicator gave it (`yaml_parser_scan_block_scalar_breaks`).
    fn block_breaks(&mut self, indent: &mut isize) {
        let mut deepest = 0;
        loop {
            while (*indent == 0 || self.column() < *indent) && self.at.is(b' ') {
                self.at.skip();
            }
            deepest = deepest.max(self.column());
            if (*indent == 0 || self.column() < *indent) && self.at.is(b'\t') {
                // A tab in the indentation: the parser stops with an error.
                break;
            }
            if !self.at.is_break() {
                break;
            }
            self.at.skip_line();
        }
        if *indent == 0 {
            *indent = deepest.max(self.indent + 1).max(1);
        }
    }
}
