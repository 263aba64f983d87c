//! Sets of DNS names, exactly: names, glob patterns and every name below a domain, joined by
//! union, intersection and difference, with emptiness decided on an automaton.
//!
//! A set is an expression over [`Pattern`]s. Every operation that could leave it empty checks
//! that on the product of the patterns' automata, intersected with the language of valid names
//! (labels of letters, digits, `-` and `_`, separated by single dots), so an empty set is always
//! [`Names::empty`] and a set that is not empty has a valid name in it. The automata run over
//! the characters the patterns name, `.`, and one character standing for all others (which no
//! pattern tells apart), so the answer holds for every name.

use std::collections::{HashSet, VecDeque};
use std::fmt;

/// One pattern of names. Names are lowercase, without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Pattern {
    /// This name.
    Name(String),
    /// A glob: `*` stands for any run of characters other than `.` (Cilium's `matchPattern`).
    Glob(String),
    /// Every name (Cilium's `matchPattern: "*"`).
    Any,
    /// Every name that is something, a dot, and then a name the glob matches: one or more
    /// labels before the rest (Cilium's leading `**.` from 1.19, the matrix's `*.<domain>`).
    Below(String),
}

impl Pattern {
    /// Whether `name` (lowercase, without trailing dot) matches.
    #[cfg(test)]
    pub(crate) fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Name(wanted) => wanted == name,
            Pattern::Glob(glob) => glob_matches(glob.as_bytes(), name.as_bytes()),
            Pattern::Any => !name.is_empty(),
            Pattern::Below(rest) => name
                .match_indices('.')
                .any(|(at, _)| at > 0 && glob_matches(rest.as_bytes(), &name.as_bytes()[at + 1..])),
        }
    }

    /// Its automaton.
    fn automaton(&self) -> Automaton {
        let mut automaton = Automaton::default();
        match self {
            Pattern::Name(name) => {
                for &byte in name.as_bytes() {
                    automaton.literal(byte);
                }
            }
            Pattern::Glob(glob) => automaton.glob(glob.as_bytes()),
            Pattern::Any => automaton.any_run(),
            Pattern::Below(rest) => {
                automaton.any_run();
                automaton.literal(b'.');
                automaton.glob(rest.as_bytes());
            }
        }
        automaton
    }

    /// The characters the pattern names.
    fn bytes(&self) -> &[u8] {
        match self {
            Pattern::Name(text) | Pattern::Glob(text) | Pattern::Below(text) => text.as_bytes(),
            Pattern::Any => &[],
        }
    }
}

impl fmt::Display for Pattern {
    /// The name, the glob, `*`, or `**.` and the rest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Name(text) | Pattern::Glob(text) => f.write_str(text),
            Pattern::Any => f.write_str("*"),
            Pattern::Below(rest) => write!(f, "**.{rest}"),
        }
    }
}

/// Whether `name` matches `glob`, where `*` stands for any run of characters within a label.
#[cfg(test)]
fn glob_matches(glob: &[u8], name: &[u8]) -> bool {
    match glob.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => {
            let mut end = 0;
            loop {
                if glob_matches(rest, &name[end..]) {
                    return true;
                }
                match name.get(end) {
                    Some(&b) if b != b'.' => end += 1,
                    _ => return false,
                }
            }
        }
        Some((&c, rest)) => name.first() == Some(&c) && glob_matches(rest, &name[1..]),
    }
}

/// A set of DNS names.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Names(Expr);

/// A set as an expression over patterns; never an empty set other than `Empty`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Expr {
    /// No name.
    #[default]
    Empty,
    /// The names of a pattern.
    Leaf(Pattern),
    /// The names of any.
    Union(Vec<Expr>),
    /// The names of all.
    Inter(Vec<Expr>),
    /// The names of the first and not of the second.
    Diff(Box<Expr>, Box<Expr>),
}

impl Names {
    /// No name.
    pub(crate) fn empty() -> Self {
        Names(Expr::Empty)
    }

    /// The names of any of `patterns`.
    pub(crate) fn of(patterns: impl IntoIterator<Item = Pattern>) -> Self {
        patterns.into_iter().fold(Names::empty(), |all, pattern| {
            all.union(&Names::checked(Expr::Leaf(pattern)))
        })
    }

    /// Every name.
    pub(crate) fn any() -> Self {
        Names::of([Pattern::Any])
    }

    /// `expr`, or the empty set when no valid name is in it.
    fn checked(expr: Expr) -> Self {
        if is_empty(&expr) {
            Names(Expr::Empty)
        } else {
            Names(expr)
        }
    }

    /// Whether the set has no name.
    pub(crate) fn is_empty(&self) -> bool {
        self.0 == Expr::Empty
    }

