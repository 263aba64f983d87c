//! Every Rust source file of the repository opens with a `//!` line that says what it is: the
//! modules and tests of every crate, xtask, the examples and benchmarks, the fuzz targets (a
//! workspace of their own) and any build script. The files are the ones git tracks, so that a
//! new file fails here before it is committed without one.

mod support;

/// Whether `text` opens with a module documentation line.
fn opens_with_module_doc(text: &str) -> bool {
    text.lines()
        .next()
        .is_some_and(|line| line.starts_with("//!"))
}

#[test]
fn every_rust_source_file_opens_with_a_module_doc_line() {
    let root = support::root();
    let files = support::tracked(&root);
    let sources: Vec<&String> = files.iter().filter(|f| f.ends_with(".rs")).collect();
    assert!(
        sources.len() > 100
            && sources.iter().any(|f| f.starts_with("fuzz/"))
            && sources.iter().any(|f| f.starts_with("xtask/")),
        "the Rust files are listed: {} of them",
        sources.len()
    );
    let mut missing = Vec::new();
    for file in sources {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue; // removed but not yet committed
        };
        if !opens_with_module_doc(&text) {
            missing.push(file.as_str());
        }
    }
    assert!(
        missing.is_empty(),
        "Rust files whose first line is no `//!` line saying what the file is:\n{}",
        missing.join("\n")
    );
}

#[test]
fn only_a_first_line_of_module_documentation_counts() {
    assert!(opens_with_module_doc(
        "//! The evaluator.\n\nuse std::fmt;\n"
    ));
    assert!(opens_with_module_doc("//! Fuzz target.\n#![no_main]\n"));
    for text in [
        "",
        "use super::*;\n",
        "\n//! After a blank line.\n",
        "// A comment.\n//! Then documentation.\n",
        "/// Documentation of the next item.\nfn f() {}\n",
        "#![no_main]\n//! After an attribute.\n",
        "/*! A block. */\n",
    ] {
        assert!(!opens_with_module_doc(text), "{text:?}");
    }
}
