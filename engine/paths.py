"""Where ToolFlow keeps things on disk: one meaning for each environment variable.

``TOOLFLOW_CACHE_DIR`` is the cache *root* (default: the user cache dir); the embedding cache is
``<root>/embeddings.sqlite`` and the LLM response cache ``<root>/llm``. ``TOOLFLOW_STORE`` is the default
graph store (default: ``<user data dir>/graph``).
"""

from __future__ import annotations

from pathlib import Path

from toolflow.engine.env import env


def cache_root() -> Path:
    """``$TOOLFLOW_CACHE_DIR`` or the user cache dir."""
    raw = (env("TOOLFLOW_CACHE_DIR") or "").strip()
    if raw and raw.lower() not in ("off", "none", "0", "false"):
        return Path(raw).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("toolflow"))


def embedding_cache_path(root: Path | None = None) -> Path:
    return (root or cache_root()) / "embeddings.sqlite"


def llm_cache_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / "llm"


def default_store_path() -> Path:
    """The embedded graph lives under the user's data dir unless --store / TOOLFLOW_STORE says otherwise."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("toolflow")) / "graph"
