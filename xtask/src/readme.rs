//! The README's Rust examples, compiled and run as doctests (`cargo test -p xtask --doc`).
//!
//! They are run here rather than by the library, whose package does not hold the README where
//! the repository has it. Doctests run in this crate's directory, so the paths in the README's
//! examples are relative to `xtask/`.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
