"""The BaseConfig presets bundled with msctl, found by name: `msctl render -b pd-nixl`.

They live in `deploy/presets/` (the documented location, where tests and docs point) and install
as the data package `ms_cli.presets` (pyproject's package-dir), so a plain `pip install` has them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .errors import CliError

SUFFIX = ".yaml"


def bundled_presets() -> dict[str, Path]:
    """Preset name -> its file."""
    presets = importlib.import_module(".presets", __package__)  # deploy/presets, by package-dir
    folder = Path(str(presets.__file__)).parent
    return {path.stem: path for path in sorted(folder.glob(f"*{SUFFIX}"))}


def bundled_names() -> list[str]:
    return list(bundled_presets())


def resolve_base_config(value: str | None) -> str | None:
    """The file `-b` means: an existing path as given; else a bundled preset of that name."""
    if value is None or value == "-" or Path(value).exists():
        return value
    if "/" in value or value.endswith((SUFFIX, ".yml", ".json")):
        return value  # meant as a path: reading it names the missing file
    bundled = bundled_presets()
    if value not in bundled:
        raise CliError(
            f"-b {value}: no such file, and no bundled preset of that name "
            f"(bundled: {', '.join(bundled)})"
        )
    return str(bundled[value])
