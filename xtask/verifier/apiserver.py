"""Rules the API server (or Cilium's agent) enforces that no OpenAPI schema expresses.

Each function returns a list of errors as `path: message`; each rule names the code it follows:

- `k8s.io/apimachinery/pkg/util/validation/validation.go` (names, label keys and values, port
  numbers and names),
- `k8s.io/apimachinery/pkg/api/validation/objectmeta.go` (`ValidateObjectMeta`),
- `k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go` (`ValidateLabelSelector`),
- `k8s.io/kubernetes/pkg/apis/networking/validation/validation.go` (`ValidateNetworkPolicy`),
- `k8s.io/kubernetes/pkg/api/networking/util.go` (`GetWarningsForNetworkPolicy`: the tool's
  output must apply without warnings),
- `github.com/cilium/cilium/pkg/policy/api/rule_validation.go` (`Rule.Sanitize`, which the Cilium
  agent runs on every policy it imports; a policy it refuses is not enforced at all).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE = QUALIFIED_NAME
PORT_NAME = re.compile(r"[-a-z0-9]+")
IANA_SERVICE_NAME = re.compile(r"[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?")
OBJECT_META_FIELDS = {
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
}
# ValidateAnnotations: TotalAnnotationSizeLimitB.
ANNOTATIONS_LIMIT = 256 * 1024
SELECTOR_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


def dns1123_subdomain(value: Any) -> str | None:
    """IsDNS1123Subdomain: at most 253 characters, lower-case alphanumeric labels joined by
    dots; the reason it is not one, or None."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not DNS1123_SUBDOMAIN.fullmatch(value):
        return f"{value!r} is not a DNS-1123 subdomain"
    return None


def dns1123_label(value: Any) -> str | None:
    """IsDNS1123Label: at most 63 lower-case alphanumeric characters or '-'."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > 63 or not DNS1123_LABEL.fullmatch(value):
        return f"{value!r} is not a DNS-1123 label"
    return None


def qualified_name(value: Any) -> str | None:
    """IsQualifiedName: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63
    alphanumeric characters, '-', '_' or '.', starting and ending alphanumeric."""
    if not isinstance(value, str):
        return f"{value!r} is not a string"
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or dns1123_subdomain(prefix)):
        return f"{value!r}: the prefix must be a DNS-1123 subdomain"
    if not name or len(name) > 63 or not QUALIFIED_NAME.fullmatch(name):
        return f"{value!r} is not a qualified name"
    return None


def label_value(value: Any) -> str | None:
    """IsValidLabelValue: empty, or at most 63 characters like a qualified name's."""
    if not isinstance(value, str):
        return f"{value!r} is not a string"
    if value and (len(value) > 63 or not LABEL_VALUE.fullmatch(value)):
        return f"{value!r} is not a valid label value"
    return None


def port_name(value: str) -> str | None:
    """IsValidPortName: 1 to 15 lower-case alphanumerics or '-', at least one letter, no '-' at
    either end and no '--'."""
    if not 1 <= len(value) <= 15:
        return f"{value!r}: a port name has 1 to 15 characters"
    if not PORT_NAME.fullmatch(value) or not re.search(r"[a-z]", value):
        return f"{value!r}: a port name has lower-case letters, digits and '-', a letter among them"
    if value.startswith("-") or value.endswith("-") or "--" in value:
        return f"{value!r}: a port name has no '-' at either end and no '--'"
    return None


def labels(value: Any, path: str) -> list[str]:
    """ValidateLabels: qualified names mapped to label values."""
    if not isinstance(value, dict):
        return [f"{path}: must be a map of strings"]
    errors = []
    for key, item in value.items():
        if reason := qualified_name(key):
            errors.append(f"{path}: key {reason}")
        if reason := label_value(item):
            errors.append(f"{path}.{key}: {reason}")
    return errors


