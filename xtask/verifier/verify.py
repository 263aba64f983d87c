"""The project's independent verifier of generated policies, run by `cargo xtask verify-manifests`.

    python verify.py --schemas DIR [--jobs N] [--report FILE] [--quiet] MANIFEST.json

MANIFEST.json lists jobs, one per fixture and flavor:

    {"jobs": [{"name": "...", "flavor": "kubernetes", "output": "DIR",
               "resources": ["FILE", ...], "cluster": ["FILE", ...], "case": "DIR"}, ...]}

`output` is what `dynakube-netpol generate -o` wrote; `resources` the fixture's DynaKubes and
EdgeConnects; `cluster` the pods and namespaces for NCA's sanity checks; `case` what
`dynakube-netpol verify --write-case` wrote (policies, cluster, and every connection with the
evaluator's verdict). Each check prints `PASS|FAIL [check] object` and its details indented:

- `k8s-schema`: a built-in object against Kubernetes' strict schema (kubernetes-validate);
- `crd-schema`: a custom resource against the strict schema of its CRD (Cilium policies against
  Cilium's, ClusterNetworkPolicies against network-policy-api's standard channel);
- `api-rules`: what the API server (or, for Cilium, its agent) checks beyond the schema;
- `kustomization`: the kustomization lists exactly the files beside it;
- `unique`: no two objects of one kind with the same namespace and name;
- `resource-crd`: each DynaKube and EdgeConnect against the operator's CRDs of every release
  that serves its apiVersion (it passes when one of them accepts it);
- `nca-sanity`: NCA's sanity checks of the NetworkPolicies in the cluster;
- `nca-flow`: NCA decides each connection the evaluator decided, and must agree.

Jobs run in a pool of `--jobs` processes; schemas are read once, before the pool starts. The last
line is `N passed, N failed`; the exit status is 0 only when nothing failed and at least one
object was checked, 1 otherwise, 2 when the verifier cannot run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import analyzer
import apiserver
import documents
import schemas

# Read once in the parent; forked workers share them.
BUILTIN: schemas.BuiltinSchemas | None = None
POLICY_CRDS = schemas.CrdRegistry()
OPERATOR_CRDS = schemas.CrdRegistry()
RESOURCE_KINDS = ("DynaKube", "EdgeConnect")


@dataclass
class Report:
    """The results of one job."""

    name: str
    lines: list[str] = field(default_factory=list)
    passed: int = 0
    failed: int = 0
    objects: int = 0
    seconds: float = 0.0

    def record(self, ok: bool, check: str, ident: str, details: list[str] = ()) -> None:
        """One result of one check on one object."""
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        self.lines.append(f"{'PASS' if ok else 'FAIL'} [{check}] {self.name}: {ident}")
        self.lines.extend(f"    {detail}" for detail in details)


def load_schemas(directory: Path) -> None:
    """Reads every CRD the checks need from the schema directory: Cilium's (each version folder),
    network-policy-api's standard channel, and the operator's of every release folder."""
    global BUILTIN
    BUILTIN = schemas.BuiltinSchemas()
    cilium = sorted((directory / "cilium").glob("*/*.yaml"))
    network_policy_api = sorted((directory / "network-policy-api").glob("*/standard/*.yaml"))
    operator = sorted((directory / "dynatrace").glob("*/*.yaml"))
    for name, found in (("cilium", cilium), ("dynatrace", operator)):
        if not found:
            raise FileNotFoundError(f"no CRDs in {directory / name}")
    for file in cilium + network_policy_api:
        POLICY_CRDS.add(file, str(file.parent.relative_to(directory)))
    for file in operator:
        OPERATOR_CRDS.add(file, file.parent.name)


def check_object(report: Report, document: documents.Document, base: Path) -> None:
    """The schema and API-server checks of one object of the output."""
    ident = document.ident(base)
    value = document.value
    if not isinstance(value, dict) or not document.api_version or not document.kind:
        report.record(False, "k8s-schema", ident, ["not a Kubernetes object: apiVersion or kind missing"])
        return
    if document.kind == "Kustomization" and document.group == "kustomize.config.k8s.io":
        errors = apiserver.kustomization(value, document.file)
        report.record(not errors, "kustomization", ident, errors)
        return
    served = POLICY_CRDS.lookup(document.api_version, document.kind)
    if served:
        version = served[0]
        errors = schemas.CrdRegistry.errors(version, value)
        report.record(not errors, "crd-schema", ident, [f"[{version.source}] {e}" for e in errors])
        if document.group == "cilium.io":
            rules = apiserver.cilium_policy(value, version.namespaced)
        else:
            rules = apiserver.object_meta(value.get("metadata"), version.namespaced)
        if version.cel_rules:
            report.lines.append(f"    note: {version.cel_rules} CEL rules of the CRD are not evaluated")
        report.record(not rules, "api-rules", ident, rules)
        return
    errors = BUILTIN.errors(value)
    if errors is None:
        report.record(False, "k8s-schema", ident, [f"no schema for {document.api_version} {document.kind}"])
        return
    report.record(not errors, "k8s-schema", ident, [f"[Kubernetes {BUILTIN.version}] {e}" for e in errors])
    if (document.api_version, document.kind) == ("networking.k8s.io/v1", "NetworkPolicy"):
        rules = apiserver.network_policy(value)
        report.record(not rules, "api-rules", ident, rules)


def check_output(report: Report, output: Path) -> list[Path]:
    """Every object of the output directory; returns the files that hold NetworkPolicies."""
    seen: dict[tuple[str, str, str, str], str] = {}
    duplicates, policy_files = [], []
    for file in documents.yaml_files(output):
        try:
            found = documents.read(file)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            report.record(False, "yaml", str(file.relative_to(output)), [str(error)])
            continue
        for document in found:
            report.objects += 1
            check_object(report, document, output)
            if document.kind == "NetworkPolicy" and file not in policy_files:
                policy_files.append(file)
            meta = document.value.get("metadata") if isinstance(document.value, dict) else None
            meta = meta if isinstance(meta, dict) else {}
            key = (document.group, document.kind, str(meta.get("namespace")), str(meta.get("name")))
            if document.kind != "Kustomization":
                if key in seen:
                    duplicates.append(f"{document.ident(output)} has the name of {seen[key]}")
                seen.setdefault(key, document.ident(output))
    if report.objects == 0:
        report.record(False, "output", str(output), ["no objects in the output"])
    else:
        report.record(not duplicates, "unique", f"{len(seen)} objects", duplicates)
    return policy_files


def check_resources(report: Report, files: list[Path]) -> None:
    """Each DynaKube and EdgeConnect of the input files against the operator's CRDs."""
    checked = 0
    for file in files:
        try:
            found = documents.read(file)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            report.record(False, "yaml", str(file), [str(error)])
            continue
        for document in found:
            if document.kind not in RESOURCE_KINDS:
                continue
            checked += 1
            ident = f"{document.ident()} ({document.api_version})"
            served = OPERATOR_CRDS.lookup(document.api_version, document.kind)
            if not served:
                report.record(False, "resource-crd", ident, ["no operator release serves this apiVersion"])
                continue
            tried = [(version.source, schemas.CrdRegistry.errors(version, document.value)) for version in served]
            accepted = sorted((source for source, errors in tried if not errors), key=release_order)
            meta = apiserver.object_meta(document.value.get("metadata"), namespaced=True)
            details = [f"accepted by {', '.join(accepted)}"] if accepted else [
                f"[{source}] {error}" for source, errors in tried for error in errors[:10]]
            report.record(bool(accepted) and not meta, "resource-crd", ident, details + meta)
    if files and not checked:
        report.record(False, "resource-crd", ", ".join(map(str, files)), ["no DynaKube or EdgeConnect"])


