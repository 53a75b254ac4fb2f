"""YAML as Kubernetes reads it: JSON-compatible values only, every surprise an error.

One loader for every YAML the project reads (ModelService and BaseConfig files, rendered
templates), so they all agree:

- Scalars are those JSON has. A date or timestamp (`2025-01-01`) stays the string written, as
  Kubernetes' own YAML reading keeps it; `!!binary`, `!!set`, `!!omap`, `!!pairs`, `.inf` and
  `.nan` are refused. Integers must fit in 64 bits (the widest Kubernetes stores). Non-string
  mapping keys become their JSON text (`1` → `"1"`, `true` → `"true"`), as Kubernetes does.
- A key written twice in one mapping is an error naming the key and line: the last one silently
  winning hides typos. (Keys a `<<` merge brings in may be overridden, as YAML intends.)
- Aliases may expand a document to at most MAX_EXPANDED_NODES nodes, so a few hundred bytes of
  nested aliases ("billion laughs") fail at once instead of filling memory; an alias inside the
  node it names (a cycle) is refused; nesting is at most MAX_DEPTH levels.

libyaml (CSafeLoader) parses when present; the checks run in the Python constructor that both
loaders share, and the node walk only runs when the text has an anchor (`&`) or may nest deeply.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_EXPANDED_NODES = 100_000
"""Upper bound on a document's node count with every alias expanded."""
MAX_DEPTH = 100
"""Upper bound on nesting (Kubernetes objects nest about 15 deep; printing a document nested
~500 deep would exhaust Python's stack)."""

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MAX_INT_TEXT = 32  # longer integer literals are out of range however they are written
_MERGE_TAG = "tag:yaml.org,2002:merge"
_REFUSED_TAGS = {
    "tag:yaml.org,2002:binary": "!!binary",
    "tag:yaml.org,2002:set": "!!set",
    "tag:yaml.org,2002:omap": "!!omap",
    "tag:yaml.org,2002:pairs": "!!pairs",
}

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing: correct, only slower
    _Base = yaml.SafeLoader


