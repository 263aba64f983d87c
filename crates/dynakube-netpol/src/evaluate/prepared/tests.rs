//! `explain` from a kept index: its answers against those of the whole inputs, and when an
//! index is used, kept or passed over.

use super::*;

/// A dump this large is never scanned: the tests of kept indexes read whole first.
const NO_SCAN: u64 = u64::MAX;
use crate::evaluate::{explain, read_cluster_file};
use crate::synthetic;

/// A generated cluster's dump and policies in a directory of their own, written an hour ago
/// (an index of files changed in the last seconds is not kept).
struct Scene {
    dir: tempfile::TempDir,
    pods: String,
    policies: Vec<String>,
    questions: Vec<[String; 3]>,
}

fn scene(cilium_policies: usize) -> Scene {
    scene_with(cilium_policies, None)
}

/// [`scene`], with the Cilium agent's ConfigMap `cilium-config` of `data` in the dump.
fn scene_with(cilium_policies: usize, agent: Option<serde_json::Value>) -> Scene {
    let items = agent.map(|data| {
        serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "data": data,
        "metadata": {"name": "cilium-config", "namespace": "kube-system"}})
    });
    scene_of(cilium_policies, items.into_iter().collect(), Vec::new())
}

/// [`scene`], with `items` amid the dump's and `policies` after the others.
fn scene_of(
    cilium_policies: usize,
    items: Vec<serde_json::Value>,
    policies: Vec<serde_json::Value>,
) -> Scene {
    let scale = synthetic::Scale {
        nodes: 4,
        namespaces: 8,
        pods: 120,
        network_policies: 60,
        cluster_network_policies: 30,
        cilium_policies,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut questions = Vec::new();
    for (name, text) in synthetic::large_files(&scale, 7) {
        if name == "explain.txt" {
            for line in text.lines() {
                let words: Vec<String> = line.split(' ').map(String::from).collect();
                questions.push([words[0].clone(), words[1].clone(), words[2].clone()]);
            }
        }
        if name.ends_with(".json") {
            let path = dir.path().join(&name);
            let text = if name == "cluster.json" && !items.is_empty() {
                let mut list: serde_json::Value = serde_json::from_str(&text).unwrap();
                let listed = list["items"].as_array_mut().unwrap();
                // Amid the items, as a dump of every kind would hold them.
                let middle = listed.len() / 2;
                listed.splice(middle..middle, items.iter().cloned());
                serde_json::to_string_pretty(&list).unwrap()
            } else if name == "policies.json" && !policies.is_empty() {
                let mut list: serde_json::Value = serde_json::from_str(&text).unwrap();
                let listed = list["items"].as_array_mut().unwrap();
                listed.extend(policies.iter().cloned());
                serde_json::to_string_pretty(&list).unwrap()
            } else if name == "policies.json" && cilium_policies == 0 {
                // No Cilium policies at all, not even the Dynatrace workloads'.
                let mut list: serde_json::Value = serde_json::from_str(&text).unwrap();
                let items = list["items"].as_array_mut().unwrap();
                items.retain(|item| {
                    !item["apiVersion"]
                        .as_str()
                        .unwrap()
                        .starts_with("cilium.io/")
                });
                serde_json::to_string_pretty(&list).unwrap()
            } else {
                text
            };
            write_old(&path, &text);
        }
    }
    let named = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    Scene {
        pods: named("cluster.json"),
        policies: vec![named("policies.json")],
        questions,
        dir,
    }
}

/// Writes `text` to `path`, modified an hour ago.
fn write_old(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(hour_ago).unwrap();
}

/// `scene` without the items of its dump that `leave_out` picks.
fn without(scene: Scene, leave_out: fn(&serde_json::Value) -> bool) -> Scene {
    let text = std::fs::read_to_string(&scene.pods).unwrap();
    let mut list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let items = list["items"].as_array_mut().unwrap();
    let before = items.len();
    items.retain(|item| !leave_out(item));
    assert!(items.len() < before, "nothing was left out");
    write_old(Path::new(&scene.pods), &list.to_string());
    scene
}

/// Whether `item` is a Node, which `kubectl get namespaces,pods -A` leaves out.
fn node(item: &serde_json::Value) -> bool {
    item["kind"] == "Node"
}

/// Whether `item` is a pod of the cluster DNS, whose nodes every question picks.
fn dns_pod(item: &serde_json::Value) -> bool {
    item["metadata"]["labels"]["k8s-app"] == "kube-dns"
}

impl Scene {
    fn files(&self, options: Options) -> ExplainFiles<'_> {
        ExplainFiles {
            pods: &self.pods,
            policies: &self.policies,
            options,
            limits: Limits {
                max_bytes: 1 << 30,
                ..Limits::default()
            },
            cache: None,
            stdin: None,
        }
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// [`Scene::files`], keeping indexes in `cache`.
    fn cached_files<'a>(&'a self, cache: &'a Path, options: Options) -> ExplainFiles<'a> {
        ExplainFiles {
            cache: Some(cache),
            ..self.files(options)
        }
    }
}

/// The ends to ask about: pods of every kind (a sample of the applications, the cluster DNS's,
/// the host network's), nodes, addresses outside the cluster, a node's and a pod's address,
/// and a destination named by DNS.
fn ends(index: &Index) -> (Vec<String>, Vec<String>) {
    let pods = index.pods();
    let mut ends: Vec<String> = (pods.iter().enumerate())
        .filter(|(i, pod)| {
            i % 9 == 0
                || pod.host_network && i % 3 == 0
                || super::super::cilium_tier::is_dns_pod(pod)
        })
        .map(|(_, pod)| format!("{}/{}", pod.namespace, pod.name))
        .collect();
    // A canary, which the policy of [`services`] selects.
    let canary = pods
        .iter()
        .find(|p| p.labels.contains_key("canary"))
        .unwrap();
    ends.push(format!("{}/{}", canary.namespace, canary.name));
    let nodes = index.nodes();
    if let [first, second, .., last] = nodes {
        ends.push(format!("node/{}", first.name));
        ends.push(format!("node/{}", last.name));
        ends.push(second.addresses[0].to_string());
    }
    ends.push("8.8.8.8".into());
    // An application pod's, which no other pod has and no other end names.
    let pod_ip = (pods.iter().rev())
        .find(|p| {
            let alone = |ip| pods.iter().filter(|other| other.ips.contains(ip)).count() == 1;
            !p.host_network && p.namespace.starts_with("ns-") && p.ips.first().is_some_and(alone)
        })
        .unwrap();
    ends.push(pod_ip.ips[0].to_string());
    ends.push("no-such/pod".into());
    let mut to = ends.clone();
    to.push("abc12345.live.dynatrace.com=203.0.113.10".into());
    (ends, to)
}

/// Services for Cilium's `toServices`, and a policy that names them: one without a selector in
/// front of an address the questions name, one in front of a tier's pods.
fn services() -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let items = vec![
        serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "external", "namespace": "default"}, "spec": {}}),
        serde_json::json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "external-1", "namespace": "default",
                "labels": {"kubernetes.io/service-name": "external"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["8.8.8.8"]}]}),
        serde_json::json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "dbs", "namespace": "ns-0005", "labels": {"role": "db"}},
            "spec": {"selector": {"tier": "db"}, "clusterIP": "10.96.5.5",
                "clusterIPs": ["10.96.5.5"]}}),
    ];
    let policy = serde_json::json!({"apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "to-services"},
        "spec": {"endpointSelector": {"matchLabels": {"canary": "true"}},
            "egress": [{"toServices": [
                {"k8sService": {"serviceName": "external", "namespace": "default"}},
                {"k8sServiceSelector": {"selector": {"matchLabels": {"role": "db"}}}}]}]}});
    (items, vec![policy])
}

