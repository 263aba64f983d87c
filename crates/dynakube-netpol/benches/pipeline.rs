//! Benchmarks of each step of the pipeline at two sizes, so that the ratio shows how it grows:
//! parsing, building the matrix and rendering both flavors for 1,000 and 10,000 DynaKubes, and
//! `verify` of one DynaKube of each shape in a cluster of 1,000 and 10,000 other pods, before
//! its policies are applied (every connection allowed) and after.

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
        group.bench_with_input(
            BenchmarkId::new("render kubernetes", count),
            &matrix,
            |b, matrix| b.iter(|| Flavor::Kubernetes.render(black_box(matrix), &addresses)),
        );
        group.bench_with_input(
            BenchmarkId::new("render cilium", count),
            &matrix,
            |b, matrix| b.iter(|| Flavor::Cilium.render(black_box(matrix), &addresses)),
        );
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
    let (mut namespaces, mut all_pods) = dynakube_netpol::verify::model_cluster(matrix);
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
/// daemonsets -A -o json` dump of the largest cluster Kubernetes supports: 5,000 nodes and
/// 150,000 pods, read and decided.
fn profile(c: &mut Criterion) {
    let mut group = c.benchmark_group("profile");
    group.sample_size(10);
    let limits = dynakube_netpol::source::Limits {
        max_bytes: usize::MAX,
        ..Default::default()
    };
    let (nodes, pods) = (5_000, 150_000);
    let files = vec![(
        "dump.json".to_string(),
        dynakube_netpol::discover::synthetic_dump(nodes, pods),
    )];
    group.bench_with_input(BenchmarkId::new("json", pods), &files, |b, files| {
        b.iter(|| {
            let dump = dynakube_netpol::discover::read(files, &limits).unwrap();
            dynakube_netpol::discover::discover(&dump)
        });
    });
    group.finish();
}

criterion_group!(benches, pipeline, verify, audit, profile);
criterion_main!(benches);
