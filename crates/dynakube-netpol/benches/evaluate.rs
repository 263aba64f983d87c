//! Benchmarks of the NetworkPolicy evaluator on the synthetic cluster of 10,000 pods in 500
//! namespaces with 1,000 policies: building the index, answering 100,000 connection queries
//! with and without naming the deciding policies, and computing exactly what the policies admit,
//! as sets, for every pod in both directions.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use dynakube_netpol::evaluate::{ConnectionEnd, Index};
use dynakube_netpol::synthetic::{self, Size};

/// How many connections one query batch holds.
const QUERIES: usize = 100_000;

/// The cluster of the benchmark: 10,000 pods in 500 namespaces with 1,000 policies.
const SIZE: Size = Size {
    namespaces: 500,
    pods: 10_000,
    policies: 1_000,
};

fn evaluate(c: &mut Criterion) {
    let cluster = synthetic::cluster(SIZE, 1);
    let connections = synthetic::connections(&cluster, QUERIES, 2);
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(10);

    group.bench_function("build index: 10k pods, 500 namespaces, 1k policies", |b| {
        b.iter_batched(
            || (cluster.namespaces.clone(), cluster.pods.clone()),
            |(namespaces, pods)| {
                Index::new(namespaces, pods, black_box(&cluster.policies)).unwrap()
            },
            BatchSize::LargeInput,
        );
    });

    let index = Index::new(
        cluster.namespaces.clone(),
        cluster.pods.clone(),
        &cluster.policies,
    )
    .unwrap();
    group.bench_function("100k queries: evaluate (verdict naming policies)", |b| {
        b.iter(|| {
            connections
                .iter()
                .filter(|connection| index.evaluate(black_box(connection)).allowed())
                .count()
        });
    });
    group.bench_function("100k queries: allows (yes or no)", |b| {
        b.iter(|| {
            connections
                .iter()
                .filter(|connection| index.allows(black_box(connection)))
                .count()
        });
    });
    group.bench_function("admitted sets: every pod, both directions", |b| {
        b.iter(|| black_box(&index).count_admitting_rules());
    });
    // What the other end admits: the ports of every pod's ingress for one source, as verify
    // asks of each peer of a pod that no policy isolates.
    group.bench_function("admitted ports: every pod's ingress from one pod", |b| {
        let source = ConnectionEnd::Pod(cluster.pods.len() / 2);
        b.iter(|| index.count_admitting_pods(black_box(&source)));
    });
    group.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
