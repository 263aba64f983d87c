//! The library half of the build-time jobs: what the `xtask` binary shares with tests outside
//! this crate (the release archive's layout, the generated files and their one freshness check,
//! the CLI's completions and man pages), and the Rust examples of the README and of
//! `docs/library.md`, compiled and run as doctests (`cargo test -p xtask --doc`).
//!
//! The examples are run here rather than by the library, whose package does not hold the
//! documentation where the repository has it. Doctests run in this crate's directory, so the
//! paths in the examples are relative to `xtask/`.

pub mod archive;
pub mod cli_docs;
pub mod generated;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../docs/library.md")]
struct LibraryDoctests;
