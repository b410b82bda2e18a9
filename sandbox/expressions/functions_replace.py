"""Provides Replace, with its five modes chosen by which arguments are given, and .NET regexes.

Entra docs, Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
replacementAttributeName, template) — case-sensitive; the mode depends on the parameters provided:

1. oldValue + replacementValue: replace every oldValue in source;
2. oldValue + template: replace every oldValue in template with source;
3. regexPattern + replacementValue: regex replace, ``${group}`` references allowed;
4. regexPattern + regexGroupName + replacementValue: replace only the named group's text;
5. regexPattern + regexGroupName + replacementAttributeName: source if it has a value, otherwise
   the named group extracted from the replacement attribute.

"Provided" means the argument slot is not empty, so the mode is fixed when the expression is
compiled, and an argument that evaluates to NULL does not switch modes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping

from sandbox.expressions.nodes import Call, Empty, StringLiteral
from sandbox.expressions.spec import Compiled, EvaluationContext, make_spec
from sandbox.expressions.values import ArgumentError, text, text_or_empty

PARAMS = (
    "source, oldValue?, regexPattern?, regexGroupName?, replacementValue?, "
    "replacementAttributeName?, template?"
)
_SOURCE, _OLD, _REGEX, _GROUP, _REPLACEMENT, _ATTRIBUTE, _TEMPLATE = range(7)
_NET_NAMED_GROUP = re.compile(r"\(\?(?:<(?![=!])(\w+)>|'(\w+)')")
_NET_BACKREF = re.compile(r"\\k<(\w+)>")
_NET_SUBSTITUTION = re.compile(r"\$(?:\{(\w+)\}|(\d+)|(\$)|(&))")


@functools.lru_cache(maxsize=512)
def compile_dotnet_regex(pattern: str) -> re.Pattern[str]:
    """Compile a .NET regular expression, translating ``(?<name>...)`` and ``\\k<name>``."""
    translated = _NET_NAMED_GROUP.sub(lambda m: f"(?P<{m.group(1) or m.group(2)}>", pattern)
    translated = _NET_BACKREF.sub(lambda m: f"(?P={m.group(1)})", translated)
    return re.compile(translated)


def _expand(match: re.Match[str], template: str) -> str:
    """Expand a .NET replacement string: ``${name}``, ``$1``, ``$$``, ``$&``."""

    def one(sub: re.Match[str]) -> str:
        name, number, dollar, whole = sub.groups()
        if dollar:
            return "$"
        if whole:
            return match.group(0)
        key: str | int = name if name is not None else int(number)
        try:
            return match.group(key) or ""
        except IndexError:
            return sub.group(0)  # .NET leaves unknown references as written

    return _NET_SUBSTITUTION.sub(one, template)


def mode_of(call: Call) -> str | None:
    """Name the mode a Replace call uses from its non-empty slots, or None if none fits."""
    given = {i for i, arg in enumerate(call.args) if not isinstance(arg, Empty)}
    if _REGEX in given and _GROUP in given and _ATTRIBUTE in given:
        return "regex-group-attribute"
    if _REGEX in given and _GROUP in given and _REPLACEMENT in given:
        return "regex-group"
    if _REGEX in given and _REPLACEMENT in given:
        return "regex"
    if _OLD in given and _TEMPLATE in given:
        return "template"
    if _OLD in given and _REPLACEMENT in given:
        return "old-value"
    return None


def check(call: Call) -> None:
    """Refuse a Replace whose arguments fit none of the five modes, or a bad literal regex."""
    if mode_of(call) is None:
        raise ArgumentError(
            -1,
            "give oldValue with replacementValue or template, or regexPattern with "
            "replacementValue (and optionally regexGroupName), or regexPattern, regexGroupName "
            "and replacementAttributeName",
        )
    regex = call.args[_REGEX] if len(call.args) > _REGEX else None
    if isinstance(regex, StringLiteral):
        try:
            pattern = compile_dotnet_regex(regex.value)
        except re.error as exc:
            raise ArgumentError(_REGEX, f"is not a valid regular expression: {exc}") from None
        group = call.args[_GROUP] if len(call.args) > _GROUP else None
        if isinstance(group, StringLiteral) and group.value not in pattern.groupindex:
            raise ArgumentError(_GROUP, f"names no group of the pattern: {group.value!r}")


def _regex(value: object) -> re.Pattern[str]:
    try:
        return compile_dotnet_regex(text_or_empty(value, _REGEX))
    except re.error as exc:
        raise ArgumentError(_REGEX, f"is not a valid regular expression: {exc}") from None


def compile_hook(call: Call, fns: list[Compiled]) -> Compiled:
    """Build the closure for the mode the call's slots select."""
    mode = mode_of(call)
    f = fns + [fns[0]] * (7 - len(fns))  # padding is never called: the mode ignores those slots
    source_fn = f[_SOURCE]

    def arg(index: int) -> Callable[[Mapping[str, object], EvaluationContext], object]:
        return f[index]

    if mode == "old-value":
        old_fn, new_fn = arg(_OLD), arg(_REPLACEMENT)

        def run(src: Mapping[str, object], ctx: EvaluationContext) -> object:
            source = text(source_fn(src, ctx), _SOURCE)
            old = text_or_empty(old_fn(src, ctx), _OLD)
            if not old:
                raise ArgumentError(_OLD, "must not be empty")
            return None if source is None else source.replace(old, text_or_empty(new_fn(src, ctx)))

    elif mode == "template":
        old_fn, template_fn = arg(_OLD), arg(_TEMPLATE)

        def run(src: Mapping[str, object], ctx: EvaluationContext) -> object:
            source = text(source_fn(src, ctx), _SOURCE)
            old = text_or_empty(old_fn(src, ctx), _OLD)
            if not old:
                raise ArgumentError(_OLD, "must not be empty")
            template = text_or_empty(template_fn(src, ctx), _TEMPLATE)
            return None if source is None else template.replace(old, source)

    elif mode == "regex":
        regex_fn, new_fn = arg(_REGEX), arg(_REPLACEMENT)

        def run(src: Mapping[str, object], ctx: EvaluationContext) -> object:
            source = text(source_fn(src, ctx), _SOURCE)
            pattern = _regex(regex_fn(src, ctx))
            replacement = text_or_empty(new_fn(src, ctx), _REPLACEMENT)
            if source is None:
                return None
            return pattern.sub(lambda m: _expand(m, replacement), source)

    elif mode == "regex-group":
        regex_fn, group_fn, new_fn = arg(_REGEX), arg(_GROUP), arg(_REPLACEMENT)

        def run(src: Mapping[str, object], ctx: EvaluationContext) -> object:
            source = text(source_fn(src, ctx), _SOURCE)
            pattern = _regex(regex_fn(src, ctx))
            group = _group(pattern, group_fn(src, ctx))
            replacement = text_or_empty(new_fn(src, ctx), _REPLACEMENT)
            if source is None:
                return None

            def swap(m: re.Match[str]) -> str:
                begin, end = m.span(group)
                if begin < 0:
                    return m.group(0)
                whole, offset = m.group(0), m.start()
                return whole[: begin - offset] + replacement + whole[end - offset :]

            return pattern.sub(swap, source)

    else:  # regex-group-attribute
        regex_fn, group_fn, attribute_fn = arg(_REGEX), arg(_GROUP), arg(_ATTRIBUTE)

        def run(src: Mapping[str, object], ctx: EvaluationContext) -> object:
            source = text(source_fn(src, ctx), _SOURCE)
            if source:
                return source
            pattern = _regex(regex_fn(src, ctx))
            group = _group(pattern, group_fn(src, ctx))
            other = text(attribute_fn(src, ctx), _ATTRIBUTE)
            match = pattern.search(other) if other else None
            return match.group(group) if match and match.group(group) is not None else None

    return run


def _group(pattern: re.Pattern[str], value: object) -> str:
    name = text_or_empty(value, _GROUP)
    if name not in pattern.groupindex:
        raise ArgumentError(_GROUP, f"names no group of the pattern: {name!r}")
    return name


SPECS = (
    make_spec(
        "Replace",
        PARAMS,
        "Replace text or regex matches in source; five modes chosen by the arguments given.",
        compile_hook=compile_hook,
        check=check,
        min_args=2,
        example='Replace("john.doe@contoso.com", "@contoso.com", , , "", , ) -> john.doe',
    ),
)
