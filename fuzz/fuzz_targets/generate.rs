//! The whole generate pipeline in both flavors, as the CLI runs it. The input holds the
//! resources, the cluster profile and the hosts file, separated by lines of `=====`.
#![no_main]

use dynakube_netpol::cluster::ClusterProfile;
use dynakube_netpol::input::{ParseOptions, parse_into};
use dynakube_netpol::resolve::{Fallback, FixedHosts};
use dynakube_netpol::resources::Inputs;
use dynakube_netpol::{Flavor, GenerateOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, "\n=====\n");
    let (resources, profile, hosts) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let mut inputs = Inputs::default();
    if parse_into(&mut inputs, "in.yaml", resources, &ParseOptions::default()).is_err() {
        return;
    }
    let Ok(profile) = ClusterProfile::parse("cluster.yaml", profile) else {
        return;
    };
    let Ok(hosts) = FixedHosts::parse("hosts.yaml", hosts) else {
        return;
    };
    let runs = Flavor::ALL
        .iter()
        .flat_map(|&flavor| [(flavor, Fallback::Fail), (flavor, Fallback::PublicInternet)]);
    for (flavor, fallback) in runs {
        let options = GenerateOptions {
            flavor,
            fallback,
            ..GenerateOptions::default()
        };
        if let Ok(generated) = dynakube_netpol::generate(&inputs, &profile, &options, &hosts) {
            let _ = generated.objects();
            if let Ok(output) = generated.output(&inputs, vec!["in.yaml".into()]) {
                let _ = (output.to_stream(), output.to_files());
            }
        }
    }
});
