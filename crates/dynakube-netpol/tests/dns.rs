//! Resolution against a real DNS server on loopback that each test starts itself.

mod support;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use dynakube_netpol::dns::{DnsOptions, Failure, resolve_all};
use dynakube_netpol::values::HostName;
use support::dns_server::{DnsServer, Zone};

fn names(list: &[&str]) -> BTreeSet<HostName> {
    list.iter().map(|n| HostName::parse(n).unwrap()).collect()
}

fn options(server: &DnsServer) -> DnsOptions {
    DnsOptions {
        nameservers: vec![server.address],
        timeout: Duration::from_millis(500),
        parallelism: 8,
    }
}

fn ips(list: &[&str]) -> BTreeSet<IpAddr> {
    list.iter().map(|ip| ip.parse().unwrap()).collect()
}

fn zone() -> Zone {
    Zone::default()
        .addresses("tenant.example.com", &["8.8.8.8", "2600:1f18::1"], 300)
        .addresses("v4only.example.com", &["52.1.2.3"], 60)
        .alias("alias.example.com", "edge.example.com", 120)
        .alias("edge.example.com", "cdn.example.net", 30)
        .addresses("cdn.example.net", &["52.9.9.9"], 45)
        .servfail("broken.example.com")
        .silent("silent.example.com")
        .addresses("empty.example.com", &[], 60)
        .addresses("private.example.com", &["10.1.2.3"], 60)
}

#[test]
fn a_and_aaaa_with_the_smallest_ttl() {
    let server = DnsServer::start(zone());
    let result = resolve_all(
        &names(&["tenant.example.com", "v4only.example.com"]),
        &options(&server),
    )
    .unwrap();
    assert!(result.failures.is_empty(), "{:?}", result.failures);
    let tenant = &result.lock.hosts[&HostName::parse("tenant.example.com").unwrap()];
    assert_eq!(tenant.addresses, ips(&["8.8.8.8", "2600:1f18::1"]));
    assert_eq!(tenant.ttl, 300);
    assert!(tenant.cnames.is_empty());
    let v4 = &result.lock.hosts[&HostName::parse("v4only.example.com").unwrap()];
    assert_eq!(v4.addresses, ips(&["52.1.2.3"]));
}

#[test]
fn cname_chains_are_followed_and_recorded() {
    let server = DnsServer::start(zone());
    let result = resolve_all(&names(&["alias.example.com"]), &options(&server)).unwrap();
    let entry = &result.lock.hosts[&HostName::parse("alias.example.com").unwrap()];
    assert_eq!(entry.addresses, ips(&["52.9.9.9"]));
    assert_eq!(entry.cnames, ["edge.example.com", "cdn.example.net"]);
    assert_eq!(entry.ttl, 30, "the smallest TTL of the chain");
}

#[test]
fn failures_name_the_reason() {
    let server = DnsServer::start(zone());
    let started = Instant::now();
    let result = resolve_all(
        &names(&[
            "missing.example.com",
            "broken.example.com",
            "silent.example.com",
            "empty.example.com",
        ]),
        &options(&server),
    )
    .unwrap();
    let failure = |n: &str| result.failures[&HostName::parse(n).unwrap()].clone();
    assert_eq!(failure("missing.example.com"), Failure::NoSuchName);
    assert_eq!(failure("broken.example.com"), Failure::ServerFailure);
    assert_eq!(failure("silent.example.com"), Failure::Timeout);
    assert_eq!(failure("empty.example.com"), Failure::NoAddresses);
    assert!(result.lock.hosts.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout bounds the wait: {:?}",
        started.elapsed()
    );
}

