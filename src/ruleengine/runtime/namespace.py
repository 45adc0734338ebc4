"""`NAMESPACE`: the only names generated code sees (its globals; no builtins).

Expressions cannot name any of these: the generator writes every reference.
Names start with `_` so they never clash with generated names (see the table in
`compiler/__init__.py`). Constants of a version (`_k<n>`, tables `t_<name>`,
`_MESSAGE`, `_remedies`) are added next to these when its module is executed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .. import trace
from . import inputs, stdlib_impl
from .stdlib_impl import DECIMAL_CONTEXT

NO: Any = object()  # what an indexed rule returns when it did not fire


def copy_plain(value: Any) -> Any:
    """A copy of plain data (dicts, lists; scalars and frozensets are shared, being immutable)."""
    if type(value) is dict:
        return {k: copy_plain(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_plain(v) for v in value]
    return value


class Messages(dict[str, str]):
    """A locale's message of each reason code; a code without one reads as itself."""

    __slots__ = ()

    def __missing__(self, code: str) -> str:
        return code


def widen(value: Any) -> Any:
    """int -> Decimal, also inside lists (None and Decimals pass through)."""
    if type(value) is int:
        return Decimal(value)
    if type(value) is list:
        return [widen(v) for v in value]
    return value


NAMESPACE: dict[str, Any] = {
    "__builtins__": {},
    # the standard library (stdlib.BUILTINS emits calls to these)
    "_divide": stdlib_impl.divide,
    "_round_money": stdlib_impl.round_money,
    "_add_months": stdlib_impl.add_months,
    "_add_days": stdlib_impl.add_days,
    "_days": stdlib_impl.days,
    "_distinct": stdlib_impl.distinct,
    "_flatten": stdlib_impl.flatten,
    "_at": stdlib_impl.at,
    "_to_map": stdlib_impl.to_map,
    "_min_of": stdlib_impl.minimum,
    "_max_of": stdlib_impl.maximum,
    "_sum_decimal": stdlib_impl.sum_decimal,
    "_sum_int": stdlib_impl.sum_int,
    "_sorted": stdlib_impl.sorted_list,
    "_abs": stdlib_impl.absolute,
    "_mul": stdlib_impl.multiply,
    "_Decimal": Decimal,
    "_date": date,
    "_len": len,
    "_min": min,
    "_max": max,
    "_frozenset": frozenset,
    "_list": list,
    "_map": map,
    "_str": str,
    # decimal arithmetic: every operation in this one context
    "_ctx": DECIMAL_CONTEXT,
    "_MAX_DEC": Decimal(10) ** inputs.MAX_DECIMAL_DIGITS,
    # input validation
    "_FAIL": inputs.FAIL,
    "_problem": inputs.problem,
    "_to_decimal": inputs.to_decimal,
    "_to_date": inputs.to_date,
    "_DATES": inputs.DATE_CACHE,
    "_unknown_fields": inputs.unknown_fields,
    "_raise_input": inputs.raise_input,
    # tracing (traced code only)
    "_read": trace.read_value,
    "_read_key": trace.read_key,
    "_read_member": trace.read_member,
    "_read_rows": trace.read_rows,
    "_called": trace.called,
    # operators and sentinels
    "_MISSING": object(),
    "_coalesce": lambda value, default: value if value is not None else default(),
    "_or": lambda value, default: value if value is not None else default,
    "_safe_get": lambda record, name: None if record is None else record[name],
    "_copy_plain": copy_plain,
    "_widen": widen,
    "_NO": NO,
    # The few builtins generated code itself uses; expressions cannot name them.
    "type": type,
    "dict": dict,
    "list": list,
    "str": str,
    "int": int,
    "len": len,
    "enumerate": enumerate,
    "KeyError": KeyError,
    "bool": bool,
}
