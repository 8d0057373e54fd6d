"""Filter and order-by strings: parsed once into a small tree, then compiled to SQLAlchemy.

The grammar is MLflow's search syntax plus OR, NOT and parentheses::

    expr       := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | "(" expr ")" | comparison
    comparison := field op value | field [NOT] (LIKE | ILIKE) string
                | field [NOT] IN "(" value ("," value)* ")" | field IS [NOT] NULL
    field      := (metrics|params|tags|attributes) "." key | attribute
    key        := word | `quoted` | "quoted"

Values are always bound parameters: nothing from the string is pasted into SQL.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any, Union

from ..errors import FilterSyntaxError

ENTITY_ALIASES = {
    "metric": "metrics", "metrics": "metrics",
    "param": "params", "params": "params", "parameter": "params", "parameters": "params",
    "tag": "tags", "tags": "tags",
    "attribute": "attributes", "attributes": "attributes", "attr": "attributes", "run": "attributes",
}
ATTRIBUTES = {
    "run_id": "run_id", "id": "run_id",
    "run_name": "name", "name": "name",
    "status": "status",
    "experiment": "experiment", "experiment_name": "experiment",
    "start_time": "start_time", "end_time": "end_time", "duration": "duration",
    "parent_run_id": "parent_run_id",
    "user": "user_name", "user_name": "user_name", "host": "host_name", "host_name": "host_name",  # team: who, where
}
COMPARISONS = ("=", "!=", "<>", "<=", ">=", "<", ">")
KEYWORDS = {"AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL", "TRUE", "FALSE", "ASC", "DESC"}


@dataclass(frozen=True)
class Field:
    entity: str  # metrics | params | tags | attributes
    key: str
    position: int


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # = != < <= > >= LIKE ILIKE IN ISNULL (with negate)
    value: Any
    negate: bool = False


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: Any


Node = Union[Compare, And, Or, Not]


@dataclass(frozen=True)
class Token:
    kind: str  # field | word | string | number | op | ( | ) | , | end
    value: Any
    position: int


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[\w.\-/:@]+")


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str, position: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(message, self.text, self.pos if position is None else position)

    def tokens(self) -> list[Token]:
        out = []
        text = self.text
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                out.append(Token("end", None, self.pos))
                return out
            start = self.pos
            char = text[start]
            if char in "(),":
                self.pos += 1
                out.append(Token(char, char, start))
            elif text.startswith(("!=", "<>", "<=", ">="), start):
                self.pos += 2
                out.append(Token("op", "!=" if text[start:start + 2] == "<>" else text[start:start + 2], start))
            elif char in "=<>":
                self.pos += 1
                out.append(Token("op", "=" if char == "=" else char, start))
            elif char in "'\"":
                out.append(Token("string", self._quoted(char), start))
            elif char == "`":
                raise self.error("a backquoted key needs a prefix such as metrics.`val loss`")
            elif _NUMBER.match(text, start) and (char.isdigit() or char == "." or (
                    char in "+-" and start + 1 < len(text) and (text[start + 1].isdigit() or text[start + 1] == "."))):
                match = _NUMBER.match(text, start)
                self.pos = match.end()
                literal = match.group(0)
                number = float(literal) if any(c in literal for c in ".eE") else int(literal)
                out.append(Token("number", number, start))
            elif _WORD.match(text, start):
                match = _WORD.match(text, start)
                word = match.group(0)
                self.pos = match.end()
                if self.pos < len(text) and text[self.pos] == "." and word.lower() in ENTITY_ALIASES:
                    self.pos += 1
                    out.append(Token("field", Field(ENTITY_ALIASES[word.lower()], self._key(), start), start))
                else:
                    out.append(Token("word", word, start))
            else:
                raise self.error(f"unexpected character {char!r}")

    def _quoted(self, quote: str) -> str:
        start = self.pos
        self.pos += 1
        chars = []
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\" and self.pos + 1 < len(text):
                chars.append(text[self.pos + 1])
                self.pos += 2
            elif char == quote:
                if text.startswith(quote * 2, self.pos):
                    chars.append(quote)
                    self.pos += 2
                else:
                    self.pos += 1
                    return "".join(chars)
            else:
                chars.append(char)
                self.pos += 1
        raise self.error(f"unterminated string, add a closing {quote}", start)

    def _key(self) -> str:
        text = self.text
        if self.pos < len(text) and text[self.pos] in "`\"'":
            quote = text[self.pos]
            start = self.pos
            key = self._quoted(quote)
            if not key:
                raise self.error("empty key", start)
            return key
        match = _KEY.match(text, self.pos)
        if not match:
            raise self.error("expected a key after the dot, e.g. metrics.acc or metrics.`val loss`")
        self.pos = match.end()
        return match.group(0)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lexer = _Lexer(text)
        self.tokens = self.lexer.tokens()
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> FilterSyntaxError:
        token = token or self.token
        return FilterSyntaxError(message, self.text, token.position)

    def keyword(self, *words: str) -> bool:
        token = self.token
        return token.kind == "word" and token.value.upper() in words

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.error(f"expected {word}")
        self.advance()

    def parse_filter(self) -> Node:
        node = self.or_expr()
        if self.token.kind != "end":
            raise self.error("expected AND, OR or the end of the filter")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.keyword("OR"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.keyword("AND"):
            self.advance()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.keyword("NOT"):
            self.advance()
            return Not(self.not_expr())
        if self.token.kind == "(":
            self.advance()
            node = self.or_expr()
            if self.token.kind != ")":
                raise self.error("expected a closing parenthesis")
            self.advance()
            return node
        return self.comparison()

    def field(self) -> Field:
        token = self.token
        if token.kind == "field":
            self.advance()
            if token.value.entity == "attributes":
                return self._attribute(token.value.key, token)
            return token.value
        if token.kind == "word" and token.value.upper() not in KEYWORDS:
            self.advance()
            return self._attribute(token.value, token)
        if token.kind == "end":
            raise self.error("expected a comparison such as metrics.acc > 0.8")
        raise self.error("expected a field such as metrics.acc, params.lr, tags.stage or status")

    def _attribute(self, name: str, token: Token) -> Field:
        canonical = ATTRIBUTES.get(name.lower())
        if canonical is None:
            valid = ", ".join(sorted({"run_id", "run_name", "status", "experiment", "start_time",
                                      "end_time", "duration", "parent_run_id", "user", "host"}))
            raise self.error(f"unknown attribute {name!r} (valid: {valid}; or use metrics., params., tags.)",
                             token)
        return Field("attributes", canonical, token.position)

    def value(self) -> Any:
        token = self.token
        if token.kind in ("string", "number"):
            self.advance()
            return token.value
        if self.keyword("TRUE", "FALSE"):
            self.advance()
            return token.value.upper() == "TRUE"
        raise self.error("expected a value: a number or a quoted string such as 'rf'")

    def comparison(self) -> Compare:
        field = self.field()
        token = self.token
        if token.kind == "op":
            self.advance()
            return Compare(field, token.value, self.value())
        negate = False
        if self.keyword("IS"):
            self.advance()
            if self.keyword("NOT"):
                self.advance()
                negate = True
            self.expect_keyword("NULL")
            return Compare(field, "ISNULL", None, negate)
        if self.keyword("NOT"):
            self.advance()
            negate = True
            if not self.keyword("LIKE", "ILIKE", "IN"):
                raise self.error("expected LIKE, ILIKE or IN after NOT")
        if self.keyword("LIKE", "ILIKE"):
            op = self.advance().value.upper()
            if self.token.kind != "string":
                raise self.error(f"{op} needs a quoted pattern such as '%rf%'")
            return Compare(field, op, self.advance().value, negate)
        if self.keyword("IN"):
            self.advance()
            if self.token.kind != "(":
                raise self.error("IN needs a parenthesised list such as ('a', 'b')")
            self.advance()
            values = [self.value()]
            while self.token.kind == ",":
                self.advance()
                values.append(self.value())
            if self.token.kind != ")":
                raise self.error("expected , or ) in the IN list")
            self.advance()
            return Compare(field, "IN", tuple(values), negate)
        raise self.error("expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS NULL)")


def parse_filter(text: str) -> Node | None:
    """Parse a filter string; an empty or blank string means no filter."""
    if text is None or not str(text).strip():
        return None
    return _Parser(str(text)).parse_filter()


@dataclass(frozen=True)
class OrderKey:
    field: Field
    descending: bool


def parse_order_by(order_by: str | list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    """Parse ``"metrics.acc DESC, params.lr"`` or a list of such clauses."""
    if not order_by:
        return []
    clauses = [order_by] if isinstance(order_by, str) else list(order_by)
    keys: list[OrderKey] = []
    for clause in clauses:
        parser = _Parser(clause)
        while True:
            field = parser.field()
            descending = False
            if parser.keyword("ASC", "DESC"):
                descending = parser.advance().value.upper() == "DESC"
            keys.append(OrderKey(field, descending))
            if parser.token.kind == ",":
                parser.advance()
                continue
            if parser.token.kind != "end":
                raise parser.error("expected ASC, DESC, a comma or the end of the order-by clause")
            break
    return keys


def parse_time(value: Any, text: str, position: int) -> float:
    """A time literal: epoch seconds, or an ISO date/datetime string (UTC unless it says)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        moment = _dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise FilterSyntaxError("times are epoch seconds or ISO dates such as '2026-01-31'", text, position) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.timestamp()