def object_meta(meta: Any, namespaced: bool, strict: bool = True) -> list[str]:
    """ValidateObjectMeta for an object created from a file: a DNS-1123 subdomain name, the
    namespace a DNS-1123 label and set exactly when the kind is namespaced (without one, kubectl
    puts the object in its current namespace: the tool's output always names it), labels,
    annotations (qualified keys, 256 KiB in all), and with `strict` no field ObjectMeta lacks
    (strict field validation)."""
    if not isinstance(meta, dict):
        return ["metadata: must be a mapping"]
    errors = []
    if strict:
        errors += [f"metadata.{key}: unknown field" for key in meta if key not in OBJECT_META_FIELDS]
    if reason := dns1123_subdomain(meta.get("name")):
        errors.append(f"metadata.name: {reason}")
    namespace = meta.get("namespace")
    if namespaced and namespace is None:
        errors.append("metadata.namespace: not set, so kubectl would use its current namespace")
    elif not namespaced and namespace is not None:
        errors.append(f"metadata.namespace: {namespace!r} set on a cluster-scoped kind")
    elif namespace is not None and (reason := dns1123_label(namespace)):
        errors.append(f"metadata.namespace: {reason}")
    if "labels" in meta:
        errors += labels(meta["labels"], "metadata.labels")
    annotations = meta.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, dict):
            errors.append("metadata.annotations: must be a map of strings")
        else:
            size = 0
            for key, item in annotations.items():
                if reason := qualified_name(str(key).lower()):
                    errors.append(f"metadata.annotations: key {reason}")
                if not isinstance(item, str):
                    errors.append(f"metadata.annotations.{key}: must be a string")
                size += len(str(key)) + len(str(item))
            if size > ANNOTATIONS_LIMIT:
                errors.append(f"metadata.annotations: {size} bytes, more than {ANNOTATIONS_LIMIT}")
    return errors


def label_selector(selector: Any, path: str, keys: bool = True) -> list[str]:
    """ValidateLabelSelector: matchLabels as labels; each matchExpressions requirement with an
    operator In, NotIn (then at least one value), Exists or DoesNotExist (then no values), a
    qualified-name key and label values. Cilium's selectors carry source prefixes in their keys
    (`k8s:io.kubernetes.pod.namespace`), so `keys=False` leaves keys unchecked."""
    if selector is None:
        return []
    if not isinstance(selector, dict):
        return [f"{path}: must be a mapping"]
    errors = []
    match_labels = selector.get("matchLabels")
    if match_labels is not None:
        if keys:
            errors += labels(match_labels, f"{path}.matchLabels")
        elif isinstance(match_labels, dict):
            errors += [
                f"{path}.matchLabels.{key}: {reason}"
                for key, item in match_labels.items() if (reason := label_value(item))
            ]
    for index, requirement in enumerate(selector.get("matchExpressions") or []):
        where = f"{path}.matchExpressions[{index}]"
        if not isinstance(requirement, dict):
            errors.append(f"{where}: must be a mapping")
            continue
        operator, values = requirement.get("operator"), requirement.get("values") or []
        if operator not in SELECTOR_OPERATORS:
            errors.append(f"{where}.operator: {operator!r} is not In, NotIn, Exists or DoesNotExist")
        elif operator in ("In", "NotIn") and not values:
            errors.append(f"{where}.values: must be non-empty when operator is {operator}")
        elif operator in ("Exists", "DoesNotExist") and values:
            errors.append(f"{where}.values: must be empty when operator is {operator}")
        if keys and (reason := qualified_name(requirement.get("key"))):
            errors.append(f"{where}.key: {reason}")
        errors += [f"{where}.values[{i}]: {reason}" for i, item in enumerate(values)
                   if (reason := label_value(item))]
    return errors


def cidr(value: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network | None, str | None]:
    """A CIDR as Go's net.ParseCIDR reads it (an address, '/', a prefix length; no leading zeros),
    or the reason it is none."""
    if not isinstance(value, str) or "/" not in value:
        return None, f"{value!r} is not a CIDR (address/prefix length)"
    try:
        return ipaddress.ip_network(value, strict=False), None
    except ValueError:
        return None, f"{value!r} is not a CIDR"