    /// Whether every name of the set is in `other`.
    pub(crate) fn is_subset(&self, other: &Names) -> bool {
        self.is_empty()
            || self == other
            || is_empty(&Expr::Diff(
                Box::new(self.0.clone()),
                Box::new(other.0.clone()),
            ))
    }

    /// Whether `name` (as looked up: case and a trailing dot do not matter) is in the set.
    #[cfg(test)]
    pub(crate) fn contains(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        let name = lower.strip_suffix('.').unwrap_or(&lower);
        self.0.contains(name)
    }

    /// The names in either set.
    #[must_use]
    pub(crate) fn union(&self, other: &Names) -> Names {
        if other.is_subset(self) {
            return self.clone();
        }
        if self.is_subset(other) {
            return other.clone();
        }
        let mut parts = Vec::new();
        for expr in [&self.0, &other.0] {
            match expr {
                Expr::Union(more) => parts.extend(more.iter().cloned()),
                other => parts.push(other.clone()),
            }
        }
        Names(Expr::Union(parts))
    }

    /// The names in both sets. The set keeps this one's patterns to show ([`Names::shown`]):
    /// `*` limited to what the DNS rules allow is still shown as `*`.
    #[must_use]
    pub(crate) fn intersection(&self, other: &Names) -> Names {
        if self.is_subset(other) {
            return self.clone();
        }
        if other.is_empty() {
            return Names::empty();
        }
        let both = Expr::Inter(vec![self.0.clone(), other.0.clone()]);
        if other.is_subset(self) {
            Names(both)
        } else {
            Names::checked(both)
        }
    }

    /// The names of this set that are not in `other`.
    #[must_use]
    pub(crate) fn difference(&self, other: &Names) -> Names {
        if self.is_subset(other) {
            return Names::empty();
        }
        if other.is_empty() || self.intersection(other).is_empty() {
            return self.clone();
        }
        Names::checked(Expr::Diff(
            Box::new(self.0.clone()),
            Box::new(other.0.clone()),
        ))
    }

    /// The patterns the set was made of that still have names in it, in words: the patterns
    /// joined, each first operand of an intersection and of a difference (what was cut from
    /// them is not shown). `["*.example.com", "api.example.org"]`.
    pub(crate) fn shown(&self) -> Vec<String> {
        let mut patterns = Vec::new();
        self.0.shown(&mut patterns);
        let mut out: Vec<String> = Vec::new();
        for pattern in patterns {
            let text = pattern.to_string();
            let meets = !Names::of([pattern.clone()]).intersection(self).is_empty();
            if meets && !out.contains(&text) {
                out.push(text);
            }
        }
        out
    }
}

impl fmt::Display for Names {
    /// The expression in words: `a.example.com, **.example.com except *.example.com`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, parts: &[Expr], by: &str| {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(by)?;
                }
                match part {
                    Expr::Leaf(_) | Expr::Empty => write!(f, "{part}")?,
                    _ => write!(f, "({part})")?,
                }
            }
            Ok(())
        };
        match self {
            Expr::Empty => f.write_str("no name"),
            Expr::Leaf(pattern) => write!(f, "{pattern}"),
            Expr::Union(parts) => join(f, parts, ", "),
            Expr::Inter(parts) => join(f, parts, " and "),
            Expr::Diff(a, b) => join(f, &[(**a).clone(), (**b).clone()], " except "),
        }
    }
}

impl Expr {
    #[cfg(test)]
    fn contains(&self, name: &str) -> bool {
        match self {
            Expr::Empty => false,
            Expr::Leaf(pattern) => pattern.matches(name),
            Expr::Union(parts) => parts.iter().any(|p| p.contains(name)),
            Expr::Inter(parts) => parts.iter().all(|p| p.contains(name)),
            Expr::Diff(a, b) => a.contains(name) && !b.contains(name),
        }
    }

    fn shown<'a>(&'a self, out: &mut Vec<&'a Pattern>) {
        match self {
            Expr::Empty => {}
            Expr::Leaf(pattern) => out.push(pattern),
            Expr::Union(parts) => parts.iter().for_each(|p| p.shown(out)),
            Expr::Inter(parts) => {
                if let Some(first) = parts.first() {
                    first.shown(out);
                }
            }
            Expr::Diff(a, _) => a.shown(out),
        }
    }

    /// The leaves, in the order [`Expr::eval`] takes them.
    fn leaves<'a>(&'a self, out: &mut Vec<&'a Pattern>) {
        match self {
            Expr::Empty => {}
            Expr::Leaf(pattern) => out.push(pattern),
            Expr::Union(parts) | Expr::Inter(parts) => parts.iter().for_each(|p| p.leaves(out)),
            Expr::Diff(a, b) => {
                a.leaves(out);
                b.leaves(out);
            }
        }
    }

    /// The expression's value when leaf `i` (in the order of [`Expr::leaves`]) has the value
    /// `values[i]`; `next` counts the leaves taken.
    fn eval(&self, values: &[bool], next: &mut usize) -> bool {
        match self {
            Expr::Empty => false,
            Expr::Leaf(_) => {
                *next += 1;
                values[*next - 1]
            }
            // Every part is evaluated, to take its leaves.
            Expr::Union(parts) => {
                let each: Vec<bool> = parts.iter().map(|p| p.eval(values, next)).collect();
                each.contains(&true)
            }
            Expr::Inter(parts) => {
                let each: Vec<bool> = parts.iter().map(|p| p.eval(values, next)).collect();
                !each.contains(&false)
            }
            Expr::Diff(a, b) => {
                let a = a.eval(values, next);
                let b = b.eval(values, next);
                a && !b
            }
        }
    }
}

