//! Network policies for DynaKube and EdgeConnect resources: a small program to start a tool of
//! one's own from.
//!
//! ```text
//! cargo run -p dynakube-netpol --example generate -- \
//!     [--flavor kubernetes|cilium] [--cluster FILE] [--hosts FILE] [FILE...]
//! ```
//!
//! Reads the resources of every FILE (the repository's fixture
//! `fixtures/a-cloud-native-network-zone`, profile and hosts included, when none is given), the
//! cluster profile and the addresses of hosts, prints the notes to standard error and the
//! policies as one YAML stream to standard output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dynakube_netpol::cluster::ClusterProfile;
use dynakube_netpol::input::{ParseOptions, parse_into};
use dynakube_netpol::resolve::FixedHosts;
use dynakube_netpol::resources::Inputs;
use dynakube_netpol::{Flavor, GenerateOptions};

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
struct Arguments {
    flavor: Flavor,
    cluster: Option<PathBuf>,
    hosts: Option<PathBuf>,
    files: Vec<PathBuf>,
}

const USAGE: &str =
    "usage: generate [--flavor kubernetes|cilium] [--cluster FILE] [--hosts FILE] [FILE...]";

fn parse_arguments(words: impl IntoIterator<Item = String>) -> Result<Arguments, String> {
    let mut arguments = Arguments::default();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let mut value = || {
            words
                .next()
                .ok_or_else(|| format!("{word} needs a value\n{USAGE}"))
        };
        match word.as_str() {
            "--flavor" => {
                let name = value()?;
                arguments.flavor = (name.parse::<Flavor>()).map_err(|e| format!("{e}\n{USAGE}"))?;
            }
            "--cluster" => arguments.cluster = Some(value()?.into()),
            "--hosts" => arguments.hosts = Some(value()?.into()),
            "-h" | "--help" => return Err(USAGE.into()),
            option if option.starts_with("--") => {
                return Err(format!("unknown option {option}\n{USAGE}"));
            }
            file => arguments.files.push(file.into()),
        }
    }
    if arguments.files.is_empty() {
        // The repository's example, when this runs from a checkout.
        let fixture = repository().join("fixtures/a-cloud-native-network-zone");
        arguments.files.push(fixture.join("dynakube.yaml"));
        arguments
            .cluster
            .get_or_insert(fixture.join("cluster.yaml"));
        arguments.hosts.get_or_insert(fixture.join("hosts.yaml"));
    }
    Ok(arguments)
}

/// The repository's root, for the bundled fixture.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An input file: its name for messages and the output's header, and its text.
type File = (String, String);

fn read(path: &Path) -> Result<File, String> {
    // The fixture's files by their names in the repository.
    let root = repository();
    let name = path
        .strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    Ok((name, text))
}

/// The policies of `resources` as a YAML stream, and the notes on them.
fn generate(
    flavor: Flavor,
    resources: &[File],
    cluster: Option<&File>,
    hosts: Option<&File>,
) -> dynakube_netpol::Result<(String, Vec<String>)> {
    let mut inputs = Inputs::default();
    for (name, text) in resources {
        parse_into(&mut inputs, name, text, &ParseOptions::default())?;
    }
    let profile = match cluster {
        Some((name, text)) => ClusterProfile::parse(name, text)?,
        None => ClusterProfile::default(),
    };
    let addresses = match hosts {
        Some((name, text)) => FixedHosts::parse(name, text)?,
        None => FixedHosts::default(),
    };
    let options = GenerateOptions {
        flavor,
        ..GenerateOptions::default()
    };
    let generated = dynakube_netpol::generate(&inputs, &profile, &options, &addresses)?;
    let notes = generated.notes.iter().map(ToString::to_string).collect();
    // The header of the output names what reproduces it.
    let mut words: Vec<String> = resources.iter().map(|(name, _)| name.clone()).collect();
    for (option, file) in [("--cluster", cluster), ("--hosts", hosts)] {
        if let Some((name, _)) = file {
            words.extend([option.to_string(), name.clone()]);
        }
    }
    if flavor != Flavor::default() {
        words.extend(["--flavor".to_string(), flavor.as_str().to_string()]);
    }
    let stream = generated.output(&inputs, words)?.to_stream();
    Ok((stream, notes))
}

fn run() -> Result<(), String> {
    let arguments = parse_arguments(std::env::args().skip(1))?;
    let resources = arguments
        .files
        .iter()
        .map(|path| read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let cluster = arguments.cluster.as_deref().map(read).transpose()?;
    let hosts = arguments.hosts.as_deref().map(read).transpose()?;
    let (stream, notes) = generate(
        arguments.flavor,
        &resources,
        cluster.as_ref(),
        hosts.as_ref(),
    )
    .map_err(|e| e.to_string())?;
    for note in notes {
        eprintln!("{note}");
    }
    print!("{stream}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DYNAKUBE: &str = "\
apiVersion: dynatrace.com/v1beta6
kind: DynaKube
metadata: {name: dynakube, namespace: dynatrace}
spec:
  apiUrl: https://abc12345.live.dynatrace.com/api
  activeGate: {capabilities: [routing]}
";

    fn file(name: &str, text: &str) -> File {
        (name.into(), text.into())
    }

    #[test]
    fn both_flavors_give_policies_and_hosts_need_addresses() {
        let resources = [file("dynakube.yaml", DYNAKUBE)];
        let hosts = file("hosts.yaml", "abc12345.live.dynatrace.com: [203.0.113.10]");
        let (stream, _) = generate(Flavor::Kubernetes, &resources, None, Some(&hosts)).unwrap();
        assert!(stream.contains("\nkind: NetworkPolicy\n"), "{stream}");
        assert!(stream.contains("203.0.113.10/32"), "{stream}");
        let header = "#   dynakube-netpol generate dynakube.yaml --hosts hosts.yaml\n";
        assert!(stream.contains(header), "{stream}");
        let (stream, _) = generate(Flavor::Cilium, &resources, None, None).unwrap();
        assert!(stream.contains("\nkind: CiliumNetworkPolicy\n"), "{stream}");
        let error = generate(Flavor::Kubernetes, &resources, None, None).unwrap_err();
        assert!(error.to_string().contains("abc12345.live.dynatrace.com"));
    }

    #[test]
    fn arguments() {
        let words = |text: &str| {
            text.split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let arguments =
            parse_arguments(words("--flavor cilium --hosts h.yaml dk.yaml ec.yaml")).unwrap();
        assert_eq!(arguments.flavor, Flavor::Cilium);
        assert_eq!(arguments.hosts, Some("h.yaml".into()));
        assert_eq!(
            arguments.files,
            [PathBuf::from("dk.yaml"), "ec.yaml".into()]
        );
        assert!(parse_arguments(words("--flavor calico")).is_err());
        assert!(parse_arguments(words("--cluster")).is_err());
        // Without files: the repository's fixture, with its profile and hosts.
        let default = parse_arguments(Vec::new()).unwrap();
        assert!(default.files[0].ends_with("a-cloud-native-network-zone/dynakube.yaml"));
        assert!(default.hosts.is_some() && default.cluster.is_some());
    }
}
