"""Fit the FEEDS edge scorer on the dev labels and write the weights shipped in the package.

    python scripts/fit_edge_scorer.py [--labels PATH] [--embedder minilm|hashing] [--out PATH] [--check]

Builds one graph per labelled set with the unfitted evidence rule and `--edge-scorer off` (the same code
as ``bench/graph_eval_dev.py``), fits `toolflow.engine.graph.crossval.fit_calibrator` on all sets and
writes `engine/graph/edge_scorer.json` (weights, cut, the sets it saw, and the pooled leave-one-set-out
score of the same fit against the rule alone). Rerunnable: the same labels give the same file.
``--check`` writes nothing and exits 1 when the shipped file differs from a fresh fit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from graph_eval_dev import DATA, run  # noqa: E402
from rich.console import Console  # noqa: E402

from toolflow.engine.graph.crossval import fit_calibrator, leave_one_set_out, pooled  # noqa: E402
from toolflow.engine.graph.evaluate import score_set  # noqa: E402

OUT = ROOT / "engine" / "graph" / "edge_scorer.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=DATA / "flows_dev.json")
    ap.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    console = Console(width=120)
    _, _, graphs = run(args.labels, "evidence", False, args.embedder, console, edge_scorer="off")
    cal = fit_calibrator(list(graphs.values()))
    rule = pooled([score_set(k, g.labels, g.tools, g.edges) for k, g in graphs.items()])
    loso = pooled(leave_one_set_out(graphs))
    cal.fitted_on = sorted(graphs)
    cal.loso = {"precision": round(loso.precision, 4), "recall": round(loso.recall, 4),
                "rule_precision": round(rule.precision, 4), "rule_recall": round(rule.recall, 4)}
    cal.coef = [round(c, 6) for c in cal.coef]
    cal.intercept, cal.cut = round(cal.intercept, 6), round(cal.cut, 6)
    text = json.dumps(cal.model_dump(), indent=1) + "\n"
    console.print(f"pooled LOSO P {loso.precision:.3f} R {loso.recall:.3f}  (rule alone P {rule.precision:.3f} "
                  f"R {rule.recall:.3f}); cut {cal.cut:.4f}")
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        console.print("shipped weights are current" if same else f"{args.out} differs from a fresh fit")
        return 0 if same else 1
    tmp = args.out.with_suffix(".json.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, args.out)
    console.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