/// A character class an automaton's step reads.
#[derive(Debug, Clone, Copy)]
enum Class {
    /// This character.
    Byte(u8),
    /// Any character but `.`.
    NonDot,
    /// Any character.
    Any,
}

impl Class {
    fn admits(self, symbol: u8) -> bool {
        match self {
            Class::Byte(b) => b == symbol,
            Class::NonDot => symbol != b'.',
            Class::Any => true,
        }
    }
}

/// A nondeterministic automaton built left to right; state 0 starts, the last state accepts.
#[derive(Debug, Default)]
struct Automaton {
    /// The steps from each state.
    steps: Vec<Vec<(Class, usize)>>,
    /// The moves from each state that read nothing.
    free: Vec<Vec<usize>>,
}

impl Automaton {
    /// The last state, adding the first when there is none.
    fn last(&mut self) -> usize {
        if self.steps.is_empty() {
            self.steps.push(Vec::new());
            self.free.push(Vec::new());
        }
        self.steps.len() - 1
    }

    /// A new last state, reached from the old one by `class`.
    fn step(&mut self, class: Class) {
        let from = self.last();
        self.steps.push(Vec::new());
        self.free.push(Vec::new());
        self.steps[from].push((class, from + 1));
    }

    fn literal(&mut self, byte: u8) {
        self.step(Class::Byte(byte));
    }

    /// One or more characters of any kind.
    fn any_run(&mut self) {
        self.step(Class::Any);
        let last = self.last();
        self.steps[last].push((Class::Any, last));
    }

    fn glob(&mut self, glob: &[u8]) {
        for &byte in glob {
            if byte == b'*' {
                // A state that loops on any character but a dot, left without reading.
                let from = self.last();
                self.steps.push(Vec::new());
                self.free.push(Vec::new());
                self.steps[from].push((Class::NonDot, from));
                self.free[from].push(from + 1);
            } else {
                self.literal(byte);
            }
        }
    }

    /// `states` with every state reachable from them without reading.
    fn closure(&self, mut states: Vec<usize>) -> Vec<usize> {
        let mut i = 0;
        while i < states.len() {
            for &next in &self.free[states[i]] {
                if !states.contains(&next) {
                    states.push(next);
                }
            }
            i += 1;
        }
        states.sort_unstable();
        states
    }

    fn start(&mut self) -> Vec<usize> {
        self.last();
        self.closure(vec![0])
    }

    fn read(&self, states: &[usize], symbol: u8) -> Vec<usize> {
        let mut next = Vec::new();
        for &state in states {
            for &(class, to) in &self.steps[state] {
                if class.admits(symbol) && !next.contains(&to) {
                    next.push(to);
                }
            }
        }
        self.closure(next)
    }

    fn accepts(&self, states: &[usize]) -> bool {
        states.contains(&(self.steps.len() - 1))
    }
}

/// Whether a label may hold `byte`.
fn label_byte(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
}

/// The characters valid names are made of, up to those no pattern tells apart: the label
/// characters the patterns name, `.`, and one other label character when some is left (every
/// such character acts alike in every pattern).
fn symbols(patterns: &[&Pattern]) -> Vec<u8> {
    let mut named = [false; 256];
    for pattern in patterns {
        for &byte in pattern.bytes() {
            named[usize::from(byte)] = true;
        }
    }
    let mut symbols: Vec<u8> = (0..=255u8)
        .filter(|&b| label_byte(b) && named[usize::from(b)])
        .collect();
    if let Some(other) = (0..=255u8).find(|&b| label_byte(b) && !named[usize::from(b)]) {
        symbols.push(other);
    }
    symbols.push(b'.');
    symbols
}

/// Where a valid name stands after some characters: at the start, in a label, after a dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Valid {
    Start,
    Label,
    Dot,
}

impl Valid {
    fn read(self, symbol: u8) -> Option<Valid> {
        match (self, symbol) {
            (Valid::Label, b'.') => Some(Valid::Dot),
            (_, b'.') => None,
            _ => Some(Valid::Label),
        }
    }
}

