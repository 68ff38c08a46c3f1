"""Are two pmq trees' projections the same to the bit?  The check every performance change makes.

    python benchmarks/fingerprint.py                    # this tree: one line per built-in scenario
    python benchmarks/fingerprint.py --against SRC      # this tree and SRC (e.g. ``git archive`` of main):
                                                        # exit 1 and the scenarios that differ, if any

Each line hashes (SHA-256) the accounts of a built-in scenario projected 20 years on the embedded baseline —
every variable, every cell, in bytes — and its horizon sums (``Projection.horizons()``), then an ensemble of
``reference_incertain`` (120 draws, 20 years).  Each tree runs in its own process (``PYTHONPATH=<tree>``).

Hashes of bytes are for comparing two trees on the same machine with the same libraries: a new numpy may
change the last bits of a sum, so no test stores them (the tests compare numbers with stated tolerances).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import hashlib
import numpy as np
import pmq
from pmq.projection.ensemble import run_ensemble
from pmq.scenario.read import builtin_scenarios

b = pmq.load_baseline()
for name in builtin_scenarios():
    p = pmq.project(b, name, horizon=20)
    h = hashlib.sha256()
    for k in sorted(p.accounts.data_vars):
        h.update(k.encode())
        h.update(np.ascontiguousarray(p.accounts[k].values).tobytes())
    hs = p.horizons()
    for k in sorted(hs.data_vars):
        h.update(np.ascontiguousarray(hs[k].values).tobytes())
    print(name, h.hexdigest()[:20], flush=True)
ens = run_ensemble("reference_incertain", b, draws=120, horizon=20)
h = hashlib.sha256()
for k in sorted(ens.flows.data_vars):
    h.update(np.ascontiguousarray(ens.flows[k].values).tobytes())
print("ensemble:reference_incertain:120", h.hexdigest()[:20], flush=True)
"""


def fingerprints(tree: Path) -> dict[str, str]:
    """``{scenario: hash}`` of ``tree``'s projections, computed in a child process importing ``tree``'s pmq."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=tree.parent, capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", type=Path, default=None, metavar="SRC", help="another tree to compare with")
    args = ap.parse_args(argv)
    mine = fingerprints(ROOT)
    if args.against is None:
        for name, h in mine.items():
            print(f"{name:40} {h}")
        return 0
    other = fingerprints(args.against.resolve())
    differ = sorted(n for n in mine.keys() | other.keys() if mine.get(n) != other.get(n))
    for name in sorted(mine.keys() | other.keys()):
        print(f"{name:40} {other.get(name, '-'):22} {mine.get(name, '-'):22} {'DIFFERS' if name in differ else 'same'}")
    print(f"{len(mine) - len(differ)} of {len(mine | other)} identical to the bit")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