/// Pods of a Job that have ended, one at an address a running pod has now, and that pod;
/// with the ends that name them and their addresses.
fn ended_pods() -> (Vec<serde_json::Value>, [&'static str; 5]) {
    let pod = |name: &str, phase: &str, ip: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns-0001", "labels": {"job-name": "report"}},
            "spec": {"containers": [{"name": "main", "image": "report:1",
                "ports": [{"containerPort": 8080}]}], "nodeName": "node-0001"},
            "status": {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}]}})
    };
    let items = vec![
        pod("report-1", "Succeeded", "10.255.0.7"),
        pod("report-2", "Running", "10.255.0.7"),
        pod("report-3", "Failed", "10.255.0.9"),
    ];
    let ends = [
        "ns-0001/report-1",
        "ns-0001/report-2",
        "ns-0001/report-3",
        "10.255.0.7",
        "10.255.0.9",
    ];
    (items, ends)
}

/// Pods of namespaces the dump does not list, one in the host network, one on a node the dump
/// does not list; with the ends that name them. An answer about the first and the last notes
/// that their namespace's labels are not known, and about the last that its node is not.
fn unlisted_namespaces() -> (Vec<serde_json::Value>, [&'static str; 3]) {
    let pod = |(namespace, name): (&str, &str), host: bool, node: &str, ip: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "web:1",
                "ports": [{"containerPort": 8080}]}], "nodeName": node, "hostNetwork": host},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})
    };
    let items = vec![
        pod(("unlisted", "web-0"), false, "node-0002", "10.255.1.7"),
        pod(
            ("unlisted-host", "agent-0"),
            true,
            "node-0002",
            "10.128.0.3",
        ),
        pod(("unlisted", "web-1"), false, "node-9999", "10.255.1.9"),
    ];
    let ends = ["unlisted/web-0", "unlisted-host/agent-0", "unlisted/web-1"];
    (items, ends)
}

