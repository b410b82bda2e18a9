"""Provides the logic functions: IIF, Switch, Coalesce, CBool, Not, BitAnd, the Is* tests,
IgnoreFlowIfNullOrEmpty and SelectUniqueValue.

IIF, Switch, Coalesce and SelectUniqueValue are compiled specially: they evaluate only the
arguments they need, in order.
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.expressions.nodes import Call, StringLiteral, attributes
from sandbox.expressions.spec import Compiled, EvaluationContext, make_spec
from sandbox.expressions.values import (
    ArgumentError,
    IgnoreFlowSignal,
    bool_str,
    integer,
    is_null,
    is_null_or_empty,
    text,
    truth,
)


def _bit_and(ctx: EvaluationContext, first: object, second: object) -> int:
    return integer(first, 0) & integer(second, 1)


def _cbool(ctx: EvaluationContext, value: object) -> str:
    return bool_str(truth(value, 0))


def _is_null(ctx: EvaluationContext, value: object) -> str:
    return bool_str(is_null(value))


def _is_null_or_empty(ctx: EvaluationContext, value: object) -> str:
    return bool_str(is_null_or_empty(value))


def _is_present(ctx: EvaluationContext, value: object) -> str:
    return bool_str(not is_null_or_empty(value))


def _is_string(ctx: EvaluationContext, value: object) -> str:
    return bool_str(isinstance(value, str))


def _not(ctx: EvaluationContext, value: object) -> str:
    # Entra docs, Not: "If source value is True, returns False. Otherwise, returns True."
    flag = text(value, 0)
    return "False" if flag is not None and flag.strip().lower() == "true" else "True"


def _ignore_flow(ctx: EvaluationContext, value: object) -> object:
    # Entra docs, IgnoreFlowIfNullOrEmpty: drop the attribute from the flow if NULL or empty.
    if is_null_or_empty(value):
        raise IgnoreFlowSignal
    return value


def _iif_hook(call: Call, fns: list[Compiled]) -> Compiled:
    condition, if_true, if_false = fns
    # Entra docs, IIF known limitations: "If the source attribute used within the IIF function is
    # empty or null, the condition check fails" -- even inside IsPresent/IsNullOrEmpty.
    watched = tuple(dict.fromkeys(a.name for a in attributes(call.args[0])))
    keys = tuple((name.lower(), name) for name in watched)

    def iif(src: Mapping[str, object], ctx: EvaluationContext) -> object:
        for key, name in keys:
            if is_null_or_empty(src.get(key)):
                raise ArgumentError(
                    0,
                    f"refers to [{name}], which is null or empty, so Entra fails the condition "
                    f'check; test empty values with Switch instead (Switch([{name}], [{name}], "", '
                    '"Other"))',
                )
        chosen = if_true if truth(condition(src, ctx), 0) else if_false
        return chosen(src, ctx)

    return iif


def _iif_check(call: Call) -> None:
    first = call.args[0]
    if isinstance(first, Call) and first.name == "IgnoreFlowIfNullOrEmpty":
        # Entra docs, IgnoreFlowIfNullOrEmpty: "Don't use IgnoreFlowIfNullOrEmpty as the condition
        # argument to IIF"; wrap the whole IIF instead.
        raise ArgumentError(
            0,
            "cannot be IgnoreFlowIfNullOrEmpty, a flow-control wrapper rather than a condition; "
            "wrap the whole IIF instead: IgnoreFlowIfNullOrEmpty(IIF(...))",
        )


def _switch_check(call: Call) -> None:
    # Entra docs, Switch: "Key and value parameters must always come in pairs. The function always
    # expects an even number of parameters."
    if len(call.args) % 2:
        raise ArgumentError(
            -1,
            f"takes source, defaultValue and key/value pairs: an even number of arguments, "
            f"got {len(call.args)}",
        )


def _switch_hook(call: Call, fns: list[Compiled]) -> Compiled:
    source_fn, default_fn = fns[0], fns[1]
    keys, values = call.args[2::2], fns[3::2]

    def source_text(src: Mapping[str, object], ctx: EvaluationContext) -> str:
        value = source_fn(src, ctx)
        if value.__class__ is str:
            return value  # type: ignore[return-value]
        # A NULL source matches the key "" (Entra docs, Switch: use "" as a key, not IsNull).
        return text(value, 0) or ""

    literal_keys = [key for key in keys if isinstance(key, StringLiteral)]
    if len(literal_keys) == len(keys):
        table: dict[str, Compiled] = {}
        for key, value_fn in zip(literal_keys, values, strict=True):
            table.setdefault(key.value, value_fn)  # the first matching pair wins

        def switch(src: Mapping[str, object], ctx: EvaluationContext) -> object:
            # Case-sensitive exact match (Entra docs, Switch note).
            return table.get(source_text(src, ctx), default_fn)(src, ctx)

        return switch

    key_fns = fns[2::2]

    def switch_general(src: Mapping[str, object], ctx: EvaluationContext) -> object:
        wanted = source_text(src, ctx)
        for key_fn, value_fn in zip(key_fns, values, strict=True):
            if (text(key_fn(src, ctx)) or "") == wanted:
                return value_fn(src, ctx)
        return default_fn(src, ctx)

    return switch_general


def _coalesce_hook(call: Call, fns: list[Compiled]) -> Compiled:
    *sources, last = fns

    def coalesce(src: Mapping[str, object], ctx: EvaluationContext) -> object:
        # Entra docs, Coalesce: the first source that isn't NULL, else defaultValue (the last
        # argument), else NULL. Empty strings count as NULL: the directory stores no "".
        for fn in sources:
            value = fn(src, ctx)
            if not is_null_or_empty(value):
                return value
        return last(src, ctx)

    return coalesce


def _select_unique_check(call: Call) -> None:
    for arg in call.args:
        if isinstance(arg, Call) and arg.name == "SelectUniqueValue":
            raise ArgumentError(-1, "cannot be nested: it must be the whole expression")


def _select_unique_hook(call: Call, fns: list[Compiled]) -> Compiled:
    def select_unique(src: Mapping[str, object], ctx: EvaluationContext) -> object:
        # Entra docs, SelectUniqueValue: only Workday/SuccessFactors/API-driven provisioning to
        # on-premises AD support it; the sandbox needs a uniqueness probe in the context.
        if ctx.is_unique is None:
            raise ArgumentError(
                -1,
                "is only supported for provisioning to on-premises Active Directory, not for "
                "SCIM apps (no uniqueness check available)",
            )
        tried = []
        for fn in fns:
            value = text(fn(src, ctx))
            if value is None or value == "":
                continue
            if ctx.is_unique(value):
                return value
            tried.append(value)
        raise ArgumentError(-1, f"every generated value already exists ({', '.join(tried)})")

    return select_unique


SPECS = (
    make_spec("BitAnd", "value1, value2", "Bitwise AND of two numbers.", _bit_and,
              example="BitAnd(&HF, &HF7) -> 7"),
    make_spec("CBool", "expression", 'Read a condition or number as "True"/"False" (non-zero is True).',
              _cbool, example='CBool([attribute1] = [attribute2]) -> True'),
    make_spec("Coalesce", "source...",
              "The first source that isn't NULL; the last argument doubles as the default.",
              compile_hook=_coalesce_hook,
              example='Coalesce([mail], [userPrincipalName])'),
    make_spec("IgnoreFlowIfNullOrEmpty", "expression",
              "Drop the attribute from the flow when the expression is NULL or empty.",
              _ignore_flow, example="IgnoreFlowIfNullOrEmpty([department])"),
    make_spec("IIF", "condition, valueIfTrue, valueIfFalse",
              "valueIfTrue when the condition holds, else valueIfFalse; fails on null attributes.",
              compile_hook=_iif_hook, check=_iif_check,
              example='IIF([country]="USA", [country], [department])'),
    make_spec("IsNull", "expression", '"True" when the value is NULL (absent).', _is_null),
    make_spec("IsNullOrEmpty", "expression", '"True" when the value is NULL or "".',
              _is_null_or_empty),
    make_spec("IsPresent", "expression", '"True" when the value is neither NULL nor "".',
              _is_present),
    make_spec("IsString", "expression", '"True" when the value is a string.', _is_string),
    make_spec("Not", "source", 'Flip "True" and "False" (anything but True gives True).', _not,
              example='Not("True") -> False'),
    make_spec("SelectUniqueValue", "uniqueValueRule1, uniqueValueRule2...",
              "The first rule's value not yet in the target (AD only; not for SCIM apps).",
              compile_hook=_select_unique_hook, check=_select_unique_check, min_args=2),
    make_spec("Switch", "source, defaultValue?, key, value...",
              "The value paired with the key equal to source (case-sensitive), else defaultValue.",
              compile_hook=_switch_hook, check=_switch_check, min_args=4,
              example='Switch("QLD", "Australia/Sydney", "NSW", "Australia/Sydney", "QLD", '
                      '"Australia/Brisbane") -> Australia/Brisbane'),
)  # fmt: skip
