"""The functions a Go-template BaseConfig may call: text/template's builtins and the sprig
functions (github.com/Masterminds/sprig/v3, TxtFuncMap) that presets use, with Go's results.

Sprig functions that read the environment, files, the clock or randomness (`env`, `expandenv`,
`now`, `randAlpha`, ...) are not offered: a render must be pure.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ms_plugins.gotemplate.gofmt import (
    NO_VALUE,
    go_json,
    go_quote,
    go_str,
    sprint,
    sprintf,
    sprintln,
)
from ms_plugins.gotemplate.syntax import GoTemplateError

MAX_STRING = 1 << 20
"""No function builds a string longer than this (e.g. `repeat`)."""


class FunctionError(Exception):
    """A function refused its arguments; the interpreter adds the line."""


def truth(value: Any) -> bool:
    """text/template's truth: false, 0, nil, empty string/list/map and a missing key are false."""
    if value is None or value is NO_VALUE:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | Sequence | Mapping):
        return len(value) > 0
    return True


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "other"


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise FunctionError("missing argument for comparison")
    for other in others:
        if first is None or other is None:
            if first is None and other is None:
                raise FunctionError("invalid type for comparison")
            continue
        if _kind(first) == "other" or _kind(other) == "other":
            raise FunctionError("non-comparable type")
        if _kind(first) != _kind(other):
            raise FunctionError("incompatible types for comparison")
        if first == other:
            return True
    return False


def _ne(first: Any, second: Any) -> bool:
    return not _eq(first, second)


def _ordered(name: str) -> Callable[[Any, Any], bool]:
    def compare(first: Any, second: Any) -> bool:
        kinds = (_kind(first), _kind(second))
        if kinds[0] not in ("int", "float", "string") or kinds[1] not in ("int", "float", "string"):
            raise FunctionError("invalid type for comparison")
        if kinds[0] != kinds[1]:
            raise FunctionError("incompatible types for comparison")
        if name == "lt":
            return bool(first < second)
        if name == "le":
            return bool(first <= second)
        if name == "gt":
            return bool(first > second)
        return bool(first >= second)

    return compare


def _not(value: Any) -> bool:
    return not truth(value)


def _len(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, Sequence | Mapping):
        return len(value)
    raise FunctionError(f"len of type {_kind(value)}")


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(item, Mapping):
            item = item.get(key)
        elif isinstance(item, Sequence) and not isinstance(item, str):
            if not isinstance(key, int) or isinstance(key, bool):
                raise FunctionError(f"cannot index slice/array with type {_kind(key)}")
            if not 0 <= key < len(item):
                raise FunctionError(f"index out of range: {key}")
            item = item[key]
        elif isinstance(item, str):
            if not isinstance(key, int) or not 0 <= key < len(item.encode()):
                raise FunctionError(f"index out of range: {key}")
            item = item.encode()[key]
        elif item is None:
            raise FunctionError("index of untyped nil")
        else:
            raise FunctionError(f"can't index item of type {_kind(item)}")
    return item


# -- sprig ------------------------------------------------------------------------------------


def empty(value: Any) -> bool:
    """sprig's `empty`: like Go's falsity (a struct is never empty)."""
    return not truth(value)


def strval(value: Any) -> str:
    return go_str(value)


