//! Reading DynaKube and EdgeConnect resources: any text gives resources or an error.
#![no_main]

use dynakube_netpol::input::{ParseOptions, parse_into};
use dynakube_netpol::resources::Inputs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut inputs = Inputs::default();
        let _ = parse_into(&mut inputs, "fuzz.yaml", text, &ParseOptions::default());
    }
});
