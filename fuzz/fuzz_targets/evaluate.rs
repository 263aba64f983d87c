//! The evaluator's readers, index and answers: policies and a cluster, separated by a line of
//! `=====`, read and indexed under each network plugin, and connections between the cluster's
//! pods, nodes, a Service's cluster IP and an address outside it (looked up by a name, too)
//! asked through `explain` and put into words and JSON, as `dynakube-netpol explain` does.
#![no_main]

use dynakube_netpol::evaluate::{
    Index, NetworkPlugin, Options, explain, read_cluster, read_policies,
};
use dynakube_netpol::source::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (policies, cluster) = text.split_once("\n=====\n").unwrap_or((text, ""));
    let limits = Limits::default();
    let Ok(policies) = read_policies("policies.yaml", policies, &limits) else {
        return;
    };
    let Ok(cluster) = read_cluster("cluster.yaml", cluster, &limits) else {
        return;
    };
    // The ends asked about: a few pods and nodes, an address no pod or node has, and that
    // address looked up by a name (for `toFQDNs` and `domainNames`).
    let mut ends: Vec<String> = cluster
        .pods
        .iter()
        .take(6)
        .map(|pod| format!("{}/{}", pod.namespace, pod.name))
        .collect();
    ends.extend(
        cluster
            .nodes
            .iter()
            .take(2)
            .map(|node| format!("node/{}", node.name)),
    );
    ends.push("192.0.2.7".to_owned());
    // A Service's cluster IP, which is refused.
    ends.extend(
        cluster
            .services
            .iter()
            .flat_map(|s| s.cluster_ips.first())
            .take(1)
            .map(ToString::to_string),
    );
    let name = "api.example.com=192.0.2.7";
    for plugin in [
        NetworkPlugin::Generic,
        NetworkPlugin::Calico,
        NetworkPlugin::Cilium,
    ] {
        let options = Options {
            network_plugin: Some(plugin),
            ..Options::default()
        };
        let Ok(index) = Index::with_options(cluster.clone(), &policies, options) else {
            continue;
        };
        for from in &ends {
            for to in ends.iter().map(String::as_str).chain([name]) {
                for port in ["53/UDP", "443/TCP", "8080/TCP", "9999/SCTP"] {
                    if let Ok(answer) = explain(&index, from, to, port) {
                        let _ = answer.to_string();
                        let _ = answer.to_json();
                    }
                }
            }
        }
    }
});
