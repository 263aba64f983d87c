//! `explain` from the items of a dump found by their bytes: a dump (and policies before it,
//! separated by a line of `=====`) written to files and asked about between its pods, nodes and
//! an address; where the whole files give an answer, the items found by their bytes give the
//! same one or none.
#![no_main]

use dynakube_netpol::evaluate::{ExplainFiles, Options, explain_files, explain_scanned};
use dynakube_netpol::source::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (policies, dump) = text.split_once("\n=====\n").unwrap_or(("", text));
    let dir =
        std::env::temp_dir().join(format!("dynakube-netpol-fuzz-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pods, policy_file) = (dir.join("pods.json"), dir.join("policies.json"));
    std::fs::write(&pods, dump).unwrap();
    std::fs::write(&policy_file, policies).unwrap();
    let policies = vec![policy_file.to_str().unwrap().to_owned()];
    let whole = ExplainFiles {
        pods: pods.to_str().unwrap(),
        policies: &policies,
        options: Options::default(),
        limits: Limits::default(),
        cache: None,
        stdin: None,
    };
    let scanned = ExplainFiles {
        cache: Some(&dir),
        ..whole
    };
    // The ends asked about: the pods and nodes the whole dump lists (a few), or some names.
    let mut ends: Vec<String> =
        match dynakube_netpol::evaluate::read_cluster("pods.json", dump, &whole.limits) {
            Ok(cluster) => (cluster.pods.iter().take(4))
                .map(|pod| format!("{}/{}", pod.namespace, pod.name))
                .chain(
                    cluster
                        .nodes
                        .iter()
                        .take(1)
                        .map(|node| format!("node/{}", node.name)),
                )
                .collect(),
            Err(_) => vec!["default/a".to_owned(), "node/n".to_owned()],
        };
    ends.push("192.0.2.7".to_owned());
    for from in &ends {
        for to in &ends {
            let Some(found) = explain_scanned(&scanned, from, to, "443/TCP") else {
                continue;
            };
            if let Ok(answer) = explain_files(&whole, from, to, "443/TCP") {
                let found = found
                    .map(|found| found.to_string())
                    .map_err(|e| e.to_string());
                assert_eq!(found, Ok(answer.to_string()), "{from} -> {to}");
            }
        }
    }
});
