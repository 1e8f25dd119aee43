"""Convert the shared dev data into `toolflow retrieve-eval` files ({"query", "relevant_tools"} per line).

    python scripts/retrieval_eval_data.py ../shared/data /tmp/retrieval_eval
    # → seal_tools_dev.jsonl (700 queries over the Seal-Tools pool, seal_tools_tools.jsonl)
    #   toolbench_examples.jsonl (10 queries over the ToolBench pool, toolbench_rapidapi_tools.jsonl.gz)

Seal-Tools: the relevant tools are the distinct `calling[].api` names, in call order. ToolBench: the
file's own `relevant_tools` (function names `<api>_for_<tool>`). The repo ships no data; outputs go where
you say.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def seal_tools(src: Path) -> list[dict]:
    rows = []
    for lineno, line in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        d = json.loads(line)
        apis = list(dict.fromkeys(c["api"] for c in d.get("calling") or []))
        if not apis:
            raise SystemExit(f"{src}:{lineno}: field calling: no api calls")
        rows.append({"id": d["id"], "query": d["query"], "relevant_tools": apis})
    return rows


def toolbench(src: Path) -> list[dict]:
    rows = []
    for line in src.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows.append({"id": d["id"], "query": d["query"], "relevant_tools": list(dict.fromkeys(d["relevant_tools"]))})
    return rows


def write(rows: list[dict], path: Path) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    multi = sum(len(r["relevant_tools"]) > 1 for r in rows)
    print(f"{path}: {len(rows)} queries ({multi} multi-tool)")


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: retrieval_eval_data.py SHARED_DATA_DIR OUT_DIR")
    data, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    write(seal_tools(data / "seal_tools_dev_examples.jsonl"), out / "seal_tools_dev.jsonl")
    write(toolbench(data / "toolbench_example_queries.jsonl"), out / "toolbench_examples.jsonl")


if __name__ == "__main__":
    main(sys.argv[1:])
