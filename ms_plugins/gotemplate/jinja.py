"""Translate a Go template into the core Jinja2 dialect, rendering to the same text.

Used by `msctl convert`. What cannot be translated exactly (a construct whose Go and Jinja results
could differ) is a GoTemplateError naming it and its line, never a silent approximation.

Whitespace: Go's `{{-`/`-}}` become Jinja's `{%-`/`-%}` where both remove the same characters (Go
removes space, tab, CR and LF; Jinja any whitespace), otherwise the trimmed text is written out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ms_plugins.gotemplate import functions
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

OPTIONAL_STRINGS = frozenset({"HFModelName", "ModelPath", "MountedModelPath", "AuthSecretName"})
"""The original always defined these (as "" when not applicable); Jinja needs `| default("")`."""
INT_VARIABLES = frozenset(
    {"DecodeTensorParallelism", "PrefillTensorParallelism", "DecodeDataParallelism",
     "PrefillDataParallelism"}
)  # fmt: skip
STRING_VARIABLES = frozenset(
    {"ModelServiceName", "ModelServiceNamespace", "ModelName", "SanitizedModelName",
     "DecodeDeploymentName", "PrefillDeploymentName", "DecodeServiceName", "PrefillServiceName",
     "ServiceAccountName", "EPPDeploymentName", "EPPServiceName", "EPPServiceAccountName",
     "InferencePoolName", "InferenceModelName", "InferenceObjectiveName", "HTTPRouteName",
     "ModelImage"}
) | OPTIONAL_STRINGS  # fmt: skip
_GO_SPACE = " \t\r\n"
_COMPARISONS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_FILTERS = {"lower": "lower", "upper": "upper", "trim": "trim", "toString": "string"}


@dataclass(frozen=True)
class Expr:
    code: str
    type: str  # str, int, bool, list, any


@dataclass
class _Tag:
    body: str
    block: bool  # {% %} rather than {{ }}
    left: bool = False
    right: bool = False

    def render(self) -> str:
        open_, close = ("{%", "%}") if self.block else ("{{", "}}")
        return f"{open_}{'-' if self.left else ''} {self.body} {'-' if self.right else ''}{close}"


@dataclass
class _Scope:
    dot: Expr | None  # None: the root (template variables)
    in_loop: bool = False
    variables: dict[str, Expr] = field(default_factory=dict)


def to_jinja(source: str) -> str:
    """The Jinja2 form of a Go template (raises GoTemplateError for what it cannot translate)."""
    if "{{" not in source:
        return _escape(source)
    tree = Parser(source, functions.function_names(frozenset({"getPort"}))).parse()
    converter = _Converter()
    converter.nodes(tree, _Scope(None))
    return converter.output()


def _escape(text: str) -> str:
    """Literal text Jinja would otherwise read as a tag or comment."""
    return re.sub(r"\{[%#]", lambda m: '{{ "' + m.group() + '" }}', text)


class _Converter:
    def __init__(self) -> None:
        self.items: list[Text | _Tag] = []
        self.counter = 0

    # -- output and whitespace ---------------------------------------------------------------

    def output(self) -> str:
        texts: list[str] = []
        for index, item in enumerate(self.items):
            if isinstance(item, _Tag):
                continue
            before = self.items[index - 1] if index > 0 else None
            after = self.items[index + 1] if index + 1 < len(self.items) else None
            lead, trail = _trimmed_ends(item.raw, item.text)
            if item.raw and not item.text and not isinstance(before, _Tag):
                lead, trail = "", item.raw  # all trimmed: by the tag after it
            body = item.text
            keep_lead = bool(lead) and isinstance(before, _Tag)
            keep_lead = keep_lead and _jinja_strips_exactly_leading(lead, body + trail)
            kept = (lead if keep_lead else "") + body
            keep_trail = bool(trail) and isinstance(after, _Tag)
            keep_trail = keep_trail and _jinja_strips_exactly_trailing(kept, trail)
            if keep_lead and isinstance(before, _Tag):
                before.right = True
            if keep_trail and isinstance(after, _Tag):
                after.left = True
            texts.append(kept + (trail if keep_trail else ""))
        out: list[str] = []
        pending = iter(texts)
        for item in self.items:
            out.append(item.render() if isinstance(item, _Tag) else _escape(next(pending)))
        return "".join(out)

    def tag(self, body: str, block: bool = True) -> None:
        self.items.append(_Tag(body, block))

    # -- statements --------------------------------------------------------------------------

    def nodes(self, nodes: Sequence[Node], scope: _Scope) -> None:
        for node in nodes:
            if isinstance(node, Text):
                self.items.append(node)
            elif isinstance(node, Action):
                self.action(node, scope)
            elif isinstance(node, Branch):
                self.branch(node, scope)
            elif isinstance(node, LoopControl):
                raise GoTemplateError(f"cannot translate {{{{{node.keyword}}}}}", node.line)

    def action(self, node: Action, scope: _Scope) -> None:
        pipeline = node.pipeline
        value = self.pipeline(pipeline, scope)
        if pipeline.variables:
            (name,) = pipeline.variables
            if pipeline.assign and scope.in_loop:
                raise GoTemplateError(
                    f"cannot translate assigning {name} inside range (Jinja loops do not "
                    "change outer variables)",
                    node.line,
                )
            target = self.variable(name, scope, value, declare=not pipeline.assign)
            self.tag(f"set {target} = {value.code}")
            return
        self.tag(_printed(value, node.line), block=False)

    def branch(self, node: Branch, scope: _Scope, chained: bool = False) -> None:
        if node.pipeline.variables and node.keyword != "range":
            raise GoTemplateError(
                f"cannot translate a variable declared in {{{{{node.keyword}}}}}", node.line
            )
        if node.keyword == "if":
            condition = self.pipeline(node.pipeline, scope)
            self.tag(f"{'elif' if chained else 'if'} {condition.code}")
            self.nodes(node.body, scope)
            if len(node.otherwise) == 1 and isinstance(node.otherwise[0], Branch):
                nested = node.otherwise[0]
                if nested.chained:
                    self.branch(nested, scope, chained=True)
                    if not chained:
                        self.tag("endif")
                    return
            if node.otherwise:
                self.tag("else")
                self.nodes(node.otherwise, scope)
            if not chained:
                self.tag("endif")
            return
        if node.keyword == "with":
            if any(isinstance(n, Branch) and n.chained for n in node.otherwise):
                raise GoTemplateError("cannot translate {{else with}}", node.line)
            value = self.pipeline(node.pipeline, scope)
            name = self.fresh("with")
            self.tag(f"set {name} = {value.code}")
            self.tag(f"if {name}")
            inner = _Scope(Expr(name, value.type), scope.in_loop, dict(scope.variables))
            self.nodes(node.body, inner)
            if node.otherwise:
                self.tag("else")
                self.nodes(node.otherwise, scope)
            self.tag("endif")
            return
        self.range(node, scope)

    def range(self, node: Branch, scope: _Scope) -> None:
        pipeline = node.pipeline
        if pipeline.assign:
            raise GoTemplateError("cannot translate range assigning outer variables", node.line)
        items = self.pipeline(Pipeline(pipeline.commands, pipeline.line), scope)
        if items.type == "int":
            iterable, kind = f"range({items.code})", "int"
        elif items.type.startswith("list"):
            iterable, kind = items.code, items.type.partition(":")[2] or "any"
        else:
            raise GoTemplateError(
                "cannot translate range over a value whose type is not known (a list or a "
                "number is needed)",
                node.line,
            )
        element = self.fresh("item")
        inner = _Scope(Expr(element, kind), True, dict(scope.variables))
        names = pipeline.variables
        self.tag(f"for {element} in {iterable}")
        if len(names) == 2:
            inner.variables[names[0]] = Expr("loop.index0", "int")
            inner.variables[names[1]] = Expr(element, kind)
        elif len(names) == 1:
            inner.variables[names[0]] = Expr(element, kind)
        self.nodes(node.body, inner)
        if node.otherwise:
            self.tag("else")
            self.nodes(node.otherwise, scope)
        self.tag("endfor")

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"go_{prefix}{self.counter}"

    def variable(self, name: str, scope: _Scope, value: Expr, declare: bool = False) -> str:
        if name == "$":
            raise GoTemplateError("cannot assign to $")
        known = scope.variables.get(name)
        kind = value.type if declare or known is None or known.type == value.type else "any"
        code = "go_" + name[1:] if declare or known is None else known.code
        scope.variables[name] = Expr(code, kind)
        return code

    # -- expressions -------------------------------------------------------------------------

    def pipeline(self, pipeline: Pipeline, scope: _Scope) -> Expr:
        value: Expr | None = None
        for command in pipeline.commands:
            value = self.command(command, scope, value)
        assert value is not None
        return value

    def command(self, command: Command, scope: _Scope, final: Expr | None) -> Expr:
        head, rest = command.args[0], command.args[1:]
        if not isinstance(head, Identifier):
            if rest or final is not None:
                raise GoTemplateError("cannot translate arguments to a non-function", command.line)
            return self.operand(head, scope)
        args = [self.operand(node, scope) for node in rest]
        if final is not None:
            args.append(final)
        return self.call(head.name, args, head.line)

    def operand(self, node: Node, scope: _Scope) -> Expr:
        if isinstance(node, Literal):
            return _literal(node)
        if isinstance(node, Dot):
            if scope.dot is None:
                raise GoTemplateError("cannot translate {{ . }} of the template variables",
                                      node.line)  # fmt: skip
            return scope.dot
        if isinstance(node, Variable):
            if node.name == "$":
                raise GoTemplateError("cannot translate $ alone", node.line)
            return scope.variables.get(node.name, Expr("go_" + node.name[1:], "any"))
        if isinstance(node, Identifier):
            return self.call(node.name, [], node.line)
        if isinstance(node, Pipeline):
            return self.pipeline(node, scope)
        if isinstance(node, Field):
            return self.field(node, scope)
        raise GoTemplateError(f"cannot translate {type(node).__name__}")

    def field(self, node: Field, scope: _Scope) -> Expr:
        names = list(node.names)
        root = node.receiver is None and scope.dot is None
        if isinstance(node.receiver, Variable) and node.receiver.name == "$":
            root = True
        if root:
            first = names.pop(0)
            if first not in STRING_VARIABLES | INT_VARIABLES:
                raise GoTemplateError(f"can't evaluate field {first}: not a template variable",
                                      node.line)  # fmt: skip
            kind = "int" if first in INT_VARIABLES else "str"
            code = f'({first} | default(""))' if first in OPTIONAL_STRINGS else first
            base = Expr(code, kind)
        elif node.receiver is None:
            assert scope.dot is not None
            base = scope.dot
        else:
            base = self.operand(node.receiver, scope)
        for name in names:
            if base.type in ("str", "int", "bool"):
                raise GoTemplateError(f"can't evaluate field {name} in type {base.type}", node.line)
            base = Expr(f"{base.code}[{json.dumps(name)}]", "any")
        return base

    def call(self, name: str, args: list[Expr], line: int) -> Expr:
        codes = [a.code for a in args]
        if name == "getPort" and len(args) == 1:
            return Expr(f"getPort({codes[0]})", "int")
        if name in ("and", "or") and args:
            kind = args[0].type if all(a.type == args[0].type for a in args) else "any"
            return Expr("(" + f" {name} ".join(codes) + ")", kind)
        if name == "not" and len(args) == 1:
            return Expr(f"(not {codes[0]})", "bool")
        if name in _COMPARISONS and len(args) >= 2:
            operator = _COMPARISONS[name]
            if name == "eq":
                parts = [f"{codes[0]} == {other}" for other in codes[1:]]
                return Expr("(" + " or ".join(parts) + ")", "bool")
            if len(args) == 2:
                return Expr(f"({codes[0]} {operator} {codes[1]})", "bool")
        if name == "default" and args:
            if len(args) == 1:
                return args[0]
            default, given = args[0], args[1]
            kind = default.type if default.type == given.type else "any"
            return Expr(f"({given.code} if {given.code} else {default.code})", kind)
        if name == "print":
            return Expr(_sprint(args, line), "str")
        if name == "printf" and args and args[0].type == "str":
            return Expr(_printf(args, line), "str")
        if name == "len" and len(args) == 1:
            return Expr(f"({codes[0]} | length)", "int")
        if name == "index" and len(args) == 2:
            return Expr(f"{codes[0]}[{codes[1]}]", "any")
        if name in _FILTERS and len(args) == 1:
            return Expr(f"({codes[0]} | {_FILTERS[name]})", "str")
        if name == "replace" and len(args) == 3:
            return Expr(f"({codes[2]} | replace({codes[0]}, {codes[1]}))", "str")
        if name in ("trimPrefix", "trimSuffix") and len(args) == 2:
            method = "removeprefix" if name == "trimPrefix" else "removesuffix"
            return Expr(f"({codes[1]} | string).{method}({codes[0]})", "str")
        if name == "contains" and len(args) == 2:
            return Expr(f"({codes[0]} in ({codes[1]} | string))", "bool")
        if name in ("hasPrefix", "hasSuffix") and len(args) == 2:
            method = "startswith" if name == "hasPrefix" else "endswith"
            return Expr(f"({codes[1]} | string).{method}({codes[0]})", "bool")
        if name == "list":
            kinds = {a.type for a in args}
            element = kinds.pop() if len(kinds) == 1 else "any"
            return Expr("[" + ", ".join(codes) + "]", f"list:{element}")
        if name == "ternary" and len(args) == 3:
            return Expr(f"({codes[0]} if {codes[2]} is true else {codes[1]})", "any")
        raise GoTemplateError(f'cannot translate function "{name}" with {len(args)} arguments',
                              line)  # fmt: skip


def _literal(node: Literal) -> Expr:
    value = node.value
    if isinstance(value, bool):
        return Expr("true" if value else "false", "bool")
    if isinstance(value, int):
        return Expr(str(value), "int")
    if isinstance(value, str):
        return Expr(json.dumps(value, ensure_ascii=False), "str")
    if value is None:
        return Expr("none", "any")
    raise GoTemplateError(f"cannot translate the number {node.text} (Go and Jinja print "
                          "floats differently)", node.line)  # fmt: skip


def _printed(value: Expr, line: int) -> str:
    if value.type in ("str", "int"):
        return value.code
    if value.type == "bool":
        return f'"true" if {value.code} else "false"'
    raise GoTemplateError(
        "cannot translate printing a value whose type is not known (Go and Jinja print "
        "booleans, nil and lists differently)",
        line,
    )


def _sprint(args: list[Expr], line: int) -> str:
    if not args:
        return '""'
    parts: list[str] = []
    for index, arg in enumerate(args):
        if arg.type not in ("str", "int"):
            raise GoTemplateError("cannot translate print of a value whose type is not known",
                                  line)  # fmt: skip
        if index and arg.type != "str" and args[index - 1].type != "str":
            parts.append('" "')
        parts.append(arg.code if arg.type == "str" else f"({arg.code} | string)")
    return "(" + " ~ ".join(parts) + ")"


def _printf(args: list[Expr], line: int) -> str:
    template = json.loads(args[0].code)
    verbs = re.findall(r"%(.)", template.replace("%%", ""))
    if any(verb not in "sd" for verb in verbs) or len(verbs) != len(args) - 1:
        raise GoTemplateError("cannot translate printf beyond %s and %d with matching args", line)
    for verb, arg in zip(verbs, args[1:], strict=True):
        if (verb == "d") != (arg.type == "int") or arg.type not in ("str", "int"):
            raise GoTemplateError("cannot translate printf with a mismatched argument", line)
    return f"({args[0].code} | format(" + ", ".join(a.code for a in args[1:]) + "))"


def _trimmed_ends(raw: str, text: str) -> tuple[str, str]:
    """The whitespace Go trimmed off the start and the end of `raw` to leave `text`."""
    leading = raw[: len(raw) - len(raw.lstrip(_GO_SPACE))]
    trailing = raw[len(raw.rstrip(_GO_SPACE)) :]
    for lead in (leading, ""):
        for trail in (trailing, ""):
            if (
                len(lead) + len(trail) <= len(raw)
                and raw[len(lead) : len(raw) - len(trail)] == text
            ):
                return lead, trail
    return "", ""


def _jinja_strips_exactly_leading(lead: str, rest: str) -> bool:
    """`-%}` before the text removes all its leading whitespace: exactly `lead` when what
    follows `lead` does not start with more (say a form feed, which Go keeps)."""
    return not rest[:1].isspace()


def _jinja_strips_exactly_trailing(rest: str, trail: str) -> bool:
    """`{%-` after the text removes exactly `trail` when `rest` does not end in whitespace."""
    return not rest[-1:].isspace()
