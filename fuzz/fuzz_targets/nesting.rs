//! The nesting scan of `source::check` against the scanner of the YAML parser itself
//! (unsafe-libyaml-norway, the version serde_norway uses): on any text the scan measures at
//! least the flow depth the parser's tokens reach before it stops, and exactly that depth when
//! the parser's scanner reads the whole text.
#![no_main]

use std::mem::MaybeUninit;

use dynakube_netpol::source::{Limits, check_bounds as check};
use libfuzzer_sys::fuzz_target;
use unsafe_libyaml_norway as yaml;

/// The deepest flow nesting of the parser's tokens, and whether it read the whole text. A
/// document marker inside a flow collection ends the reading: the parser stops there.
fn parser_depth(text: &str) -> (usize, bool) {
    // SAFETY: the parser is initialised before use and deleted once; every token it hands
    // out is deleted after its type is read; the input outlives the parser.
    unsafe {
        let mut parser = MaybeUninit::<yaml::yaml_parser_t>::uninit();
        assert!(yaml::yaml_parser_initialize(parser.as_mut_ptr()).ok);
        let parser = parser.as_mut_ptr();
        yaml::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        let (mut level, mut deepest, mut whole) = (0usize, 0usize, true);
        loop {
            let mut token = MaybeUninit::<yaml::yaml_token_t>::uninit();
            if yaml::yaml_parser_scan(parser, token.as_mut_ptr()).fail {
                whole = false;
                break;
            }
            let token = token.as_mut_ptr();
            let kind = (*token).type_;
            yaml::yaml_token_delete(token);
            match kind {
                yaml::YAML_FLOW_SEQUENCE_START_TOKEN | yaml::YAML_FLOW_MAPPING_START_TOKEN => {
                    level += 1;
                    deepest = deepest.max(level);
                }
                yaml::YAML_FLOW_SEQUENCE_END_TOKEN | yaml::YAML_FLOW_MAPPING_END_TOKEN => {
                    level = level.saturating_sub(1);
                }
                yaml::YAML_DOCUMENT_START_TOKEN | yaml::YAML_DOCUMENT_END_TOKEN if level > 0 => {
                    whole = false;
                    break;
                }
                yaml::YAML_STREAM_END_TOKEN => break,
                _ => {}
            }
        }
        yaml::yaml_parser_delete(parser);
        (deepest, whole)
    }
}

/// The depth `check` measures: the smallest limit it accepts (129 beyond its largest).
fn measured(text: &str) -> usize {
    (0..=Limits::MAX_DEPTH)
        .find(|max| {
            let limits = Limits {
                max_bytes: usize::MAX,
                max_depth: *max,
            };
            check("fuzz.yaml", text, &limits).is_ok()
        })
        .unwrap_or(Limits::MAX_DEPTH + 1)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (depth, whole) = parser_depth(text);
    let depth = depth.min(Limits::MAX_DEPTH + 1);
    let measured = measured(text);
    assert!(measured >= depth, "measured {measured}, the parser reaches {depth}");
    if whole {
        assert_eq!(measured, depth, "the parser read the whole text");
    }
});
