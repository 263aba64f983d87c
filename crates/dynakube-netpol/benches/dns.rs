//! Resolving 200 host names against a DNS server on loopback whose every answer takes 20 ms:
//! with 16 names at a time the batch takes about ceil(200 / 16) = 13 round trips, not 200.

#[path = "../tests/support/dns_server.rs"]
mod dns_server;

use std::collections::BTreeSet;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use dns_server::{DnsServer, Zone};
use dynakube_netpol::dns::{DnsOptions, resolve_all};
use dynakube_netpol::values::HostName;

const HOSTS: usize = 200;
const ROUND_TRIP: Duration = Duration::from_millis(20);

fn resolve(c: &mut Criterion) {
    let mut zone = Zone::default().delay(ROUND_TRIP);
    let mut names = BTreeSet::new();
    for i in 0..HOSTS {
        let name = format!("host{i}.example.com");
        zone = zone.addresses(&name, &["52.1.2.3", "2600:1f18::1"], 60);
        names.insert(HostName::parse(&name).expect("a valid name"));
    }
    let server = DnsServer::start(zone);
    let mut group = c.benchmark_group("dns");
    group.sample_size(10);
    for parallelism in [1, 16, 64] {
        if parallelism == 1 {
            // 200 sequential round trips (4 s) take too long for more than a glance.
            group.measurement_time(Duration::from_secs(45));
        } else {
            group.measurement_time(Duration::from_secs(5));
        }
        let options = DnsOptions {
            nameservers: vec![server.address],
            timeout: Duration::from_secs(2),
            parallelism,
        };
        group.bench_function(
            format!("resolve_200_hosts_parallelism_{parallelism}"),
            |b| {
                b.iter(|| resolve_all(&names, &options).expect("the loopback server answers"));
            },
        );
    }
    group.finish();
}

criterion_group!(benches, resolve);
criterion_main!(benches);