/// How many notes of namespaces or nodes the dump does not list the answer `text` about
/// `ends` has, checked: the namespace a pod's labels are seen in is noted where the dump does
/// not list it (the host network's pods have no such labels), and so is a pod's node (see
/// [`unlisted_namespaces`]); where the dump lists no nodes, each address may be a node's.
fn unlisted_notes(text: &str, ends: [&String; 2], index: &Index) -> usize {
    let end = |pod: &str| ends.iter().any(|end| *end == pod);
    let namespace = text.contains("namespace unlisted is not in the cluster dump");
    assert_eq!(
        namespace,
        end("unlisted/web-0") || end("unlisted/web-1"),
        "{text}"
    );
    assert!(!text.contains("namespace unlisted-host "), "{text}");
    let node = text.contains("node node-9999 is not in the cluster dump");
    assert_eq!(node, end("unlisted/web-1"), "{text}");
    let addresses: BTreeSet<&String> = ends.into_iter().filter(|end| is_address(end)).collect();
    let unknown = if index.nodes().is_empty() {
        addresses.len()
    } else {
        0
    };
    assert_eq!(text.matches("lists no nodes").count(), unknown, "{text}");
    usize::from(namespace) + usize::from(node) + unknown
}

/// Whether the end `end` is an address (`IP` or `NAME=IP`).
fn is_address(end: &str) -> bool {
    let address = end.split_once('=').map_or(end, |(_, address)| address);
    address.parse::<IpAddr>().is_ok()
}

/// A CiliumCIDRGroup and a policy that names it, given with the policies.
fn cidr_groups() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({"apiVersion": "cilium.io/v2alpha1", "kind": "CiliumCIDRGroup",
            "metadata": {"name": "outside"},
            "spec": {"externalCIDRs": ["8.8.8.0/24", "203.0.113.0/24"]}}),
        serde_json::json!({"apiVersion": "cilium.io/v2",
            "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "to-outside"},
            "spec": {"endpointSelector": {"matchLabels": {"canary": "true"}},
                "egress": [{"toCIDRSet": [
                    {"cidrGroupRef": "outside", "except": ["203.0.113.10/32"]}]}]}}),
    ]
}

