"""A Jinja2 sandbox that also bounds time and memory, so a hostile or mistaken BaseConfig fails
fast with an error instead of running for minutes or filling memory.

Jinja's own sandbox stops access to Python internals and caps `range()` at 100,000 items, but
`{{ 'a' * 10**9 }}`, nested loops and `lipsum(10**5)` still run unbounded. Here, per render of
one template:

- the output is at most MAX_OUTPUT_CHARS characters;
- a string or list built by `*`, `+`, `~`, `%`, or a width/padding argument, is at most
  MAX_OUTPUT_CHARS long; `**` and `*` on integers stop at MAX_INT_BITS bits;
- loop iterations and calls together are at most MAX_STEPS (every `{% for %}` is bounded, nested
  or not);
- recursion stops at Python's recursion limit; `lipsum` is not available.

Bounds are counted in a context variable, so one environment serves several threads at once.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

MAX_OUTPUT_CHARS = 1_000_000
MAX_STEPS = 100_000
MAX_INT_BITS = 4_096
_BIG_WIDTH = re.compile(r"\d{7,}")  # a width or precision of a million or more
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class TemplateLimitError(Exception):
    """A template went past one of the limits above."""


class _Budget:
    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = MAX_STEPS

    def spend(self, what: str) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise TemplateLimitError(
                f"template runs more than {MAX_STEPS:,} loop iterations and calls ({what})"
            )


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "template_budget", default=None
)


def _spend(what: str) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(what)


def _too_long(size: int, what: str) -> TemplateLimitError:
    return TemplateLimitError(
        f"{what} would be {size:,} characters long (the limit is {MAX_OUTPUT_CHARS:,})"
    )


def _check_size(value: Any, what: str) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_OUTPUT_CHARS:
        raise _too_long(len(value), what)
    return value


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise TemplateLimitError(f"integer of about {bits:,} bits (the limit is {MAX_INT_BITS:,})")


def _multiply(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            size = len(sequence) * max(count, 0)
            if size > MAX_OUTPUT_CHARS:
                raise _too_long(size, "a repeated string or list")
    if isinstance(left, int) and isinstance(right, int):
        _check_bits(left.bit_length() + right.bit_length())
    return left * right


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        _check_bits(exponent * (abs(base).bit_length() - 1))
    return base**exponent


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        size = len(left) + len(right)
        if size > MAX_OUTPUT_CHARS:
            raise _too_long(size, "a concatenation")
    return left + right


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str) and _BIG_WIDTH.search(left):
        raise TemplateLimitError("a %-format width or precision of a million or more")
    return _check_size(left % right, "a %-formatted string")


def bounded_iteration(iterable: Iterable[Any]) -> Iterator[Any]:
    """What every `{% for %}` loops over: each item spends one step."""
    budget = _BUDGET.get()
    for item in iterable:
        if budget is not None:
            budget.spend("loop")
        yield item


def bounded_concat(*parts: Any) -> str:
    """`a ~ b`: the parts joined as text, bounded in length."""
    texts = [str(part) for part in parts]
    size = sum(len(text) for text in texts)
    if size > MAX_OUTPUT_CHARS:
        raise _too_long(size, "a ~ concatenation")
    return "".join(texts)


def _bounded_replace(text: str, old: str, new: str, count: int = -1) -> int:
    """Upper bound of the length `text.replace(old, new, count)` would have."""
    occurrences = text.count(old) if old else len(text) + 1
    if count >= 0:
        occurrences = min(occurrences, count)
    return len(text) + occurrences * max(len(new) - len(old), 0)


def _check_str_call(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse str methods whose arguments ask for a huge result before it is built."""
    target = getattr(method, "__wrapped__", method)
    owner = getattr(target, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(target, "__name__", "")
    numbers = [v for v in (*args, *kwargs.values()) if isinstance(v, int)]
    if name in _PADDING_METHODS and any(n > MAX_OUTPUT_CHARS for n in numbers):
        raise TemplateLimitError(f"str.{name} width over {MAX_OUTPUT_CHARS:,}")
    if name in ("format", "format_map") and _BIG_WIDTH.search(owner):
        raise TemplateLimitError("a format width or precision of a million or more")
    if name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = args[2] if len(args) > 2 and isinstance(args[2], int) else -1
        size = _bounded_replace(owner, args[0], args[1], count)
        if size > MAX_OUTPUT_CHARS:
            raise _too_long(size, "a replaced string")


def _bounded_filter(
    function: Callable[..., Any], name: str, size_arguments: int
) -> Callable[..., Any]:
    """A built-in filter whose first `size_arguments` numeric arguments are sizes to bound."""

    passes_state = hasattr(function, "jinja_pass_arg")

    def filtered(*all_args: Any, **kwargs: Any) -> Any:
        args = all_args[1:] if passes_state else all_args
        sizes = [v for v in (*args[1:], *kwargs.values()) if isinstance(v, int)]
        if any(size > MAX_OUTPUT_CHARS for size in sizes[:size_arguments]):
            raise TemplateLimitError(f"{name} size argument over {MAX_OUTPUT_CHARS:,}")
        if name == "format" and args and isinstance(args[0], str) and _BIG_WIDTH.search(args[0]):
            raise TemplateLimitError("a format width or precision of a million or more")
        if name == "replace" and len(args) >= 3:
            text, old, new = (str(a) for a in args[:3])
            count = args[3] if len(args) > 3 and isinstance(args[3], int) else -1
            if _bounded_replace(text, old, new, count) > MAX_OUTPUT_CHARS:
                raise TemplateLimitError(f"replace result over {MAX_OUTPUT_CHARS:,} characters")
        return _check_size(function(*all_args, **kwargs), f"the {name} filter's result")

    for attribute in ("jinja_pass_arg",):
        if hasattr(function, attribute):
            setattr(filtered, attribute, getattr(function, attribute))
    return filtered


def _json_default(value: Any) -> Any:
    """`tojson` of an undefined variable names the variable (not "not JSON serializable")."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class BoundedEnvironment(SandboxedEnvironment):
    """SandboxedEnvironment plus the limits above. Compile with `compile_bounded`."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.binop_table = {
            **self.binop_table,
            "*": _multiply,
            "**": _power,
            "+": _add,
            "%": _modulo,
        }
        self.policies["json.dumps_kwargs"] = {
            **self.policies["json.dumps_kwargs"],
            "default": _json_default,
        }
        for name, sizes in (("center", 1), ("indent", 1), ("slice", 1), ("format", 0)):
            self.filters[name] = _bounded_filter(self.filters[name], name, sizes)
        self.filters["replace"] = _bounded_filter(self.filters["replace"], "replace", 0)
        self.filters["wordwrap"] = _bounded_filter(self.filters["wordwrap"], "wordwrap", 0)
        self.bounded_iteration = bounded_iteration
        self.bounded_concat = bounded_concat

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        return self.binop_table[operator_name](left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend("call")
        _check_str_call(__obj, args, kwargs)
        result = SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)
        return _check_size(result, "a call's result")

    def compile_bounded(self, source: str, name: str, filename: str) -> Any:
        """Parse, route every loop and `~` through the bounded helpers, and compile."""
        tree = _Bound().visit(self.parse(source, name=name, filename=filename))
        return self.compile(tree, name=name, filename=filename)