#[test]
fn names_are_resolved_concurrently_with_a_bound() {
    let list: Vec<String> = (0..40).map(|i| format!("h{i}.example.com")).collect();
    let mut zone = zone().delay(Duration::from_millis(50));
    for name in &list {
        zone = zone.addresses(name, &["52.1.1.1"], 60);
    }
    let server = DnsServer::start(zone);
    let refs: Vec<&str> = list.iter().map(String::as_str).collect();
    let started = Instant::now();
    let result = resolve_all(&names(&refs), &options(&server)).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(result.lock.hosts.len(), 40);
    assert_eq!(server.queries(), 80, "one A and one AAAA query per name");
    // 40 names, 8 at a time: about 5 round trips of 50 ms, where one by one takes 2 s.
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
}

#[test]
fn an_authoritative_zone_with_a_cname_chain() {
    use hickory_proto::rr::rdata::{A, AAAA, CNAME};
    use hickory_proto::rr::{RData, Record};
    use support::dns_server::name;

    let records = vec![
        Record::from_rdata(
            name("tenant.example.com"),
            300,
            RData::CNAME(CNAME(name("edge.example.com"))),
        ),
        Record::from_rdata(
            name("edge.example.com"),
            120,
            RData::CNAME(CNAME(name("lb.example.com"))),
        ),
        Record::from_rdata(
            name("lb.example.com"),
            60,
            RData::A(A([52, 7, 7, 7].into())),
        ),
        Record::from_rdata(
            name("lb.example.com"),
            90,
            RData::AAAA(AAAA("2600:1f18::7".parse().unwrap())),
        ),
    ];
    let server = DnsServer::start_authoritative("example.com", records);
    let result = resolve_all(
        &names(&["tenant.example.com", "missing.example.com"]),
        &options(&server),
    )
    .unwrap();
    let entry = &result.lock.hosts[&HostName::parse("tenant.example.com").unwrap()];
    assert_eq!(entry.addresses, ips(&["52.7.7.7", "2600:1f18::7"]));
    assert_eq!(entry.cnames, ["edge.example.com", "lb.example.com"]);
    assert_eq!(entry.ttl, 60);
    let missing = &result.failures[&HostName::parse("missing.example.com").unwrap()];
    assert_eq!(*missing, Failure::NoSuchName);
}

#[test]
fn records_of_names_nobody_asked_for_are_ignored() {
    // A hostile server's answer for the tenant also carries an address of another name, and
    // an answer that is only such records leaves the name without addresses.
    let zone = zone()
        .addresses("only-stray.example.com", &[], 60)
        .stray("evil.example", "66.66.66.66")
        .stray("evil.example", "2600:66::66");
    let server = DnsServer::start(zone);
    let result = resolve_all(
        &names(&[
            "tenant.example.com",
            "alias.example.com",
            "only-stray.example.com",
        ]),
        &options(&server),
    )
    .unwrap();
    let tenant = &result.lock.hosts[&HostName::parse("tenant.example.com").unwrap()];
    assert_eq!(tenant.addresses, ips(&["8.8.8.8", "2600:1f18::1"]));
    assert_eq!(tenant.ttl, 300, "the stray records' TTL does not count");
    let alias = &result.lock.hosts[&HostName::parse("alias.example.com").unwrap()];
    assert_eq!(alias.addresses, ips(&["52.9.9.9"]));
    assert_eq!(alias.cnames, ["edge.example.com", "cdn.example.net"]);
    let stray = &result.failures[&HostName::parse("only-stray.example.com").unwrap()];
    assert_eq!(*stray, Failure::NoAddresses);
}

#[test]
fn absurd_options_are_bounded_not_a_panic() {
    let server = DnsServer::start(zone());
    let options = DnsOptions {
        nameservers: vec![server.address],
        timeout: Duration::MAX,
        parallelism: usize::MAX,
    };
    let result = resolve_all(&names(&["tenant.example.com"]), &options).unwrap();
    assert_eq!(result.lock.hosts.len(), 1);
    let options = DnsOptions {
        timeout: Duration::ZERO,
        parallelism: 0,
        ..options
    };
    let result = resolve_all(&names(&["v4only.example.com"]), &options).unwrap();
    assert_eq!(result.lock.hosts.len() + result.failures.len(), 1);
}
