//! How each front end words the library's remedies and causes ([`Words`]): flags on the
//! command line and in Helm's post-renderer arguments ([`Flags`]), fields of a
//! NetworkPolicyGenerator's spec in kustomize and KRM ([`Spec`]). The names come from the one
//! definition of the options (`settings.rs`): a setting's name is its flag, and its spec field
//! is the flag in camel case where the spec has it (see `manifests::spec_fields`).

use dynakube_netpol::advice::{Remedy, Setting, Words, with_when};

/// The command line's words.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags;

impl Words for Flags {
    fn setting(&self, setting: Setting) -> String {
        format!("--{}", setting.name())
    }

    fn remedy(&self, remedy: &Remedy) -> Option<String> {
        Some(match remedy {
            Remedy::Do(text) => (*text).to_string(),
            Remedy::Set {
                setting,
                value,
                when,
            } => {
                let value = value.map(|v| format!(" {v}")).unwrap_or_default();
                with_when((format!("pass --{}{value}", setting.name()), when))
            }
            Remedy::Unset { setting, when } => {
                with_when((format!("run without --{}", setting.name()), when))
            }
            Remedy::Profile { field, when } => {
                with_when((format!("set `{field}` in the cluster profile"), when))
            }
            Remedy::Run { command, when } => with_when((format!("run `{command}`"), when)),
            _ => return None,
        })
    }

    fn profile_field(&self, field: &str) -> String {
        format!("cluster profile {field}")
    }
}

/// The words of a NetworkPolicyGenerator's spec: `spec.allowAnyAddress`, `spec.cluster.*`.
/// Settings the spec does not have (DNS: kustomize and KRM runs are hermetic) are no remedy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spec;

impl Spec {
    /// The spec field of `setting`, if the spec has one: the flag in camel case, or the
    /// field naming its file (`lockFile`).
    fn field(setting: Setting) -> Option<String> {
        let field = camel_case(setting.name());
        let fields = crate::manifests::spec_fields();
        [field.clone(), format!("{field}File")]
            .into_iter()
            .find(|name| fields.iter().any(|f| f.name == *name))
    }
}

impl Words for Spec {
    fn setting(&self, setting: Setting) -> String {
        match Spec::field(setting) {
            Some(field) => format!("spec.{field}"),
            None => setting.name().to_string(),
        }
    }

    fn remedy(&self, remedy: &Remedy) -> Option<String> {
        Some(match remedy {
            Remedy::Do(text) => (*text).to_string(),
            Remedy::Set {
                setting,
                value,
                when,
            } => {
                let field = Spec::field(*setting)?;
                let spec = crate::manifests::spec_fields();
                let kind = spec.iter().find(|f| f.name == field).map(|f| f.kind);
                let phrase = match (kind, value) {
                    // A kustomize build resolves nothing: the lock comes from `lock`.
                    (Some(crate::manifests::FieldKind::File), _) if *setting == Setting::Lock => {
                        return Some(format!(
                            "resolve them into a lock file with `dynakube-netpol lock` and name it in `spec.{field}`"
                        ));
                    }
                    (Some(crate::manifests::FieldKind::File), _) => {
                        format!("name the file in `spec.{field}`")
                    }
                    (Some(crate::manifests::FieldKind::List), Some(v)) => {
                        format!("list {v} in `spec.{field}`")
                    }
                    (Some(crate::manifests::FieldKind::Inline), _) => {
                        format!("give them in `spec.{field}` or `spec.{field}File`")
                    }
                    (_, Some(v)) => format!("set `spec.{field}: {v}`"),
                    (_, None) => format!("set `spec.{field}: true`"),
                };
                with_when((phrase, when))
            }
            Remedy::Profile { field, when } => {
                with_when((format!("set `spec.cluster.{field}`"), when))
            }
            _ => return None,
        })
    }

    fn profile_field(&self, field: &str) -> String {
        format!("spec.cluster.{field}")
    }
}

/// `allow-any-address` as `allowAnyAddress`.
pub fn camel_case(kebab: &str) -> String {
    let mut out = String::with_capacity(kebab.len());
    let mut upper = false;
    for c in kebab.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `error` and its causes in `words`, as one line: the library's errors with their remedies
/// in the front end's terms, everything else as it reads.
pub fn error_text(error: &anyhow::Error, words: &dyn Words) -> String {
    error
        .chain()
        .map(
            |cause| match cause.downcast_ref::<dynakube_netpol::Error>() {
                Some(library) => library.to_string_in(words),
                None => cause.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_a_flag_and_named_in_both_words() {
        use clap::CommandFactory;
        let command = crate::Cli::command();
        let mut flags = std::collections::BTreeSet::new();
        for sub in command.get_subcommands() {
            for arg in sub.get_arguments() {
                if let Some(long) = arg.get_long() {
                    flags.insert(long.to_string());
                }
            }
        }
        for setting in dynakube_netpol::advice::Setting::ALL {
            assert!(
                flags.contains(setting.name()),
                "the setting {setting} is no flag of any subcommand"
            );
            assert_eq!(Flags.setting(*setting), format!("--{setting}"));
        }
        assert_eq!(
            Spec.setting(Setting::AllowAnyAddress),
            "spec.allowAnyAddress"
        );
        assert_eq!(Spec.remedy(&Remedy::set(Setting::Offline)), None);
        assert_eq!(
            Spec.remedy(&Remedy::set_to(Setting::FqdnFallback, "public-internet"))
                .unwrap(),
            "set `spec.fqdnFallback: public-internet`"
        );
        assert_eq!(camel_case("max-input-bytes"), "maxInputBytes");
    }
}