def check_analyzer(report: Report, policy_files: list[Path], cluster: list[Path], case: Path | None) -> None:
    """NCA's sanity checks and its verdicts on the evaluator's connections."""
    if not policy_files:
        report.record(False, "nca-sanity", "NetworkPolicies", ["no NetworkPolicy to analyze"])
        return
    ok, findings = analyzer.sanity(policy_files, cluster)
    where = ", ".join(str(file) for file in cluster)
    report.record(ok, "nca-sanity", f"{len(policy_files)} policy files in {where}", findings)
    if case is None:
        return
    results = analyzer.flows(policy_files, case)
    if not results:
        report.record(False, "nca-flow", str(case), ["no connections in expected.yaml"])
    for agreed, connection, details in results:
        report.record(agreed, "nca-flow", connection, details)


def run(job: dict) -> Report:
    """One job: a fixture's output in one flavor, and what comes with it."""
    started = time.monotonic()
    report = Report(f"{job['name']} ({job['flavor']})")
    try:
        output = Path(job["output"])
        policy_files = check_output(report, output)
        check_resources(report, [Path(f) for f in job.get("resources") or []])
        if job.get("cluster") or job.get("case"):
            case = Path(job["case"]) if job.get("case") else None
            check_analyzer(report, policy_files, [Path(f) for f in job.get("cluster") or []], case)
    except Exception as error:  # noqa: BLE001 - a crash on one job is that job's failure.
        report.record(False, "verifier", "crashed", [f"{type(error).__name__}: {error}"])
    report.seconds = time.monotonic() - started
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--schemas", type=Path, required=True, help="the schema directory")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--report", type=Path, help="also write every line into FILE")
    parser.add_argument("--quiet", action="store_true", help="print FAIL lines and one line per job only")
    args = parser.parse_args()
    try:
        jobs = json.loads(args.manifest.read_text(encoding="utf-8"))["jobs"]
        load_schemas(args.schemas)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # The analyzer's sanity checks grow with the square of the policies: the largest outputs
    # start first, so that no long job is left running alone at the end.
    jobs.sort(key=weight, reverse=True)
    reports: list[Report] = []
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=context) as pool:
        pending = [pool.submit(run, job) for job in jobs]
        for number, done in enumerate(as_completed(pending), 1):
            report = done.result()
            reports.append(report)
            verdict = "PASS" if report.failed == 0 else "FAIL"
            print(f"[{number}/{len(jobs)}] {verdict} {report.name}: {report.passed} passed, "
                  f"{report.failed} failed, {report.objects} objects ({report.seconds:.1f} s)", flush=True)
            shown = report.lines if not args.quiet else failures(report.lines)
            if shown:
                print("\n".join(shown), flush=True)
    reports.sort(key=lambda r: r.name)
    passed, failed = sum(r.passed for r in reports), sum(r.failed for r in reports)
    objects = sum(r.objects for r in reports)
    if args.report:
        args.report.write_text("".join(line + "\n" for r in reports for line in r.lines), encoding="utf-8")
    print(f"verifier: {len(reports)} jobs, {objects} objects")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and objects > 0 else 1


def release_order(name: str) -> tuple:
    """A release folder's name (`v1.10.2`) as numbers, for sorting; other names after them."""
    parts = name.lstrip("v").split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (999, name)


def weight(job: dict) -> int:
    """A job's expected cost: its files, squared where the analyzer runs."""
    output = Path(job["output"])
    files = len(documents.yaml_files(output)) if output.is_dir() else 0
    return files * files if job.get("cluster") or job.get("case") else files


def failures(lines: list[str]) -> list[str]:
    """The FAIL lines of a report with their indented details."""
    shown, keep = [], False
    for line in lines:
        if not line.startswith("    "):
            keep = line.startswith("FAIL")
        if keep:
            shown.append(line)
    return shown


if __name__ == "__main__":
    sys.exit(main())
