"""Reading the ModelService and BaseConfig files a user points at (`-` is standard input)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ms_engine import yamlio

from .errors import CliError


@dataclass(frozen=True)
class InputFile:
    """A file's name (as the user gave it) and its YAML documents (empty ones dropped)."""

    label: str
    documents: list[Any]


def read_documents(path: str) -> InputFile:
    label = "<stdin>" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{label}: is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"{label}: cannot read: {error}") from None
    try:
        documents = [doc for doc in yamlio.load_all(text) if doc is not None]
    except yamlio.YAMLInputError as error:
        where = f"line {error.line}: " if error.line is not None else ""
        raise CliError(f"{label}: {where}invalid YAML: {error.message}") from None
    return InputFile(label, documents)


def of_kind(documents: list[Any], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents if isinstance(doc, dict) and doc.get("kind") == kind]
