"""Checks the CI reports of `dynakube-netpol` against their published schemas.

    python formats.py --schemas DIR REPORT...

Each REPORT ending in `.sarif` is a SARIF log, checked against the OASIS SARIF 2.1.0 schema
(`DIR/sarif/sarif-schema-2.1.0.json`, JSON Schema draft 04, with its `uri` and `uri-reference`
formats checked by RFC 3986's grammar) and against what GitHub code scanning requires beyond the
schema (its "SARIF support for code scanning": a driver name and rules with id, short and full
description and help text; results with a message, a rule of the driver at the index given, at
most ten locations of which the first has a physical location with a URI and a start line, and
partial fingerprints; fingerprints that tell results apart). Each REPORT ending in `.xml` is a
JUnit report, checked against the Jenkins xUnit plugin's JUnit schema (`DIR/junit/junit-10.xsd`)
with lxml, and its counts (`tests`, `failures`, `errors`, `skipped`) against its test cases.

First a self-test: defects planted in copies of the first report of each kind, each of which
must be refused. Each report prints `PASS|FAIL file` and its errors indented. The exit status is
0 only when the self-test passed and every report passed, with at least one report of each
kind; 1 otherwise; 2 when the checks cannot run.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
from lxml import etree

# RFC 3986, section 3: the characters of a path, query or fragment, and of a scheme.
PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
URI_REFERENCE = re.compile(
    rf"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):)?(?:{PCHAR}|/)*(?:\?(?:{PCHAR}|[/?])*)?"
    rf"(?:#(?:{PCHAR}|[/?])*)?"
)
LEVELS = {"none", "note", "warning", "error"}


def is_uri_reference(value: object) -> bool:
    """Whether `value` is a URI reference (RFC 3986, section 4.1)."""
    if not isinstance(value, str):
        return True
    match = URI_REFERENCE.fullmatch(value)
    if match is None:
        return False
    # A relative reference whose first segment holds a colon would read as a scheme (4.2).
    first = re.split(r"[/?#]", value, maxsplit=1)[0]
    return match.group("scheme") is not None or ":" not in first


def is_uri(value: object) -> bool:
    """Whether `value` is an absolute URI (RFC 3986, section 3)."""
    if not isinstance(value, str):
        return True
    match = URI_REFERENCE.fullmatch(value)
    return match is not None and match.group("scheme") is not None


def sarif_validator(schemas: Path) -> jsonschema.protocols.Validator:
    """The validator of the SARIF schema, with the URI formats checked."""
    schema = json.loads((schemas / "sarif" / "sarif-schema-2.1.0.json").read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = jsonschema.FormatChecker()
    checker.checks("uri")(is_uri)
    checker.checks("uri-reference")(is_uri_reference)
    return cls(schema, format_checker=checker)


def github_errors(log: dict) -> list[str]:
    """What GitHub code scanning requires of a log beyond the schema."""
    errors = []
    for r, run in enumerate(log.get("runs") or []):
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            errors.append(f"runs[{r}].tool.driver.name is missing")
        rules = driver.get("rules") or []
        ids = [rule.get("id") for rule in rules]
        if len(set(ids)) != len(ids):
            errors.append(f"runs[{r}]: rule ids repeat: {ids}")
        for i, rule in enumerate(rules):
            for field in ("id", "shortDescription", "fullDescription", "help"):
                value = rule.get(field)
                if isinstance(value, dict):
                    value = value.get("text")
                if not value:
                    errors.append(f"runs[{r}].rules[{i}]: {field} is missing or empty")
        fingerprints = set()
        for i, result in enumerate(run.get("results") or []):
            where = f"runs[{r}].results[{i}]"
            errors.extend(result_errors(where, result, ids, fingerprints))
    return errors


def result_errors(where: str, result: dict, ids: list, fingerprints: set) -> list[str]:
    """What GitHub requires of one result; `fingerprints` collects the run's."""
    errors = []
    if not result.get("message", {}).get("text"):
        errors.append(f"{where}: message.text is missing or empty")
    if result.get("ruleId") not in ids:
        errors.append(f"{where}: ruleId {result.get('ruleId')!r} is no rule of the driver")
    elif result.get("ruleIndex") != ids.index(result["ruleId"]):
        errors.append(f"{where}: ruleIndex {result.get('ruleIndex')} is not its rule's")
    if result.get("level", "warning") not in LEVELS:
        errors.append(f"{where}: level {result.get('level')!r}")
    locations = result.get("locations") or []
    if not 1 <= len(locations) <= 10:
        errors.append(f"{where}: {len(locations)} locations (1 to 10)")
    else:
        physical = locations[0].get("physicalLocation") or {}
        if not physical.get("artifactLocation", {}).get("uri"):
            errors.append(f"{where}: the first location has no artifact URI")
        if (physical.get("region") or {}).get("startLine", 0) < 1:
            errors.append(f"{where}: the first location has no start line")
    printed = json.dumps(result.get("partialFingerprints") or {}, sort_keys=True)
    if printed == "{}":
        errors.append(f"{where}: no partialFingerprints")
    elif printed in fingerprints:
        errors.append(f"{where}: the fingerprints of an earlier result")
    fingerprints.add(printed)
    return errors