/// Every answer from the items a kept index picks is the answer of the whole inputs, and so is
/// every refusal (an unknown pod, a pod's address as an end); so are those from the items
/// found by their bytes, where the dump is laid out for it. Clusters with and without
/// Cilium's policies, on each plugin that reads them, and with the Cilium agent's options in
/// the dump.
#[test]
fn kept_answers_are_those_of_the_whole_inputs() {
    let (mut noted, mut laid_out_scenes) = (0, 0);
    let scenes = scenes();
    let count = scenes.len();
    for (scene, plugin, extra) in scenes {
        let cache = scene.cache();
        let options = Options {
            network_plugin: plugin,
            ..Options::default()
        };
        let files = scene.cached_files(&cache, options);
        let first = &scene.questions[0];
        let question = [first[0].as_str(), first[1].as_str(), first[2].as_str()];
        let (_, found) = answer(&files, question, [0, NO_SCAN]).unwrap();
        assert_eq!(found, Found::Whole(true));
        assert_eq!(
            answer(&files, question, [0, NO_SCAN]).unwrap().1,
            Found::Kept
        );
        let kept = Place::of(&cache, &files).unwrap().load().unwrap();

        let limits = files.limits;
        let cluster = read_cluster_file(&scene.pods, Path::new(&scene.pods), &limits).unwrap();
        let text = std::fs::read_to_string(&scene.policies[0]).unwrap();
        let policies = crate::evaluate::read_policies(&scene.policies[0], &text, &limits).unwrap();
        let index = Index::with_options(cluster, &policies, options).unwrap();
        let (mut from, mut to) = ends(&index);
        from.extend(extra.iter().map(ToString::to_string));
        to.extend(extra.iter().map(ToString::to_string));
        let ports = ["443/TCP", "53/UDP", "8080/TCP", "9999/SCTP", "10250/TCP"];
        let mut questions: Vec<[String; 3]> = scene.questions.clone();
        for (i, from) in from.iter().enumerate() {
            for (j, to) in to.iter().enumerate() {
                let port = ports[(i + j) % ports.len()];
                questions.push([from.clone(), to.clone(), port.to_string()]);
            }
        }
        let (mut answered, mut allowed, mut refused) = (0, 0, 0);
        // Found by their bytes where the dump is laid out as kubectl prints it (and no end is
        // an IPv6 address); never where it is not.
        let laid_out = std::fs::read_to_string(&scene.pods)
            .unwrap()
            .starts_with("{\n ");
        let mut scanned = 0;
        for [from, to, port] in &questions {
            let whole = explain(&index, from, to, port).map_err(|e| e.to_string());
            let picked = kept.answer(&files, [from, to, port]);
            let picked = picked.map(|answer| answer.map_err(|e| e.to_string()));
            assert_eq!(picked.as_ref(), Some(&whole), "{from} -> {to} {port}");
            let found = scan::answer(&files, [from, to, port], 0);
            let found = found.map(|answer| answer.map_err(|e| e.to_string()));
            let ipv6 = [from, to]
                .iter()
                .any(|end| end.contains(':') && !end.contains('/'));
            if laid_out && !ipv6 {
                assert_eq!(
                    found.as_ref(),
                    Some(&whole),
                    "by bytes: {from} -> {to} {port}"
                );
                scanned += 1;
            } else {
                assert_eq!(found, None, "by bytes: {from} -> {to} {port}");
            }
            if let Ok(whole) = whole {
                answered += 1;
                allowed += usize::from(whole.allowed());
                noted += unlisted_notes(&whole.to_string(), [from, to], &index);
            } else {
                refused += 1;
            }
        }
        assert!(!laid_out || scanned > 300, "{scanned} found by bytes");
        laid_out_scenes += usize::from(laid_out);
        assert!(refused > 20, "{refused} refused");
        assert!(answered > 300, "{answered} answered");
        assert!(
            allowed > 20 && allowed < answered - 20,
            "{allowed} of {answered} allowed"
        );
    }
    assert!(noted > 40, "{noted} notes of what the dump does not list");
    // All but the two written without their layout.
    assert_eq!(laid_out_scenes, count - 2);
}

