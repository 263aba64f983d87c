//! `generate` and `lock` with a real DNS server on loopback that each test starts itself: the
//! answers reach the policies and the lock, the lock reproduces the output with the server
//! gone, and failures and private answers are refused with the host's name.

#[path = "../../dynakube-netpol/tests/support/dns_server.rs"]
mod dns_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dns_server::{DnsServer, Zone};

const TENANT: &str = "abc12345.live.dynatrace.com";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("dns")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let dynakube = format!(
        "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {{name: dynakube, namespace: dynatrace}}\nspec:\n  apiUrl: https://{TENANT}/api\n  activeGate: {{capabilities: [routing]}}\n"
    );
    std::fs::write(dir.join("dynakube.yaml"), dynakube).unwrap();
    dir
}

/// Runs the binary in `dir` (so that the default lock file lands there).
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn generate(dir: &Path, server: Option<&DnsServer>, more: &[&str]) -> Output {
    let address = server.map(|s| s.address.to_string());
    let mut args = vec!["generate", "dynakube.yaml"];
    if let Some(address) = &address {
        args.extend(["--nameserver", address.as_str()]);
    }
    args.extend(more);
    run(dir, &args)
}

fn tenant_zone() -> Zone {
    Zone::default()
        .alias(TENANT, "tenant.cdn.example.net", 60)
        .addresses(
            "tenant.cdn.example.net",
            &["52.10.0.1", "2600:1f18::10"],
            30,
        )
}

#[test]
fn answers_reach_the_policies_and_the_lock_reproduces_them_offline() {
    let dir = scratch("reproduce");
    let server = DnsServer::start(tenant_zone());
    let online = generate(&dir, Some(&server), &[]);
    assert!(online.status.success(), "{}", text(&online.stderr));
    let policies = text(&online.stdout);
    assert!(policies.contains("52.10.0.1/32"), "{policies}");
    assert!(policies.contains("2600:1f18::10/128"), "{policies}");

    let lock = std::fs::read_to_string(dir.join("dynakube-netpol.lock")).unwrap();
    assert!(lock.starts_with("# dynakube-netpol lock:"), "{lock}");
    assert!(lock.contains(TENANT) && lock.contains("tenant.cdn.example.net"));
    assert!(lock.contains("ttl: 30"), "{lock}");
    server.stop();

    for more in [&["--offline"][..], &[]] {
        let offline = generate(&dir, None, more);
        assert!(offline.status.success(), "{}", text(&offline.stderr));
        assert_eq!(
            text(&offline.stdout),
            policies,
            "the lock reproduces the output"
        );
    }
    let again = std::fs::read_to_string(dir.join("dynakube-netpol.lock")).unwrap();
    assert_eq!(again, lock, "a complete lock is not rewritten");

    // verify reads the lock too: the flows to the tenant are checked, not left unchecked.
    std::fs::write(dir.join("policies.yaml"), &policies).unwrap();
    let verify = ["verify", "dynakube.yaml", "--policies", "policies.yaml"];
    let checked = run(&dir, &verify);
    assert!(checked.status.success(), "{}", text(&checked.stdout));
    std::fs::remove_file(dir.join("dynakube-netpol.lock")).unwrap();
    let unchecked = run(&dir, &verify);
    assert_ne!(text(&checked.stdout), text(&unchecked.stdout));
}

