"""Every environment variable ToolFlow reads, declared once with what it means, and the one reader.

Modules read the environment through `env(name)` (the LLM settings read their whole ``TOOLFLOW_*`` family in
`LLMSettings.from_env`, given ``os.environ``); tests/unit/engine/test_env.py fails on a direct ``os.environ`` read
elsewhere, so a new variable is added here and documented in docs/api.md. Writes (``setdefault`` of a library's
own switch, e.g. Hugging Face's offline mode) are not reads and stay where they are needed.
"""

from __future__ import annotations

import os

#: name → meaning. Options and arguments given by a caller win over all of these.
ENV_VARS: dict[str, str] = {
    "TOOLFLOW_STORE": "The default graph store: a Bolt URI or a folder for the embedded store.",
    "TOOLFLOW_CACHE_DIR": "Embedding and LLM caches ('off' disables the LLM cache).",
    "NEO4J_USER": "Neo4j user when the URI names none (default neo4j).",
    "NEO4J_PASSWORD": "Neo4j password when the URI names none.",
    "NEO4J_DATABASE": "Neo4j database (default: the server's default).",
    "TOOLFLOW_PROMPTS_DIR": "A folder of prompt files replacing the shipped ones.",
    "TOOLFLOW_EMBED_BACKEND": "Embedding backend: onnx-int8 (default), onnx, or torch; part of the cache key.",
}

#: Families read by `LLMSettings.from_env` (engine/llm/settings.py): TOOLFLOW_<SETTING>,
#: TOOLFLOW_<ROLE>_<SETTING> and the OpenAI fallbacks.
ENV_FAMILIES: dict[str, str] = {
    "TOOLFLOW_": "LLM settings shared by every role (BASE_URL, MODEL, API_KEY, TEMPERATURE, MAX_TOKENS, TIMEOUT, "
                 "STRUCTURED_MODE, NATIVE_TOOLS, RESULT_ITEMS, RESULT_CHARS, BACKEND, CONCURRENCY, MAX_RETRIES, "
                 "MAX_REPAIRS); TOOLFLOW_<ROLE>_<SETTING> overrides one role's.",
    "OPENAI_": "OPENAI_BASE_URL and OPENAI_API_KEY: fallbacks for the shared endpoint and key.",
}


def env(name: str, default: str | None = None) -> str | None:
    """The value of the declared variable `name` (`default` when unset)."""
    if name not in ENV_VARS:
        raise KeyError(f"{name} is not declared in engine/env.py ENV_VARS")
    return os.environ.get(name, default)
