//! The whole generate pipeline in both flavors, as the CLI runs it. The input holds the
//! resources, the cluster profile and the hosts file, separated by lines of `=====`.
#![no_main]

use dynakube_netpol::cluster::ClusterProfile;
use dynakube_netpol::input::{ParseOptions, parse_into};
use dynakube_netpol::matrix::Options;
use dynakube_netpol::resources::Inputs;
use dynakube_netpol::output::{Output, Provenance};
use dynakube_netpol::resolve::{Fallback, FixedHosts};
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
    let options = Options::default();
    for fallback in [Fallback::Fail, Fallback::PublicInternet] {
        if let Ok((matrix, rendered)) =
            dynakube_netpol::kubernetes(&inputs, &profile, &options, &hosts, fallback)
        {
            let provenance = Provenance {
                notes: [matrix.notes, rendered.notes].concat(),
                ..Provenance::default()
            };
            let describe = |p: &k8s_openapi::api::networking::v1::NetworkPolicy| {
                let name = p.metadata.name.clone().unwrap_or_default();
                let sources = rendered.sources.get(&name).cloned().unwrap_or_default();
                (name, sources)
            };
            if let Ok(output) = Output::new(provenance, &rendered.policies, describe) {
                let _ = (output.to_stream(), output.to_files());
            }
        }
    }
    if let Ok((matrix, rendered)) = dynakube_netpol::cilium(&inputs, &profile, &options, &hosts) {
        let provenance = Provenance {
            notes: [matrix.notes, rendered.notes].concat(),
            ..Provenance::default()
        };
        let describe = |p: &dynakube_netpol::render::cilium::CiliumObject| {
            let sources = rendered.sources.get(&p.name()).cloned().unwrap_or_default();
            (p.name(), sources)
        };
        if let Ok(output) = Output::new(provenance, &rendered.policies, describe) {
            let _ = (output.to_stream(), output.to_files());
        }
    }
});