class YAMLInputError(yaml.YAMLError):
    """The text is not YAML we accept; `line` (1-based) says where, when known. A YAMLError, so
    callers that catch PyYAML's errors keep working."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


def _refuse(node: Node, message: str) -> ConstructorError:
    return ConstructorError(None, None, message, node.start_mark)


class _Loader(_Base):  # type: ignore[misc]
    needs_walk = True
    repeated: list[tuple[str, int]] | None = None
    """None: a repeated key is an error. A list: the last one counts and each is recorded."""

    def _repeated(self, key_node: Node, key: str) -> None:
        if self.repeated is None:
            raise _refuse(key_node, f"key {key!r} appears twice in one mapping")
        self.repeated.append((key, key_node.start_mark.line + 1))

    def construct_document(self, node: Node) -> Any:
        if self.needs_walk:
            _check_expansion(node)
        return super().construct_document(node)

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise _refuse(node, f"expected a mapping, found {type(node).__name__}")
        construct = self.construct_object
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                return self.construct_merged_mapping(node, deep)
            key = construct(key_node, deep=deep)
            if type(key) is not str:
                key = _json_key(key_node, key)
            if key in mapping:
                self._repeated(key_node, key)
            mapping[key] = construct(value_node, deep=deep)
        return mapping

    def construct_merged_mapping(self, node: MappingNode, deep: bool) -> dict[str, Any]:
        """A mapping with `<<` entries: keys they bring in may be overridden, written keys not."""
        explicit = {id(key_node) for key_node, _ in node.value if key_node.tag != _MERGE_TAG}
        self.flatten_mapping(node)  # `<<` entries first, then the keys written here
        mapping: dict[str, Any] = {}
        written: set[str] = set()
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if type(key) is not str:
                key = _json_key(key_node, key)
            if id(key_node) in explicit:
                if key in written:
                    self._repeated(key_node, key)
                written.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_plain_timestamp(self, node: Node) -> str:
        text: str = self.construct_scalar(node)
        return text

    def construct_bounded_int(self, node: Node) -> int:
        text: str = node.value
        if text.isdigit() and len(text) < 19 and (text[0] != "0" or text == "0"):
            return int(text)  # plain decimal (the common case); "012" is YAML 1.1 octal
        text = self.construct_scalar(node)
        if len(text) > _MAX_INT_TEXT:
            raise _refuse(node, f"integer {text[:20]}... does not fit in 64 bits")
        value: int = super().construct_yaml_int(node)
        if not INT64_MIN <= value <= INT64_MAX:
            raise _refuse(node, f"integer {text} does not fit in 64 bits")
        return value

    def construct_finite_float(self, node: Node) -> float:
        value: float = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _refuse(
                node, f"{node.value!r} is not a JSON number (infinity and NaN have no JSON form)"
            )
        return value

    def construct_refused(self, node: Node) -> Any:
        name = _REFUSED_TAGS.get(node.tag, node.tag)
        raise _refuse(node, f"{name} values are not supported (only JSON-compatible values)")


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_plain_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_bounded_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_finite_float)
for _tag in _REFUSED_TAGS:
    _Loader.add_constructor(_tag, _Loader.construct_refused)


def _json_key(node: Node, key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int | float):
        return str(key)
    raise _refuse(node, f"a mapping key must be a string, got {type(key).__name__}")


def _check_expansion(root: Node) -> None:
    """Count the nodes `root` expands to (shared nodes once per use) and its nesting depth,
    without building anything."""
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    open_nodes: set[int] = set()
    # Iterative post-order walk: deep documents must not exhaust the Python stack here.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        identity = id(node)
        if children_done:
            open_nodes.discard(identity)
            children = _children(node)
            total = 1 + sum(sizes[id(child)] for child in children)
            height = 1 + max((heights[id(child)] for child in children), default=0)
            if height > MAX_DEPTH:
                raise _refuse(node, f"nested more than {MAX_DEPTH} levels deep")
            heights[identity] = height
            if total > MAX_EXPANDED_NODES:
                raise _refuse(
                    node,
                    f"aliases expand this document beyond {MAX_EXPANDED_NODES:,} nodes "
                    "(an alias bomb?)",
                )
            sizes[identity] = total
            continue
        if identity in sizes:
            continue
        if identity in open_nodes:
            raise _refuse(node, "an alias refers to a node that contains it (a cycle)")
        open_nodes.add(identity)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise _refuse(child, "an alias refers to a node that contains it (a cycle)")
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _needs_walk(text: str) -> bool:
    """Whether the text may hold aliases or nest deeper than MAX_DEPTH. Without anchors, block
    nesting needs a longer run of indentation or dashes per level (at most two levels per column:
    a sequence may sit at its key's indentation) and flow nesting a bracket per level, so a
    shallow text is recognised by two C-speed scans and skips the walk."""
    if "&" in text:
        return True
    brackets = text.count("[") + text.count("{")
    run = (MAX_DEPTH - brackets) // 2
    return run <= 0 or re.search(f"(?m)^[ \t?:-]{{{run},}}", text) is not None


def _single(text: str, repeated: list[tuple[str, int]] | None = None) -> Any:
    loader = _Loader(text)
    loader.needs_walk = _needs_walk(text)
    loader.repeated = repeated
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _every(text: str) -> list[Any]:
    loader = _Loader(text)
    loader.needs_walk = _needs_walk(text)
    try:
        found = []
        while loader.check_data():
            found.append(loader.get_data())
        return found
    finally:
        loader.dispose()


def load(text: str, *, repeated_keys: list[tuple[str, int]] | None = None) -> Any:
    """One YAML document (None when empty); raises YAMLInputError.

    `repeated_keys`: a list to read repeated keys leniently into (the last one counts, each is
    recorded as (key, line)), for BaseConfigs written for the original controller, whose YAML
    reader let the last one win; without it a repeated key is an error.
    """
    return _translated(lambda text: _single(text, repeated_keys), text)


def load_all(text: str) -> list[Any]:
    """Every document of a multi-document stream, empty ones included as None."""
    result: list[Any] = _translated(_every, text)
    return result


def _translated(read: Callable[[str], Any], text: str) -> Any:
    if not isinstance(text, str):
        raise YAMLInputError(f"expected YAML text, got {type(text).__name__}")
    try:
        return read(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        raise YAMLInputError(problem, mark.line + 1 if mark is not None else None) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1 if isinstance(error.position, int) else None
        reason = str(error.reason)
        if isinstance(error.character, int):
            reason = f"holds the character {chr(error.character)!r}, which YAML does not allow"
        raise YAMLInputError(reason, line) from None
    except yaml.YAMLError as error:
        raise YAMLInputError(" ".join(str(error).split())) from None
    except UnicodeEncodeError as error:  # a lone surrogate ("\ud800") has no UTF-8 form
        character = error.object[error.start : error.end]
        raise YAMLInputError(
            f"holds the character {character!r}, which has no UTF-8 form (a lone surrogate)"
        ) from None
    except RecursionError:
        raise YAMLInputError("nested too deeply") from None


__all__ = ["MAX_EXPANDED_NODES", "YAMLInputError", "load", "load_all"]
