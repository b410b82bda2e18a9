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

import regex

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

REGEX_TIME_LIMIT_S = 0.5
"""How long one regex match or replace may run before it fails. Microsoft documents no limit
for Entra's expressions; this is the sandbox's own guard, so a pattern that backtracks
catastrophically (`(a|aa)+$`) fails the one evaluation instead of hanging a cycle."""


@functools.lru_cache(maxsize=512)
def compile_dotnet_regex(pattern: str) -> regex.Pattern[str]:
    """Compile a .NET regular expression, translating ``(?<name>...)`` and ``\\k<name>``.
    Raises regex.error for a pattern it cannot compile."""
    translated = _NET_NAMED_GROUP.sub(lambda m: f"(?P<{m.group(1) or m.group(2)}>", pattern)
    translated = _NET_BACKREF.sub(lambda m: f"(?P={m.group(1)})", translated)
    return regex.compile(translated)


def _timed_out(pattern: regex.Pattern[str]) -> ArgumentError:
    return ArgumentError(
        _REGEX,
        f"took longer than {REGEX_TIME_LIMIT_S:g} s on this value (the pattern "
        f"{pattern.pattern!r} backtracks catastrophically; make its repetitions unambiguous)",
    )


def timed_sub(
    pattern: regex.Pattern[str], replace: Callable[[regex.Match[str]], str], source: str
) -> str:
    """pattern.sub within REGEX_TIME_LIMIT_S; ArgumentError past it."""
    try:
        return pattern.sub(replace, source, timeout=REGEX_TIME_LIMIT_S)
    except TimeoutError:
        raise _timed_out(pattern) from None


def timed_search(pattern: regex.Pattern[str], source: str) -> regex.Match[str] | None:
    """pattern.search within REGEX_TIME_LIMIT_S; ArgumentError past it."""
    try:
        return pattern.search(source, timeout=REGEX_TIME_LIMIT_S)
    except TimeoutError:
        raise _timed_out(pattern) from None


def _expand(match: regex.Match[str], template: str) -> str:
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
    literal = call.args[_REGEX] if len(call.args) > _REGEX else None
    if isinstance(literal, StringLiteral):
        try:
            pattern = compile_dotnet_regex(literal.value)
        except regex.error as exc:
            raise ArgumentError(_REGEX, f"is not a valid regular expression: {exc}") from None
        group = call.args[_GROUP] if len(call.args) > _GROUP else None
        if isinstance(group, StringLiteral) and group.value not in pattern.groupindex:
            raise ArgumentError(_GROUP, f"names no group of the pattern: {group.value!r}")


def _regex(value: object) -> regex.Pattern[str]:
    try:
        return compile_dotnet_regex(text_or_empty(value, _REGEX))
    except regex.error as exc:
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
            return timed_sub(pattern, lambda m: _expand(m, replacement), source)

    elif mode == "regex-group":
        regex_fn, group_fn, new_fn = arg(_REGEX), arg(_GROUP), arg(_REPLACEMENT)

        def run(src: Mapping[str, object], ctx: EvaluationContext) -> object:
            source = text(source_fn(src, ctx), _SOURCE)
            pattern = _regex(regex_fn(src, ctx))
            group = _group(pattern, group_fn(src, ctx))
            replacement = text_or_empty(new_fn(src, ctx), _REPLACEMENT)
            if source is None:
                return None

            def swap(m: regex.Match[str]) -> str:
                begin, end = m.span(group)
                if begin < 0:
                    return m.group(0)
                whole, offset = m.group(0), m.start()
                return whole[: begin - offset] + replacement + whole[end - offset :]

            return timed_sub(pattern, swap, source)

    else:  # regex-group-attribute
        regex_fn, group_fn, attribute_fn = arg(_REGEX), arg(_GROUP), arg(_ATTRIBUTE)

        def run(src: Mapping[str, object], ctx: EvaluationContext) -> object:
            source = text(source_fn(src, ctx), _SOURCE)
            if source:
                return source
            pattern = _regex(regex_fn(src, ctx))
            group = _group(pattern, group_fn(src, ctx))
            other = text(attribute_fn(src, ctx), _ATTRIBUTE)
            match = timed_search(pattern, other) if other else None
            return match.group(group) if match and match.group(group) is not None else None

    return run


def _group(pattern: regex.Pattern[str], value: object) -> str:
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
