"""Schema validation, strict as the API server's field validation is (`kubectl apply` since
Kubernetes 1.27): a field the schema does not declare is an error, not something to drop.

- Built-in kinds: the strict JSON schemas kubernetes-validate ships (its newest Kubernetes), with
  one validator per kind built once and every error reported (kubernetes-validate's own
  `validate()` reloads its definitions on each call and stops at the first error).
- Custom resources: the `openAPIV3Schema` of the CRD version that serves the object, turned into
  a JSON schema (OpenAPI 3.0 is JSON Schema draft 4 with extensions) that refuses undeclared
  fields as strict field validation does, checks the formats the API server checks, and the
  list types (`x-kubernetes-list-type: set` and `map`) it enforces. `metadata` is left to
  `apiserver.object_meta`, as the API server validates it apart from the CRD's schema.
  `x-kubernetes-validations` (CEL) rules are not evaluated: `CrdRegistry.cel_rules` counts them
  so that a report can say so.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import referencing

import documents

COMBINATORS = ("allOf", "anyOf", "oneOf", "not")


def describe(error: jsonschema.ValidationError) -> str:
    """`path: message` for a schema error; for a failed oneOf/anyOf, the closest branch's error."""
    path = ".".join(str(part) for part in error.absolute_path) or "(root)"
    message = error.message
    if error.validator == "additionalProperties" and error.validator_value is False:
        message = message.replace("Additional properties are not allowed", "unknown field")
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        inner = ".".join(str(part) for part in best.absolute_path) or "(root)"
        message = f"{message[:160]}; closest: {inner}: {best.message[:240]}"
    return f"{path}: {message[:500]}"


class BuiltinSchemas:
    """Strict schemas of the Kubernetes built-in kinds, from kubernetes-validate."""

    def __init__(self) -> None:
        self.version = kubernetes_validate.latest_version()
        self.directory = f"kubernetes-json-schema/v{self.version}-local-strict"
        definitions = kubernetes_validate.utils.schema_contents(
            f"{self.directory}/_definitions.json", self.version)
        self.registry = referencing.Resource.from_contents(definitions) @ referencing.Registry()
        self.validators: dict[tuple[str, str], jsonschema.protocols.Validator | None] = {}

    def validator(self, api_version: str, kind: str):
        """The validator of a kind, or None when kubernetes-validate has no schema for it."""
        key = (api_version, kind)
        if key not in self.validators:
            # The file naming of kubernetes-validate: `networking.k8s.io/v1` is `networking-v1`.
            group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
            try:
                schema = kubernetes_validate.utils.schema_contents(
                    f"{self.directory}/{kind.lower()}-{group_version}.json", self.version)
            except FileNotFoundError:
                self.validators[key] = None
            else:
                resource = referencing.Resource.from_contents(schema)
                self.validators[key] = jsonschema.Draft202012Validator(
                    schema, registry=resource @ self.registry)
        return self.validators[key]

    def errors(self, value: dict) -> list[str] | None:
        """Every schema error of a built-in object, or None when its kind is not built in."""
        validator = self.validator(str(value.get("apiVersion")), str(value.get("kind")))
        if validator is None:
            return None
        found = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
        return [describe(error) for error in found]


def strict_schema(node: Any, in_combinator: bool = False) -> Any:
    """The JSON schema (draft 4) of a structural OpenAPI schema, refusing undeclared fields.

    In a structural schema the fields of an object are the `properties` outside any `allOf`,
    `anyOf`, `oneOf` or `not`; those branches only add constraints on declared fields. So an
    object schema outside them gets `additionalProperties: false` unless it has
    `additionalProperties` (a map) or `x-kubernetes-preserve-unknown-fields`, and one with
    neither properties nor those accepts no field at all (the API server would prune them all).
    `nullable` admits null; `x-kubernetes-int-or-string` admits an integer or a string.
    """
    if isinstance(node, list):
        return [strict_schema(item, in_combinator) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: strict_schema(item, in_combinator) for name, item in value.items()}
        elif key in COMBINATORS:
            out[key] = strict_schema(value, True)
        elif key in ("items", "additionalProperties") and isinstance(value, (dict, list)):
            out[key] = strict_schema(value, in_combinator)
        elif key not in ("description", "nullable", "default", "example"):
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    preserves = node.get("x-kubernetes-preserve-unknown-fields") or node.get("x-kubernetes-embedded-resource")
    if (not in_combinator and node.get("type") == "object" and "additionalProperties" not in node
            and not preserves):
        out["additionalProperties"] = False
    return out


