//! The resources as the cluster's operator release reads them: its feature-flag syntax and
//! public-registry switch, and the checks it makes that earlier or later releases do not.
//!
//! Parsing reads what every release accepts (and the flags as the newest release reads
//! them); once the release is known, this step reads the flags again and refuses what that
//! release refuses, naming the field and the release.

use crate::cluster::ClusterProfile;
use crate::error::{Error, Result};
use crate::matrix::releases::{OperatorVersion, ReleaseFact};
use crate::resources::{DynaKube, EdgeConnect, FeatureFlags, FlagSyntax, Inputs};
use crate::values::Shown;

/// The hosts operator 1.10 and later accept in an EdgeConnect's `oauth.endpoint`.
const SSO_HOSTS: [&str; 3] = [
    "sso.dynatrace.com",
    "sso-dev.dynatracelabs.com",
    "sso.sprint.dynatracelabs.com",
];

/// `inputs` as `release` reads them, or the first thing it refuses.
pub(super) fn read_as(
    inputs: &Inputs,
    release: OperatorVersion,
    profile: &ClusterProfile,
) -> Result<Inputs> {
    let mut read = inputs.clone();
    for dk in &mut read.dynakubes {
        name_fits(dk, release)?;
        let platform_token = profile.platform_token || dk.status.platform_token;
        let (flags, warnings) = flags(&dk.feature_flags, release, platform_token);
        dk.feature_flags = flags;
        dk.warnings.extend(warnings);
    }
    for ec in &read.edgeconnects {
        sso_host(ec, release)?;
    }
    Ok(read)
}

/// The feature flags as `release` reads them, with a warning for each value it cannot read
/// and each public-registry flag it does not know.
fn flags(
    flags: &FeatureFlags,
    release: OperatorVersion,
    platform_token: bool,
) -> (FeatureFlags, Vec<String>) {
    let syntax = if release.holds(ReleaseFact::ParseBoolFlags) {
        FlagSyntax::ParseBool
    } else {
        FlagSyntax::Exact
    };
    let mut warnings = Vec::new();
    let mut flag = |name: &str, default: bool| {
        let raw = flags.raw.get(name).map(String::as_str);
        let (value, readable) = syntax.read(raw, default);
        if !readable {
            let accepted = match syntax {
                FlagSyntax::Exact => "it reads only `true` and `false`",
                FlagSyntax::ParseBool => "it reads the values of Go's strconv.ParseBool",
            };
            warnings.push(format!(
                "feature flag `{name}: {}` is not a boolean operator {release} can read ({accepted}); it uses the default, {default}",
                Shown(raw.unwrap_or_default())
            ));
        }
        value
    };
    let public_registry = if release.holds(ReleaseFact::PublicRegistryFlag) {
        flag("public-registry", false)
    } else if release.holds(ReleaseFact::UsePublicRegistryFlag) {
        flag("use-public-registry", false) || platform_token
    } else {
        false
    };
    let node_image_pull =
        release.holds(ReleaseFact::NodeImagePullFlag) && flag("node-image-pull", false);
    let mut read = FeatureFlags {
        raw: flags.raw.clone(),
        no_proxy: flags.no_proxy.clone(),
        public_registry,
        node_image_pull,
        automatic_kubernetes_api_monitoring: flag("automatic-kubernetes-api-monitoring", true),
        activegate_ignore_proxy: flag("activegate-ignore-proxy", false),
        oneagent_ignore_proxy: flag("oneagent-ignore-proxy", false),
    };
    if read.public_registry && release.holds(ReleaseFact::CsiIgnoresPublicRegistry) {
        warnings.push(format!(
            "operator {release} takes the ActiveGate and OneAgent images from the public registry, but its CSI driver still downloads code modules from the tenant (E5): it pulls an image only for `codeModulesImage` or `node-image-pull`"
        ));
        read.public_registry = false;
    }
    for (name, read_by) in [
        ("public-registry", ReleaseFact::PublicRegistryFlag),
        ("use-public-registry", ReleaseFact::UsePublicRegistryFlag),
        ("node-image-pull", ReleaseFact::NodeImagePullFlag),
    ] {
        if flags.raw.contains_key(name) && !release.holds(read_by) {
            warnings.push(format!(
                "feature flag `{name}` is not read by operator {release} and changes nothing"
            ));
        }
    }
    if platform_token && !release.holds(ReleaseFact::UsePublicRegistryFlag) {
        warnings.push(format!(
            "a platform token selects the public registry only from operator 1.10; operator {release} keeps the tenant's"
        ));
    }
    (read, warnings)
}