/// The scenes of [`kept_answers_are_those_of_the_whole_inputs`], each with the network
/// plugin asked for and ends to ask about besides those of [`ends`]: clusters with and
/// without Cilium's policies, with the Cilium agent's options, Services, CIDR groups, pods
/// that have ended, namespaces and nodes the dump does not list.
fn scenes() -> Vec<(Scene, Option<NetworkPlugin>, Vec<&'static str>)> {
    let agent = serde_json::json!({"allow-localhost": "policy", "policy-cidr-match-mode": "nodes"});
    let (services, to_services) = services();
    let (ended, ended_ends) = ended_pods();
    // Services with cluster IPs, named by policies or not: asked about by their addresses,
    // they are refused as the whole dump refuses them.
    let named_services = services.clone();
    let service_ends = vec!["10.96.5.5", "10.96.5.6"];
    let (unlisted, unlisted_ends) = unlisted_namespaces();
    vec![
        (scene(30), None, vec![]),
        (scene(0), None, vec![]),
        (scene(0), Some(NetworkPlugin::Calico), vec![]),
        (scene_with(30, Some(agent)), None, vec![]),
        (
            scene_of(30, services, to_services),
            None,
            service_ends.clone(),
        ),
        (scene_of(30, Vec::new(), cidr_groups()), None, vec![]),
        (scene_of(30, ended, Vec::new()), None, ended_ends.to_vec()),
        (scene_of(30, named_services, Vec::new()), None, service_ends),
        (
            scene_of(30, unlisted, Vec::new()),
            None,
            unlisted_ends.to_vec(),
        ),
        (
            without(scene(30), node),
            None,
            vec!["10.128.0.3", "8.8.8.8"],
        ),
        // Questions of addresses alone pick no node here.
        (without(scene(0), dns_pod), None, vec!["1.1.1.1"]),
    ]
}

/// An input named `-` is standard input's text, the dump or a policy file: the answers are
/// those of the files, and no index is kept of it, even in a cache directory.
#[test]
fn standard_input_is_read_whole_and_never_kept() {
    let scene = scene(10);
    let cache = scene.cache();
    let files = scene.cached_files(&cache, Options::default());
    let dump = std::fs::read_to_string(&scene.pods).unwrap();
    let policies = std::fs::read_to_string(&scene.policies[0]).unwrap();
    let stdin_policies = vec![STDIN.to_string()];
    for question in &scene.questions {
        let question = [
            question[0].as_str(),
            question[1].as_str(),
            question[2].as_str(),
        ];
        let (expected, _) = answer(&files, question, [u64::MAX, NO_SCAN]).unwrap();
        let from_stdin = [
            ExplainFiles {
                pods: STDIN,
                stdin: Some(&dump),
                ..files
            },
            ExplainFiles {
                policies: &stdin_policies,
                stdin: Some(&policies),
                ..files
            },
        ];
        for files in &from_stdin {
            assert_eq!(
                answer(files, question, [0, NO_SCAN]).unwrap(),
                (expected.clone(), Found::Whole(false))
            );
        }
    }
    assert!(!cache.exists(), "an index was kept");
    let unread = ExplainFiles {
        pods: STDIN,
        ..files
    };
    let question = ["8.8.8.8", "8.8.4.4", "443/TCP"];
    let error = answer(&unread, question, [0, NO_SCAN]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "-: cannot read: standard input was not given"
    );
}

