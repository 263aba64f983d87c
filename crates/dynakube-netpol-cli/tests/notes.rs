//! Notes a reviewer reads: the summary that closes `generate`, the quiet levels, one warning
//! without a cluster profile, rows acknowledged (`--ack`, the profile's `acknowledge`, a
//! NetworkPolicyGenerator's `spec.ack`), what a write changed, the command `--check` names, and
//! `dynakube-netpol matrix`, which says what the notes on a row mean.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dynakube-netpol");

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/a-cloud-native-network-zone")
        .join(name)
        .display()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("notes")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `generate` of the fixture's DynaKube with its hosts, and `more`.
fn generate(more: &[&str]) -> Output {
    let (dynakube, hosts) = (fixture("dynakube.yaml"), fixture("hosts.yaml"));
    let args = [&["generate", &dynakube, "--hosts", &hosts][..], more].concat();
    run(&args)
}

/// The lines of standard error that are warnings, and those that are notes.
fn levels(stderr: &str) -> (Vec<&str>, Vec<&str>) {
    let warnings = stderr
        .lines()
        .filter(|l| l.starts_with("warning"))
        .collect();
    let notes = stderr.lines().filter(|l| l.starts_with("note")).collect();
    (warnings, notes)
}

#[test]
fn a_summary_closes_the_run_and_quiet_levels_drop_notes_then_warnings() {
    let cluster = fixture("cluster.yaml");
    let normal = generate(&["--cluster", &cluster]);
    assert!(normal.status.success());
    let stderr = text(&normal.stderr);
    let (warnings, notes) = levels(&stderr);
    assert_eq!(warnings.len(), 1, "{stderr}");
    let policies = text(&normal.stdout).matches("\n---\n").count();
    assert_eq!(
        stderr.lines().last().unwrap(),
        format!(
            "{policies} policies written to standard output; 1 warning, {} notes",
            notes.len()
        )
    );
    assert_eq!(stderr.lines().count(), notes.len() + 2);

    let quiet = generate(&["--cluster", &cluster, "-q"]);
    assert_eq!(text(&quiet.stderr), format!("{}\n", warnings[0]));
    let quieter = generate(&["--cluster", &cluster, "-qq"]);
    assert_eq!(text(&quieter.stderr), "");
    assert_eq!(quieter.stdout, normal.stdout);
    let errors = generate(&["--cluster", "missing.yaml", "-qq"]);
    assert_eq!(errors.status.code(), Some(2));
    assert!(text(&errors.stderr).starts_with("error: missing.yaml"));
}

#[test]
fn without_a_cluster_profile_one_warning_names_its_fields() {
    let dir = scratch("no-profile");
    for profile in [None, Some("# nothing yet\n")] {
        let mut more = Vec::new();
        let path = dir.join("empty.yaml").display().to_string();
        if let Some(text) = profile {
            std::fs::write(&path, text).unwrap();
            more = vec!["--cluster", &path];
        }
        let out = generate(&more);
        assert!(out.status.success());
        let stderr = text(&out.stderr);
        let (warnings, _) = levels(&stderr);
        assert_eq!(warnings.len(), 1, "{stderr}");
        assert_eq!(
            warnings[0],
            "warning (I1, I3, I4, I6, I7, I10, I11, E3, E4, E7, E9, E10, E11) [--cluster]: no cluster profile: the rules that need its fields (apiServer.endpointCIDRs, controlPlaneCIDRs, nodeCIDRs, prometheusTargets) admit any address on their ports, or stay closed; give one"
        );
        assert!(text(&out.stdout).contains(&format!("# - {}\n", warnings[0])));
    }
    // A profile that names something gets the warning of each field it lacks.
    let some = dir.join("some.yaml");
    std::fs::write(&some, "nodeCIDRs: [192.0.2.0/24]\n").unwrap();
    let out = generate(&["--cluster", &some.display().to_string()]);
    let stderr = text(&out.stderr);
    let (warnings, _) = levels(&stderr);
    assert_eq!(warnings.len(), 3, "{stderr}");
    assert!(warnings.iter().all(|w| !w.contains("no cluster profile")));
}

