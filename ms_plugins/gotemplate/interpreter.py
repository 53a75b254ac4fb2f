"""Running a parsed Go template: text/template's evaluation rules, bounded and side-effect free."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ms_plugins.gotemplate import functions
from ms_plugins.gotemplate.gofmt import NO_VALUE, go_str
from ms_plugins.gotemplate.syntax import (
    Action,
    Branch,
    Command,
    Dot,
    Field,
    GoTemplateError,
    Identifier,
    Literal,
    LoopControl,
    Node,
    Parser,
    Pipeline,
    Text,
    Variable,
)

MAX_OUTPUT = 1 << 20
"""Characters one template may produce."""
MAX_ITERATIONS = 100_000
"""Range iterations one render may run."""
_CACHE_SIZE = 256


class Root(Mapping[str, Any]):
    """The top-level dot: the original's TemplateVars struct, so an unknown field is an error."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


@dataclass
class _State:
    functions: Mapping[str, Callable[..., Any]]
    out: list[str]
    size: int = 0
    iterations: int = 0

    def write(self, text: str, line: int) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise GoTemplateError(f"output longer than {MAX_OUTPUT} characters", line)
        self.out.append(text)


class GoTemplate:
    """One parsed template; `execute` may run concurrently (no state is kept between runs)."""

    def __init__(self, source: str, extra: frozenset[str] = frozenset()) -> None:
        parser = Parser(source, functions.function_names(extra))
        try:
            self.tree = parser.parse()
        except GoTemplateError as error:
            name = _undefined_function(error)
            if name:
                raise functions.refuse_unknown(name, error.line) from None
            raise

    def execute(
        self, data: Mapping[str, Any], extra: Mapping[str, Callable[..., Any]] | None = None
    ) -> str:
        """Run over `data`; `extra` supplies the functions named at parse time (e.g. getPort)."""
        state = _State({**functions.BUILTINS, **functions.SPRIG, **(extra or {})}, [])
        _Runner(state).run_list(self.tree, Root(data), [("$", Root(data))])
        return "".join(state.out)


def _undefined_function(error: GoTemplateError) -> str | None:
    prefix, suffix = 'function "', '" not defined'
    if error.message.startswith(prefix) and error.message.endswith(suffix):
        return error.message[len(prefix) : -len(suffix)]
    return None