def _default(default: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return default
    return given[0]


def _coalesce(*values: Any) -> Any:
    for value in values:
        if not empty(value):
            return value
    return None


def _ternary(if_true: Any, if_false: Any, condition: Any) -> Any:
    return if_true if condition is True else if_false


def _quote(*values: Any) -> str:
    return " ".join(go_quote(strval(v)) for v in values if v is not None)


def _squote(*values: Any) -> str:
    return " ".join(f"'{strval(v)}'" for v in values if v is not None)


def _cat(*values: Any) -> str:
    return " ".join(strval(v) for v in values if v is not None)


def _indent(spaces: Any, text: Any) -> str:
    pad = " " * _int(spaces)
    return _bounded(pad + strval(text).replace("\n", "\n" + pad))


def _nindent(spaces: Any, text: Any) -> str:
    return "\n" + _indent(spaces, text)


def _int(value: Any) -> int:
    """sprig's toInt64 (cast.ToInt64E, errors become 0)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), 0) if value.strip() else 0
        except ValueError:
            try:
                return int(float(value))
            except ValueError:
                return 0
    return 0


def _atoi(value: Any) -> int:
    try:
        return int(strval(value))
    except ValueError:
        return 0


def _div(first: Any, second: Any) -> int:
    divisor = _int(second)
    if divisor == 0:
        raise FunctionError("integer divide by zero")
    quotient = abs(_int(first)) // abs(divisor)  # Go truncates toward zero
    return quotient if (_int(first) >= 0) == (divisor > 0) else -quotient


def _mod(first: Any, second: Any) -> int:
    divisor = _int(second)
    if divisor == 0:
        raise FunctionError("integer divide by zero")
    return _int(first) - divisor * _div(first, divisor)


def _repeat(count: Any, text: Any) -> str:
    times = _int(count)
    value = strval(text)
    if times < 0:
        raise FunctionError("negative repeat count")
    if len(value) * times > MAX_STRING:
        raise FunctionError(f"repeat would build more than {MAX_STRING} characters")
    return value * times


def _bounded(text: str) -> str:
    if len(text) > MAX_STRING:
        raise FunctionError(f"result longer than {MAX_STRING} characters")
    return text


def _list(*values: Any) -> list[Any]:
    return list(values)


def _dict(*values: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for index in range(0, len(values), 2):
        result[strval(values[index])] = values[index + 1] if index + 1 < len(values) else ""
    return result


def _join(separator: Any, values: Any) -> str:
    if isinstance(values, str):
        return values
    if isinstance(values, Sequence):
        return _bounded(strval(separator).join(strval(v) for v in values if v is not None))
    return strval(values)


def _split_list(separator: Any, text: Any) -> list[str]:
    return strval(text).split(strval(separator))


def _has_key(mapping: Any, key: Any) -> bool:
    return isinstance(mapping, Mapping) and key in mapping


def _get(mapping: Any, key: Any) -> Any:
    return mapping.get(key, "") if isinstance(mapping, Mapping) else ""


def _title(text: Any) -> str:
    """strings.Title: upper-case each letter that follows a separator (not a letter, digit, _)."""
    out, previous = [], " "
    for char in strval(text):
        separator = not (previous.isalnum() or previous == "_")
        out.append(char.upper() if separator else char)
        previous = char
    return "".join(out)


def _b64dec(text: Any) -> str:
    try:
        return base64.b64decode(strval(text), validate=True).decode("utf-8", "replace")
    except ValueError as error:
        return str(error)


def _go_trim_space(text: Any) -> str:
    return strval(text).strip(" \t\n\r\v\f\x85\xa0")


BUILTINS: Mapping[str, Callable[..., Any]] = {
    "eq": _eq, "ne": _ne, "lt": _ordered("lt"), "le": _ordered("le"), "gt": _ordered("gt"),
    "ge": _ordered("ge"), "not": _not, "len": _len, "index": _index, "print": sprint,
    "printf": sprintf, "println": sprintln,
}  # fmt: skip
"""text/template's own functions (`and` and `or` are evaluated lazily by the interpreter)."""

SPRIG: Mapping[str, Callable[..., Any]] = {
    "default": _default, "empty": empty, "coalesce": _coalesce, "ternary": _ternary,
    "quote": _quote, "squote": _squote, "cat": _cat, "indent": _indent, "nindent": _nindent,
    "trim": _go_trim_space, "trimPrefix": lambda p, s: strval(s).removeprefix(strval(p)),
    "trimSuffix": lambda p, s: strval(s).removesuffix(strval(p)),
    "trimAll": lambda c, s: strval(s).strip(strval(c)),
    "lower": lambda s: strval(s).lower(), "upper": lambda s: strval(s).upper(),
    "title": _title, "replace": lambda old, new, s: _bounded(strval(s).replace(strval(old),
                                                                                 strval(new))),
    "contains": lambda sub, s: strval(sub) in strval(s),
    "hasPrefix": lambda p, s: strval(s).startswith(strval(p)),
    "hasSuffix": lambda p, s: strval(s).endswith(strval(p)),
    "repeat": _repeat, "toString": strval, "toJson": go_json,
    "int": _int, "int64": _int, "atoi": _atoi,
    "add": lambda *v: sum(_int(x) for x in v), "add1": lambda v: _int(v) + 1,
    "sub": lambda a, b: _int(a) - _int(b), "mul": lambda *v: _product(v), "div": _div,
    "mod": _mod, "max": lambda a, *v: max(_int(x) for x in (a, *v)),
    "min": lambda a, *v: min(_int(x) for x in (a, *v)),
    "list": _list, "dict": _dict, "join": _join, "splitList": _split_list,
    "hasKey": _has_key, "get": _get,
    "b64enc": lambda s: base64.b64encode(strval(s).encode()).decode(), "b64dec": _b64dec,
}  # fmt: skip
"""The sprig functions offered (a pure subset; see the module docstring)."""

SPRIG_NOT_OFFERED = frozenset(
    {"env", "expandenv", "now", "date", "dateInZone", "date_in_zone", "ago", "toDate",
     "mustToDate", "unixEpoch", "htmlDate", "htmlDateInZone", "dateModify", "randAlpha",
     "randAlphaNum", "randAscii", "randNumeric", "randBytes", "randInt", "uuidv4", "genPrivateKey",
     "genCA", "genSelfSignedCert", "genSignedCert", "derivePassword", "getHostByName",
     "shuffle", "fail", "include", "tpl", "required", "toYaml", "fromYaml", "lookup"}
)  # fmt: skip
"""Names a preset might try that the dialect refuses by name (side effects, or not sprig)."""


def _product(values: Sequence[Any]) -> int:
    result = 1
    for value in values:
        result *= _int(value)
    return result


def function_names(extra: frozenset[str]) -> frozenset[str]:
    return frozenset({"and", "or", *BUILTINS, *SPRIG, *extra})


def refuse_unknown(name: str, line: int | None) -> GoTemplateError:
    if name in SPRIG_NOT_OFFERED:
        return GoTemplateError(
            f'function "{name}" is not offered (it is impure or Helm-only)', line
        )
    return GoTemplateError(f'function "{name}" not defined', line)