def _cidr(value: Any) -> bool:
    """The API server's `cidr` format: Go's net.ParseCIDR."""
    if not isinstance(value, str) or "/" not in value:
        return not isinstance(value, str)
    try:
        ipaddress.ip_network(value, strict=False)
        return True
    except ValueError:
        return False


def _address(version: int):
    """The API server's `ipv4` and `ipv6` formats."""
    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        try:
            return ipaddress.ip_address(value).version == version
        except ValueError:
            return False
    return check


def _date_time(value: Any) -> bool:
    """The API server's `date-time` format: RFC 3339."""
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def format_checker() -> jsonschema.FormatChecker:
    """The formats the API server validates in custom resources that these CRDs use (`cidr`,
    `ipv4`, `ipv6`, `date-time`; apiextensions-apiserver's list of supported formats). Formats it
    does not validate (`int32`, `int64`, `idn-hostname`, ...) are left alone, as it leaves them."""
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("cidr")(_cidr)
    checker.checks("ipv4")(_address(4))
    checker.checks("ipv6")(_address(6))
    checker.checks("date-time")(_date_time)
    return checker


def _list_type(validator, list_type, instance, schema) -> Iterator[jsonschema.ValidationError]:
    """`x-kubernetes-list-type`: items of a `set` are unique, items of a `map` unique by their
    `x-kubernetes-list-map-keys`."""
    if not isinstance(instance, list):
        return
    if list_type == "set":
        seen = []
        for item in instance:
            if item in seen:
                yield jsonschema.ValidationError(f"duplicate item {item!r} in a list of type set")
            seen.append(item)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen_keys = set()
        for item in instance:
            if isinstance(item, dict):
                key = tuple(json.dumps(item.get(k), sort_keys=True) for k in keys)
                if key in seen_keys:
                    yield jsonschema.ValidationError(f"duplicate entry for keys {keys} in a list of type map")
                seen_keys.add(key)


StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft4Validator, {"x-kubernetes-list-type": _list_type})


def count_cel_rules(node: Any) -> int:
    """How many `x-kubernetes-validations` rules a schema holds."""
    if isinstance(node, list):
        return sum(count_cel_rules(item) for item in node)
    if not isinstance(node, dict):
        return 0
    own = len(node.get("x-kubernetes-validations") or [])
    return own + sum(count_cel_rules(value) for value in node.values())


@dataclass
class Served:
    """One served version of a CRD: where it comes from, its scope and its strict validator."""

    source: str
    namespaced: bool
    validator: Any
    cel_rules: int


@dataclass
class CrdRegistry:
    """Strict validators of every served version of the CRDs read, by (apiVersion, kind)."""

    served: dict[tuple[str, str], list[Served]] = field(default_factory=dict)

    def add(self, file: Path, source: str) -> None:
        """Reads one CRD file; `source` names it in reports (a release, a channel)."""
        crd = documents.load(file)
        spec = crd["spec"]
        kind, group = spec["names"]["kind"], spec["group"]
        checker = format_checker()
        for version in spec["versions"]:
            if not version.get("served"):
                continue
            schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
            schema.setdefault("properties", {})["metadata"] = {"type": "object"}
            schema = strict_schema(schema)
            schema["properties"]["metadata"] = {}
            StrictValidator.check_schema(schema)
            served = Served(source, spec["scope"] == "Namespaced",
                            StrictValidator(schema, format_checker=checker),
                            count_cel_rules(version["schema"]))
            self.served.setdefault((f"{group}/{version['name']}", kind), []).append(served)

    def lookup(self, api_version: str, kind: str) -> list[Served]:
        """The served versions that match an object's apiVersion and kind (empty when none)."""
        return self.served.get((api_version, kind), [])

    @staticmethod
    def errors(served: Served, value: dict) -> list[str]:
        """Every schema error of `value` under one served version."""
        found = sorted(served.validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
        return [describe(error) for error in found]