/// An index is used only while the files are as they were and the index is its user's alone;
/// small dumps are not indexed, and an index of files just changed is not kept.
#[test]
fn kept_indexes_are_used_only_while_they_hold() {
    let scene = scene(10);
    let cache = scene.cache();
    let files = scene.cached_files(&cache, Options::default());
    let first = &scene.questions[0];
    let question = [first[0].as_str(), first[1].as_str(), first[2].as_str()];
    let length = std::fs::metadata(&scene.pods).unwrap().len();
    assert_eq!(
        answer(&files, question, [length + 1, NO_SCAN]).unwrap().1,
        Found::Whole(false)
    );
    assert_eq!(
        answer(&files, question, [length, NO_SCAN]).unwrap().1,
        Found::Whole(true)
    );
    let (kept, found) = answer(&files, question, [length, NO_SCAN]).unwrap();
    assert_eq!(found, Found::Kept);
    let place = Place::of(&cache, &files).unwrap();

    // Written by others.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let set = |mode| {
            std::fs::set_permissions(&place.path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        set(0o620);
        assert!(place.load().is_none());
        set(0o600);
        assert!(place.load().is_some());
    }
    // Another option, another index.
    let other = ExplainFiles {
        options: Options {
            network_plugin: Some(NetworkPlugin::Cilium),
            ..Options::default()
        },
        ..files
    };
    assert_ne!(Place::of(&cache, &other).unwrap().path, place.path);
    // A policy file changed (just now: no index is kept of it).
    let mut text = std::fs::read_to_string(&scene.policies[0]).unwrap();
    text.push('\n');
    std::fs::write(&scene.policies[0], &text).unwrap();
    assert!(Place::of(&cache, &files).unwrap().load().is_none());
    let (again, found) = answer(&files, question, [length, NO_SCAN]).unwrap();
    assert_eq!((again, found), (kept, Found::Whole(false)));
    // A place that no longer holds its item.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let touch = |path: &str| {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(hour_ago).unwrap();
    };
    touch(&scene.policies[0]);
    assert_eq!(
        answer(&files, question, [length, NO_SCAN]).unwrap().1,
        Found::Whole(true)
    );
    let dump = std::fs::read_to_string(&scene.pods).unwrap();
    std::fs::write(
        &scene.pods,
        dump.replacen("{", " ", 2).replacen(' ', "{", 1),
    )
    .unwrap();
    touch(&scene.pods);
    let place = Place::of(&cache, &files).unwrap();
    let mut stale = std::fs::read_to_string(&place.path).unwrap();
    let stamp = Stamp::of(Path::new(&scene.pods)).unwrap().line();
    let old = stale.lines().nth(2).unwrap().to_string();
    stale = stale.replacen(&old, &stamp, 1);
    std::fs::write(&place.path, stale).unwrap();
    assert!(place.load().is_some());
    assert!(matches!(
        answer(&files, question, [length, NO_SCAN]),
        Err(_) | Ok((_, Found::Whole(_)))
    ));
}

#[test]
fn policies_are_picked_by_kind_and_namespace() {
    let items = |text: &str| {
        policy_items("p.json", text, &Limits::default()).map(|items| {
            (items.into_iter())
                .map(|(at, picked)| (text[at.start as usize..at.end as usize].to_string(), picked))
                .collect::<Vec<_>>()
        })
    };
    let np = r#"{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "a", "namespace": "shop"}}"#;
    let cnp = r#"{"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "c"}}"#;
    let cilium = r#"{"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "d", "namespace": "db"}}"#;
    let wide = r#"{"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "e"}}"#;
    let other = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "f", "namespace": "shop"}}"#;
    let group =
        r#"{"apiVersion": "cilium.io/v2", "kind": "CiliumCIDRGroup", "metadata": {"name": "g"}}"#;
    let list = format!(
        "\u{feff}{{\"apiVersion\": \"v1\", \"items\": [{np},\n{cnp}, {cilium}, {wide}, {other}, {group}], \"kind\": \"List\"}}"
    );
    assert_eq!(
        items(&list).unwrap(),
        [
            (np.to_string(), Picked::NetworkPolicy("shop".into())),
            (cnp.to_string(), Picked::ClusterPolicy("c".into())),
            (cilium.to_string(), Picked::Namespace("db".into())),
            (wide.to_string(), Picked::Always),
            (other.to_string(), Picked::Never),
            (group.to_string(), Picked::Always),
        ]
    );
    assert_eq!(
        items(&format!(" {np}\n")).unwrap(),
        [(np.to_string(), Picked::NetworkPolicy("shop".into()))]
    );
    assert_eq!(items("apiVersion: v1\nkind: List\nitems: []\n"), None);
}

/// A dump's Services are items every question needs only where a policy names Services;
/// otherwise a Service with cluster IPs is listed with them, for a question that names one.
#[test]
fn services_are_kept_for_policies_that_name_them() {
    let items = [
        DumpItem::Always { at: 0..10 },
        DumpItem::Service {
            at: 10..20,
            ips: Vec::new(),
        },
        DumpItem::Service {
            at: 20..30,
            ips: vec!["10.96.0.1".parse().unwrap()],
        },
    ];
    let lines = |services| item_lines(&items, services).0;
    assert_eq!(lines(false), "A\t0\t10\nV\t20\t30\t10.96.0.1\n");
    assert_eq!(lines(true), "A\t0\t10\nA\t10\t20\nA\t20\t30\n");
}

