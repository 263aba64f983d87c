//! Benchmarks of each step of the pipeline at two sizes, so that the ratio shows how it grows:
//! parsing, building the matrix and rendering every flavor for 1,000 and 10,000 DynaKubes, and
//! `verify` of one DynaKube of each shape in a cluster of 1,000 and 10,000 other pods, before
//! its policies are applied (every connection allowed) and after; the injection audit and
//! `profile` of the dumps of large clusters.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dynakube_netpol::Flavor;
use dynakube_netpol::cluster::ClusterProfile;
use dynakube_netpol::evaluate::{Index, Namespace, Pod};
use dynakube_netpol::input::{ParseOptions, parse_into};
use dynakube_netpol::matrix::{self, Matrix};
use dynakube_netpol::resolve::{self, Addresses, Fallback, FixedHosts};
use dynakube_netpol::resources::Inputs;
use dynakube_netpol::synthetic::{self, Size};
use k8s_openapi::api::networking::v1::NetworkPolicy;

const PROFILE: &str = "nodeCIDRs: [192.0.2.0/24]\nprometheus: {namespace: monitoring}\n";

fn profile() -> ClusterProfile {
    ClusterProfile::parse("cluster.yaml", PROFILE).expect("the bench profile is valid")
}

fn parse(text: &str) -> Inputs {
    let mut inputs = Inputs::default();
    let options = ParseOptions {
        limits: dynakube_netpol::source::Limits {
            max_bytes: usize::MAX,
            ..Default::default()
        },
        ..Default::default()
    };
    parse_into(&mut inputs, "dynakubes.yaml", text, &options).expect("generated input parses");
    inputs
}

/// The matrix of `count` generated DynaKubes, and the addresses of its hosts.
fn matrix(count: usize) -> (Matrix, Addresses) {
    let inputs = parse(&synthetic::dynakubes(count));
    let matrix = matrix::build(&inputs, &profile(), &matrix::Options::default()).unwrap();
    let addresses = resolve::resolve(
        &matrix,
        &FixedHosts::default(),
        Fallback::PublicInternet,
        &Default::default(),
    )
    .expect("the fallback resolves every host");
    (matrix, addresses)
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    for count in [1_000, 10_000] {
        let text = synthetic::dynakubes(count);
        group.bench_with_input(BenchmarkId::new("parse", count), &text, |b, text| {
            b.iter(|| parse(black_box(text)));
        });
        let inputs = parse(&text);
        let profile = profile();
        let options = matrix::Options::default();
        group.bench_with_input(BenchmarkId::new("build", count), &inputs, |b, inputs| {
            b.iter(|| matrix::build(black_box(inputs), &profile, &options).unwrap());
        });
        let (matrix, addresses) = matrix(count);
        for &flavor in Flavor::ALL {
            group.bench_with_input(
                BenchmarkId::new(format!("render {flavor}"), count),
                &matrix,
                |b, matrix| b.iter(|| flavor.render(black_box(matrix), &addresses)),
            );
        }
    }
    group.finish();
}

/// A synthetic cluster of `pods` pods with the model cluster of `matrix` added: namespaces the
/// two share (`kube-system`, `monitoring`) are taken once.
fn cluster(matrix: &Matrix, pods: usize) -> (Vec<Namespace>, Vec<Pod>, Vec<NetworkPolicy>) {
    let size = Size {
        namespaces: (pods / 20).max(4),
        pods,
        policies: pods / 10,
    };
    let synthetic = synthetic::cluster(size, 1);
    let model = dynakube_netpol::verify::model_cluster(matrix);
    let (mut namespaces, mut all_pods) = (model.namespaces, model.pods);
    for namespace in synthetic.namespaces {
        if !namespaces.iter().any(|n| n.name == namespace.name) {
            namespaces.push(namespace);
        }
    }
    all_pods.extend(synthetic.pods);
    (namespaces, all_pods, synthetic.policies)
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    let (matrix, addresses) = matrix(4);
    let generated: Vec<NetworkPolicy> = Flavor::Kubernetes
        .render(&matrix, &addresses)
        .policies
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    for pods in [1_000, 10_000] {
        let (namespaces, all_pods, policies) = cluster(&matrix, pods);
        let not_isolated = Index::new(namespaces.clone(), all_pods.clone(), &policies).unwrap();
        group.bench_with_input(
            BenchmarkId::new("not isolated", pods),
            &not_isolated,
            |b, index| b.iter(|| dynakube_netpol::verify::verify(&matrix, index, &addresses)),
        );
        let mut applied = policies;
        applied.extend(generated.iter().cloned());
        let isolated = Index::new(namespaces, all_pods, &applied).unwrap();
        group.bench_with_input(BenchmarkId::new("isolated", pods), &isolated, |b, index| {
            b.iter(|| dynakube_netpol::verify::verify(&matrix, index, &addresses))
        });
    }
    group.finish();
}

