//! One module per subcommand: its arguments, its help and what it runs. The options several
//! subcommands share are in `settings.rs` and `locking.rs`; the stream of manifests the Helm,
//! kustomize and KRM integrations share is `manifests.rs`.

pub(crate) mod audit;
pub(crate) mod completions;
pub(crate) mod diff;
pub(crate) mod explain;
pub(crate) mod generate;
pub(crate) mod helm_post_render;
pub(crate) mod krm;
pub(crate) mod kustomize_transformer;
pub(crate) mod lock;
pub(crate) mod matrix;
pub(crate) mod plugins;
pub(crate) mod profile;
pub(crate) mod verify;
pub(crate) mod zone_plan;