/// The first question on a dump laid out as kubectl prints it is answered from the items found
/// by their bytes, and keeps no index; without a cache directory the inputs are read whole.
#[test]
fn laid_out_dumps_are_read_by_their_bytes() {
    let scene = scene(10);
    let cache = scene.cache();
    let files = scene.cached_files(&cache, Options::default());
    for question in &scene.questions {
        let question = [&question[0], &question[1], &question[2]].map(String::as_str);
        let (found, how) = answer(&files, question, [0, 0]).unwrap();
        assert_eq!(how, Found::Scanned);
        let (whole, how) = answer(&scene.files(Options::default()), question, [0, 0]).unwrap();
        assert_eq!(how, Found::Whole(false));
        assert_eq!(found.to_string(), whole.to_string());
    }
    assert!(!cache.exists(), "an index was kept");
    // Below the size from which bytes are sought, the inputs are read whole and kept.
    let question = [
        &scene.questions[0][0],
        &scene.questions[0][1],
        &scene.questions[0][2],
    ]
    .map(String::as_str);
    let found = answer(&files, question, [0, u64::MAX]).unwrap().1;
    assert_eq!(found, Found::Whole(true));
}

/// The dump of `scene` as kubectl prints it, but with its item `at` (counted from the end
/// where negative) on one line: the layout no longer says where each item is.
fn one_item_on_one_line(scene: &Scene, at: isize) {
    let text = std::fs::read_to_string(&scene.pods).unwrap();
    let mut list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let items = list["items"].as_array_mut().unwrap();
    let at = usize::try_from(at).unwrap_or_else(|_| items.len() - at.unsigned_abs());
    let item = std::mem::replace(&mut items[at], "one line".into());
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    serde::Serialize::serialize(&list, &mut serializer).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let text = text.replacen("\"one line\"", &item.to_string(), 1);
    write_old(Path::new(&scene.pods), &text);
}

/// Anything the layout does not account for gives no answer from the bytes, and the whole
/// inputs answer: an item on one line amid the others or last, an IPv6 address asked about.
/// An item longer than a pass reads at a time is read alone, to the same answer.
#[test]
fn what_the_layout_does_not_say_is_read_whole() {
    let ask = |scene: &Scene, question: [&str; 3]| {
        let files = scene.files(Options::default());
        let whole = answer(&files, question, [u64::MAX, u64::MAX]).map(|(a, _)| a.to_string());
        (
            scan::answer(&files, question, 0).map(|a| a.map(|a| a.to_string())),
            whole,
        )
    };
    for at in [0, 7, -1] {
        let scene = scene(10);
        let first = &scene.questions[0];
        let question = [&first[0], &first[1], &first[2]].map(String::as_str);
        let (found, whole) = ask(&scene, question);
        assert_eq!(found.unwrap().ok(), whole.as_ref().ok().cloned());
        one_item_on_one_line(&scene, at);
        let (found, _) = ask(&scene, question);
        assert!(found.is_none(), "item {at} on one line");
    }
    let scene = scene(10);
    let pod = &scene.questions[0][0];
    let (found, whole) = ask(&scene, [pod, "fd00::1", "443/TCP"]);
    assert!(found.is_none() && whole.is_ok(), "{whole:?}");

    // A pod with an annotation of 3 MiB, longer than a part of a pass.
    let text = std::fs::read_to_string(&scene.pods).unwrap();
    let mut list: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (namespace, name) = pod.split_once('/').unwrap();
    let items = list["items"].as_array_mut().unwrap();
    let item = (items.iter_mut())
        .find(|item| item["metadata"]["name"] == name && item["metadata"]["namespace"] == namespace)
        .unwrap();
    item["metadata"]["annotations"] = serde_json::json!({"long": "x".repeat(3 << 20)});
    write_old(
        Path::new(&scene.pods),
        &serde_json::to_string_pretty(&list).unwrap(),
    );
    for question in &scene.questions {
        let question = [&question[0], &question[1], &question[2]].map(String::as_str);
        let (found, whole) = ask(&scene, question);
        assert_eq!(
            found.map(|found| found.ok()),
            Some(whole.ok()),
            "{question:?}"
        );
    }
}

