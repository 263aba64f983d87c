"""Reading YAML files into the objects they hold, each with a name a report can show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The C parser where PyYAML has it (its wheels do): the CRDs are large.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Document:
    """One object of a YAML file: its file, its place in the file, and the object."""

    file: Path
    place: str
    value: Any

    def ident(self, base: Path | None = None) -> str:
        """`file#place Kind namespace/name`, the file relative to `base` when given."""
        file = self.file.relative_to(base) if base is not None else self.file
        where = f"{file}#{self.place}"
        if not isinstance(self.value, dict):
            return f"{where} (not a mapping)"
        metadata = self.value.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        namespace = metadata.get("namespace") or "-"
        return f"{where} {self.value.get('kind')} {namespace}/{metadata.get('name')}"

    @property
    def api_version(self) -> str:
        """The object's apiVersion, or an empty string."""
        value = self.value.get("apiVersion") if isinstance(self.value, dict) else None
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        """The object's kind, or an empty string."""
        value = self.value.get("kind") if isinstance(self.value, dict) else None
        return value if isinstance(value, str) else ""

    @property
    def group(self) -> str:
        """The API group of the apiVersion (empty for the core group)."""
        return self.api_version.rpartition("/")[0]


def read(file: Path) -> list[Document]:
    """The objects of a YAML stream, the items of `kind: List` documents one by one; empty
    documents are left out. Raises `yaml.YAMLError` and `OSError`."""
    found = []
    text = file.read_text(encoding="utf-8")
    for index, value in enumerate(yaml.load_all(text, Loader=LOADER)):
        if value is None:
            continue
        items = value.get("items") if isinstance(value, dict) else None
        if isinstance(value, dict) and value.get("kind") == "List" and isinstance(items, list):
            found.extend(Document(file, f"{index}.items.{i}", item) for i, item in enumerate(items))
        else:
            found.append(Document(file, str(index), value))
    return found


def load(file: Path) -> Any:
    """The one document of a YAML file."""
    return yaml.load(file.read_text(encoding="utf-8"), Loader=LOADER)


def yaml_files(directory: Path) -> list[Path]:
    """The `.yaml` and `.yml` files under `directory`, sorted."""
    return sorted(
        path for path in directory.rglob("*")
        if path.is_file() and path.suffix in (".yaml", ".yml")
    )
