//! `explain` from a kept index: its answers against those of the whole inputs, and when an
//! index is used, kept or passed over.

use super::*;
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
/// every refusal (an unknown pod, a pod's address as an end). Clusters with and without
/// Cilium's policies, on each plugin that reads them, and with the Cilium agent's options in
/// the dump.
#[test]
fn kept_answers_are_those_of_the_whole_inputs() {
    let mut noted = 0;
    for (scene, plugin, extra) in scenes() {
        let cache = scene.cache();
        let options = Options {
            network_plugin: plugin,
            ..Options::default()
        };
        let files = scene.cached_files(&cache, options);
        let first = &scene.questions[0];
        let question = [first[0].as_str(), first[1].as_str(), first[2].as_str()];
        let (_, found) = answer(&files, question, 0).unwrap();
        assert_eq!(found, Found::Whole(true));
        assert_eq!(answer(&files, question, 0).unwrap().1, Found::Kept);
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
        for [from, to, port] in &questions {
            let whole = explain(&index, from, to, port).map_err(|e| e.to_string());
            let picked = kept.answer(&files, [from, to, port]);
            let picked = picked.map(|answer| answer.map_err(|e| e.to_string()));
            assert_eq!(picked.as_ref(), Some(&whole), "{from} -> {to} {port}");
            if let Ok(whole) = whole {
                answered += 1;
                allowed += usize::from(whole.allowed());
                noted += unlisted_notes(&whole.to_string(), [from, to], &index);
            } else {
                refused += 1;
            }
        }
        assert!(refused > 20, "{refused} refused");
        assert!(answered > 300, "{answered} answered");
        assert!(
            allowed > 20 && allowed < answered - 20,
            "{allowed} of {answered} allowed"
        );
    }
    assert!(noted > 40, "{noted} notes of what the dump does not list");
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
        let (expected, _) = answer(&files, question, u64::MAX).unwrap();
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
                answer(files, question, 0).unwrap(),
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
    let error = answer(&unread, question, 0).unwrap_err();
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
        answer(&files, question, length + 1).unwrap().1,
        Found::Whole(false)
    );
    assert_eq!(
        answer(&files, question, length).unwrap().1,
        Found::Whole(true)
    );
    let (kept, found) = answer(&files, question, length).unwrap();
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
    let (again, found) = answer(&files, question, length).unwrap();
    assert_eq!((again, found), (kept, Found::Whole(false)));
    // A place that no longer holds its item.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let touch = |path: &str| {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(hour_ago).unwrap();
    };
    touch(&scene.policies[0]);
    assert_eq!(
        answer(&files, question, length).unwrap().1,
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
        answer(&files, question, length),
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