/// Whether no valid name is in `expr`: a search of the product of its patterns' automata and
/// of valid names for a state where the expression holds.
fn is_empty(expr: &Expr) -> bool {
    let mut leaves = Vec::new();
    expr.leaves(&mut leaves);
    if leaves.is_empty() {
        return true;
    }
    let mut automata: Vec<Automaton> = leaves.iter().map(|p| p.automaton()).collect();
    let symbols = symbols(&leaves);
    let start: Vec<Vec<usize>> = automata.iter_mut().map(Automaton::start).collect();
    let mut seen: HashSet<(Valid, Vec<Vec<usize>>)> = HashSet::new();
    let mut queue = VecDeque::from([(Valid::Start, start)]);
    while let Some((valid, states)) = queue.pop_front() {
        if !seen.insert((valid, states.clone())) {
            continue;
        }
        let values: Vec<bool> = automata
            .iter()
            .zip(&states)
            .map(|(a, s)| a.accepts(s))
            .collect();
        if valid == Valid::Label && expr.eval(&values, &mut 0) {
            return false;
        }
        for &symbol in &symbols {
            let Some(next_valid) = valid.read(symbol) else {
                continue;
            };
            let next: Vec<Vec<usize>> = automata
                .iter()
                .zip(&states)
                .map(|(a, s)| a.read(s, symbol))
                .collect();
            // Once no pattern can match any more, nothing can hold.
            if next.iter().all(Vec::is_empty) {
                continue;
            }
            queue.push_back((next_valid, next));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> Names {
        Names::of([Pattern::Glob(text.into())])
    }

    fn name(text: &str) -> Names {
        Names::of([Pattern::Name(text.into())])
    }

    #[test]
    fn patterns_match_as_cilium_matches_them() {
        assert!(Pattern::Glob("*.cilium.io".into()).matches("sub.cilium.io"));
        assert!(!Pattern::Glob("*.cilium.io".into()).matches("a.sub.cilium.io"));
        assert!(Pattern::Glob("part*ial.com".into()).matches("part-extra-ial.com"));
        assert!(Pattern::Below("cilium.io".into()).matches("a.sub.cilium.io"));
        assert!(!Pattern::Below("cilium.io".into()).matches("cilium.io"));
        assert!(Pattern::Any.matches("io"));
        assert!(name("api.example.com").contains("API.example.com."));
        assert!(!name("api.example.com").contains("api.example.org"));
    }

    #[test]
    fn emptiness_is_decided_for_every_valid_name() {
        // Two globs that meet in one name only.
        let one = glob("a*.b").intersection(&glob("ab.*"));
        assert!(!one.is_empty());
        assert!(one.contains("ab.b"));
        assert!(one.difference(&name("ab.b")).is_empty());
        // `*.example.com` is below the domain: the name with an empty label is no name.
        let below = Names::of([Pattern::Below("example.com".into())]);
        assert!(glob("*.example.com").difference(&below).is_empty());
        assert!(!below.difference(&glob("*.example.com")).is_empty());
        // Every name but finitely many is still names.
        let rest = Names::any()
            .difference(&name("a.b"))
            .difference(&glob("*.c"));
        assert!(!rest.is_empty());
        assert!(rest.contains("x.y") && !rest.contains("a.b") && !rest.contains("q.c"));
        // Patterns that share no name.
        assert!(glob("*.a").intersection(&glob("*.b")).is_empty());
        assert!(glob("x*").intersection(&glob("y*")).is_empty());
        // A character no pattern names stands for all others.
        assert!(!glob("*").difference(&glob("a*")).is_empty());
        assert!(glob("*").is_subset(&Names::any()));
        assert!(!Names::any().is_subset(&glob("*")));
    }

    #[test]
    fn sets_show_the_patterns_they_keep() {
        let wide = Names::of([
            Pattern::Any,
            Pattern::Glob("*.example.com".into()),
            Pattern::Name("a.example.org".into()),
        ]);
        // A union keeps the widest pattern only, when it covers the others.
        assert_eq!(wide.shown(), ["*"]);
        let two = Names::of([
            Pattern::Glob("*.example.com".into()),
            Pattern::Name("a.example.org".into()),
        ]);
        assert_eq!(two.shown(), ["*.example.com", "a.example.org"]);
        let cut = two.difference(&name("a.example.org"));
        assert_eq!(cut.shown(), ["*.example.com"]);
        let limited = two.intersection(&Names::of([Pattern::Below("com".into())]));
        assert_eq!(limited.shown(), ["*.example.com"]);
        // What a set is cut down to keeps its own patterns.
        let all = Names::any()
            .intersection(&two)
            .difference(&name("a.example.org"));
        assert_eq!(all.shown(), ["*"]);
        assert!(two.difference(&two).is_empty());
        assert!(two.difference(&two).shown().is_empty());
    }
}
