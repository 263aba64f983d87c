//! `zone-plan --apply` against a real HTTP server on loopback that implements the Dynatrace
//! API's network-zone endpoints (GET and PUT `/api/v2/networkZones/<zone>`) with token
//! checks, and answers with rate limits, server errors, silence, hostile text, answers too
//! large and answers dripped byte by byte when told to.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does instead of answering normally, one entry per request.
#[derive(Clone)]
enum Fault {
    Status(u16, Option<&'static str>),
    Silence(Duration),
    /// An answer with this status, extra header lines and body; `TOKEN` in them becomes the
    /// token the request carried.
    Answer(u16, &'static str, String),
    /// A 200 whose body of `len` bytes arrives one byte per interval.
    Drip(usize, Duration),
}

#[derive(Default)]
struct State {
    /// Zone name to fallback mode.
    zones: BTreeMap<String, String>,
    /// Faults for the next requests, in order.
    faults: VecDeque<Fault>,
    /// Every request, as `METHOD path`.
    seen: Vec<String>,
}

/// A server on a free loopback port; the tokens `writer` (read and write) and `reader` (read
/// only) are accepted.
struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Server { port, state }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).to_string();

    let fault = {
        let mut state = state.lock().unwrap();
        state.seen.push(format!("{method} {path}"));
        state.faults.pop_front()
    };
    let token = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Api-Token "))
        .unwrap_or_default()
        .to_string();
    let (status, extra, text) = match fault {
        Some(Fault::Silence(time)) => {
            std::thread::sleep(time);
            return;
        }
        Some(Fault::Drip(len, interval)) => {
            drip(stream, len, interval);
            return;
        }
        Some(Fault::Answer(status, extra, body)) => (
            status,
            extra.replace("TOKEN", &token),
            body.replace("TOKEN", &token),
        ),
        Some(Fault::Status(status, retry_after)) => (
            status,
            retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default(),
            String::new(),
        ),
        None => answer(&method, &path, &headers, &body, state),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{text}",
        text.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
}

/// A 200 of `len` bytes, written one byte per `interval`, until the client goes away.
fn drip(mut stream: TcpStream, len: usize, interval: Duration) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    for _ in 0..len {
        std::thread::sleep(interval);
        if stream
            .write_all(b" ")
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
    }
}