#[test]
fn an_unknown_host_is_refused_with_its_name_and_nothing_is_written() {
    let dir = scratch("unknown");
    let server = DnsServer::start(Zone::default());
    let out = generate(&dir, Some(&server), &["--lock", "my.lock"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(TENANT), "{stderr}");
    assert!(stderr.contains("NXDOMAIN"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(!dir.join("my.lock").exists());
}

#[test]
fn servfail_and_silence_are_errors_or_warnings_with_allow_unresolved() {
    for (zone, reason) in [
        (Zone::default().servfail(TENANT), "SERVFAIL"),
        (Zone::default().silent(TENANT), "timeout"),
    ] {
        let dir = scratch(reason);
        let server = DnsServer::start(zone);
        let out = generate(&dir, Some(&server), &["--dns-timeout", "1"]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(TENANT) && stderr.contains(reason),
            "{stderr}"
        );
        let out = generate(
            &dir,
            Some(&server),
            &["--dns-timeout", "1", "--allow-unresolved"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("DNS did not resolve"), "{stderr}");
        assert!(text(&out.stdout).contains("DNS did not resolve"));
    }
}

#[test]
fn a_private_answer_for_the_tenant_is_refused() {
    let dir = scratch("private");
    let server = DnsServer::start(Zone::default().addresses(TENANT, &["10.0.0.5"], 60));
    let out = generate(&dir, Some(&server), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{TENANT}: 10.0.0.5/32 is private")),
        "{stderr}"
    );
    assert!(stderr.contains("a poisoned DNS answer"), "{stderr}");
    assert!(!dir.join("dynakube-netpol.lock").exists());

    // The option's earlier name stays an alias.
    for more in [
        &["--allow-special-addresses"][..],
        &["--allow-private-answers"],
        &["--internal-host", TENANT],
    ] {
        let allowed = generate(&dir, Some(&server), more);
        assert!(allowed.status.success(), "{}", text(&allowed.stderr));
        assert!(text(&allowed.stdout).contains("10.0.0.5/32"));
    }
}

#[test]
fn offline_names_the_hosts_the_lock_lacks() {
    let dir = scratch("offline");
    let out = generate(&dir, None, &["--offline"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--offline") && stderr.contains(TENANT),
        "{stderr}"
    );
}

#[test]
fn hosts_entries_win_over_dns() {
    let dir = scratch("override");
    std::fs::write(
        dir.join("hosts.yaml"),
        format!("{TENANT}: [52.20.0.0/24]\n"),
    )
    .unwrap();
    let server = DnsServer::start(tenant_zone());
    let out = generate(&dir, Some(&server), &["--hosts", "hosts.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policies = text(&out.stdout);
    assert!(policies.contains("52.20.0.0/24") && !policies.contains("52.10.0.1"));
    assert_eq!(
        server.queries(),
        0,
        "a host given in --hosts is not resolved"
    );
}

#[test]
fn refresh_keeps_rotated_addresses_unless_pruned_and_check_shows_the_diff() {
    let dir = scratch("refresh");
    let lock = |dir: &Path| std::fs::read_to_string(dir.join("dynakube-netpol.lock")).unwrap();
    let first = DnsServer::start(Zone::default().addresses(TENANT, &["52.10.0.1"], 60));
    let address = first.address.to_string();
    // Without a lock, the check's diff creates it (from /dev/null, as `git apply` takes it).
    let check = ["lock", "dynakube.yaml", "--check", "--nameserver", &address];
    let missing = run(&dir, &check);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing.stderr));
    assert!(
        text(&missing.stdout).starts_with("--- /dev/null\n+++ b/dynakube-netpol.lock\n@@ -0,0 +1,"),
        "{}",
        text(&missing.stdout)
    );
    assert!(!dir.join("dynakube-netpol.lock").exists());
    let out = run(&dir, &["lock", "dynakube.yaml", "--nameserver", &address]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(lock(&dir).contains("52.10.0.1"));
    let check = ["lock", "dynakube.yaml", "--check", "--nameserver", &address];
    let fresh = run(&dir, &check);
    assert_eq!(fresh.status.code(), Some(0), "{}", text(&fresh.stdout));
    first.stop();

    // The CDN rotated its address.
    let second = DnsServer::start(Zone::default().addresses(TENANT, &["52.10.0.2"], 60));
    let address = second.address.to_string();
    let before = lock(&dir);
    let check = ["lock", "dynakube.yaml", "--check", "--nameserver", &address];
    let stale = run(&dir, &check);
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        text(&stale.stdout).contains("+  - 52.10.0.2"),
        "{}",
        text(&stale.stdout)
    );
    // Above the lock's diff, what the refresh does to the connections the policies allow.
    assert!(
        text(&stale.stdout).starts_with(
            "Rows of the matrix:\n  +E8 dynakube-activegate -> abc12345.live.dynatrace.com 443/TCP: newly allowed\n      from dynatrace/dynakube-activegate-0 to 52.10.0.2/32 on 443/TCP\n"
        ),
        "{}",
        text(&stale.stdout)
    );
    assert_eq!(lock(&dir), before, "--check writes nothing");

    let refresh = [
        "lock",
        "dynakube.yaml",
        "--refresh",
        "--nameserver",
        &address,
    ];
    let out = run(&dir, &refresh);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("+ {TENANT} 52.10.0.2\n"));
    assert!(lock(&dir).contains("52.10.0.1") && lock(&dir).contains("52.10.0.2"));

    // Pruned, the address DNS no longer gives is no longer allowed.
    let pruned = run(&dir, &[&check[..], &["--prune"]].concat());
    assert_eq!(pruned.status.code(), Some(1));
    assert!(
        text(&pruned.stdout).starts_with(
            "No longer allowed, needed by no row of the matrix:\n  - egress of dynakube-activegate (dynatrace/dynakube-activegate-0), was admitted by dynatrace/dynakube-activegate-egress-communication-endpoints spec.egress[0]:\n      from dynatrace/dynakube-activegate-0 to 52.10.0.1/32 on 443/TCP\n"
        ),
        "{}",
        text(&pruned.stdout)
    );
    let out = run(&dir, &[&refresh[..], &["--prune"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("- {TENANT} 52.10.0.1\n"));
    assert!(!lock(&dir).contains("52.10.0.1"));
    assert_eq!(run(&dir, &check).status.code(), Some(0));
}

/// What `lock --refresh` prints meets a reader that went away or a full standard output as
/// every output does: quietly, or with an error and exit 2; never with a panic.
#[test]
fn lock_output_to_a_gone_reader_or_a_full_device() {
    let dir = scratch("lock-output");
    let server = DnsServer::start(Zone::default().addresses(TENANT, &["52.10.0.1"], 60));
    let address = server.address.to_string();
    let refresh = [
        "lock",
        "dynakube.yaml",
        "--refresh",
        "--nameserver",
        &address,
    ];
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let gone = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .current_dir(&dir)
        .args(refresh)
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(0), "{}", text(&gone.stderr));
    assert_eq!(text(&gone.stderr), "");
    assert!(dir.join("dynakube-netpol.lock").is_file());

    let full = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .current_dir(&dir)
        .args(refresh)
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(2), "{}", text(&full.stderr));
    assert_eq!(
        text(&full.stderr),
        "error: cannot write to standard output: No space left on device\n"
    );
}

#[test]
fn cilium_uses_the_lock_for_host_policies_only() {
    let dir = scratch("cilium");
    let dynakube = format!(
        "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {{name: dynakube, namespace: dynatrace}}\nspec:\n  apiUrl: https://{TENANT}/api\n  oneAgent: {{cloudNativeFullStack: {{}}}}\n"
    );
    std::fs::write(dir.join("dynakube.yaml"), dynakube).unwrap();
    std::fs::write(dir.join("cluster.yaml"), "cilium: {hostFirewall: true}\n").unwrap();
    let server = DnsServer::start(tenant_zone());
    let out = generate(
        &dir,
        Some(&server),
        &["--flavor", "cilium", "--cluster", "cluster.yaml"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policies = text(&out.stdout);
    assert!(
        policies.contains("52.10.0.1/32"),
        "the host policy: {policies}"
    );
    assert!(
        policies.contains(&format!("matchName: {TENANT}")),
        "{policies}"
    );
    assert!(dir.join("dynakube-netpol.lock").exists());

    // Without the host firewall no host needs addresses: nothing is resolved.
    std::fs::write(dir.join("cluster.yaml"), "{}\n").unwrap();
    let before = server.queries();
    let out = generate(
        &dir,
        Some(&server),
        &["--flavor", "cilium", "--cluster", "cluster.yaml"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("52.10.0.1"));
    assert_eq!(server.queries(), before);
}

#[test]
fn edgeconnect_targets_are_internal_and_optional() {
    let dir = scratch("edgeconnect");
    let edgeconnect = "apiVersion: dynatrace.com/v1alpha2\nkind: EdgeConnect\nmetadata: {name: ec, namespace: dynatrace}\nspec:\n  apiServer: abc12345.apps.dynatrace.com\n  hostPatterns: [db.internal.example.com, gone.internal.example.com]\n  oauth:\n    clientSecret: ec-oauth\n    endpoint: https://sso.dynatrace.com/sso/oauth2/token\n    resource: urn:dtenvironment:abc12345\n";
    std::fs::write(dir.join("edgeconnect.yaml"), edgeconnect).unwrap();
    let zone = Zone::default()
        .addresses("abc12345.apps.dynatrace.com", &["52.30.0.1"], 60)
        .addresses("sso.dynatrace.com", &["52.30.0.2"], 60)
        .addresses("db.internal.example.com", &["10.1.2.3"], 60)
        .addresses("index.docker.io", &["52.30.0.3"], 60)
        .addresses("auth.docker.io", &["52.30.0.4"], 60);
    let server = DnsServer::start(zone);
    let address = server.address.to_string();
    let out = run(
        &dir,
        &["generate", "edgeconnect.yaml", "--nameserver", &address],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policies = text(&out.stdout);
    assert!(
        policies.contains("10.1.2.3/32"),
        "a private target is fine: {policies}"
    );
    assert!(policies.contains("52.30.0.1/32") && policies.contains("52.30.0.2/32"));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("gone.internal.example.com: the name does not exist (NXDOMAIN)"),
        "{stderr}"
    );
}

#[test]
fn database_hosts_are_internal_and_reach_the_lock() {
    let dir = scratch("databases");
    let dynakube = format!(
        "apiVersion: dynatrace.com/v1beta6\nkind: DynaKube\nmetadata: {{name: dynakube, namespace: dynatrace}}\nspec:\n  apiUrl: https://{TENANT}/api\n  extensions:\n    databases: [{{id: db1}}]\n"
    );
    std::fs::write(dir.join("dynakube.yaml"), dynakube).unwrap();
    let profile = "databases:\n  - hosts: [pg.corp.example]\n    ports: [5432]\n";
    std::fs::write(dir.join("cluster.yaml"), profile).unwrap();
    let server = DnsServer::start(tenant_zone().addresses("pg.corp.example", &["10.20.30.40"], 60));
    // A private answer is fine for a database: the profile names it as internal.
    let out = generate(&dir, Some(&server), &["--cluster", "cluster.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policies = text(&out.stdout);
    assert!(policies.contains("cidr: 10.20.30.40/32"), "{policies}");
    let lock = std::fs::read_to_string(dir.join("dynakube-netpol.lock")).unwrap();
    assert!(lock.contains("pg.corp.example:"), "{lock}");
    drop(server);
    // The lock reproduces the rule offline; Cilium names the host and lets the executor
    // resolve it.
    let offline = generate(&dir, None, &["--cluster", "cluster.yaml", "--offline"]);
    assert!(offline.status.success(), "{}", text(&offline.stderr));
    assert_eq!(text(&offline.stdout), policies);
    let cilium = generate(
        &dir,
        None,
        &[
            "--cluster",
            "cluster.yaml",
            "--offline",
            "--flavor",
            "cilium",
        ],
    );
    assert!(cilium.status.success(), "{}", text(&cilium.stderr));
    let cilium = text(&cilium.stdout);
    assert_eq!(
        cilium.matches("- matchName: pg.corp.example").count(),
        2,
        "{cilium}"
    );
}

#[test]
fn lock_says_its_notes_as_quiet_asks() {
    let dir = scratch("lock-quiet");
    let server = DnsServer::start(Zone::default().servfail(TENANT));
    let address = server.address.to_string();
    let lock = |more: &[&str]| {
        let mut args = vec!["lock", "dynakube.yaml", "--nameserver", address.as_str()];
        args.extend(["--dns-timeout", "1", "--allow-unresolved"]);
        args.extend(more);
        let out = run(&dir, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    for (more, said) in [(&[][..], true), (&["-q"], true), (&["-qq"], false)] {
        let stderr = lock(more);
        assert_eq!(
            stderr.contains("DNS did not resolve"),
            said,
            "{more:?}: {stderr}"
        );
        assert!(stderr.contains(TENANT) || !said, "{stderr}");
    }
    for more in [&["--refresh"][..], &["--refresh", "-qq"]] {
        let stderr = lock(more);
        assert_eq!(
            stderr.contains("DNS did not resolve"),
            more.len() == 1,
            "{more:?}: {stderr}"
        );
    }
}