#[test]
fn acknowledged_rows_keep_one_line_and_their_warnings() {
    let cluster = fixture("cluster.yaml");
    let normal = generate(&["--cluster", &cluster]);
    let e9 = "note (E9) [DynaKube dynatrace/dynakube spec.activeGate.capabilities]";
    assert!(text(&normal.stderr).contains(e9));

    let acked = generate(&["--cluster", &cluster, "--ack", "E9,E10"]);
    assert!(acked.status.success());
    let (stderr, stdout) = (text(&acked.stderr), text(&acked.stdout));
    assert!(!stderr.contains(e9) && !stdout.contains(e9));
    assert!(!stderr.contains("note (E10)"), "{stderr}");
    let line = "note: acknowledged rows E9, E10: 2 notes on them left out; `dynakube-netpol matrix E9 E10` says what their notes mean";
    assert!(stderr.contains(&format!("{line}\n")), "{stderr}");
    assert!(stdout.contains(&format!("# - {line}\n")));
    assert!(
        stdout.contains(" --ack E9,E10\n"),
        "the header names the option"
    );
    // A warning is never acknowledged away.
    assert!(stderr.contains("warning (E10)"));
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .ends_with("(2 notes on acknowledged rows left out)"),
        "{stderr}"
    );

    // The cluster profile's `acknowledge` does the same.
    let dir = scratch("acknowledge");
    let profile = dir.join("cluster.yaml");
    let mut text_of = std::fs::read_to_string(&cluster).unwrap();
    text_of.push_str("acknowledge: [E10, E9]\n");
    std::fs::write(&profile, text_of).unwrap();
    let from_profile = generate(&["--cluster", &profile.display().to_string()]);
    assert!(text(&from_profile.stderr).contains(&format!("{line}\n")));

    // Unknown rows are refused, with the nearest.
    let typo = generate(&["--cluster", &cluster, "--ack", "E9,e10"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        text(&typo.stderr).contains(
            "`e10` is not a row of the traffic matrix (I1 to I17, E1 to E30); did you mean `E10`?"
        ),
        "{}",
        text(&typo.stderr)
    );
    std::fs::write(&profile, "acknowledge: [E99]\n").unwrap();
    let typo = generate(&["--cluster", &profile.display().to_string()]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        text(&typo.stderr).contains("field `acknowledge[0]`: `E99` is not a row"),
        "{}",
        text(&typo.stderr)
    );
}

#[test]
fn a_network_policy_generator_acknowledges_rows_in_its_spec() {
    let dynakube: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(fixture("dynakube.yaml")).unwrap()).unwrap();
    let hosts: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(fixture("hosts.yaml")).unwrap()).unwrap();
    let results = |ack: Option<&str>| {
        let mut spec = serde_json::json!({ "hosts": hosts });
        if let Some(ack) = ack {
            spec["ack"] = serde_json::json!([ack]);
        }
        let list = serde_json::json!({
            "apiVersion": "config.kubernetes.io/v1",
            "kind": "ResourceList",
            "items": [dynakube],
            "functionConfig": {
                "apiVersion": "dynakube-netpol.github.io/v1alpha1",
                "kind": "NetworkPolicyGenerator",
                "metadata": {"name": "policies"},
                "spec": spec,
            },
        });
        let mut child = Command::new(BIN)
            .arg("krm")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        serde_json::to_writer(child.stdin.take().unwrap(), &list).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let list: serde_yaml::Value = serde_yaml::from_slice(&out.stdout).unwrap();
        let messages: Vec<String> = list["results"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|r| {
                let cause = r["tags"]["cause"].as_str().unwrap_or_default();
                Some(format!("[{cause}] {}", r["message"].as_str()?))
            })
            .collect();
        messages
    };
    let all = results(None);
    let e9 = "DynaKube dynakube: the ActiveGate may read node metrics";
    assert!(all.iter().any(|m| m.contains(e9)), "{all:?}");
    let acked = results(Some("E9"));
    assert!(!acked.iter().any(|m| m.contains(e9)), "{acked:?}");
    assert!(
        acked
            .iter()
            .any(|m| m.contains("acknowledged rows E9: 1 note on them left out")),
        "{acked:?}"
    );
    // Without a profile, the one warning names the spec's field.
    assert!(
        all.iter()
            .any(|m| m.starts_with("[spec.cluster] no cluster profile")),
        "{all:?}"
    );
}

