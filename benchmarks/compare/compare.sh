#!/usr/bin/env bash
# Alternate two checkouts (3 rounds) on a quiet machine: bench 20/50, 10/30, per-signal cost.
set -u
BEFORE=${1:?usage: compare.sh BEFORE_CHECKOUT AFTER_CHECKOUT}; AFTER=${2:?}
HERE=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/papertape-compare.jsonl}; : > $out
for round in 1 2 3; do
  for side in before after; do
    if [ $side = before ]; then P=$BEFORE; else P=$AFTER; fi
    for args in "" "--fast 10 --slow 30"; do
      r=$(cd /tmp && PYTHONPATH=$P python -m papertape.engine.cli.main bench $args --json 2>/dev/null | python -c "import json,sys; print(json.dumps(json.load(sys.stdin)))")
      echo "{\"side\":\"$side\",\"round\":$round,\"args\":\"$args\",\"r\":$r}" >> $out
    done
    for j in on off; do
      r=$(cd /tmp && PYTHONPATH=$P python $HERE/flipcost.py 200000 $j 2>/dev/null)
      echo "{\"side\":\"$side\",\"round\":$round,\"args\":\"flip-journal-$j\",\"r\":$r}" >> $out
    done
  done
done
python - <<'PY'
import json, collections
rows=[json.loads(l) for l in open(__import__("os").environ.get("OUT","/tmp/papertape-compare.jsonl"))]
g=collections.defaultdict(list)
for x in rows:
    r=x["r"]
    if x["args"].startswith("flip"):
        g[(x["args"],x["side"])].append(r["us_per_signal_cpu"])
        g[(x["args"]+" wall",x["side"])].append(r["us_per_signal_wall"])
    else:
        g[(x["args"] or "20/50",x["side"])].append(round(r["bar_strategy_per_sec"]))
        g[((x["args"] or "20/50")+" ratio",x["side"])].append(r["ratio_to_bare_loop"])
        g[((x["args"] or "20/50")+" cpu bars/s",x["side"])].append(r.get("cpu_bar_strategy_per_sec"))
        g[((x["args"] or "20/50")+" rss",x["side"])].append(r["peak_rss_mb"])
for k in sorted({k[0] for k in g}):
    print(f"{k:28s} before {g[(k,'before')]}  after {g[(k,'after')]}")
PY
