"""Parsing Go text/template source into a small tree, with Go's rules for delimiters and trimming.

Only what the original controller's BaseConfigs could use is accepted; anything else is a
GoTemplateError naming the construct and the line (Go itself would have accepted some of it, but
this dialect does not run it, so it says so before rendering anything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

LEFT, RIGHT = "{{", "}}"
_TRIM_SPACE = " \t\r\n"
"""Go trims exactly these around `{{- ` and ` -}}` (text/template's spaceChars)."""
MAX_DEPTH = 64


class GoTemplateError(Exception):
    """A template Go would refuse, or one this dialect does not support; `line` is 1-based."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# -- tree --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str  # after Go's trimming
    line: int
    raw: str = ""  # before trimming (what the author wrote); kept for `msctl convert`


@dataclass(frozen=True)
class Dot:
    line: int


@dataclass(frozen=True)
class Field:
    """`.A.B` on dot (`receiver` None) or on a variable/parenthesised pipeline."""

    names: tuple[str, ...]
    line: int
    receiver: Node | None = None


@dataclass(frozen=True)
class Variable:
    name: str  # with the `$`
    line: int


@dataclass(frozen=True)
class Identifier:
    """A function name (a call when first in a command, or a niladic call as an argument)."""

    name: str
    line: int


@dataclass(frozen=True)
class Literal:
    value: str | int | float | bool | None
    line: int
    text: str = ""


@dataclass(frozen=True)
class Command:
    args: tuple[Node, ...]
    line: int


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...]
    line: int
    variables: tuple[str, ...] = ()
    assign: bool = False  # `$x = ...` rather than `$x := ...`


@dataclass(frozen=True)
class Action:
    pipeline: Pipeline
    line: int


@dataclass(frozen=True)
class Branch:
    """if / range / with: `body` when the pipeline is true (non-empty), else `otherwise`."""

    keyword: str
    pipeline: Pipeline
    body: tuple[Node, ...]
    otherwise: tuple[Node, ...]
    line: int
    chained: bool = False  # written `{{ else if }}` / `{{ else with }}` inside its parent


@dataclass(frozen=True)
class LoopControl:
    keyword: str  # break / continue
    line: int


Node = (
    Text
    | Dot
    | Field
    | Variable
    | Identifier
    | Literal
    | Command
    | Pipeline
    | Action
    | Branch
    | LoopControl
)


# -- lexing -----------------------------------------------------------------------------------


@dataclass
class Token:
    kind: str  # field, dot, var, ident, string, number, char, ( ) | := = , EOF
    text: str
    line: int
    spaced: bool  # whitespace came before it


@dataclass
class RawAction:
    tokens: list[Token]
    line: int
    comment: bool = False


_NUMBER = re.compile(
    r"[+-]?(0[xX][0-9a-fA-F_]+(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9]+)?|0[bB][01_]+|0[oO][0-7_]+"
    r"|([0-9][0-9_]*)?\.?[0-9_]*([eE][+-]?[0-9]+)?)i?"
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def split(source: str) -> list[Text | RawAction]:
    """Text and actions in order, with `{{-`/`-}}` trimming applied to the text beside them."""
    parts: list[Text | RawAction] = []
    position, line = 0, 1
    trim_next = False
    while True:
        start = source.find(LEFT, position)
        text = source[position:] if start < 0 else source[position:start]
        raw = text
        if trim_next:
            text_line = line + text.count("\n") - text.lstrip(_TRIM_SPACE).count("\n")
            text = text.lstrip(_TRIM_SPACE)
        else:
            text_line = line
        if start < 0:
            if raw:
                parts.append(Text(text, text_line, raw))
            return parts
        line += source.count("\n", position, start)
        inner = start + len(LEFT)
        if source.startswith("-", inner) and source[inner + 1 : inner + 2] in tuple(_TRIM_SPACE):
            text = text.rstrip(_TRIM_SPACE)
            inner += 2
        if raw:
            parts.append(Text(text, text_line, raw))
        action_line = line
        tokens, end, trim_next, comment = _lex_action(source, inner, line)
        line += source.count("\n", start, end)
        parts.append(RawAction(tokens, action_line, comment))
        position = end


def _lex_action(source: str, position: int, line: int) -> tuple[list[Token], int, bool, bool]:
    """Tokens of one action from `position` (just after `{{` and any trim marker)."""
    tokens: list[Token] = []
    spaced = True
    start_line = line
    if source.startswith("/*", position):
        close = source.find("*/", position + 2)
        if close < 0:
            raise GoTemplateError("unclosed comment", start_line)
        line += source.count("\n", position, close)
        rest = close + 2
        if source.startswith(RIGHT, rest):
            return [], rest + 2, False, True
        if source[rest : rest + 1] in tuple(_TRIM_SPACE) and source.startswith("-}}", rest + 1):
            return [], rest + 4, True, True
        raise GoTemplateError("comment ends before closing delimiter", start_line)
    while True:
        if position >= len(source):
            raise GoTemplateError("unclosed action", start_line)
        char = source[position]
        if char in _TRIM_SPACE:
            if source.startswith("-}}", position + 1):
                return tokens, position + 4, True, False
            if char == "\n":
                line += 1
            position += 1
            spaced = True
            continue
        if source.startswith(RIGHT, position):
            return tokens, position + 2, False, False
        if char in "()|,":
            tokens.append(Token(char, char, line, spaced))
            position += 1
        elif source.startswith(":=", position):
            tokens.append(Token(":=", ":=", line, spaced))
            position += 2
        elif char == "=":
            tokens.append(Token("=", "=", line, spaced))
            position += 1
        elif char == '"':
            end = position + 1
            while end < len(source) and source[end] != '"':
                if source[end] == "\\":
                    end += 1
                elif source[end] == "\n":
                    raise GoTemplateError("unterminated quoted string", line)
                end += 1
            if end >= len(source):
                raise GoTemplateError("unterminated quoted string", line)
            tokens.append(Token("string", source[position : end + 1], line, spaced))
            position = end + 1
        elif char == "`":
            end = source.find("`", position + 1)
            if end < 0:
                raise GoTemplateError("unterminated raw quoted string", line)
            tokens.append(Token("rawstring", source[position : end + 1], line, spaced))
            line += source.count("\n", position, end)
            position = end + 1
        elif char == "'":
            raise GoTemplateError("character constants ('x') are not supported", line)
        elif char == "$":
            match = _IDENT.match(source, position + 1)
            name = "$" + (match.group() if match else "")
            tokens.append(Token("var", name, line, spaced))
            position += len(name)
        elif char == "." and not source[position + 1 : position + 2].isdigit():
            match = _IDENT.match(source, position + 1)
            if match:
                tokens.append(Token("field", match.group(), line, spaced))
                position = match.end()
            else:
                tokens.append(Token("dot", ".", line, spaced))
                position += 1
        elif char.isdigit() or char in "+-.":
            match = _NUMBER.match(source, position)
            if not match or not match.group() or match.group() in "+-.":
                raise GoTemplateError(f"bad character {char!r} in action", line)
            tokens.append(Token("number", match.group(), line, spaced))
            position = match.end()
        elif _IDENT.match(source, position):
            match = _IDENT.match(source, position)
            assert match is not None
            tokens.append(Token("ident", match.group(), line, spaced))
            position = match.end()
        else:
            raise GoTemplateError(f"bad character {char!r} in action", line)
        spaced = False


# -- parsing ----------------------------------------------------------------------------------

UNSUPPORTED_KEYWORDS = {
    "define": "{{ define }} (named templates)",
    "template": "{{ template }} (named templates)",
    "block": "{{ block }} (named templates)",
}
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\\": "\\", '"': '"', "'": "'"}  # fmt: skip


@dataclass
class _Scope:
    variables: list[str] = field(default_factory=lambda: ["$"])


class Parser:
    """Recursive descent over the actions, checking variables and functions as Go's parser does."""

    def __init__(self, source: str, functions: frozenset[str]) -> None:
        self.parts = split(source)
        self.index = 0
        self.functions = functions
        self.scope = _Scope()
        self.loops = 0

    def parse(self) -> tuple[Node, ...]:
        body, end = self._list(0)
        if end is not None:
            raise GoTemplateError(f"unexpected {{{{{end[0]}}}}}", end[1])
        return body

    def _list(self, depth: int) -> tuple[tuple[Node, ...], tuple[str, int, list[Token]] | None]:
        """Nodes up to an `end`/`else` (returned with its line and remaining tokens) or EOF."""
        if depth > MAX_DEPTH:
            raise GoTemplateError(f"control structures nested deeper than {MAX_DEPTH}")
        nodes: list[Node] = []
        while self.index < len(self.parts):
            part = self.parts[self.index]
            self.index += 1
            if isinstance(part, Text):
                nodes.append(part)
                continue
            if part.comment:
                continue
            tokens = part.tokens
            if not tokens:
                raise GoTemplateError("missing value for command", part.line)
            head = tokens[0]
            if head.kind == "ident" and head.text in ("end", "else"):
                return tuple(nodes), (head.text, part.line, tokens[1:])
            if head.kind == "ident" and head.text in ("if", "range", "with"):
                nodes.append(self._branch(head.text, tokens[1:], part.line, depth))
            elif head.kind == "ident" and head.text in ("break", "continue"):
                if len(tokens) > 1:
                    raise GoTemplateError(f"unexpected {tokens[1].text!r} in {head.text}",
                                          part.line)  # fmt: skip
                if not self.loops:
                    raise GoTemplateError(f"{{{{{head.text}}}}} outside {{{{range}}}}", part.line)
                nodes.append(LoopControl(head.text, part.line))
            elif head.kind == "ident" and head.text in UNSUPPORTED_KEYWORDS:
                raise GoTemplateError(
                    f"{UNSUPPORTED_KEYWORDS[head.text]} is not supported", part.line
                )
            else:
                pipeline = self._pipeline(tokens, part.line, "command", declare=True)
                nodes.append(Action(pipeline, part.line))
        return tuple(nodes), None

    def _branch(self, keyword: str, tokens: list[Token], line: int, depth: int) -> Branch:
        mark = len(self.scope.variables)
        pipeline = self._pipeline(tokens, line, keyword, declare=True, in_range=keyword == "range")
        if keyword == "range":
            self.loops += 1
        body, end = self._list(depth + 1)
        if keyword == "range":
            self.loops -= 1
        otherwise: tuple[Node, ...] = ()
        if end is None:
            raise GoTemplateError(f"unexpected EOF: {{{{{keyword}}}}} has no {{{{end}}}}", line)
        word, end_line, rest = end
        if word == "else":
            if rest and rest[0].kind == "ident" and rest[0].text == keyword != "range":
                # `else if` / `else with`: a nested branch that shares this one's {{end}}
                del self.scope.variables[mark:]
                chained = self._branch(keyword, rest[1:], end_line, depth + 1)
                otherwise = (replace(chained, chained=True),)
                return Branch(keyword, pipeline, body, otherwise, line)
            if rest:
                raise GoTemplateError(f"unexpected {rest[0].text!r} in else", end_line)
            del self.scope.variables[mark:]
            otherwise, end = self._list(depth + 1)
            if end is None:
                raise GoTemplateError(f"unexpected EOF: {{{{{keyword}}}}} has no {{{{end}}}}",
                                      line)  # fmt: skip
            word, end_line, rest = end
            if word != "end":
                raise GoTemplateError("expected {{end}} after {{else}}", end_line)
        if rest:
            raise GoTemplateError(f"unexpected {rest[0].text!r} in end", end_line)
        del self.scope.variables[mark:]
        return Branch(keyword, pipeline, body, otherwise, line)

    def _pipeline(
        self,
        tokens: list[Token],
        line: int,
        context: str,
        *,
        declare: bool = False,
        in_range: bool = False,
    ) -> Pipeline:
        variables: list[str] = []
        assign = False
        position = 0
        # `$x :=`, `$x =`, or (range only) `$i, $e :=`
        if declare and tokens and tokens[0].kind == "var":
            if len(tokens) > 1 and tokens[1].kind in (":=", "="):
                variables = [tokens[0].text]
                assign = tokens[1].kind == "="
                position = 2
            elif in_range and len(tokens) > 3 and tokens[1].kind == "," and tokens[2].kind == "var":
                if tokens[3].kind not in (":=", "="):
                    raise GoTemplateError("range can only initialize variables", line)
                variables = [tokens[0].text, tokens[2].text]
                assign = tokens[3].kind == "="
                position = 4
        commands: list[Command] = []
        current: list[Node] = []
        rest = tokens[position:]
        i = 0
        while i < len(rest):
            token = rest[i]
            if token.kind == "|":
                if not current:
                    raise GoTemplateError("missing command before '|'", token.line)
                commands.append(Command(tuple(current), token.line))
                current = []
                i += 1
                continue
            node, i = self._operand(rest, i)
            current.append(node)
        if current:
            commands.append(Command(tuple(current), line))
        elif commands:
            raise GoTemplateError("missing command after '|'", line)
        if not commands:
            raise GoTemplateError(f"missing value for {context}", line)
        for command in commands[1:]:
            head = command.args[0]
            if isinstance(head, Literal | Dot):
                raise GoTemplateError(
                    f"non executable command in pipeline stage: {_describe(head)}", command.line
                )
        for name in variables:
            if assign:
                if name not in self.scope.variables:
                    raise GoTemplateError(f"undefined variable {name!r}", line)
            else:
                self.scope.variables.append(name)
        return Pipeline(tuple(commands), line, tuple(variables), assign)

    def _operand(self, tokens: list[Token], i: int, depth: int = 0) -> tuple[Node, int]:
        """One argument, with any `.Field` chain glued to it."""
        if depth > MAX_DEPTH:
            raise GoTemplateError(f"expressions nested deeper than {MAX_DEPTH}")
        token = tokens[i]
        node: Node
        i += 1
        if token.kind == "(":
            close = _matching(tokens, i - 1)
            inner = self._pipeline(tokens[i:close], token.line, "parenthesized pipeline")
            node, i = inner, close + 1
        elif token.kind == "field":
            names = [token.text]
            while i < len(tokens) and tokens[i].kind == "field" and not tokens[i].spaced:
                names.append(tokens[i].text)
                i += 1
            return Field(tuple(names), token.line), i
        elif token.kind == "dot":
            node = Dot(token.line)
        elif token.kind == "var":
            if token.text not in self.scope.variables:
                raise GoTemplateError(f"undefined variable {token.text!r}", token.line)
            node = Variable(token.text, token.line)
        elif token.kind == "ident":
            node = self._identifier(token)
        elif token.kind in ("string", "rawstring"):
            node = Literal(_unquote(token), token.line, token.text)
        elif token.kind == "number":
            node = Literal(_number(token), token.line, token.text)
        else:
            raise GoTemplateError(f"unexpected {token.text!r} in operand", token.line)
        names = []
        while i < len(tokens) and tokens[i].kind == "field" and not tokens[i].spaced:
            names.append(tokens[i].text)
            i += 1
        if names:
            if isinstance(node, Literal | Identifier):
                raise GoTemplateError(f"unexpected . after term {_describe(node)}", token.line)
            node = Field(tuple(names), token.line, receiver=node)
        return node, i

    def _identifier(self, token: Token) -> Node:
        name = token.text
        if name == "true" or name == "false":
            return Literal(name == "true", token.line, name)
        if name == "nil":
            return Literal(None, token.line, name)
        if name in ("if", "range", "with", "else", "end", "break", "continue"):
            raise GoTemplateError(f"unexpected keyword {name!r} in command", token.line)
        if name in UNSUPPORTED_KEYWORDS:
            raise GoTemplateError(f"{UNSUPPORTED_KEYWORDS[name]} is not supported", token.line)
        if name not in self.functions:
            raise GoTemplateError(f'function "{name}" not defined', token.line)
        return Identifier(name, token.line)


def _matching(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(tokens)):
        if tokens[index].kind == "(":
            depth += 1
        elif tokens[index].kind == ")":
            depth -= 1
            if depth == 0:
                return index
    raise GoTemplateError("unclosed left paren", tokens[open_index].line)


def _unquote(token: Token) -> str:
    body = token.text[1:-1]
    if token.kind == "rawstring":
        return body.replace("\r", "")
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        code = body[i + 1 : i + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            i += 2
        elif code in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[code]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise GoTemplateError(f"invalid escape in string {token.text}", token.line)
            out.append(chr(int(digits, 16)))
            i += 2 + width
        elif code in "01234567" and code:
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or not all(c in "01234567" for c in digits):
                raise GoTemplateError(f"invalid escape in string {token.text}", token.line)
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise GoTemplateError(f"invalid escape in string {token.text}", token.line)
    return "".join(out)


def _number(token: Token) -> int | float:
    text = token.text
    if text.endswith("i"):
        raise GoTemplateError(f"complex numbers ({text}) are not supported", token.line)
    clean = text.replace("_", "")
    lower = clean.lower()
    try:
        if lower.lstrip("+-").startswith(("0x", "0b", "0o")):
            if "p" in lower or "." in lower:
                return float.fromhex(clean)
            return int(clean, 0)
        if any(c in lower for c in ".e"):
            return float(clean)
        if len(lower.lstrip("+-")) > 1 and lower.lstrip("+-").startswith("0"):
            return int(clean, 8)
        return int(clean)
    except ValueError:
        raise GoTemplateError(f"bad number syntax: {text!r}", token.line) from None


def _describe(node: Node) -> str:
    if isinstance(node, Literal):
        return node.text or repr(node.value)
    if isinstance(node, Dot):
        return "."
    if isinstance(node, Identifier):
        return node.name
    return type(node).__name__
