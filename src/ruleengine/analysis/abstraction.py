"""Non-linear arithmetic abstracted by uninterpreted functions.

`x * y` (neither a constant) and `x / y` (y not a constant) become `mul(x, y)`
and `div(x, y)`. Every real interpretation is one of the interpretations of the
abstraction, so "no difference under the abstraction" proves "no difference";
a difference found under it is only a candidate, decided by the engine.
"""

from __future__ import annotations

import z3

from .values import Term

_MUL = {
    "Int": z3.Function("mul_int", z3.IntSort(), z3.IntSort(), z3.IntSort()),
    "Real": z3.Function("mul_real", z3.RealSort(), z3.RealSort(), z3.RealSort()),
}
_DIV = z3.Function("div_real", z3.RealSort(), z3.RealSort(), z3.RealSort())


def _numeral(t: Term) -> bool:
    return bool(z3.is_int_value(t) or z3.is_rational_value(t))


def abstract(term: Term) -> Term:
    """The term with its non-linear products and quotients made uninterpreted."""
    memo: dict[int, Term] = {}

    def visit(t: Term) -> Term:
        key = t.get_id()
        found = memo.get(key)
        if found is not None:
            return found
        if not z3.is_app(t) or t.num_args() == 0:
            memo[key] = t
            return t
        args = [visit(a) for a in t.children()]
        kind = t.decl().kind()
        if kind == z3.Z3_OP_MUL and sum(not _numeral(a) for a in args) > 1:
            consts = [a for a in args if _numeral(a)]
            rest = [a for a in args if not _numeral(a)]
            fn = _MUL[str(t.sort())]
            result = rest[0]
            for a in rest[1:]:
                result = fn(result, a)
            for c in consts:
                result = c * result
        elif kind == z3.Z3_OP_DIV and not _numeral(args[1]):
            result = _DIV(args[0], args[1])
        elif any(not a.eq(b) for a, b in zip(args, t.children(), strict=True)):
            result = t.decl()(*args)
        else:
            result = t
        memo[key] = result
        return result

    return visit(term)