def check_sarif(validator, text: str) -> list[str]:
    """The errors of a SARIF log."""
    try:
        log = json.loads(text)
    except json.JSONDecodeError as error:
        return [f"not JSON: {error}"]
    errors = [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(log)
    ]
    return errors + github_errors(log)


def check_junit(schema: etree.XMLSchema, text: str) -> list[str]:
    """The errors of a JUnit report."""
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError as error:
        return [f"not well-formed XML: {error}"]
    if not schema.validate(root):
        return [str(e) for e in schema.error_log]
    errors = []
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(len(c.findall("failure")) for c in cases),
            "errors": sum(len(c.findall("error")) for c in cases),
            "skipped": sum(len(c.findall("skipped")) for c in cases),
        }
        for name, count in counted.items():
            given = suite.get(name, "0" if name == "skipped" else None)
            if given != str(count):
                errors.append(f"testsuite {suite.get('name')!r}: {name}={given}, counted {count}")
        for name in totals:
            totals[name] += counted[name]
    if root.tag == "testsuites":
        for name, count in totals.items():
            if root.get(name) is not None and root.get(name) != str(count):
                errors.append(f"testsuites: {name}={root.get(name)}, counted {count}")
    return errors


def sarif_defects(text: str) -> list[tuple[str, str]]:
    """Copies of a SARIF log with one defect each, named."""
    log = json.loads(text)

    def planted(name: str, change: Callable[[dict], None]) -> tuple[str, str]:
        copied = copy.deepcopy(log)
        change(copied)
        return name, json.dumps(copied)

    def result(copied: dict) -> dict:
        return copied["runs"][0]["results"][0]

    def uri(copied: dict) -> dict:
        return result(copied)["locations"][0]["physicalLocation"]["artifactLocation"]

    return [
        planted("no version", lambda c: c.pop("version")),
        planted("a property SARIF does not have", lambda c: c.update(extra=1)),
        planted("a level SARIF does not have", lambda c: result(c).update(level="fatal")),
        planted("a message without text", lambda c: result(c).update(message={})),
        planted("a URI that is no URI reference", lambda c: uri(c).update(uri="a b:c")),
        planted("a ruleIndex of another rule", lambda c: result(c).update(ruleIndex=99)),
        planted("no fingerprints", lambda c: result(c).pop("partialFingerprints")),
        planted("no physical location", lambda c: result(c)["locations"][0].pop("physicalLocation")),
        planted("a result twice", lambda c: c["runs"][0]["results"].append(result(c))),
        ("not JSON", text[: len(text) // 2]),
    ]


def junit_defects(text: str) -> list[tuple[str, str]]:
    """Copies of a JUnit report with one defect each, named."""
    first_case = re.search(r"<testcase [^>]*?(/?)>", text)
    assert first_case, "the report has a test case"
    open_case = first_case.group(0).removesuffix("/>").removesuffix(">")
    return [
        ("a suite without a name", re.sub(r'<testsuite name="[^"]*"', "<testsuite", text, count=1)),
        ("an element JUnit does not have", text.replace(first_case.group(0), f"{open_case}><bogus/></testcase>", 1)),
        ("an attribute JUnit does not have", text.replace("<testsuites ", '<testsuites skipped="0" ', 1)),
        ("a count that is not the cases'", re.sub(r'(<testsuite [^>]*?tests=")\d+', r"\g<1>1000", text, count=1)),
        ("not well-formed", text.replace("</testsuites>", "</testsuite>", 1)),
    ]


def self_test(check, reports: list[Path], defects) -> list[str]:
    """The defects of the first report that `check` lets through (none is the aim)."""
    if not reports:
        return []
    missed = []
    for name, text in defects(reports[0].read_text("utf-8")):
        errors = check(text)
        print(f"{'PASS' if errors else 'FAIL'} self-test: {name} refused ({reports[0].name})")
        if not errors:
            missed.append(name)
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=Path, required=True)
    parser.add_argument("reports", type=Path, nargs="+")
    args = parser.parse_args()
    try:
        validator = sarif_validator(args.schemas)
        junit = etree.XMLSchema(etree.parse(str(args.schemas / "junit" / "junit-10.xsd")))
    except (OSError, ValueError, etree.XMLSchemaParseError, jsonschema.SchemaError) as error:
        print(f"cannot read the schemas: {error}", file=sys.stderr)
        return 2
    checks = {
        ".sarif": lambda text: check_sarif(validator, text),
        ".xml": lambda text: check_junit(junit, text),
    }
    unknown = [r for r in args.reports if r.suffix not in checks]
    if unknown:
        print(f"neither .sarif nor .xml: {unknown}", file=sys.stderr)
        return 2
    sarif = [r for r in args.reports if r.suffix == ".sarif"]
    xml = [r for r in args.reports if r.suffix == ".xml"]
    missed = self_test(checks[".sarif"], sarif, sarif_defects)
    missed += self_test(checks[".xml"], xml, junit_defects)
    failed = 0
    for report in args.reports:
        errors = checks[report.suffix](report.read_text("utf-8"))
        print(f"{'FAIL' if errors else 'PASS'} {report}")
        for error in errors:
            print(f"    {error}")
        failed += bool(errors)
    print(f"{len(args.reports) - failed} passed, {failed} failed; self-test missed {len(missed)}")
    return 0 if sarif and xml and not failed and not missed else 1


if __name__ == "__main__":
    sys.exit(main())
