"""Writes requirements.txt from requirements.in: every package pip resolves for CPython 3.11 on
Linux x86_64, pinned by version and by the SHA-256 of each file pip may install.

Run it with any Python 3 that has pip, from anywhere: `python3 xtask/verifier/lock.py`. It asks
the package index (pip's own configuration) for:

1. the wheels of the whole dependency tree for CPython 3.11 on manylinux x86_64
   (`pip download --only-binary :all:` with that platform), and
2. the source archive of every package whose wheel is built for a platform (not `none-any`),
   so that pip can build it where that wheel does not fit (`pip download --no-binary NAME`),

and hashes each file with `pip hash`. Nothing is typed by hand.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLATFORM = [
    "--only-binary", ":all:",
    "--implementation", "cp",
    "--python-version", "3.11",
    "--abi", "cp311",
    "--platform", "manylinux_2_28_x86_64",
    "--platform", "manylinux_2_17_x86_64",
    "--platform", "manylinux2014_x86_64",
]
HEADER = """\
# The verifier's Python packages, installed by `cargo xtask verify-manifests` (and so by
# `cargo xtask test`) into target/verifier-venv with `pip install --require-hashes --no-deps`.
# Generated from requirements.in by `python3 xtask/verifier/lock.py` (pip download and pip hash:
# the wheels for CPython 3.11 on Linux x86_64, and the source archive of each package whose
# wheel is built for a platform); do not edit, change requirements.in and run it again.
"""


def pip(*args: str) -> str:
    """Runs pip of this Python and returns what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        check=True, capture_output=True, text=True,
    )
    return done.stdout


def project(file: Path) -> tuple[str, str]:
    """The normalised project name and the version in a wheel or sdist file name."""
    name = file.name
    if name.endswith(".whl"):
        project_name, version = name.split("-")[:2]
    else:
        project_name, version = re.fullmatch(r"(.+)-([^-]+)\.(tar\.gz|zip)", name).group(1, 2)
    return re.sub(r"[-_.]+", "-", project_name).lower(), version


def sha256(file: Path) -> str:
    """The hash of `file` as pip computes it."""
    line = pip("hash", "--algorithm", "sha256", str(file)).splitlines()[-1]
    return line.split("--hash=sha256:", 1)[1].strip()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="verifier-lock-") as scratch:
        wheels = Path(scratch, "wheels")
        sdists = Path(scratch, "sdists")
        pip("download", "--quiet", "--dest", str(wheels), *PLATFORM,
            "--requirement", str(HERE / "requirements.in"))
        files: dict[tuple[str, str], list[Path]] = {}
        for wheel in sorted(wheels.iterdir()):
            files.setdefault(project(wheel), []).append(wheel)
            if not wheel.name.endswith("-none-any.whl"):
                name, version = project(wheel)
                pip("download", "--quiet", "--no-deps", "--no-binary", name,
                    "--dest", str(sdists), f"{name}=={version}")
        for sdist in sorted(sdists.iterdir()) if sdists.is_dir() else []:
            files.setdefault(project(sdist), []).append(sdist)
        lines = [HEADER]
        for (name, version), found in sorted(files.items()):
            hashes = sorted(sha256(file) for file in found)
            lines.append(f"{name}=={version} \\\n")
            lines.append(" \\\n".join(f"    --hash=sha256:{digest}" for digest in hashes) + "\n")
        (HERE / "requirements.txt").write_text("".join(lines), encoding="utf-8")
        print(f"wrote {len(files)} packages into {HERE / 'requirements.txt'}")


if __name__ == "__main__":
    main()
