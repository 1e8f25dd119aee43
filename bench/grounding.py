"""Grounding figures of a dialogues file, by a definition independent of ToolFlow's own checks.

    python bench/grounding.py d.jsonl [--baseline d0.jsonl] [--json]

For the kept dialogues of each file (and its ``<stem>.rejects.jsonl`` beside it):

- sourced: the share of string argument values of 3+ characters (every leaf of every call's arguments)
  that appear, case-insensitively, in an earlier user message or tool result;
- follow-ups grounded: the share of plan follow-up turns that pass at least one value of an earlier tool
  result (a string of 3+ characters found case-insensitively, or a number found as a whole number);
- clarify: plan clarify turns per plan turn and per dialogue, and how many were played as a clarification
  (the assistant's first reply in the turn is text, the user answers, then the assistant calls);
- kept share: kept / (kept + rejected), and the rejection reasons by code.

With ``--baseline`` both files are measured in the same run and printed side by side.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

MIN_CHARS = 3


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a truncated last line of an interrupted run
    return out


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    return [value]


def call_args(call: dict[str, Any]) -> Any:
    try:
        return json.loads((call.get("function") or {}).get("arguments") or "{}")
    except ValueError:
        return {}


def in_text(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return len(value.strip()) >= MIN_CHARS and value.strip().casefold() in text.casefold()
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = str(int(value)) if float(value).is_integer() else str(value)
        return re.search(rf"(?<![\d.]){re.escape(shown)}(?![\d])", text) is not None
    return False


def sourced_counts(d: dict[str, Any]) -> tuple[int, int, list[str]]:
    """(sourced, total, unsourced values) over the string argument values of 3+ characters."""
    seen = ""
    sourced = total = 0
    bad = []
    for m in d.get("messages", []):
        if m.get("role") in ("user", "tool"):
            seen += "\n" + str(m.get("content") or "")
        for call in m.get("tool_calls") or []:
            for v in leaves(call_args(call)):
                if isinstance(v, str) and len(v.strip()) >= MIN_CHARS:
                    total += 1
                    if v.strip().casefold() in seen.casefold():
                        sourced += 1
                    else:
                        bad.append(f"{(call.get('function') or {}).get('name')}={v!r}")
    return sourced, total, bad


def turn_windows(d: dict[str, Any]) -> list[tuple[dict[str, Any], int, int]]:
    plan = d.get("plan") or {}
    turns = plan.get("turns") or []
    out = []
    for entry in (d.get("meta") or {}).get("turns") or []:
        i = entry.get("plan_turn")
        if i is not None and i < len(turns) and entry.get("start") is not None and entry.get("end") is not None:
            out.append((turns[i], entry["start"], entry["end"]))
    return out


def follow_up_counts(d: dict[str, Any]) -> tuple[int, int]:
    msgs = d.get("messages", [])
    grounded = total = 0
    for turn, start, end in turn_windows(d):
        if turn.get("kind") != "follow_up":
            continue
        total += 1
        earlier = "\n".join(str(m.get("content") or "") for m in msgs[:start] if m.get("role") == "tool")
        values = [v for m in msgs[start:end] for c in m.get("tool_calls") or [] for v in leaves(call_args(c))]
        grounded += any(in_text(v, earlier) for v in values)
    return grounded, total


def clarify_counts(d: dict[str, Any]) -> tuple[int, int, int]:
    """(planned clarify turns, of them played as a clarification, plan turns)."""
    msgs = d.get("messages", [])
    planned = played = 0
    for turn, start, end in turn_windows(d):
        if turn.get("kind") != "clarify":
            continue
        planned += 1
        window = [m for m in msgs[start:end] if m.get("role") in ("user", "assistant")]
        roles = [(m["role"], bool(m.get("tool_calls"))) for m in window]
        # user asks, assistant answers in words, user answers, assistant calls
        if len(roles) >= 4 and roles[1] == ("assistant", False) and roles[2][0] == "user" \
                and any(r == ("assistant", True) for r in roles[3:]):
            played += 1
    return planned, played, len((d.get("plan") or {}).get("turns") or [])


def measure(path: Path) -> dict[str, Any]:
    kept = read(path)
    rejected = read(path.with_name(path.stem + ".rejects.jsonl"))
    s = t = fg = ft = cp = cplayed = turns = dlg_with_clarify = 0
    unsourced: list[str] = []
    for d in kept:
        a, b, bad = sourced_counts(d)
        s, t = s + a, t + b
        unsourced += bad
        g, n = follow_up_counts(d)
        fg, ft = fg + g, ft + n
        p, pl, nt = clarify_counts(d)
        cp, cplayed, turns = cp + p, cplayed + pl, turns + nt
        dlg_with_clarify += p > 0
    reasons = Counter(c for d in rejected for c in {r.split(":", 1)[0] for r in (d.get("checks") or {}).get("failed") or []})
    finished = len(kept) + len(rejected)
    return {
        "file": str(path), "kept": len(kept), "rejected": len(rejected),
        "kept_share": round(len(kept) / finished, 3) if finished else None,
        "string_args": t, "string_args_sourced": s, "sourced_share": round(s / t, 3) if t else None,
        "follow_up_turns": ft, "follow_up_grounded": fg, "follow_up_share": round(fg / ft, 3) if ft else None,
        "plan_turns": turns, "clarify_planned": cp, "clarify_played": cplayed,
        "clarify_turn_share": round(cp / turns, 3) if turns else None,
        "dialogues_with_clarify": dlg_with_clarify,
        "rejection_reasons": dict(reasons.most_common()), "unsourced_examples": unsourced[:8],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dialogues", type=Path)
    ap.add_argument("--baseline", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [measure(args.baseline)] if args.baseline else []
    rows.append(measure(args.dialogues))
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    keys = ["kept", "rejected", "kept_share", "string_args", "sourced_share", "follow_up_turns", "follow_up_share",
            "plan_turns", "clarify_planned", "clarify_played", "clarify_turn_share", "dialogues_with_clarify"]
    print(f"{'':24}" + "".join(f"{Path(r['file']).name:>28}" for r in rows))
    for k in keys:
        print(f"{k:24}" + "".join(f"{str(r[k]):>28}" for r in rows))
    for r in rows:
        print(f"{Path(r['file']).name}: rejected by {r['rejection_reasons']}; unsourced e.g. {r['unsourced_examples']}")


if __name__ == "__main__":
    main()