class _Runner:
    def __init__(self, state: _State) -> None:
        self.state = state

    def run_list(self, nodes: Sequence[Node], dot: Any, variables: list[tuple[str, Any]]) -> None:
        mark = len(variables)
        for node in nodes:
            if isinstance(node, Text):
                if node.text:
                    self.state.write(node.text, node.line)
            elif isinstance(node, Action):
                value = self.pipeline(node.pipeline, dot, variables)
                if not node.pipeline.variables:
                    self.state.write(go_str(value), node.line)
            elif isinstance(node, Branch):
                self.branch(node, dot, variables)
            elif isinstance(node, LoopControl):
                raise _Break() if node.keyword == "break" else _Continue()
        del variables[mark:]

    def branch(self, node: Branch, dot: Any, variables: list[tuple[str, Any]]) -> None:
        mark = len(variables)
        if node.keyword == "range":
            self.range(node, dot, variables)
        else:
            value = self.pipeline(node.pipeline, dot, variables)
            if functions.truth(value):
                self.run_list(node.body, value if node.keyword == "with" else dot, variables)
            else:
                self.run_list(node.otherwise, dot, variables)
        del variables[mark:]

    def range(self, node: Branch, dot: Any, variables: list[tuple[str, Any]]) -> None:
        pipeline = node.pipeline
        value = self.pipeline(Pipeline(pipeline.commands, pipeline.line), dot, variables)
        items: list[tuple[Any, Any]]
        if value is None or value is NO_VALUE:
            items = []
        elif isinstance(value, Mapping):
            keys = sorted(value) if all(isinstance(k, str) for k in value) else list(value)
            items = [(key, value[key]) for key in keys]
        elif isinstance(value, Sequence) and not isinstance(value, str):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            if value > MAX_ITERATIONS:
                raise GoTemplateError(f"range over more than {MAX_ITERATIONS} items", node.line)
            items = [(i, i) for i in range(value)]
        else:
            raise GoTemplateError(f"range can't iterate over {go_str(value)}", node.line)
        if not items:
            self.run_list(node.otherwise, dot, variables)
            return
        for key, element in items:
            self.state.iterations += 1
            if self.state.iterations > MAX_ITERATIONS:
                raise GoTemplateError(f"more than {MAX_ITERATIONS} range iterations", node.line)
            mark = len(variables)
            names = pipeline.variables
            if len(names) == 1:
                self._bind(names[0], element, pipeline.assign, variables)
            elif len(names) == 2:
                self._bind(names[0], key, pipeline.assign, variables)
                self._bind(names[1], element, pipeline.assign, variables)
            try:
                self.run_list(node.body, element, variables)
            except _Break:
                del variables[mark:]
                break
            except _Continue:
                pass
            del variables[mark:]

    def _bind(self, name: str, value: Any, assign: bool, variables: list[tuple[str, Any]]) -> None:
        if assign:
            for index in range(len(variables) - 1, -1, -1):
                if variables[index][0] == name:
                    variables[index] = (name, value)
                    return
        variables.append((name, value))

    def pipeline(self, pipeline: Pipeline, dot: Any, variables: list[tuple[str, Any]]) -> Any:
        value: Any = _MISSING
        for command in pipeline.commands:
            value = self.command(command, dot, variables, value)
        for name in pipeline.variables:
            self._bind(name, value, pipeline.assign, variables)
        return value

    def command(
        self, command: Command, dot: Any, variables: list[tuple[str, Any]], final: Any
    ) -> Any:
        head, args = command.args[0], command.args[1:]
        if isinstance(head, Identifier):
            return self.call(head, args, dot, variables, final)
        if args or final is not _MISSING:
            what = head.names[-1] if isinstance(head, Field) else "a value"
            raise GoTemplateError(f"{what} is not a function and cannot take arguments",
                                  command.line)  # fmt: skip
        if isinstance(head, Literal) and head.value is None:
            raise GoTemplateError("nil is not a command", command.line)
        return self.argument(head, dot, variables)

    def call(
        self,
        head: Identifier,
        args: Sequence[Node],
        dot: Any,
        variables: list[tuple[str, Any]],
        final: Any,
    ) -> Any:
        name = head.name
        if name in ("and", "or"):
            operands: list[Node | None] = list(args)
            if final is not _MISSING:
                operands.append(None)
            if not operands:
                raise GoTemplateError(f"wrong number of args for {name}: want at least 1 got 0",
                                      head.line)  # fmt: skip
            value: Any = None
            for operand in operands:  # evaluated lazily: `and` / `or` stop early, as in Go
                value = final if operand is None else self.argument(operand, dot, variables)
                if functions.truth(value) != (name == "and"):
                    return value
            return value
        values = [self.argument(node, dot, variables) for node in args]
        if final is not _MISSING:
            values.append(final)
        function = self.state.functions[name]
        try:
            return function(*values)
        except functions.FunctionError as error:
            raise GoTemplateError(f"error calling {name}: {error}", head.line) from None
        except TypeError:
            raise GoTemplateError(
                f"wrong number or type of args for {name}: got {len(values)}", head.line
            ) from None
        except GoTemplateError:
            raise
        except Exception as error:
            raise GoTemplateError(f"error calling {name}: {error}", head.line) from None

    def argument(self, node: Node, dot: Any, variables: list[tuple[str, Any]]) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Dot):
            return dot
        if isinstance(node, Variable):
            return _lookup(node.name, variables)
        if isinstance(node, Identifier):
            return self.call(node, (), dot, variables, _MISSING)
        if isinstance(node, Pipeline):
            return self.pipeline(node, dot, variables)
        if isinstance(node, Field):
            receiver = dot if node.receiver is None else self.argument(node.receiver, dot,
                                                                         variables)  # fmt: skip
            for name in node.names:
                receiver = _field(receiver, name, node.line)
            return receiver
        raise GoTemplateError(f"can't evaluate {type(node).__name__}")


_MISSING = object()


def _lookup(name: str, variables: list[tuple[str, Any]]) -> Any:
    for known, value in reversed(variables):
        if known == name:
            return value
    raise GoTemplateError(f"undefined variable: {name}")


def _field(receiver: Any, name: str, line: int) -> Any:
    if isinstance(receiver, Root):
        if name not in receiver:
            known = ", ".join(sorted(receiver))
            raise GoTemplateError(
                f"can't evaluate field {name}: not a template variable (known: {known})", line
            )
        return receiver[name]
    if isinstance(receiver, Mapping):
        return receiver.get(name, NO_VALUE)
    if receiver is None or receiver is NO_VALUE:
        raise GoTemplateError(f"nil pointer evaluating .{name}", line)
    raise GoTemplateError(f"can't evaluate field {name} in type {type(receiver).__name__}", line)


class TemplateCache:
    """Parsed templates by source, bounded and safe to share between threads."""

    def __init__(self, extra: frozenset[str] = frozenset()) -> None:
        self.extra = extra
        self._parsed: OrderedDict[str, GoTemplate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: str) -> GoTemplate:
        with self._lock:
            found = self._parsed.get(source)
            if found is not None:
                self._parsed.move_to_end(source)
                return found
        parsed = GoTemplate(source, self.extra)
        with self._lock:
            self._parsed[source] = parsed
            if len(self._parsed) > _CACHE_SIZE:
                self._parsed.popitem(last=False)
        return parsed