def canonical_cidr(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    """GetWarningsForCIDR: the API server warns about a CIDR with bits set beyond its prefix, and
    about IPv4-mapped IPv6 addresses; the reason `value` draws a warning, or None."""
    if str(network) != value:
        return f"{value!r} is not canonical: write {network}"
    if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped:
        return f"{value!r} is an IPv4-mapped IPv6 block"
    return None


def ip_block(block: Any, path: str) -> list[str]:
    """ValidateIPBlock: a valid `cidr`, and each `except` a valid CIDR that is a strict subset of
    it (same family, inside, a longer prefix); GetWarningsForIPBlock: every CIDR canonical."""
    if not isinstance(block, dict) or not block.get("cidr"):
        return [f"{path}.cidr: required"]
    outer, reason = cidr(block["cidr"])
    if outer is None:
        return [f"{path}.cidr: {reason}"]
    errors = []
    if reason := canonical_cidr(block["cidr"], outer):
        errors.append(f"{path}.cidr: {reason}")
    for index, value in enumerate(block.get("except") or []):
        inner, reason = cidr(value)
        where = f"{path}.except[{index}]"
        if inner is None:
            errors.append(f"{where}: {reason}")
            continue
        if (inner.version != outer.version or inner.network_address not in outer
                or inner.prefixlen <= outer.prefixlen):
            errors.append(f"{where}: {value} must be a strict subset of {block['cidr']}")
        if reason := canonical_cidr(value, inner):
            errors.append(f"{where}: {reason}")
    return errors


def network_policy_port(port: Any, path: str) -> list[str]:
    """ValidateNetworkPolicyPort: protocol TCP, UDP or SCTP; a numeric port 1-65535 and an
    `endPort` 1-65535 not below it; a named port a valid port name and without `endPort`;
    no `endPort` without `port`."""
    if not isinstance(port, dict):
        return [f"{path}: must be a mapping"]
    errors = []
    protocol = port.get("protocol", "TCP")
    if protocol not in ("TCP", "UDP", "SCTP"):
        errors.append(f"{path}.protocol: {protocol!r} is not TCP, UDP or SCTP")
    number, end = port.get("port"), port.get("endPort")
    if isinstance(number, bool) or isinstance(end, bool):
        return errors + [f"{path}: a port is a number or a name"]
    if isinstance(number, int):
        if not 1 <= number <= 65535:
            errors.append(f"{path}.port: {number} is not between 1 and 65535")
        if end is not None:
            if not isinstance(end, int) or not 1 <= end <= 65535:
                errors.append(f"{path}.endPort: {end!r} is not between 1 and 65535")
            elif end < number:
                errors.append(f"{path}.endPort: {end} must be greater than or equal to port {number}")
    elif isinstance(number, str):
        if reason := port_name(number):
            errors.append(f"{path}.port: {reason}")
        if end is not None:
            errors.append(f"{path}.endPort: may not be specified when port is non-numeric")
    elif number is None and end is not None:
        errors.append(f"{path}.endPort: may not be specified when port is not specified")
    return errors


def network_policy_peer(peer: Any, path: str) -> list[str]:
    """ValidateNetworkPolicyPeer: at least one of podSelector, namespaceSelector and ipBlock,
    ipBlock alone, each selector valid."""
    if not isinstance(peer, dict):
        return [f"{path}: must be a mapping"]
    present = [key for key in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(key) is not None]
    errors = []
    if not present:
        errors.append(f"{path}: must specify a peer")
    elif "ipBlock" in present and len(present) > 1:
        errors.append(f"{path}: may not specify both ipBlock and another peer")
    for key in ("podSelector", "namespaceSelector"):
        errors += label_selector(peer.get(key), f"{path}.{key}")
    if peer.get("ipBlock") is not None:
        errors += ip_block(peer["ipBlock"], f"{path}.ipBlock")
    return errors


def network_policy(value: dict) -> list[str]:
    """ValidateNetworkPolicy: the object's metadata, its pod selector, every port and peer of
    every rule, and at most two policy types, each Ingress or Egress."""
    errors = object_meta(value.get("metadata"), namespaced=True, strict=False)
    spec = value.get("spec")
    if not isinstance(spec, dict):
        return errors + ["spec: required"]
    if "podSelector" not in spec:
        errors.append("spec.podSelector: required (`{}` selects every pod of the namespace)")
    errors += label_selector(spec.get("podSelector"), "spec.podSelector")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(spec.get(direction) or []):
            where = f"spec.{direction}[{index}]"
            if not isinstance(rule, dict):
                errors.append(f"{where}: must be a mapping")
                continue
            for i, port in enumerate(rule.get("ports") or []):
                errors += network_policy_port(port, f"{where}.ports[{i}]")
            for i, peer in enumerate(rule.get(peers) or []):
                errors += network_policy_peer(peer, f"{where}.{peers}[{i}]")
    types = spec.get("policyTypes") or []
    if len(types) > 2:
        errors.append("spec.policyTypes: may not specify more than two policyTypes")
    errors += [f"spec.policyTypes[{i}]: {kind!r} is not Ingress or Egress"
               for i, kind in enumerate(types) if kind not in ("Ingress", "Egress")]
    return errors


CILIUM_INGRESS_PEERS = ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups")
CILIUM_EGRESS_PEERS = ("toCIDR", "toCIDRSet", "toEndpoints", "toEntities", "toServices", "toFQDNs",
                       "toGroups", "toNodes")
CILIUM_MAX_PORTS = 40


def cilium_rule(spec: Any, path: str) -> list[str]:
    """Rule.Sanitize of the Cilium agent for one rule (`spec` or an item of `specs`)."""
    if not isinstance(spec, dict):
        return [f"{path}: must be a mapping"]
    errors = []
    for key in ("endpointSelector", "nodeSelector"):
        errors += label_selector(spec.get(key), f"{path}.{key}", keys=False)
    for direction in ("ingress", "ingressDeny", "egress", "egressDeny"):
        ingress = direction.startswith("ingress")
        for index, rule in enumerate(spec.get(direction) or []):
            if isinstance(rule, dict):
                errors += cilium_direction_rule(rule, f"{path}.{direction}[{index}]", ingress)
    return errors


def cilium_direction_rule(rule: dict, path: str, ingress: bool) -> list[str]:
    """IngressRule.sanitize and EgressRule.sanitize: one kind of peer per rule, toServices
    without toPorts, DNS rules on egress only, and each port, CIDR rule and FQDN selector."""
    errors = []
    kinds = [key for key in (CILIUM_INGRESS_PEERS if ingress else CILIUM_EGRESS_PEERS) if rule.get(key)]
    if len(kinds) > 1:
        errors.append(f"{path}: combining {' and '.join(kinds)} is not supported")
    if rule.get("toServices") and rule.get("toPorts"):
        errors.append(f"{path}: combining toServices and toPorts is not supported")
    if rule.get("icmps") and rule.get("toPorts"):
        errors.append(f"{path}: icmps may only be present without toPorts")
    for key in ("fromEndpoints", "toEndpoints", "fromRequires", "toRequires"):
        for index, selector in enumerate(rule.get(key) or []):
            errors += label_selector(selector, f"{path}.{key}[{index}]", keys=False)
    for index, port_rule in enumerate(rule.get("toPorts") or []):
        if isinstance(port_rule, dict):
            errors += cilium_port_rule(port_rule, f"{path}.toPorts[{index}]", ingress)
    for key in ("fromCIDRSet", "toCIDRSet"):
        for index, cidr_rule in enumerate(rule.get(key) or []):
            if isinstance(cidr_rule, dict):
                errors += cilium_cidr_rule(cidr_rule, f"{path}.{key}[{index}]")
    for key in ("fromCIDR", "toCIDR"):
        for index, value in enumerate(rule.get(key) or []):
            if cidr(value)[0] is None and not _address(value):
                errors.append(f"{path}.{key}[{index}]: {value!r} is no address or CIDR")
    for index, selector in enumerate(rule.get("toFQDNs") or []):
        if isinstance(selector, dict) and bool(selector.get("matchName")) == bool(selector.get("matchPattern")):
            errors.append(f"{path}.toFQDNs[{index}]: exactly one of matchName and matchPattern")
    return errors


def _address(value: Any) -> bool:
    """Whether `value` is an IP address."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def cilium_port_rule(rule: dict, path: str, ingress: bool) -> list[str]:
    """PortRule.sanitize and PortProtocol.sanitize: at most 40 ports, each a number 0-65535 or an
    IANA service name; DNS rules not on ingress, not with port ranges; other L7 rules on TCP only
    and not with port 0; one L7 protocol per rule. An `endPort` below its port, which would make
    the range empty, is refused as the tool never means one."""
    errors = []
    ports = rule.get("ports") or []
    l7 = rule.get("rules") or {}
    dns = bool(l7.get("dns")) if isinstance(l7, dict) else False
    if dns and ingress:
        errors.append(f"{path}.rules.dns: DNS rules are not allowed on ingress")
    if dns and not ports:
        errors.append(f"{path}.rules.dns: port 53 must be specified for DNS rules")
    if len(ports) > CILIUM_MAX_PORTS:
        errors.append(f"{path}.ports: {len(ports)} ports, the max is {CILIUM_MAX_PORTS}")
    l7_kinds = [key for key in ("http", "kafka", "dns", "l7proto") if isinstance(l7, dict) and l7.get(key) is not None]
    if len(l7_kinds) > 1:
        errors.append(f"{path}.rules: multiple L7 protocol rule types ({', '.join(l7_kinds)})")
    for index, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        where = f"{path}.ports[{index}]"
        number, end = port.get("port"), port.get("endPort")
        if number in (None, ""):
            errors.append(f"{where}.port: must be specified")
            continue
        number = str(number)
        if IANA_SERVICE_NAME.fullmatch(number) and re.search(r"[a-zA-Z]", number):
            if end:
                errors.append(f"{where}.endPort: a named port has no range")
            continue
        if not number.isdigit() or int(number) > 65535:
            errors.append(f"{where}.port: {number!r} is neither a port number (0-65535) nor a name")
            continue
        if isinstance(end, int) and end and end < int(number):
            errors.append(f"{where}.endPort: {end} is below port {number}")
        if dns and isinstance(end, int) and end > int(number):
            errors.append(f"{where}.endPort: DNS rules do not support port ranges")
        if l7_kinds and not dns and port.get("protocol", "ANY") != "TCP":
            errors.append(f"{where}.protocol: L7 rules apply to TCP only, except DNS rules")
        if l7_kinds and int(number) == 0:
            errors.append(f"{where}.port: L7 rules cannot be used when a port is 0")
    return errors


def cilium_cidr_rule(rule: dict, path: str) -> list[str]:
    """CIDRRule.sanitize: `cidr` in address/prefix notation, each `except` inside it, of the same
    family."""
    if rule.get("cidrGroupRef"):
        return []
    outer, reason = cidr(rule.get("cidr"))
    if outer is None:
        return [f"{path}.cidr: {reason}"]
    errors = []
    for index, value in enumerate(rule.get("except") or []):
        inner, reason = cidr(value)
        if inner is None:
            errors.append(f"{path}.except[{index}]: {reason}")
        elif inner.version != outer.version or inner.network_address not in outer:
            errors.append(f"{path}.except[{index}]: {value} is not inside {rule['cidr']}")
    return errors


def cilium_policy(value: dict, namespaced: bool) -> list[str]:
    """The metadata of a Cilium policy (the CRD declares it as a bare object, so the API server's
    ObjectMeta rules are all there is) and Rule.Sanitize for `spec` and every item of `specs`."""
    errors = object_meta(value.get("metadata"), namespaced=namespaced)
    if value.get("spec") is None and not value.get("specs"):
        errors.append("spec: a policy needs spec or specs")
    if value.get("spec") is not None:
        errors += cilium_rule(value["spec"], "spec")
    for index, spec in enumerate(value.get("specs") or []):
        errors += cilium_rule(spec, f"specs[{index}]")
    return errors


def kustomization(value: dict, file: Path) -> list[str]:
    """The kustomization the tool writes beside its policies: kind Kustomization of
    kustomize.config.k8s.io/v1beta1, its `resources` plain file names, each once, listing
    exactly the other YAML files of its directory."""
    errors = []
    if value.get("apiVersion") != "kustomize.config.k8s.io/v1beta1":
        errors.append(f"apiVersion: {value.get('apiVersion')!r} is not kustomize.config.k8s.io/v1beta1")
    unknown = sorted(set(value) - {"apiVersion", "kind", "resources", "metadata"})
    errors += [f"{key}: not a field the tool writes" for key in unknown]
    listed = value.get("resources")
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        return errors + ["resources: must be a list of file names"]
    beside = {
        path.name for path in file.parent.iterdir()
        if path.is_file() and path.suffix in (".yaml", ".yml") and path.name != file.name
    }
    seen = set()
    for item in listed:
        if "/" in item or item in ("", ".", ".."):
            errors.append(f"resources: {item!r} is not a file name beside the kustomization")
        elif item in seen:
            errors.append(f"resources: {item!r} is listed twice")
        elif item not in beside:
            errors.append(f"resources: {item!r} does not exist beside the kustomization")
        seen.add(item)
    errors += [f"resources: {name!r} is not listed" for name in sorted(beside - seen)]
    return errors
