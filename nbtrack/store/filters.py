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

Limits (each a FilterSyntaxError that names it): at most ``MAX_FILTER_TERMS`` comparisons, at
most ``MAX_FILTER_DEPTH`` parentheses and NOTs nested in the text, and, once redundant
parentheses and NOTs are gone (:func:`simplify`), at most ``MAX_FILTER_NESTING`` AND/OR groups
nested in each other (SQLite's parser stack overflows near 40 levels of parentheses).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, Union

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
MAX_FILTER_TERMS = 500  # comparisons in one filter; one IN list with any number of values counts once
MAX_FILTER_DEPTH = 100  # parentheses and NOTs nested in the text
MAX_FILTER_NESTING = 20  # AND groups inside OR groups inside AND groups ..., after simplify()
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
    position: int = 0


@dataclass(frozen=True)
class Or:
    items: tuple
    position: int = 0


@dataclass(frozen=True)
class Not:
    item: Any


Node = Union[Compare, And, Or, Not]


class Token(NamedTuple):  # a tuple: a 40,000-value IN list is 120,000 tokens
    kind: str  # field | word | string | number | op | ( | ) | , | end
    value: Any
    position: int


_KEY = re.compile(r"[\w.\-/:@]+")
_TOKEN = re.compile(r"""\s*(?:
    (?P<punct>[(),]) | (?P<op>!=|<>|<=|>=|[=<>])
    | '(?P<single>(?:[^'\\]|\\.|'')*)' | "(?P<double>(?:[^"\\]|\\.|"")*)" | (?P<unterminated>['"])
    | (?P<backquote>`)
    | (?P<number>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*) | (?P<other>.))?""", re.VERBOSE | re.DOTALL)
_QUOTED = {q: re.compile(f"{q}((?:[^{q}\\\\]|\\\\.|{q}{q})*){q}", re.DOTALL) for q in "'\"`"}
_ESCAPES = {q: re.compile(f"\\\\(.)|{q}{q}", re.DOTALL) for q in "'\"`"}


def _unescape(body: str, quote: str) -> str:
    """A backslash escapes the next character; a doubled quote is one quote."""
    return _ESCAPES[quote].sub(lambda m: quote if m.group(1) is None else m.group(1), body)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str, position: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(message, self.text, self.pos if position is None else position)

    def tokens(self) -> list[Token]:
        out = []
        append = out.append
        text = self.text
        while True:
            match = _TOKEN.match(text, self.pos)
            kind = match.lastgroup
            if kind is None:  # only whitespace is left
                append(Token("end", None, len(text)))
                return out
            start, value = match.start(kind), match.group(kind)
            self.pos = match.end()
            if kind == "punct":
                append(Token(value, value, start))
            elif kind == "op":
                append(Token("op", "!=" if value == "<>" else value, start))
            elif kind == "single" or kind == "double":
                quote = "'" if kind == "single" else '"'
                if "\\" in value or quote * 2 in value:
                    value = _unescape(value, quote)
                append(Token("string", self._storable(value, start - 1), start - 1))
            elif kind == "unterminated":
                raise self.error(f"unterminated string, add a closing {value}", start)
            elif kind == "number":
                number = float(value) if ("." in value or "e" in value or "E" in value) else int(value)
                append(Token("number", number, start))
            elif kind == "word":
                entity = ENTITY_ALIASES.get(value.lower())
                if entity is not None and text.startswith(".", self.pos):
                    self.pos += 1
                    append(Token("field", Field(entity, self._storable(self._key(), start), start), start))
                else:
                    append(Token("word", value, start))
            elif kind == "backquote":
                self.pos = start
                append(Token("field", self._backquoted_field(start), start))
            else:
                raise self.error(f"unexpected character {value!r}", start)

    def _quoted(self, quote: str) -> str:
        """A quoted string or key; a backslash escapes the next character, a doubled quote is one."""
        match = _QUOTED[quote].match(self.text, self.pos)
        if match is None:
            raise self.error(f"unterminated string, add a closing {quote}")
        self.pos = match.end()
        body = match.group(1)
        if "\\" not in body and quote * 2 not in body:
            return body
        return _unescape(body, quote)

    def _backquoted_field(self, start: int) -> Field:
        """MLflow's `params`.lr, `metric`.acc, `tags`.`a b`: a backquoted prefix, a dot, a key."""
        prefix = self._quoted("`")
        if self.pos >= len(self.text) or self.text[self.pos] != ".":
            raise self.error("a backquoted key needs a prefix such as metrics.`val loss`", start)
        entity = ENTITY_ALIASES.get(prefix.lower())
        if entity is None:
            raise self.error(f"unknown prefix `{prefix}`: use metrics., params., tags. or attributes.", start)
        self.pos += 1
        return Field(entity, self._storable(self._key(), start), start)

    def _storable(self, text: str, position: int) -> str:
        """Text no store can hold (NUL, lone surrogates) can match no run: say so instead of failing in SQL."""
        if "\x00" in text:
            raise self.error("a NUL character (\\x00) cannot appear in a filter: no stored text holds one",
                             position)
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise self.error("a lone surrogate (such as '\\udcff') is not valid Unicode and cannot "
                                 "appear in a filter", position) from None
        return text

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
        self.depth = 0  # parentheses and NOTs open around the current token
        self.comparisons = 0

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
        if self.comparisons > MAX_FILTER_TERMS:
            raise FilterSyntaxError(
                f"the filter has {self.comparisons} comparisons; at most {MAX_FILTER_TERMS} are allowed: "
                "use IN (...) for many values of one key (or runs(run_ids=..., tags=...))", self.text, 0)
        return node

    def or_expr(self) -> Node:
        position = self.token.position
        items = [self.and_expr()]
        while self.keyword("OR"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items), position)

    def and_expr(self) -> Node:
        position = self.token.position
        items = [self.not_expr()]
        while self.keyword("AND"):
            self.advance()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items), position)

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            raise self.error(f"the filter nests parentheses and NOTs deeper than {MAX_FILTER_DEPTH} levels; "
                             "remove redundant ones")

    def not_expr(self) -> Node:
        if self.keyword("NOT"):
            self._deeper()
            self.advance()
            node = Not(self.not_expr())
            self.depth -= 1
            return node
        if self.token.kind == "(":
            self._deeper()
            self.advance()
            node = self.or_expr()
            if self.token.kind != ")":
                raise self.error("expected a closing parenthesis")
            self.advance()
            self.depth -= 1
            return node
        self.comparisons += 1
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
    """Parse a filter string into its simplified tree; an empty or blank string means no filter."""
    if text is None or not str(text).strip():
        return None
    return _parse_filter(str(text))