/// The injection audit of a `kubectl get pods -A -o json` dump of 50,000 pods, read and
/// classified (one in ten skipped).
fn audit(c: &mut Criterion) {
    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    let limits = dynakube_netpol::source::Limits {
        max_bytes: usize::MAX,
        ..Default::default()
    };
    let count = 50_000;
    let files = vec![("pods.json".to_string(), synthetic::pods(count))];
    group.bench_with_input(BenchmarkId::new("json", count), &files, |b, files| {
        b.iter(|| dynakube_netpol::audit::audit(files, &[], &limits).unwrap());
    });
    group.finish();
}

/// `profile` of a `kubectl get nodes,services,endpointslices,pods,namespaces,deployments,
/// daemonsets -A -o json` dump of the largest cluster Kubernetes supports, 5,000 nodes and
/// 150,000 pods, in two files (the nodes, the kubernetes Service and the operator in one, the
/// pods in the other), read and decided.
fn cluster_profile(c: &mut Criterion) {
    let mut group = c.benchmark_group("profile");
    group.sample_size(10);
    let limits = dynakube_netpol::source::Limits {
        max_bytes: usize::MAX,
        ..Default::default()
    };
    let (nodes, pods) = (5_000, 150_000);
    let files = vec![
        ("nodes.json".to_string(), cluster_objects(nodes)),
        ("pods.json".to_string(), synthetic::pods(pods)),
    ];
    group.bench_with_input(BenchmarkId::new("json", pods), &files, |b, files| {
        b.iter(|| dynakube_netpol::discover::profile(files, &limits).unwrap());
    });
    group.finish();
}

/// `nodes` nodes, the `kubernetes` Service with three endpoints and the operator's
/// Deployment, as `kubectl get -o json` prints them.
fn cluster_objects(nodes: usize) -> String {
    let mut items: Vec<String> = (0..nodes)
        .map(|i| {
            format!(
                r#"{{"apiVersion":"v1","kind":"Node","metadata":{{"name":"node-{i}","labels":{{"kubernetes.io/hostname":"node-{i}","kubernetes.io/os":"linux"}}}},"spec":{{"podCIDR":"10.0.0.0/24"}},"status":{{"addresses":[{{"type":"InternalIP","address":"10.{}.{}.{}"}},{{"type":"Hostname","address":"node-{i}"}}],"nodeInfo":{{"kubeletVersion":"v1.34.1"}}}}}}"#,
                128 + i / 65536,
                (i / 256) % 256,
                i % 256
            )
        })
        .collect();
    items.push(r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","namespace":"default"},"spec":{"clusterIP":"10.96.0.1","clusterIPs":["10.96.0.1"],"ports":[{"name":"https","port":443,"targetPort":6443}]}}"#.into());
    items.push(r#"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"kubernetes","namespace":"default","labels":{"kubernetes.io/service-name":"kubernetes"}},"addressType":"IPv4","endpoints":[{"addresses":["10.128.0.0"]},{"addresses":["10.128.0.1"]},{"addresses":["10.128.0.2"]}],"ports":[{"name":"https","port":6443,"protocol":"TCP"}]}"#.into());
    items.push(r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dynatrace-operator","namespace":"dynatrace","labels":{"app.kubernetes.io/name":"dynatrace-operator","app.kubernetes.io/version":"1.10.2"}},"spec":{"template":{"spec":{"containers":[{"name":"dynatrace-operator","image":"public.ecr.aws/dynatrace/dynatrace-operator:v1.10.2"}]}}}}"#.into());
    format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}}\n",
        items.join(",")
    )
}

criterion_group!(benches, pipeline, verify, audit, cluster_profile);
criterion_main!(benches);