/// The operator's limit on DynaKube names, which the names of the workloads it creates
/// lower from 1.9 on.
fn name_fits(dk: &DynaKube, release: OperatorVersion) -> Result<()> {
    let (extensions, telemetry) = if release.holds(ReleaseFact::ShorterStatefulSetNameLimits) {
        (31, 37)
    } else if release.holds(ReleaseFact::StatefulSetNameLimits) {
        (32, 38)
    } else {
        return Ok(());
    };
    let limits = [
        (dk.extensions.enabled(), extensions, "extensions"),
        (dk.telemetry_ingest.is_some(), telemetry, "telemetryIngest"),
        (dk.kspm, 35, "kspm"),
    ];
    let len = dk.name.as_str().len();
    match limits
        .into_iter()
        .filter(|(on, limit, _)| *on && len > *limit)
        .min_by_key(|(_, limit, _)| *limit)
    {
        None => Ok(()),
        Some((_, limit, why)) => Err(Error::invalid(
            dk.origin.join("metadata.name"),
            format!(
                "`{}` has {len} characters; operator {release} accepts at most {limit} for a DynaKube with `{why}`, whose workload names are built from it",
                dk.name
            ),
        )),
    }
}

/// Operator 1.10 and later accept an EdgeConnect's `oauth.endpoint` only on the Dynatrace
/// SSO hosts, without a port.
fn sso_host(ec: &EdgeConnect, release: OperatorVersion) -> Result<()> {
    if !release.holds(ReleaseFact::SsoHostCheck) || SSO_HOSTS.contains(&ec.oauth_authority.as_str())
    {
        return Ok(());
    }
    Err(Error::invalid(
        ec.origin.join("spec.oauth.endpoint"),
        format!(
            "`{}` is not one of the SSO hosts operator {release} accepts ({}, without a port)",
            Shown(&ec.oauth_authority),
            SSO_HOSTS.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(text: &str) -> OperatorVersion {
        OperatorVersion::parse(text).unwrap()
    }

    fn raw(pairs: &[(&str, &str)]) -> FeatureFlags {
        FeatureFlags {
            raw: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..FeatureFlags::default()
        }
    }

    #[test]
    fn flags_follow_the_syntax_of_the_release() {
        let written = raw(&[("node-image-pull", "TRUE"), ("oneagent-ignore-proxy", "1")]);
        let (new, warnings) = flags(&written, release("1.10"), false);
        assert!(new.node_image_pull && new.oneagent_ignore_proxy);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (old, warnings) = flags(&written, release("1.5"), false);
        assert!(!old.node_image_pull && !old.oneagent_ignore_proxy);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("operator 1.5 can read (it reads only `true` and `false`)"));

        let (unreadable, warnings) = flags(
            &raw(&[("automatic-kubernetes-api-monitoring", "nope")]),
            release("1.9"),
            false,
        );
        assert!(unreadable.automatic_kubernetes_api_monitoring);
        assert!(
            warnings[0].contains("it uses the default, true"),
            "{warnings:?}"
        );
    }

    #[test]
    fn the_public_registry_switch_of_each_release() {
        let old_flag = raw(&[("public-registry", "true")]);
        let new_flag = raw(&[("use-public-registry", "true")]);
        let public = |flags_: &FeatureFlags, at: &str, token: bool| {
            flags(flags_, release(at), token).0.public_registry
        };
        assert!(public(&old_flag, "1.4", false));
        // 1.5 to 1.9 read the flag, but their CSI driver downloads from the tenant anyway.
        assert!(!public(&old_flag, "1.8", false));
        assert!(!public(&old_flag, "1.9", false));
        assert!(!public(&old_flag, "1.10", false));
        assert!(!public(&new_flag, "1.8", false));
        assert!(!public(&new_flag, "1.9", false));
        assert!(public(&new_flag, "1.10", false));
        assert!(public(&FeatureFlags::default(), "1.10", true));
        assert!(!public(&FeatureFlags::default(), "1.9", true));
        let (_, warnings) = flags(&old_flag, release("1.10"), false);
        assert!(warnings[0].contains("`public-registry` is not read by operator 1.10"));
    }
}
