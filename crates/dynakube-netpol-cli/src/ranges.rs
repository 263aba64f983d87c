//! The bounds of every numeric option, in one place: the command line's parsers and the
//! function config's fields (`spec.maxInputBytes`, `spec.maxDepth`) take them from here, so
//! that no number can overflow a duration, a semaphore or an allocation further in.

use std::ops::RangeInclusive;

use clap::builder::RangedU64ValueParser;
use dynakube_netpol::source::Limits;

/// `--max-input-bytes`: at most 4 GiB (a pod dump of 50,000 pods is a few hundred MiB; the
/// parsed YAML takes several times the text in memory).
pub const INPUT_BYTES: RangeInclusive<u64> = 1..=4 << 30;

/// `--max-depth`: the YAML parser reads no deeper nesting than [`Limits::MAX_DEPTH`].
pub const DEPTH: RangeInclusive<u64> = 1..=Limits::MAX_DEPTH as u64;

/// `zone-plan --timeout`, in seconds: up to five minutes per request.
pub const HTTP_TIMEOUT: RangeInclusive<u64> = 1..=300;

/// `--dns-timeout`, in seconds: up to a minute per query.
pub const DNS_TIMEOUT: RangeInclusive<u64> = 1..=60;

/// `--dns-parallelism`: up to 256 queries at once.
pub const DNS_PARALLELISM: RangeInclusive<u64> = 1..=256;

/// A parser of seconds, counts and the like in `range`.
pub fn u64_in(range: RangeInclusive<u64>) -> RangedU64ValueParser<u64> {
    RangedU64ValueParser::new().range(range)
}

/// A parser of sizes and depths in `range`.
pub fn usize_in(range: RangeInclusive<u64>) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(range)
}

#[cfg(test)]
mod tests {
    use std::any::TypeId;

    use clap::CommandFactory;

    /// Every option of every subcommand whose value is a number, as `(subcommand, --long)`.
    fn numeric_options() -> Vec<(String, String)> {
        let numeric = [
            TypeId::of::<u8>(),
            TypeId::of::<u16>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<u128>(),
            TypeId::of::<usize>(),
            TypeId::of::<i8>(),
            TypeId::of::<i16>(),
            TypeId::of::<i32>(),
            TypeId::of::<i64>(),
            TypeId::of::<i128>(),
            TypeId::of::<isize>(),
            TypeId::of::<f32>(),
            TypeId::of::<f64>(),
        ];
        // Every subcommand, nested ones by their words (`plugins install`).
        let mut subcommands: Vec<(String, clap::Command)> = crate::Cli::command()
            .get_subcommands()
            .map(|sub| (sub.get_name().to_string(), sub.clone()))
            .collect();
        let mut found = Vec::new();
        while let Some((name, sub)) = subcommands.pop() {
            for arg in sub.get_arguments() {
                let id = arg.get_value_parser().type_id();
                if numeric.iter().any(|n| id == *n) {
                    let long = arg.get_long().expect("numeric options are long options");
                    found.push((name.clone(), format!("--{long}")));
                }
            }
            for nested in sub.get_subcommands() {
                subcommands.push((format!("{name} {}", nested.get_name()), nested.clone()));
            }
        }
        found.sort();
        found
    }

    #[test]
    fn every_numeric_option_is_bounded() {
        let options = numeric_options();
        // The walk itself must find the options known today.
        for known in [
            ("generate", "--max-depth"),
            ("generate", "--max-input-bytes"),
            ("generate", "--dns-timeout"),
            ("lock", "--dns-parallelism"),
            ("audit", "--max-depth"),
            ("zone-plan", "--timeout"),
            ("helm-post-render", "--max-input-bytes"),
        ] {
            assert!(
                options
                    .iter()
                    .any(|(s, o)| (s.as_str(), o.as_str()) == known),
                "{known:?} not found in {options:?}"
            );
        }
        for (sub, option) in &options {
            for value in [u64::MAX.to_string(), "0".into(), "-1".into()] {
                for words in [
                    vec![format!("{option}={value}")],
                    vec![option.clone(), value.clone()],
                ] {
                    let args = std::iter::once("dynakube-netpol")
                        .chain(sub.split(' '))
                        .map(String::from)
                        .chain(words.iter().cloned());
                    let error = crate::Cli::command()
                        .try_get_matches_from(args)
                        .expect_err(&format!("{sub} {words:?} must be refused"));
                    assert_eq!(error.exit_code(), 2, "{sub} {words:?}");
                    let message = error.render().to_string();
                    assert!(
                        message.contains(option.as_str()),
                        "{sub} {words:?}: {message}"
                    );
                }
            }
        }
    }

    #[test]
    fn config_fields_are_bounded_alike() {
        // The spec is read by the command line's definition: the same bounds, in its words.
        let config = |spec: &str| {
            let text = format!(
                "apiVersion: dynakube-netpol.github.io/v1alpha1\nkind: NetworkPolicyGenerator\nmetadata: {{name: x}}\nspec: {spec}\n"
            );
            crate::manifests::generator_config(&serde_yaml::from_str(&text).unwrap())
        };
        assert_eq!(config("{maxDepth: 128}").unwrap().limits.max_depth, 128);
        let (field, message) = config("{maxDepth: 129}").unwrap_err();
        assert_eq!(field, "spec.maxDepth");
        assert!(message.contains("129 is not in 1..=128"), "{message}");
        let (field, _) = config("{maxInputBytes: 0}").unwrap_err();
        assert_eq!(field, "spec.maxInputBytes");
        let (field, message) = config("{maxDepth: -1}").unwrap_err();
        assert_eq!(field, "spec.maxDepth", "{message}");
    }
}
