"""How Go prints values: fmt's %v for template output, Sprint/Sprintln, %q quoting and printf."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


class NoValue:
    """A missing map key: Go prints `<no value>` and treats it as false."""

    _instance: NoValue | None = None

    def __new__(cls) -> NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = NoValue()


def format_float(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64), which is also fmt's %v: shortest digits, with an
    exponent below 1e-4 and from 1e6 (`1e+06`, `123456`)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    digits = Decimal(repr(value)).normalize()
    sign, number, exponent = digits.as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, number))
    point = len(mantissa) + exponent  # position of the decimal point
    exp = point - 1
    if exp < -4 or exp >= 6:
        text = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        text += f"e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    elif point <= 0:
        text = "0." + "0" * (-point) + mantissa
    elif point >= len(mantissa):
        text = mantissa + "0" * (point - len(mantissa))
    else:
        text = mantissa[:point] + "." + mantissa[point:]
    return ("-" if sign else "") + text


def go_str(value: Any) -> str:
    """fmt.Sprint of one value (what `{{ x }}` prints)."""
    if isinstance(value, str):
        return value
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, Mapping):
        items = " ".join(f"{go_str(k)}:{go_str(value[k])}" for k in _sorted_keys(value))
        return f"map[{items}]"
    if isinstance(value, Sequence):
        return "[" + " ".join(go_str(item) for item in value) + "]"
    return str(value)


def _sorted_keys(mapping: Mapping[Any, Any]) -> list[Any]:
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def sprint(*args: Any) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for index, arg in enumerate(args):
        if index and not isinstance(arg, str) and not isinstance(args[index - 1], str):
            out.append(" ")
        out.append(go_str(arg))
    return "".join(out)


def sprintln(*args: Any) -> str:
    return " ".join(go_str(arg) for arg in args) + "\n"


def go_quote(text: str) -> str:
    """strconv.Quote: Go escapes, printable Unicode kept."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif char.isprintable() or char == " ":
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_SHORT_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                  "\v": "\\v"}  # fmt: skip


def go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if value is None or value is NO_VALUE:
        return "<nil>"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, Sequence):
        return "[]interface {}"
    return type(value).__name__


_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def sprintf(template: str, *args: Any) -> str:
    """fmt.Sprintf for the verbs templates use: %v %s %d %q %t %f %g %e %x %X %o %b %c %%."""
    out: list[str] = []
    position = 0
    used = 0
    for match in _VERB.finditer(template):
        out.append(template[position : match.start()])
        position = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        value = args[used]
        used += 1
        out.append(_pad(_one(verb, value, precision), flags, width, verb, value))
    out.append(template[position:])
    if used < len(args):
        extra = ", ".join(f"{go_type(a)}={go_str(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _bad(verb: str, value: Any) -> str:
    return f"%!{verb}({go_type(value)}={go_str(value)})"


def _one(verb: str, value: Any, precision: str | None) -> str:
    if verb == "v":
        return go_str(value)
    if verb == "s":
        if isinstance(value, bool | int | float):
            return _bad(verb, value)
        text = go_str(value)
        return text[: int(precision)] if precision is not None else text
    if verb == "q":
        if isinstance(value, str):
            return go_quote(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return "'" + chr(value) + "'"
        return _bad(verb, value)
    if verb == "t":
        return go_str(value) if isinstance(value, bool) else _bad(verb, value)
    if verb in "dxXobc":
        if isinstance(value, str) and verb in "xX":
            hexed = value.encode().hex()
            return hexed.upper() if verb == "X" else hexed
        if not isinstance(value, int) or isinstance(value, bool):
            return _bad(verb, value)
        if verb == "c":
            return chr(value)
        return format(value, {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb])
    if verb in "feEgG":
        if not isinstance(value, float) or isinstance(value, bool):
            return _bad(verb, value)
        if verb in "gG" and precision is None:
            text = format_float(value)
            return text.upper() if verb == "G" else text
        digits = 6 if precision is None else int(precision)
        text = format(value, f".{digits}{verb}")
        if verb in "eE":
            text = re.sub(r"([eE][+-])(\d)$", r"\g<1>0\2", text)
        return text
    return f"%!{verb}({go_type(value)}={go_str(value)})"


def _pad(text: str, flags: str, width: str | None, verb: str, value: Any) -> str:
    signed = "+" in flags and verb in "dfeEgG" and isinstance(value, int | float)
    if signed and not text.startswith("-"):
        text = "+" + text
    if width is None or len(text) >= int(width):
        return text
    size = int(width)
    if "-" in flags:
        return text.ljust(size)
    if "0" in flags and verb in "dfeEgGxXob" and isinstance(value, int | float):
        sign = text[0] if text[:1] in "+-" else ""
        return sign + text[len(sign) :].rjust(size - len(sign), "0")
    return text.rjust(size)


def go_json(value: Any) -> str:
    """encoding/json.Marshal: compact, HTML characters escaped, map keys sorted."""
    if value is NO_VALUE:
        value = None
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