class _Bound(NodeTransformer):
    """`{% for x in seq %}` loops over `bounded_iteration(seq)`; `a ~ b` is `bounded_concat`."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        loop = self.generic_visit(node)
        assert isinstance(loop, nodes.For)
        iterable: Any = loop.iter
        loop.iter = _call("bounded_iteration", [iterable], loop.lineno)
        return loop

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        concat = self.generic_visit(node)
        assert isinstance(concat, nodes.Concat)
        return _call("bounded_concat", list(concat.nodes), concat.lineno)


def _call(helper: str, arguments: list[nodes.Expr], lineno: int) -> nodes.Call:
    return nodes.Call(nodes.EnvironmentAttribute(helper), arguments, [], None, None, lineno=lineno)


def render_bounded(template: jinja2.Template, variables: Any) -> str:
    """Render with a fresh budget; the output is streamed and cut off at MAX_OUTPUT_CHARS."""
    token = _BUDGET.set(_Budget())
    try:
        size = 0
        pieces = []
        for piece in template.generate(variables):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateLimitError(f"template output is over {MAX_OUTPUT_CHARS:,} characters")
            pieces.append(piece)
        return "".join(pieces)
    finally:
        _BUDGET.reset(token)


__all__ = [
    "MAX_INT_BITS",
    "MAX_OUTPUT_CHARS",
    "MAX_STEPS",
    "BoundedEnvironment",
    "TemplateLimitError",
    "render_bounded",
]
