"""The cheap `toolflow eval` metrics (no embedder, no judge) that a dataset card shows.

Computed from the dialogue records the export has already read (`synth.export.export` hands them over), so
the source file is read once; only the rejects file beside it is read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toolflow.engine.eval.metrics import distinct_n, entropy, user_messages
from toolflow.engine.eval.ours import ours_metrics
from toolflow.engine.jsonl import iter_records
from toolflow.engine.synth.jsonl import rejects_path_for

#: The fields of `OursMetrics` a card lists.
CARD_FIELDS = ("call_validity", "arg_sourced", "followup_grounded", "clarification_rate", "parallel_call_rate",
               "turns_per_dialogue", "tools_covered", "kept", "rejected", "reject_rate", "rejects_by_reason",
               "scenarios")


def dialogue_records(path: Path) -> list[dict[str, Any]]:
    """What export reads of a file (a torn last line skipped, the file untouched), with a message list."""
    if not path.is_file():
        return []
    return [d for d in iter_records(path, repair=False) if isinstance(d.get("messages"), list)]


def card_metrics(dialogues: Sequence[dict[str, Any]], src: Path) -> dict[str, Any]:
    """The card's metrics for `dialogues` (the records of `src`) and the rejects file beside `src`."""
    texts = [t for d in dialogues for t in user_messages(d)]
    ours = ours_metrics(dialogues, dialogue_records(rejects_path_for(src)))
    return {"entropy (H)": entropy(texts), "distinct-3": distinct_n(texts, 3),
            **{k: v for k, v in ours.model_dump().items() if k in CARD_FIELDS and v not in (None, {})}}