@lru_cache(maxsize=32)  # the tree is immutable; runs(), count_runs() and summarize_runs() share a filter
def _parse_filter(text: str) -> Node:
    node = simplify(_Parser(text).parse_filter())
    _check_nesting(node, text)
    return node


def simplify(node: Node, negate: bool = False) -> Node:
    """The same filter with NOTs pushed down to the comparisons (De Morgan; it holds in SQL's
    three-valued logic too) and AND inside AND, OR inside OR merged: ``NOT NOT a`` is ``a``,
    ``((a))`` is ``a``, and ``(a AND (b AND c))`` is one AND of three."""
    if isinstance(node, Not):
        return simplify(node.item, not negate)
    if isinstance(node, (And, Or)):
        kind = type(node) if not negate else (Or if isinstance(node, And) else And)
        items: list = []
        for item in node.items:
            item = simplify(item, negate)
            items.extend(item.items if type(item) is kind else (item,))
        return kind(tuple(items), node.position)
    return Not(node) if negate else node


def _check_nesting(node: Node, text: str) -> None:
    """AND/OR groups nested more than MAX_FILTER_NESTING deep (iterative: no recursion limit)."""
    stack = [(node, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (And, Or)):
            if depth >= MAX_FILTER_NESTING:
                raise FilterSyntaxError(
                    f"the filter nests AND/OR groups deeper than {MAX_FILTER_NESTING} levels (an OR inside an "
                    "AND inside an OR ...); write it with fewer nested groups", text, item.position)
            stack.extend((child, depth + 1) for child in item.items)


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
