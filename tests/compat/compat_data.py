"""The original controller's inputs and output (`../shared/compat`), and how we compare with them.

The data stays where it is: `<checkout>/../shared/compat`, or `MODELSERVICE_COMPAT_DIR`. In CI
(`CI=true`) missing data fails the suite; elsewhere the suite is skipped.

Normalisation (representation only, never behaviour):

- The original printed Go structs: zero values (`creationTimestamp: null`, `status: {}`,
  `resources: {}`, `""`, empty lists) are dropped on both sides.
- `ownerReferences` are dropped on both sides: the original's offline `generate` printed them with
  `uid: ""`; ours are set when the controller applies.
- Resource quantities compare as strings (`1` and `"1"` are the same quantity).
- A ModelService without a namespace: the original printed empty namespaces, msctl uses
  `default`; our `default` where the original has an empty or no namespace counts as equal.
- The original printed objects it would not create (a `prefillService` without a
  `prefillDeployment`, ...); they are dropped, as its controller did.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENV = "MODELSERVICE_COMPAT_DIR"
ABSENT = "<absent>"


def data_dir() -> Path:
    return Path(os.environ.get(ENV) or ROOT.parent / "shared" / "compat")


def require_data() -> Path:
    """The data folder, or fail (CI) / skip (elsewhere) saying where it was looked for."""
    folder = data_dir()
    if (folder / "cases.txt").is_file():
        return folder
    message = f"compatibility data not found at {folder} (set {ENV})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable


@dataclass(frozen=True)
class Case:
    name: str
    model_service: Path
    base_config: Path
    expected: Path


def cases() -> list[Case]:
    folder = data_dir()
    listing = folder / "cases.txt"
    if not listing.is_file():
        return []
    found = []
    for line in listing.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, ms, bc, expected = line.split()
            found.append(Case(name, folder / ms, folder / bc, folder / expected))
    return found


def case_params() -> list[Any]:
    """One parameter per case; a single placeholder when the data is missing (it fails/skips)."""
    return [pytest.param(case, id=case.name) for case in cases()] or [
        pytest.param(None, id="no-data")
    ]


def presets() -> list[Path]:
    """Every BaseConfig in the data: the original's samples and the deployer's presets."""
    folder = data_dir()
    paths = {case.base_config for case in cases()}
    paths.update((folder / "deployer" / "presets").rglob("*.yaml"))
    return sorted(paths)


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


# -- the original's output ---------------------------------------------------------------------

_NEEDS = {
    "prefillService": "prefillDeployment",
    "decodeService": "decodeDeployment",
    "eppService": "eppDeployment",
    "eppServiceAccount": "eppDeployment",
    "eppRoleBinding": "eppDeployment",
}


def original_objects(path: Path) -> list[dict[str, Any]]:
    """The objects the original would have created, from its `generate` output (a map by key)."""
    printed = yaml.safe_load(path.read_text())
    objects = []
    for key, value in printed.items():
        if key in _NEEDS and _NEEDS[key] not in printed:
            continue
        objects.extend(value if isinstance(value, list) else [value])
    return objects


# -- normalising and comparing -----------------------------------------------------------------

_DROPPED = {"creationTimestamp", "ownerReferences", "status"}


def normalise(value: Any, path: str = "") -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _DROPPED and (key != "status" or path == ""):
                continue
            item = normalise(item, f"{path}.{key}")
            if item in (None, {}, [], ""):
                continue
            if key in ("limits", "requests") and isinstance(item, dict):
                item = {name: str(quantity) for name, quantity in item.items()}
            out[key] = item
        return out
    if isinstance(value, list):
        return [normalise(item, path) for item in value]
    return value


def identity(obj: dict[str, Any]) -> tuple[str, str]:
    return (str(obj.get("kind")), str((obj.get("metadata") or {}).get("name")))


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaves by path; lists of named items are keyed by name (`containers[vllm]`), a repeated
    name gets `#2`, so a doubled volume is one extra leaf rather than a shifted list."""
    leaves: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            leaves.update(flatten(item, f"{path}.{key}" if path else key))
    elif isinstance(value, list):
        named = all(isinstance(item, dict) and "name" in item for item in value)
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            if named:
                name = str(item["name"])
                seen[name] = seen.get(name, 0) + 1
                label = name if seen[name] == 1 else f"{name}#{seen[name]}"
            else:
                label = str(index)
            leaves.update(flatten(item, f"{path}[{label}]"))
        if not value:
            leaves[path] = []
    else:
        leaves[path] = value
    return leaves


@dataclass(frozen=True)
class Difference:
    case: str
    kind: str
    name: str
    path: str  # "" for a whole object present on one side only
    ours: Any
    original: Any

    def __str__(self) -> str:
        return (
            f"{self.case}: {self.kind}/{self.name} {self.path or '(whole object)'}: "
            f"ours={self.ours!r} original={self.original!r}"
        )


def differences(
    case: str, ours: list[dict[str, Any]], original: list[dict[str, Any]], namespace_given: bool
) -> list[Difference]:
    mine = {identity(obj): normalise(obj) for obj in ours}
    theirs = {identity(obj): normalise(obj) for obj in original}
    found: list[Difference] = []
    for ours_key, their_key in _renamed(mine, theirs):
        # the same object under a name one side shortened differently: compare it as one
        found.append(Difference(case, ours_key[0], ours_key[1], "metadata.name", ours_key[1],
                                their_key[1]))  # fmt: skip
        mine[their_key] = mine.pop(ours_key)
    for key in sorted(set(mine) | set(theirs)):
        kind, name = key
        if key not in theirs:
            found.append(Difference(case, kind, name, "", "present", ABSENT))
            continue
        if key not in mine:
            found.append(Difference(case, kind, name, "", ABSENT, "present"))
            continue
        a, b = flatten(mine[key]), flatten(theirs[key])
        for path in sorted(set(a) | set(b)):
            left, right = a.get(path, ABSENT), b.get(path, ABSENT)
            if left == right:
                continue
            if not namespace_given and left == "default" and right in (ABSENT, ""):
                continue  # the original printed no namespace (see the module docstring)
            found.append(Difference(case, kind, name, path, left, right))
    return found


LONG_NAME = 63


def _renamed(
    mine: dict[tuple[str, str], Any], theirs: dict[tuple[str, str], Any]
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Pairs (ours, original) of one kind, present on one side only, where the original's name is
    the 63-character truncation and both start alike."""
    pairs = []
    only_theirs = [k for k in theirs if k not in mine and len(k[1]) >= LONG_NAME]
    for key in [k for k in mine if k not in theirs]:
        for other in only_theirs:
            if other[0] == key[0] and key[1][:40] == other[1][:40]:
                pairs.append((key, other))
                only_theirs.remove(other)
                break
    return pairs
