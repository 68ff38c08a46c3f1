"""How many passes over the state a year of the full accounts makes (issue [performance] item 1: ≤ 25 numpy passes
over the state a year, at any size): every numpy operation the blocked engine runs on a block is counted, and
those that read or write arrays of the block's size (cells × ages) are its passes over the state; the others work
on one number a cell.  ``benchmarks/bench_scaling.py`` prints what the passes cost in time.
"""
from __future__ import annotations

import numpy as np
import pytest

import pmq.model.engine as engine
from pmq.model.engine import Profiles, simulate
from test_engine_record import A, N, _inputs   # random stocks, hazards and flows of N years, A ages


class _Counted:
    """``numpy`` as the engine sees it, counting each call (ufuncs, their ``reduce``, and functions) while
    ``on``, by the largest array it reads or writes."""

    def __init__(self):
        self.on = False
        self.sizes: list[int] = []

    def _note(self, args, kwargs, result):
        if not self.on:
            return
        arrays = [a for a in (*args, *kwargs.values(), result) if isinstance(a, np.ndarray)]
        self.sizes.append(max((a.size for a in arrays), default=1))

    def __getattr__(self, name):
        real = getattr(np, name)
        if not callable(real) or isinstance(real, type):
            return real
        counter = self

        class Wrapped:
            def __call__(self, *args, **kwargs):
                result = real(*args, **kwargs)
                counter._note(args, kwargs, result)
                return result

            def __getattr__(self, attr):
                inner = getattr(real, attr)
                if attr in ("reduce", "accumulate", "outer", "at") and callable(inner):
                    def method(*args, **kwargs):
                        result = inner(*args, **kwargs)
                        counter._note(args, kwargs, result)
                        return result
                    return method
                return inner
        return Wrapped()


def _count(monkeypatch, cells, block):
    E0, h, nc, ye, nm, _ = _inputs(seed=1, cells=cells)
    counted = _Counted()
    real_block = engine._block_year
    blocks = []

    def block_year(*args):
        counted.on = True
        try:
            return real_block(*args)
        finally:
            counted.on = False
            blocks.append(args[3].size)            # X: the block's stock, cells × ages

    monkeypatch.setattr(engine, "np", counted)
    monkeypatch.setattr(engine, "_block_year", block_year)
    monkeypatch.setattr(engine, "FULL_BLOCK_CELLS", block)
    res = simulate(E0, h, nc, ye, nm, Profiles.from_spec(), record="full")
    monkeypatch.undo()
    ref = simulate(E0, h, nc, ye, nm, Profiles.from_spec(), record="full")
    for k in ref:                                    # counting changed nothing
        np.testing.assert_array_equal(res[k], ref[k])
    state = sum(blocks)                              # every cell × age, once a year
    assert state == N * int(np.prod(cells)) * A
    return counted.sizes, blocks


def _is_pass(size, blocks):
    """An operation over the ages of a block (more than three numbers a cell of the block: the three outflow
    shares of a cell are one call)."""
    return size > 3 * max(blocks) // A


@pytest.mark.parametrize("cells, block", [((13, 83), None), ((40, 83), 500), ((7, 11), 1)])
def test_a_year_of_the_full_accounts_is_at_most_25_passes_over_the_state(monkeypatch, cells, block):
    sizes, blocks = _count(monkeypatch, cells, block)
    n_cells = int(np.prod(cells))
    assert len(blocks) == N * -(-n_cells // (block or engine._block_cells(n_cells, A)))
    passes = [s for s in sizes if _is_pass(s, blocks)]
    # each pass reads or writes a whole block (one of them, the ageing shift, all of it but one value)
    assert all(s >= min(blocks) - 1 for s in passes)
    # passes a year: the operations over the ages of every block, over the state's size
    per_year = sum(passes) / (sum(blocks) / N) / N
    assert 15 <= per_year <= 25, per_year
    # everything else is a few dozen calls a block on a few numbers a cell (the cell's outflows, its shares, the
    # test for the capped removal): no hidden pass over the ages (a block of one cell sums its ages one by one, in
    # order, as the kernel does: 59 calls on one number for each of its two sums)
    assert len(sizes) - len(passes) <= (40 if min(blocks) > A else 40 + 2 * (A - 1)) * len(blocks)


def test_the_passes_a_year_are_the_same_at_every_size(monkeypatch):
    def per_year(k):
        sizes, blocks = _count(monkeypatch, (13 * k, 83), None)
        return sum(s for s in sizes if _is_pass(s, blocks)) / sum(blocks)
    assert per_year(1) == pytest.approx(per_year(8), rel=1e-3)
