//! The whole generate pipeline in every flavor and setting, as the CLI runs it. The input holds
//! the resources, the cluster profile and the hosts file, separated by lines of `=====`.
#![no_main]

use dynakube_netpol::cluster::ClusterProfile;
use dynakube_netpol::input::{ParseOptions, parse_into};
use dynakube_netpol::resolve::{Fallback, FixedHosts};
use dynakube_netpol::resources::Inputs;
use dynakube_netpol::{Flavor, FlavorSettings, GenerateOptions};
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
    // Every flavor with its defaults, and with each value of each of its settings that has a
    // closed set of values (the registry's, so that a new flavor or setting is fuzzed too).
    let runs = Flavor::ALL.iter().flat_map(|&flavor| {
        let mut variants = vec![FlavorSettings::default()];
        for setting in flavor.settings() {
            for (value, _) in setting.values {
                let mut settings = FlavorSettings::default();
                if settings.set(flavor, setting.name, value).is_ok() {
                    variants.push(settings);
                }
            }
        }
        variants.into_iter().flat_map(move |settings| {
            [Fallback::Fail, Fallback::PublicInternet].map(|f| (flavor, settings.clone(), f))
        })
    });
    for (flavor, settings, fallback) in runs {
        let options = GenerateOptions {
            flavor,
            settings,
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
