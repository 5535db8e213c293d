"""The filter language of list and export endpoints: `op(attribute,value)` terms joined by `:`.

Operators are `eq` (one value), `like` (one value, `*` as wildcard, else "contains"), `in`
(several values), and `gt`, `ge`, `lt` and `le` (one value) where a caller allows them. A value
may be quoted with `"` to hold commas, parentheses or colons.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pxm_jobs.catalog.errors import InvalidFilter
from pxm_jobs.catalog.text_rules import is_storable

EQ, LIKE, IN, GT, GE, LT, LE = "eq", "like", "in", "gt", "ge", "lt", "le"
_QUOTE = '"'


@dataclass(frozen=True)
class FilterTerm:
    """One term of a filter: `operator(attribute,values...)`, attribute as a column name."""

    operator: str
    attribute: str
    values: tuple[str, ...]


def parse_filter(
    text: str,
    *,
    attributes: Mapping[str, str],
    operators: Collection[str],
    prefixes: Collection[str] = (),
) -> list[FilterTerm]:
    """The terms of `eq(sku,abc):like(name,*shoe*)`, all of which must hold.

    `attributes` maps each name a filter may use to the column it reads; `operators` are the
    operators allowed. A name starting with one of `prefixes` (`admin_attributes.`) and going
    on after it is kept as it is, for the caller to read. Values stay data: callers bind them,
    never paste them into SQL.
    """
    if not text.strip():
        raise InvalidFilter("the filter is empty; write terms like eq(sku,abc):like(name,*shoe*)")
    terms = []
    position = 0
    while True:
        term, position = _parse_term(text, position, attributes, operators, prefixes)
        terms.append(term)
        position = _skip_spaces(text, position)
        if position == len(text):
            return terms
        if text[position] != ":":
            raise InvalidFilter(
                f"malformed filter at character {position + 1}: join terms with ':'"
            )
        position += 1


def _parse_term(
    text: str,
    start: int,
    attributes: Mapping[str, str],
    operators: Collection[str],
    prefixes: Collection[str],
) -> tuple[FilterTerm, int]:
    opening = text.find("(", start)
    if opening == -1:
        raise InvalidFilter(
            f"malformed filter at character {start + 1}: expected operator(attribute,value)"
        )
    operator = text[start:opening].strip()
    if operator not in operators:
        raise InvalidFilter(
            f"unsupported filter operator {operator!r}; use " + ", ".join(operators)
        )
    comma = text.find(",", opening)
    closing = text.find(")", opening)
    if comma == -1 or (closing != -1 and closing < comma):
        raise InvalidFilter(f"malformed filter: {operator}(...) needs an attribute and a value")
    attribute = text[opening + 1 : comma].strip()
    prefixed = any(attribute.startswith(prefix) and attribute != prefix for prefix in prefixes)
    if attribute not in attributes and not prefixed:
        raise InvalidFilter(
            f"unsupported filter attribute {attribute!r}; use one of "
            + ", ".join([*attributes, *(f"{prefix}<key>" for prefix in prefixes)])
        )
    values: list[str] = []
    position = comma
    while text[position] == ",":
        value, position = _parse_value(text, position + 1)
        values.append(value)
        if position == len(text):
            raise InvalidFilter(f"malformed filter: {operator}({attribute},...) is missing ')'")
    if operator != IN and len(values) != 1:
        raise InvalidFilter(f"{operator} takes exactly one value; use in for several")
    # No database can compare against these (PostgreSQL refuses NUL), so no row holds them.
    if not all(is_storable(value) for value in values):
        raise InvalidFilter(
            f"a value of {operator}({attribute},...) holds a NUL character or a lone surrogate, "
            "which no product can hold; remove it"
        )
    column = attributes.get(attribute, attribute)
    return FilterTerm(operator, column, tuple(values)), position + 1


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position] == " ":
        position += 1
    return position


def _parse_value(text: str, start: int) -> tuple[str, int]:
    """One value and the position of the `,` or `)` after it; quoted values may hold anything."""
    position = _skip_spaces(text, start)
    if position < len(text) and text[position] == _QUOTE:
        chars: list[str] = []
        position += 1
        while position < len(text) and text[position] != _QUOTE:
            if text[position] == "\\" and position + 1 < len(text):
                position += 1
            chars.append(text[position])
            position += 1
        if position == len(text):
            raise InvalidFilter(
                f"malformed filter: a quoted value at character {start + 1} never ends"
            )
        position = _skip_spaces(text, position + 1)
        if position < len(text) and text[position] not in ",)":
            raise InvalidFilter(
                f"malformed filter at character {position + 1}: "
                "expected ',' or ')' after a quoted value"
            )
        return "".join(chars), position
    end = position
    while end < len(text) and text[end] not in ",)":
        end += 1
    value = text[position:end].strip()
    if not value or _QUOTE in value:
        raise InvalidFilter(
            f"malformed filter at character {start + 1}: expected a value "
            '(quote it with " if it holds a comma, a parenthesis or a quote)'
        )
    return value, end
