//! Reading the cluster profile: any text gives a profile or an error.
#![no_main]

use dynakube_netpol::cluster::ClusterProfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ClusterProfile::parse("cluster.yaml", text);
    }
});
