"""Checks by network-config-analyzer (NCA, IBM), an analyzer of NetworkPolicies that shares
nothing with the tool: its sanity checks, and its verdict on every connection the tool's
evaluator decided.

NCA runs in this process, through its own entry points: `nca_cli.nca_main` (the `nca` command)
for `--sanity`, and for connections the connectivity it computes for its `--connectivity` map
(`NetworkConfig.allowed_connections`, every allowed connection as a set of (source, destination,
protocol, port) cubes), asked whether each connection lies in that set. NCA reads
`networking.k8s.io/v1` NetworkPolicies only (not Cilium's policies).

NCA treats a hostNetwork pod as an ordinary pod; the tool's evaluator treats it as its node's
address, as most network plugins do (and as the evaluator's documentation says). So the cluster
given to NCA for the connections leaves hostNetwork pods out, and a connection of such a pod is
asked as a connection of its node's address: the same question in NCA's terms.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

import documents

from nca import nca_cli
from nca.CoreDS.ConnectivityProperties import ConnectivityProperties
from nca.CoreDS.Peer import BasePeerSet, IpBlock, PeerSet
from nca.CoreDS.PortSet import PortSet
from nca.CoreDS.ProtocolSet import ProtocolSet
from nca.NetworkConfig.ResourcesHandler import ResourcesHandler
from nca.Resources.PolicyResources.NetworkPolicy import PolicyConnectionsFilter


def quietly(function, *args):
    """`function(*args)` with what it prints captured: (its result, the printed lines). NCA
    prints to `sys.stdout` and to the standard error it bound when imported, so both the
    streams and the file descriptors are redirected."""
    text = io.StringIO()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as raw:
        os.dup2(raw.fileno(), 2)
        try:
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
                result = function(*args)
        finally:
            sys.__stderr__.flush()
            os.dup2(saved, 2)
            os.close(saved)
        raw.seek(0)
        printed = raw.read().decode("utf-8", "replace")
    return result, (text.getvalue() + printed).splitlines()


EMPTY_RULE = re.compile(r"(Ingress|Egress) rule no\. \d+ in NetworkPolicy (\S+) does not select any pods")
EMPTY_POLICY = re.compile(r"NetworkPolicy (\S+) is empty - it does not select any pods")
NO_EFFECTIVE_RULES = re.compile(
    r"NetworkPolicy (\S+) is redundant\. Note that it contains no effective allow/deny rules")


def rule_counts(policy_files: list[Path]) -> dict[str, int]:
    """The number of ingress and egress rules of each NetworkPolicy, by `namespace/name`."""
    counts = {}
    for file in policy_files:
        for document in documents.read(file):
            value = document.value if isinstance(document.value, dict) else {}
            meta, spec = value.get("metadata") or {}, value.get("spec") or {}
            rules = len(spec.get("ingress") or []) + len(spec.get("egress") or [])
            counts[f"{meta.get('namespace')}/{meta.get('name')}"] = rules
    return counts


def sanity(policy_files: list[Path], cluster_files: list[Path]) -> tuple[bool, list[str]]:
    """`nca --sanity` on the policy files with the pods and namespaces of `cluster_files`:
    whether it passed, and its findings, each marked.

    A policy or rule that selects no pods says something about the cluster as much as about the
    policy (a namespace nothing is injected into yet, a Job's pod that runs at upgrades only),
    and so does a policy that NCA calls redundant because none of its rules selects a pod: such
    findings are notes. Wrong labels do not hide behind them: the connections of the pods that
    do exist are decided by NCA below, and must be allowed. Every other finding fails; NCA's
    warnings do not."""
    argv = [arg for file in policy_files for arg in ("--sanity", str(file))]
    for file in cluster_files:
        argv += ["--pod_list", str(file), "--ns_list", str(file)]
    status, lines = quietly(nca_cli.nca_main, argv)
    if status == 7 and any(line.startswith("Error:") for line in lines):
        # nca_main's answer to an exception (a number of findings has no "Error:" line).
        return False, ["NCA could not read the policies or the cluster", *lines]
    empty_rules: dict[str, int] = {}
    for line in lines:
        if match := EMPTY_RULE.search(line):
            empty_rules[match.group(2)] = empty_rules.get(match.group(2), 0) + 1
    counts = rule_counts(policy_files)
    findings, ok = [], True
    for line in lines:
        line = line.strip()
        no_rules = NO_EFFECTIVE_RULES.search(line)
        if not line or line.startswith(("Total run time", "global:", "NetworkConfig ")):
            continue
        if "Warning:" in line:
            findings.append(f"warning: {line}")
        elif EMPTY_RULE.search(line) or EMPTY_POLICY.search(line):
            findings.append(f"note (no such pods in this cluster): {line}")
        elif no_rules and empty_rules.get(no_rules.group(1), 0) >= counts.get(no_rules.group(1), 1):
            findings.append(f"note (none of its rules selects a pod in this cluster): {line}")
        else:
            findings.append(line)
            ok = False
    return ok, findings


def _placed_cluster(case: Path, scratch: Path) -> tuple[Path, dict[str, str]]:
    """The case's cluster without hostNetwork pods, written into `scratch`, and the address
    each left-out pod stands for (`namespace/name` to its node's IP)."""
    cluster = documents.load(case / "cluster.yaml")
    kept, addresses = [], {}
    for item in cluster.get("items") or []:
        spec, status = item.get("spec") or {}, item.get("status") or {}
        if item.get("kind") == "Pod" and spec.get("hostNetwork"):
            meta = item.get("metadata") or {}
            address = status.get("hostIP") or status.get("podIP")
            addresses[f"{meta.get('namespace')}/{meta.get('name')}"] = address or ""
        else:
            kept.append(item)
    placed = scratch / "cluster.yaml"
    placed.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": kept}), encoding="utf-8")
    return placed, addresses


def _single(address: str) -> PeerSet:
    """The peer set of one IP address."""
    return PeerSet({IpBlock(f"{address}/{128 if ':' in address else 32}")})


def peers_text(connection: dict, host_network: dict[str, str]) -> str:
    """The ends of a connection as NCA is asked about them."""
    return " -> ".join(host_network.get(str(connection[end]), str(connection[end])) for end in ("from", "to"))


def flows(policy_files: list[Path], case: Path) -> list[tuple[bool, str, list[str]]]:
    """NCA's verdict on every connection of the case's `expected.yaml`, against the evaluator's:
    one (agreed, connection, details) per connection."""
    expected: list[dict[str, Any]] = documents.load(case / "expected.yaml") or []
    with tempfile.TemporaryDirectory(prefix="verifier-nca-") as scratch:
        cluster, host_network = _placed_cluster(case, Path(scratch))
        BasePeerSet.reset()
        try:
            config, _ = quietly(ResourcesHandler().get_network_config,
                                [str(file) for file in policy_files], [str(cluster)], [str(cluster)], None)
        except Exception as error:  # noqa: BLE001 - NCA raises many kinds on what it cannot read.
            return [(False, "every connection", [f"NCA could not read the policies or the cluster: {error}"])]
        allowed, _ = quietly(lambda: config.allowed_connections(
            res_conns_filter=PolicyConnectionsFilter.only_all_allowed_connections()).all_allowed_conns)
        pods = {str(peer.full_name()): peer for peer in config.peer_container.get_all_peers_group()}
    results = []
    for connection in expected:
        name = (f"{connection['from']} -> {connection['to']} "
                f"{connection['port']}/{connection['protocol']}")
        peers, missing = [], []
        for end in (str(connection["from"]), str(connection["to"])):
            address = host_network.get(end, end)
            if end in pods:
                peers.append(PeerSet({pods[end]}))
            elif "/" not in address and address:
                peers.append(_single(address))
            else:
                missing.append(end)
        if missing:
            results.append((False, name, [f"NCA has no pod {end}" for end in missing]))
            continue
        if not any(end in pods for end in (str(connection["from"]), str(connection["to"]))):
            # NCA's connections all have a pod at one end at least; between two addresses no
            # NetworkPolicy applies, so such a connection is allowed by definition.
            results.append((bool(connection["allowed"]), name, [
                f"no pod at either end ({peers_text(connection, host_network)}): no NetworkPolicy "
                f"governs it; the evaluator: {'allowed' if connection['allowed'] else 'denied'}"]))
            continue
        question = ConnectivityProperties.make_conn_props_from_dict({
            "src_peers": peers[0],
            "dst_peers": peers[1],
            "protocols": ProtocolSet.get_protocol_set_with_single_protocol(str(connection["protocol"])),
            "dst_ports": PortSet.make_port_set_with_range(int(connection["port"]), int(connection["port"])),
        })
        nca_allows = question.contained_in(allowed)
        verdict = (f"the evaluator: {'allowed' if connection['allowed'] else 'denied'}, "
                   f"NCA: {'allowed' if nca_allows else 'denied'}")
        notes = [verdict]
        stand_ins = [f"{end} is hostNetwork: asked as {host_network[end]}"
                     for end in (str(connection["from"]), str(connection["to"])) if end in host_network]
        results.append((nca_allows == bool(connection["allowed"]), name, notes + stand_ins))
    return results