/// Which ClusterNetworkPolicies may have a question's pods as subject is told by their
/// subject's namespace selector, as the evaluator's selectors select; what is no selector, or
/// one reading would refuse, may select.
#[test]
fn subjects_are_told_by_their_namespace_selectors() {
    let labels: scan::Labels = [("env", "prod"), ("team", "shop")]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
    let selects = |selector: serde_json::Value| scan::selects(&selector, &labels);
    let expression = |operator: &str, values: &[&str]| {
        let expression = serde_json::json!({"key": "env", "operator": operator, "values": values});
        serde_json::json!({ "matchExpressions": [expression] })
    };
    assert_eq!(selects(serde_json::json!({})), Some(true));
    assert_eq!(
        selects(serde_json::json!({"matchLabels": {"env": "prod"}})),
        Some(true)
    );
    assert_eq!(
        selects(serde_json::json!({"matchLabels": {"env": "prod", "team": "ads"}})),
        Some(false)
    );
    assert_eq!(selects(expression("In", &["dev", "prod"])), Some(true));
    assert_eq!(selects(expression("In", &["dev"])), Some(false));
    assert_eq!(selects(expression("NotIn", &["prod"])), Some(false));
    assert_eq!(selects(expression("NotIn", &["dev"])), Some(true));
    assert_eq!(selects(expression("Exists", &[])), Some(true));
    assert_eq!(selects(expression("DoesNotExist", &[])), Some(false));
    assert_eq!(selects(expression("Gt", &["1"])), None);
    // A field a selector does not have is left out, as the API server prunes it: what is left
    // selects everything, which may select.
    assert_eq!(
        selects(serde_json::json!({"matchLabel": {"env": "ads"}})),
        Some(true)
    );
    assert_eq!(selects(expression("In", &[])), None);
    assert_eq!(
        selects(serde_json::json!({"matchLabels": {"env": 1}})),
        None
    );
    assert_eq!(selects(serde_json::json!([])), None);
}

/// A dump laid out as kubectl prints it, changed here and there (a line left out or doubled, a
/// character of a line replaced): the items found by their bytes give no answer, or the one the
/// whole dump gives where it gives one (it may refuse an item they do not read).
#[test]
fn changed_dumps_are_answered_as_whole_or_not_at_all() {
    let scene = scene(10);
    let original = std::fs::read_to_string(&scene.pods).unwrap();
    let lines: Vec<&str> = original.split_inclusive('\n').collect();
    let files = scene.files(Options::default());
    let questions: Vec<[&str; 3]> = (scene.questions.iter().take(3))
        .map(|q| [&q[0], &q[1], &q[2]].map(String::as_str))
        .collect();
    // xorshift64: changes of their own each round, the same each run.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut below = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % n as u64).unwrap()
    };
    let (mut compared, mut unanswered) = (0, 0);
    let rounds = 80;
    for _ in 0..rounds {
        let mut changed: Vec<String> = lines.iter().map(ToString::to_string).collect();
        let at = below(changed.len());
        match below(3) {
            0 => drop(changed.remove(at)),
            1 => changed.insert(at, changed[at].clone()),
            _ => {
                let line = &mut changed[at];
                let byte = below(line.len());
                let with = ["{", "}", "[", "\"", ",", ":", " ", "\\", "x", "\n"][below(10)];
                line.replace_range(byte..=byte, with);
            }
        }
        write_old(Path::new(&scene.pods), &changed.concat());
        for question in &questions {
            let whole = answer(&files, *question, [u64::MAX, u64::MAX]);
            let found = scan::answer(&files, *question, 0);
            match (found, whole) {
                (None, _) => unanswered += 1,
                (Some(found), Ok((whole, _))) => {
                    let found = found.map(|found| found.to_string());
                    assert_eq!(
                        found.ok(),
                        Some(whole.to_string()),
                        "{question:?}, line {at}"
                    );
                    compared += 1;
                }
                (Some(_), Err(_)) => {}
            }
        }
    }
    assert!(compared > rounds / 2, "{compared} compared");
    assert!(
        unanswered > rounds / 8,
        "{unanswered} not answered by bytes"
    );
}
