//! The evaluator's readers and index: policies and a cluster, separated by a line of `=====`,
//! read, indexed and queried.
#![no_main]

use dynakube_netpol::evaluate::{
    Connection, ConnectionEnd, Index, Options, read_cluster, read_policies,
};
use dynakube_netpol::matrix::Protocol;
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
    let count = cluster.pods.len();
    let Ok(index) = Index::with_options(cluster, &policies, Options::default()) else {
        return;
    };
    for from in 0..count.min(8) {
        for to in 0..count.min(8) {
            for port in [53, 443, 8080] {
                let connection = Connection {
                    from: ConnectionEnd::Pod(from),
                    to: ConnectionEnd::Pod(to),
                    port,
                    protocol: Protocol::Tcp,
                };
                let _ = index.evaluate(&connection);
            }
        }
    }
});
