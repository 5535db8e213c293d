"""The rules of a product's structured attributes: custom inputs, build rules, bundle components
and shopper or admin attributes, in the shapes of Elastic Path's product schema.

Each normalizer takes the value as sent (parsed JSON) and returns it as stored, which is what
reads back: keys are kept as given, nothing is added. A part of the wrong shape is refused
with the path to it (`components.games.options[0].quantity`), never silently dropped. Whether
a bundle's option products exist is a question for the database (`writes`), not for these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pxm_jobs.catalog.products.rule_basics import (
    INVALID_VALUE,
    TOO_LONG,
    TOO_MANY,
    ProductLimits,
    RuleViolation,
    check_storable,
)

NAME_MAX_CHARS: Final = 255
# EP's limit on a custom input's text, and so on its `max_length`.
CUSTOM_INPUT_MAX_LENGTH: Final = 255
CUSTOM_INPUTS_MAX: Final = 100
# EP: "You cannot have more than 1500 options in a bundle."
BUNDLE_OPTIONS_MAX: Final = 1500
# EP: "You can have up to 100 keys for each type of attribute."
TEXT_ATTRIBUTES_MAX_KEYS: Final = 100
TEXT_ATTRIBUTE_KEY_MAX_CHARS: Final = 255
TEXT_ATTRIBUTE_VALUE_MAX_CHARS: Final = 1024
BUILD_RULE_DEFAULTS: Final = ("include", "exclude")
SORT_ORDER_MIN: Final = -(2**31)
SORT_ORDER_MAX: Final = 2**31 - 1

_CUSTOM_INPUT_KEYS: Final = frozenset(
    {"name", "validation_rules", "required", "type", "options", "max_length"}
)
_VALIDATION_RULE_KEYS: Final = frozenset({"type", "options"})
_VALIDATION_TYPES: Final = ("string",)
_BUILD_RULE_KEYS: Final = frozenset({"default", "include", "exclude"})
_COMPONENT_KEYS: Final = frozenset({"name", "options", "min", "max", "sort_order"})
_OPTION_KEYS: Final = frozenset({"id", "type", "quantity", "sort_order", "default"})


def _refuse(path: str, message: str, code: str = INVALID_VALUE) -> RuleViolation:
    return RuleViolation(code, f"{path} {message}")


def _object(path: str, value: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _refuse(path, "must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _refuse(
            f"{path}.{unknown[0]}", "is not a known key; use " + ", ".join(sorted(allowed))
        )
    return value


def _name(path: str, value: Any, *, max_chars: int = NAME_MAX_CHARS) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _refuse(path, "must be a non-empty text")
    if len(value) > max_chars:
        raise _refuse(path, f"must be at most {max_chars} characters", TOO_LONG)
    return check_storable(value)


def _text(path: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _refuse(path, "must be text")
    return check_storable(value)


def _whole(path: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(path, "must be a whole number")
    if not low <= value <= high:
        raise _refuse(path, f"must be between {low} and {high}")
    return value


def _flag(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _refuse(path, "must be true or false")
    return value


def _keys(path: str, value: Any, limit: int) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _refuse(path, "must be an object")
    if len(value) > limit:
        raise _refuse(path, f"may have at most {limit} keys, not {len(value)}", TOO_MANY)
    for key in value:
        _name(f"{path} key", key)
    return value


def normalize_custom_inputs(value: Any, _limits: ProductLimits) -> dict[str, Any]:
    """`{"front": {"name", "validation_rules": [{"type": "string", "options": {...}}],
    "required"}}`: what shoppers may type in for the product."""
    inputs = _keys("custom_inputs", value, CUSTOM_INPUTS_MAX)
    for key, spec in inputs.items():
        path = f"custom_inputs.{key}"
        fields = _object(path, spec, _CUSTOM_INPUT_KEYS)
        if "name" in fields:
            _name(f"{path}.name", fields["name"])
        if "required" in fields:
            _flag(f"{path}.required", fields["required"])
        if "type" in fields:
            _text(f"{path}.type", fields["type"])
        if "max_length" in fields:
            _whole(f"{path}.max_length", fields["max_length"], 1, CUSTOM_INPUT_MAX_LENGTH)
        if "options" in fields:
            _input_options(f"{path}.options", fields["options"])
        rules = fields.get("validation_rules", [])
        if not isinstance(rules, list):
            raise _refuse(f"{path}.validation_rules", "must be a list")
        for index, rule in enumerate(rules):
            rule_path = f"{path}.validation_rules[{index}]"
            checked = _object(rule_path, rule, _VALIDATION_RULE_KEYS)
            if checked.get("type") not in _VALIDATION_TYPES:
                raise _refuse(f"{rule_path}.type", "must be string")
            if "options" in checked:
                _input_options(f"{rule_path}.options", checked["options"])
    return dict(inputs)


def _input_options(path: str, value: Any) -> None:
    options = _object(path, value, frozenset({"max_length"}))
    if "max_length" in options:
        _whole(f"{path}.max_length", options["max_length"], 1, CUSTOM_INPUT_MAX_LENGTH)


def normalize_build_rules(value: Any, _limits: ProductLimits) -> dict[str, Any]:
    """`{"default": "include"|"exclude", "include": [[option ids]], "exclude": [[...]]}`.

    Which variation each option belongs to is checked when children are built.
    """
    rules = _object("build_rules", value, _BUILD_RULE_KEYS)
    if rules.get("default") not in BUILD_RULE_DEFAULTS:
        raise _refuse("build_rules.default", "is required and must be include or exclude")
    for key in ("include", "exclude"):
        combinations = rules.get(key, [])
        if not isinstance(combinations, list):
            raise _refuse(f"build_rules.{key}", "must be a list of lists of option ids")
        for index, combination in enumerate(combinations):
            path = f"build_rules.{key}[{index}]"
            if not isinstance(combination, list) or not combination:
                raise _refuse(path, "must be a non-empty list of option ids")
            for position, option_id in enumerate(combination):
                _name(f"{path}[{position}]", option_id)
    return dict(rules)


def normalize_components(value: Any, _limits: ProductLimits) -> dict[str, Any]:
    """A bundle's components: `{"games": {"name", "min", "max", "sort_order", "options":
    [{"id", "type": "product", "quantity", "sort_order", "default"}]}}`."""
    components = _keys("components", value, BUNDLE_OPTIONS_MAX)
    options_count = 0
    for key, spec in components.items():
        path = f"components.{key}"
        fields = _object(path, spec, _COMPONENT_KEYS)
        if "name" in fields:
            _name(f"{path}.name", fields["name"])
        bounds = {}
        for bound in ("min", "max"):
            if fields.get(bound) is not None:
                bounds[bound] = _whole(f"{path}.{bound}", fields[bound], 0, BUNDLE_OPTIONS_MAX)
        if bounds.get("min", 0) > bounds.get("max", BUNDLE_OPTIONS_MAX):
            raise _refuse(f"{path}.min", "must not be greater than max")
        if "sort_order" in fields:
            _whole(f"{path}.sort_order", fields["sort_order"], SORT_ORDER_MIN, SORT_ORDER_MAX)
        options = fields.get("options")
        if not isinstance(options, list) or not options:
            raise _refuse(f"{path}.options", "must list at least one product option")
        for index, option in enumerate(options):
            _check_option(f"{path}.options[{index}]", option)
        options_count += len(options)
    if options_count > BUNDLE_OPTIONS_MAX:
        raise _refuse(
            "components",
            f"hold {options_count} options; a bundle may have at most {BUNDLE_OPTIONS_MAX}",
            TOO_MANY,
        )
    return dict(components)


def _check_option(path: str, option: Any) -> None:
    fields = _object(path, option, _OPTION_KEYS)
    _name(f"{path}.id", fields.get("id"))
    if fields.get("type", "product") != "product":
        raise _refuse(f"{path}.type", "must be product")
    if "quantity" in fields:
        _whole(f"{path}.quantity", fields["quantity"], 1, SORT_ORDER_MAX)
    if "sort_order" in fields:
        _whole(f"{path}.sort_order", fields["sort_order"], SORT_ORDER_MIN, SORT_ORDER_MAX)
    if "default" in fields:
        _flag(f"{path}.default", fields["default"])


def component_product_ids(components: Mapping[str, Any] | None) -> list[str]:
    """The products a bundle's options name, each once, in the order they first appear with
    components by name (PostgreSQL's JSONB keeps no key order, so the order sent is lost).
    """
    found: dict[str, None] = {}
    for _, spec in sorted((components or {}).items()):
        for option in spec.get("options") or ():
            found[option["id"]] = None
    return list(found)


def normalize_text_attributes(value: Any, _limits: ProductLimits) -> dict[str, str]:
    """Shopper or admin attributes: text keys to text values, at most 100 keys."""
    attributes = _keys("the attributes", value, TEXT_ATTRIBUTES_MAX_KEYS)
    for key, text in attributes.items():
        _name("an attribute key", key, max_chars=TEXT_ATTRIBUTE_KEY_MAX_CHARS)
        if not isinstance(text, str):
            raise _refuse(f"the value of {key!r}", "must be text")
        if len(text) > TEXT_ATTRIBUTE_VALUE_MAX_CHARS:
            raise _refuse(
                f"the value of {key!r}",
                f"must be at most {TEXT_ATTRIBUTE_VALUE_MAX_CHARS} characters",
                TOO_LONG,
            )
        check_storable(text)
    return dict(attributes)
