"""JSON schemas as models read them: pydantic's output, compacted for prompts.

In JSON mode the schema travels in the system prompt, where every token costs prompt-eval time
(~80 tokens/s on the embedded model) and `$defs`/`$ref` indirection confuses small models (SmolLM2
copies "#/$defs/Step" into its answer). So prompts get a compact copy: references inlined, titles
dropped. Recursive models keep their `$ref` for the recursive part.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel


@functools.lru_cache(maxsize=512)
def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a pydantic model, generated once (it costs ~1 ms, more than our request path)."""
    return model.model_json_schema()


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with local `$ref`s inlined (except recursive ones), `$defs` and `title`s removed."""
    defs = schema.get("$defs", {})
    kept_defs: dict[str, Any] = {}

    def walk(node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(v, stack) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.split("/")[-1]
            if name in stack or name not in defs:  # recursion: keep the reference and its definition
                if name in defs and name not in kept_defs:
                    kept_defs[name] = {}
                    kept_defs[name] = walk(defs[name], (*stack, name))
                return {"$ref": ref}
            inlined = walk(defs[name], (*stack, name))
            extra = {k: walk(v, stack) for k, v in node.items() if k not in ("$ref", "title")}
            return {**inlined, **extra}
        out = {}
        for key, value in node.items():
            if key in ("$defs", "title"):
                continue
            if key == "properties" and isinstance(value, dict):  # property *names* may be "title"
                out[key] = {k: walk(v, stack) for k, v in value.items()}
            else:
                out[key] = walk(value, stack)
        return out

    result = walk(schema, ())
    if kept_defs:
        result["$defs"] = kept_defs
    return result


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(compact_schema(schema), ensure_ascii=False, separators=(",", ":"))
