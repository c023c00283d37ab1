#!/usr/bin/env bash
# What compiling today's Python core buys on the per-signal cost (the engine-contract issue's
# 8 µs target): copies this checkout's package three times, compiles the hot modules of one copy
# with Cython (unchanged .py files) and of another with mypyc (the modules mypyc accepts as they
# are), and alternates the three on benchmarks/compare/flipcost.py (CPU µs per signal).
# Needs a C compiler, Cython (`pip install cython`) and mypy (a dev dependency). Not a test.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-3}
BARS=${BARS:-200000}
python -c "import Cython, mypyc" 2>/dev/null || { echo "needs Cython and mypy: pip install cython mypy" >&2; exit 2; }
WORK=$(mktemp -d /tmp/papertape-compiled.XXXX)
trap 'rm -rf "$WORK"' EXIT
# Every module a signal passes through (Cython compiles them all as they are)
CYTHON_MODS="engine/pipeline/orders engine/pipeline/booking engine/pipeline/replay engine/pipeline/marking
engine/pipeline/guard engine/execution/simulator engine/execution/fees engine/execution/slippage
engine/execution/account engine/execution/orders engine/execution/book_fills engine/portfolio
engine/journal/jsonl engine/journal/writer engine/delivery engine/loop"
# mypyc: the same minus the pipeline mixins and the values (its native classes cannot be mixins
# of an interpreted class, nor keep the frozen dataclasses' exec-built constructors)
MYPYC_MODS="engine/execution/simulator engine/execution/fees engine/execution/slippage
engine/execution/account engine/portfolio engine/journal/jsonl engine/delivery"
for side in pure cython mypyc; do
  mkdir -p "$WORK/$side" && cp -r "$ROOT/papertape" "$ROOT/pyproject.toml" "$WORK/$side/"  # mypy settings (pydantic plugin)
  find "$WORK/$side" -name "*.so" -delete
done
build() {  # side, python snippet making ext_modules from the list in $MODS
  (cd "$WORK/$1" && MODS="$2" python - >"$WORK/$1.log" 2>&1 <<PY
import os
from setuptools import setup
mods = [f"papertape/{m}.py" for m in os.environ["MODS"].split()]
$3
setup(ext_modules=ext, script_args=["build_ext", "--inplace"])
PY
  ) || { echo "$1 build failed: see $WORK/$1.log" >&2; tail -5 "$WORK/$1.log" >&2; exit 1; }
}
echo "building the Cython copy ..." >&2
build cython "$CYTHON_MODS" 'from Cython.Build import cythonize
ext = cythonize(mods, compiler_directives={"language_level": 3, "annotation_typing": False}, nthreads=2)'
echo "building the mypyc copy ..." >&2
build mypyc "$MYPYC_MODS" 'from mypyc.build import mypycify
ext = mypycify(mods)'
out="$WORK/results.jsonl"
for round in $(seq "$ROUNDS"); do
  for side in pure cython mypyc; do
    for j in on off; do
      r=$(cd /tmp && PYTHONPATH="$WORK/$side" python "$HERE/flipcost.py" "$BARS" $j)
      echo "{\"side\":\"$side\",\"journal\":\"$j\",\"r\":$r}" >> "$out"
    done
  done
done
python - "$out" <<'PY'
import collections, json, sys
g = collections.defaultdict(list)
for line in open(sys.argv[1]):
    x = json.loads(line)
    g[(x["side"], x["journal"])].append(x["r"]["us_per_signal_cpu"])
print("CPU µs per signal (flip long/flat every bar), min-max over rounds")
for side in ("pure", "cython", "mypyc"):
    cells = [f"journal {j}: {min(g[(side, j)]):.2f}-{max(g[(side, j)]):.2f}" for j in ("on", "off")]
    print(f"  {side:7s} " + "   ".join(cells))
PY
