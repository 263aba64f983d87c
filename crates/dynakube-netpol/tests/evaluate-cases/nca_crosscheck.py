#!/usr/bin/env python3
"""Cross-checks the evaluator's hand-written cases against NCA (network-config-analyzer).

Usage: <venv>/bin/python nca_crosscheck.py [--nca-output FILE] [CASE_DIR ...]

For every case directory (default: all beside this script) it runs
`nca --connectivity <policies> --ns_list cluster.yaml --pod_list cluster.yaml -o txt_no_fw_rules
--print_ipv6`, reads NCA's connectivity map and compares NCA's verdict on each connection of
expected.yaml with the `nca` field where present (a documented difference), else with
`allowed`. It prints one line per connection and exits 1 on any disagreement. With
`--nca-output FILE` (one case directory only) it reads NCA's saved `txt_no_fw_rules` output
instead of running NCA, for large inputs.

Before NCA sees the policies they are normalised in two ways that change nothing in Kubernetes:
`policyTypes` is put in the order [Ingress, Egress] (NCA 2.1.0 rejects other orders), and the
rules of a direction missing from an explicit `policyTypes` are dropped (Kubernetes ignores them,
NCA rejects the policy).

The Rust tests do not need this script or NCA.
"""

import ipaddress
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

NCA = Path(sys.executable).parent / "nca"
HERE = Path(__file__).resolve().parent


def normalise(policy):
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    if isinstance(types, list) and types:
        spec["policyTypes"] = [t for t in ("Ingress", "Egress") if t in types]
        for kind, field in (("Ingress", "ingress"), ("Egress", "egress")):
            if kind not in types:
                spec.pop(field, None)
    return policy


def parse_endpoint(text):
    """A pod as ('pod', 'ns/name') or addresses as ('ips', [network ranges])."""
    match = re.fullmatch(r"(.+)\[(\w+)\]", text)
    if match:
        return ("pod", match.group(1))
    ranges = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, last = part.split("-", 1)
            ranges.append((ipaddress.ip_address(first), ipaddress.ip_address(last)))
        elif "/" in part:
            net = ipaddress.ip_network(part, strict=False)
            ranges.append((net[0], net[-1]))
        else:
            ranges.append((ipaddress.ip_address(part),) * 2)
    return ("ips", ranges)


def endpoint_matches(endpoint, name):
    kind, value = endpoint
    if kind == "pod":
        return value == name
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return any(a.version == address.version and a <= address <= b for a, b in value)


KEYS = ("protocols", "src_ports", "dst_ports", "icmp_type", "icmp_code", "methods", "paths", "hosts")


def parse_cube(body):
    """A cube such as `protocols:TCP, UDP,dst_ports:53,80-90` as a dict of value lists."""
    pattern = r"(?:^|,)(" + "|".join(KEYS) + r"):"
    parts = re.split(pattern, body)
    cube = {}
    for key, value in zip(parts[1::2], parts[2::2]):
        cube[key] = [v.strip() for v in value.split(",") if v.strip()]
    return cube


def cube_admits(cube, protocol, port):
    if "protocols" in cube and protocol not in cube["protocols"]:
        return False
    if "dst_ports" in cube:
        for item in cube["dst_ports"]:
            first, _, last = item.partition("-")
            if int(first) <= port <= int(last or first):
                return True
        return False
    return True


def connections_admit(text, protocol, port):
    text = text.strip()
    if text == "All connections":
        return True
    if text == "No connections":
        return False
    if text.startswith("All but "):
        return not connections_admit(text[len("All but "):], protocol, port)
    cubes = re.findall(r"\{([^}]*)\}", text)
    if not cubes:
        raise ValueError(f"cannot read NCA connections `{text}`")
    return any(cube_admits(parse_cube(c), protocol, port) for c in cubes)


def parse_output(text):
    """NCA's connectivity lines, grouped by source pod name (None for address ranges)."""
    lines = {}
    for line in text.splitlines():
        if " => " not in line:
            continue
        source, rest = line.split(" => ", 1)
        destination, connections = rest.split(" : ", 1)
        source = parse_endpoint(source.strip())
        key = source[1] if source[0] == "pod" else None
        lines.setdefault(key, []).append((source, parse_endpoint(destination.strip()), connections))
    return lines


def run_nca(case):
    policies = [p for p in yaml.safe_load_all((case / "policies.yaml").read_text()) if p]
    with tempfile.TemporaryDirectory(prefix="nca-case-") as tmp:
        file = Path(tmp) / "policies.yaml"
        file.write_text(yaml.safe_dump_all([normalise(p) for p in policies], sort_keys=False))
        cluster = str(case / "cluster.yaml")
        command = [str(NCA), "--connectivity", str(file), "--ns_list", cluster, "--pod_list", cluster,
                   "-o", "txt_no_fw_rules", "--print_ipv6"]
        process = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{case.name}: NCA failed ({process.returncode}):\n{process.stdout}{process.stderr}")
    return parse_output(process.stdout)


def nca_allows(lines, expected):
    protocol = expected.get("protocol", "TCP")
    source_name = str(expected["from"])
    candidates = lines.get(source_name if "/" in source_name else None, [])
    return any(
        endpoint_matches(source, str(expected["from"]))
        and endpoint_matches(destination, str(expected["to"]))
        and connections_admit(connections, protocol, expected["port"])
        for source, destination, connections in candidates
    )


def main(argv):
    saved = None
    if argv[:1] == ["--nca-output"]:
        saved, argv = Path(argv[1]), argv[2:]
        if len(argv) != 1:
            raise SystemExit("--nca-output goes with exactly one case directory")
    cases = [Path(a) for a in argv] or sorted(p for p in HERE.iterdir() if p.is_dir())
    total = agree = documented = 0
    failures = []
    for case in cases:
        lines = parse_output(saved.read_text()) if saved else run_nca(case)
        for expected in yaml.safe_load((case / "expected.yaml").read_text()):
            total += 1
            nca = nca_allows(lines, expected)
            wanted = expected.get("nca", expected["allowed"])
            label = (f"{case.name}: {expected['from']} -> {expected['to']} "
                     f"{expected['port']}/{expected.get('protocol', 'TCP')}")
            if nca != wanted:
                failures.append(f"MISMATCH {label}: NCA allowed={nca}, expected {wanted}")
                print(failures[-1])
            elif "nca" in expected:
                documented += 1
                print(f"DIFF (documented) {label}: NCA allowed={nca}, Kubernetes allowed={expected['allowed']}")
            else:
                agree += 1
                print(f"ok {label}: allowed={nca}")
    print(f"{total} connections in {len(cases)} cases: {agree} agree with NCA, "
          f"{documented} documented differences, {len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
