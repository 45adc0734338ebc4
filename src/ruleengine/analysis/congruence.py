"""Proving two versions' values equal by their shared structure.

Two versions that differ in a few table cells or rules give terms that are
mostly the same z3 objects (z3 shares equal subterms). Walking both terms
together, the places where they differ are small; if each one is proved equal
under the conditions of the `if`s above it, the whole values are equal
(congruence). This settles most fields at once, where one big query on the
whole value could time out (non-linear arithmetic around a changed cell).
"""

from __future__ import annotations

import z3

from .values import AND, NOT, TRUE, GList, GMap, Opt, Rec, Table, Term, Val


class Congruence:
    def __init__(self, constraints: list[Term], timeout_ms: int = 2000):
        self.solver = z3.Solver()
        self.solver.set("timeout", timeout_ms)
        self.solver.add(*constraints)
        self._memo: dict[tuple[int, int, int], bool] = {}

    def values(self, a: Val | None, b: Val | None, path: Term = TRUE) -> bool:
        if a is None or b is None:
            return a is None and b is None
        if isinstance(a, Opt) and isinstance(b, Opt):
            return self.values(a.present, b.present, path) and self.values(a.value, b.value, path)
        if isinstance(a, Rec) and isinstance(b, Rec):
            return a.fields.keys() == b.fields.keys() and all(
                self.values(v, b.fields[k], path) for k, v in a.fields.items()
            )
        if isinstance(a, GList) and isinstance(b, GList):
            return (
                len(a.items) == len(b.items)
                and a.is_set == b.is_set
                and all(
                    self.values(ga, gb, path) and self.values(va, vb, path)
                    for (ga, va), (gb, vb) in zip(a.items, b.items, strict=True)
                )
            )
        if isinstance(a, GMap) and isinstance(b, GMap):
            return len(a.entries) == len(b.entries) and all(
                all(self.values(x, y, path) for x, y in zip(ea, eb, strict=True))
                for ea, eb in zip(a.entries, b.entries, strict=True)
            )
        if isinstance(a, Table) or isinstance(b, Table):
            return a is b
        if isinstance(a, (Opt, Rec, GList, GMap)) or isinstance(b, (Opt, Rec, GList, GMap)):
            return False
        return self.terms(a, b, path)

    def terms(self, a: Term, b: Term, path: Term) -> bool:
        if a.eq(b):
            return True
        key = (a.get_id(), b.get_id(), path.get_id())
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._terms(a, b, path)
        return found

    def _terms(self, a: Term, b: Term, path: Term) -> bool:
        if (
            z3.is_app(a)
            and z3.is_app(b)
            and a.num_args() == b.num_args() > 0
            and a.decl().eq(b.decl())
        ):
            if z3.is_app_of(a, z3.Z3_OP_ITE):
                c = a.arg(0)
                return (
                    self.terms(c, b.arg(0), path)
                    and self.terms(a.arg(1), b.arg(1), AND(path, c))
                    and self.terms(a.arg(2), b.arg(2), AND(path, NOT(c)))
                )
            if all(self.terms(x, y, path) for x, y in zip(a.children(), b.children(), strict=True)):
                return True
        return self.proved_equal(a, b, path)

    def proved_equal(self, a: Term, b: Term, path: Term) -> bool:
        if a.sort() != b.sort():
            return False
        self.solver.push()
        try:
            self.solver.add(path, a != b)
            return bool(self.solver.check() == z3.unsat)
        finally:
            self.solver.pop()