/// The two endpoints, with token checks.
fn answer(
    method: &str,
    path: &str,
    headers: &BTreeMap<String, String>,
    body: &str,
    state: &Mutex<State>,
) -> (u16, String, String) {
    let token = headers.get("authorization").map(String::as_str);
    let may_write = match token {
        Some("Api-Token writer") => true,
        Some("Api-Token reader") => false,
        _ => return (401, String::new(), r#"{"error":{"code":401}}"#.into()),
    };
    let Some(zone) = path.strip_prefix("/api/v2/networkZones/") else {
        return (404, String::new(), String::new());
    };
    let mut state = state.lock().unwrap();
    match method {
        "GET" => match state.zones.get(zone) {
            Some(mode) => (
                200,
                String::new(),
                format!(r#"{{"id":"{zone}","fallbackMode":"{mode}","alternativeZones":[]}}"#),
            ),
            None => (404, String::new(), r#"{"error":{"code":404}}"#.into()),
        },
        "PUT" if !may_write => (403, String::new(), r#"{"error":{"code":403}}"#.into()),
        "PUT" => {
            let value: serde_json::Value = serde_json::from_str(body).unwrap();
            let mode = value["fallbackMode"].as_str().unwrap().to_string();
            let created = state.zones.insert(zone.to_string(), mode).is_none();
            (
                if created { 201 } else { 204 },
                String::new(),
                String::new(),
            )
        }
        _ => (405, String::new(), String::new()),
    }
}

/// A DynaKube in `zone` of the server's environment, and a profile saying the zone is NONE.
fn inputs(server: &Server, name: &str, zone: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("zone-apply")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("dynakube.yaml"),
        format!(
            "apiVersion: dynatrace.com/v1beta5\nkind: DynaKube\nmetadata: {{name: prod, namespace: dynatrace}}\nspec:\n  apiUrl: http://127.0.0.1:{}/api\n  networkZone: {zone}\n  activeGate: {{capabilities: [routing]}}\n",
            server.port
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("cluster.yaml"),
        format!("networkZones: {{{zone}: none}}\n"),
    )
    .unwrap();
    dir
}

/// `zone-plan --apply` as the tests run it: against the loopback server, over http.
fn command(dir: &Path, token: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"));
    command
        .args(["zone-plan", "dynakube.yaml", "--cluster", "cluster.yaml"])
        .args([
            "--apply",
            "--api-token-env",
            "ZONE_TEST_TOKEN",
            "--timeout",
            "2",
        ])
        .args(extra)
        .env("ZONE_TEST_TOKEN", token)
        .current_dir(dir);
    command
}

fn apply(dir: &Path, token: &str, extra: &[&str]) -> Output {
    let mut extra = extra.to_vec();
    extra.push("--insecure-http");
    command(dir, token, &extra).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn creates_a_missing_zone_once_and_changes_a_wrong_fallback() {
    let server = Server::start();
    let dir = inputs(&server, "create", "k8s-prod");
    let first = apply(&dir, "writer", &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(
        text(&first).contains("zone k8s-prod (fallback NONE)"),
        "{}",
        text(&first)
    );
    assert!(text(&first).ends_with(": created\n"), "{}", text(&first));
    assert_eq!(server.state().zones["k8s-prod"], "NONE");

    let second = apply(&dir, "writer", &["--format", "json"]);
    assert!(
        text(&second).contains("\"result\": \"unchanged\""),
        "{}",
        text(&second)
    );
    assert_eq!(
        server.state().seen,
        [
            "GET /api/v2/networkZones/k8s-prod",
            "PUT /api/v2/networkZones/k8s-prod",
            "GET /api/v2/networkZones/k8s-prod"
        ]
    );

    server.state().zones.insert("k8s-prod".into(), "ANY".into());
    let third = apply(&dir, "writer", &[]);
    assert!(
        text(&third).contains("fallback changed from ANY"),
        "{}",
        text(&third)
    );
    assert_eq!(server.state().zones["k8s-prod"], "NONE");
}

#[test]
fn refused_tokens_fail_without_showing_the_token() {
    let server = Server::start();
    let dir = inputs(&server, "tokens", "k8s-prod");
    let wrong = apply(&dir, "s3cr3t-wrong", &[]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong).contains("401: the token was refused"),
        "{}",
        text(&wrong)
    );
    assert!(!text(&wrong).contains("s3cr3t"), "{}", text(&wrong));

    let reader = apply(&dir, "reader", &[]);
    assert_eq!(reader.status.code(), Some(1));
    assert!(
        text(&reader).contains("403: the token lacks the permission networkZones.write"),
        "{}",
        text(&reader)
    );
    assert!(server.state().zones.is_empty());

    let unset = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args([
            "zone-plan",
            "dynakube.yaml",
            "--cluster",
            "cluster.yaml",
            "--apply",
        ])
        .args(["--api-token-env", "ZONE_TEST_TOKEN_UNSET"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(unset.status.code(), Some(2), "{}", text(&unset));
}

#[test]
fn rate_limits_are_waited_out_and_server_errors_retried() {
    let server = Server::start();
    let dir = inputs(&server, "retries", "k8s-prod");
    server.state().faults =
        VecDeque::from([Fault::Status(429, Some("1")), Fault::Status(503, None)]);
    let out = apply(&dir, "writer", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.state().seen.len(), 4, "{:?}", server.state().seen);
    assert_eq!(server.state().zones["k8s-prod"], "NONE");
    assert!(
        text(&out).contains("rate limited (429); waiting 1 s before asking again"),
        "{}",
        text(&out)
    );

    server.state().zones.clear();
    server.state().faults = VecDeque::from(vec![Fault::Status(429, Some("1")); 3]);
    let limited = apply(&dir, "writer", &[]);
    assert_eq!(limited.status.code(), Some(1));
    assert!(
        text(&limited).contains("429: rate limited, also after waiting 2 s"),
        "{}",
        text(&limited)
    );

    server.state().faults = VecDeque::from(vec![Fault::Status(500, None); 3]);
    let failed = apply(&dir, "writer", &[]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed).contains("500: the server failed, also when asked again"),
        "{}",
        text(&failed)
    );
    assert!(server.state().zones.is_empty());
}

#[test]
fn a_silent_server_times_out() {
    let server = Server::start();
    let dir = inputs(&server, "timeout", "k8s-prod");
    server.state().faults = VecDeque::from([Fault::Silence(Duration::from_secs(5))]);
    let out = apply(&dir, "writer", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("timed out: no complete answer within 2 s (--timeout)"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_token_goes_over_https_only() {
    let server = Server::start();
    let dir = inputs(&server, "http", "k8s-prod");
    let out = command(&dir, "writer", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is not https: --apply would send the API token in cleartext"),
        "{}",
        text(&out)
    );
    // A host that is no loopback address is refused even with --insecure-http (and never
    // resolved: the refusal comes before any request).
    let remote = dir.join("remote.yaml");
    std::fs::write(
        &remote,
        std::fs::read_to_string(dir.join("dynakube.yaml"))
            .unwrap()
            .replace(&format!("127.0.0.1:{}", server.port), "zones.example.com"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
        .args([
            "zone-plan",
            "remote.yaml",
            "--cluster",
            "cluster.yaml",
            "--apply",
        ])
        .args(["--api-token-env", "ZONE_TEST_TOKEN", "--insecure-http"])
        .env("ZONE_TEST_TOKEN", "writer")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--insecure-http is only for a server on this machine"),
        "{}",
        text(&out)
    );
    assert!(server.state().seen.is_empty(), "{:?}", server.state().seen);
}

#[test]
fn zone_names_that_address_no_zone_make_no_request() {
    let server = Server::start();
    for (name, zone) in [("dot", "'.'"), ("dots", "'..'"), ("slash", "a/b")] {
        let dir = inputs(&server, name, zone);
        let out = apply(&dir, "writer", &[]);
        assert_eq!(out.status.code(), Some(2), "{zone}: {}", text(&out));
        assert!(
            text(&out).contains("field `spec.networkZone`"),
            "{zone}: {}",
            text(&out)
        );
        // The plan itself refuses it too: its curl line would address the collection.
        let plan = Command::new(env!("CARGO_BIN_EXE_dynakube-netpol"))
            .args(["zone-plan", "dynakube.yaml", "--cluster", "cluster.yaml"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_eq!(plan.status.code(), Some(2), "{zone}: {}", text(&plan));
    }
    assert!(server.state().seen.is_empty(), "{:?}", server.state().seen);
}

/// The text of `out` holds no raw control character but line ends, and not `secret`.
fn assert_shown_safely(out: &Output, secret: &str) {
    let all = text(out);
    assert!(!all.contains(secret), "{all}");
    assert!(
        !all.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters: {all:?}"
    );
}

#[test]
fn what_a_hostile_server_says_is_escaped_and_never_the_token() {
    let server = Server::start();
    let dir = inputs(&server, "hostile", "k8s-prod");
    let token = "dt0c01.PUBLICPART1234.SECRETPART5678ABCDEF";
    let forged = r#"{"fallbackMode":"NONE\n\u001b[31merror: forged line\u001b[0m"}"#;
    let answers = [
        (
            Fault::Answer(200, "", forged.into()),
            "\\u{1b}[31merror: forged line",
        ),
        (
            Fault::Answer(200, "", r#"{"fallbackMode":"TOKEN"}"#.into()),
            "fallbackMode `<token>` is none the API documents",
        ),
        (
            Fault::Answer(
                400,
                "",
                r#"{"error":{"code":400,"message":"bad TOKEN\nerror: forged"}}"#.into(),
            ),
            "the server says `bad <token>\\nerror: forged`",
        ),
        (
            Fault::Answer(429, "Retry-After: TOKEN\r\n", String::new()),
            "Retry-After `<token>` is no number of seconds; waiting 1 s before asking again",
        ),
    ];
    for (fault, expected) in answers {
        server.state().faults = VecDeque::from([fault.clone(), fault.clone(), fault]);
        let out = apply(&dir, token, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains(expected), "{expected}: {}", text(&out));
        assert_shown_safely(&out, "SECRETPART5678ABCDEF");
    }
}

#[test]
fn answers_too_large_or_too_slow_are_said_as_such() {
    let server = Server::start();
    let dir = inputs(&server, "large", "k8s-prod");
    let large = format!(r#"{{"fallbackMode":"NONE","x":"{}"}}"#, "a".repeat(2 << 20));
    server.state().faults = VecDeque::from([Fault::Answer(200, "", large)]);
    let out = apply(&dir, "writer", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("the answer is too large (over 1 MiB)"),
        "{}",
        text(&out)
    );

    server.state().faults = VecDeque::from([Fault::Drip(40, Duration::from_millis(300))]);
    let out = apply(&dir, "writer", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("timed out"), "{}", text(&out));
    assert!(!text(&out).contains("not JSON"), "{}", text(&out));
}

#[test]
fn a_long_retry_after_is_bounded_and_announced() {
    let server = Server::start();
    let dir = inputs(&server, "retry-after", "k8s-prod");
    server.state().faults = VecDeque::from([Fault::Status(429, Some("100000"))]);
    let mut child = command(&dir, "writer", &["--insecure-http"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let line = received
        .recv_timeout(Duration::from_secs(20))
        .expect("a message before the wait");
    // It waits at most 60 s (the test does not wait for it), and says so.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        line.contains("rate limited (429); the server asks to wait 100000 s")
            && line.contains("waiting 60 s before asking again"),
        "{line}"
    );
    assert_eq!(server.state().seen.len(), 1);
}
