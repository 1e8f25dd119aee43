"""The ablation plot: one panel per metric, one bar per setting, the paper's values as black ticks.

Headless (Agg backend), PNG; for people who would rather look than read the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def plot_ablation(
    rows: Sequence[Mapping[str, object]],
    metrics: Sequence[tuple[str, str]],
    out: Path,
    paper: Mapping[str, Mapping[str, float]] | None = None,
) -> Path:
    """Draw `metrics` ((key, label) pairs) for each row ({"key", "label", <metric key>: value}) into `out`.

    Missing values (None) leave the bar out; `paper` maps a row key to its published values (same units).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 4
    nrows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.8 * nrows), squeeze=False)
    colors = ["#1b6ca8", "#5aa469", "#f2a154", "#d35d6e", "#8e7dbe", "#888888"]
    labels = [str(r["label"]) for r in rows]
    for ax, (key, title) in zip(axes.flat, metrics, strict=False):
        values = [r.get(key) for r in rows]
        for i, v in enumerate(values):
            if isinstance(v, int | float):
                ax.bar(i, float(v), color=colors[i % len(colors)])
                ax.annotate(f"{v:.3g}", (i, float(v)), ha="center", va="bottom", fontsize=7)
            published = (paper or {}).get(str(rows[i]["key"]), {}).get(key)
            if published is not None:
                ax.hlines(published, i - 0.4, i + 0.4, colors="black", linewidth=2)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle("ToolFlow ablation (bars: this run; black ticks: the paper)", fontsize=11)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