#[test]
fn writes_say_what_changed_and_check_names_the_command_that_refreshes() {
    let dir = scratch("written");
    let out_dir = dir.join("policies").display().to_string();
    let cluster = fixture("cluster.yaml");
    let first = generate(&["--cluster", &cluster, "-o", &out_dir, "-v"]);
    assert!(first.status.success());
    let files = std::fs::read_dir(&out_dir).unwrap().count();
    let stderr = text(&first.stderr);
    assert!(
        stderr.contains("\nwritten: default-deny.yaml, "),
        "{stderr}"
    );
    assert!(
        stderr.lines().last().unwrap().starts_with(&format!(
            "{} policies in {out_dir}: {files} files written; ",
            files - 1
        )),
        "{stderr}"
    );

    let again = generate(&["--cluster", &cluster, "-o", &out_dir, "-v"]);
    let stderr = text(&again.stderr);
    assert!(stderr.contains("\nno file changed\n"), "{stderr}");
    assert!(
        stderr.contains(&format!(": nothing changed ({files} files as they were); ")),
        "{stderr}"
    );

    // Acknowledging a row changes the notes of the kustomization alone.
    let acked = generate(&["--cluster", &cluster, "-o", &out_dir, "--ack", "E9"]);
    let stderr = text(&acked.stderr);
    assert!(
        stderr.contains(&format!(": 1 file written, {} unchanged; ", files - 1)),
        "{stderr}"
    );

    // The directory is now stale for the inputs without --ack: the error names the command
    // that writes it afresh, which does.
    let check = generate(&["--cluster", &cluster, "-o", &out_dir, "--check"]);
    assert_eq!(check.status.code(), Some(1));
    let stderr = text(&check.stderr);
    let command = stderr
        .split("; run `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no command in {stderr}"));
    assert!(
        command.starts_with("dynakube-netpol generate "),
        "{command}"
    );
    assert!(command.ends_with(&format!(" -o {out_dir}")), "{command}");
    assert!(!command.contains("--check"));
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();
    assert!(run(&words).status.success());
    let fresh = generate(&["--cluster", &cluster, "-o", &out_dir, "--check"]);
    assert_eq!(fresh.status.code(), Some(0), "{}", text(&fresh.stderr));
    assert!(
        text(&fresh.stderr).contains(&format!("checked: {out_dir} is up to date; ")),
        "{}",
        text(&fresh.stderr)
    );
}

#[test]
fn matrix_prints_the_library_s_rows_and_refuses_unknown_ones() {
    use dynakube_netpol::matrix::{RowId, RowsFormat, describe_rows};
    let e9: RowId = "E9".parse().unwrap();
    for (format, library) in [
        ("text", RowsFormat::Text),
        ("markdown", RowsFormat::Markdown),
        ("json", RowsFormat::Json),
    ] {
        let out = run(&["matrix", "E9", "--format", format]);
        assert!(out.status.success());
        assert_eq!(text(&out.stdout), describe_rows(&[e9], library), "{format}");
    }
    let text_out = text(&run(&["matrix", "E9"]).stdout);
    assert!(text_out.starts_with("E9 (egress)\n  Kubernetes API monitoring\n"));
    assert!(text_out.contains("  notes on E9:\n  - note saying \"may read node metrics"));

    let every = run(&["matrix", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&every.stdout).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 17 + 30);

    // The command the acknowledged line names runs.
    let cluster = fixture("cluster.yaml");
    let acked = generate(&["--cluster", &cluster, "--ack", "E9,E10"]);
    let stderr = text(&acked.stderr);
    let command = stderr
        .split("`dynakube-netpol ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap();
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words, ["matrix", "E9", "E10"]);
    let out = run(&words);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("\nE10 (egress)\n"));

    let typo = run(&["matrix", "E9", "e10"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(typo.stdout.is_empty());
    assert!(
        text(&typo.stderr).contains(
            "`e10` is not a row of the traffic matrix (I1 to I17, E1 to E30); did you mean `E10`?"
        ),
        "{}",
        text(&typo.stderr)
    );
}

/// `docs/matrix.md` shows what the binary prints: the row it looks up, and the line that stands
/// for acknowledged notes.
#[test]
fn the_matrix_page_shows_what_the_binary_prints() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/matrix.md"))
            .unwrap();
    let command = "$ dynakube-netpol matrix E9\n";
    let shown = page
        .split_once(command)
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("the page looks E9 up");
    assert_eq!(text(&run(&["matrix", "E9"]).stdout), shown);

    let cluster = fixture("cluster.yaml");
    let acked = generate(&["--cluster", &cluster, "--ack", "E9,E10"]);
    let line = text(&acked.stderr)
        .lines()
        .find(|l| l.starts_with("note: acknowledged rows"))
        .unwrap()
        .to_owned();
    assert!(page.contains(&format!("``{line}``")), "{line}");
}
