//! Reading the hosts file: any text gives addresses or an error.
#![no_main]

use dynakube_netpol::resolve::FixedHosts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = FixedHosts::parse("hosts.yaml", text);
    }
});
