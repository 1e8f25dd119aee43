"""One dialogue record → one row of a training format, with the loss mask in that format's convention.

Which messages a trainer learns from (``train_on``):

- ``assistant`` (default): every assistant message, the tool-calling ones and the text answers;
- ``last``: only the dialogue's last assistant message (the earlier turns are context).

How each format says it, in the convention its consumer reads:

- ``openai``: ``"weight": 1|0`` on every assistant message (OpenAI fine-tuning; axolotl's
  ``message_field_training_detail`` reads the same idea);
- ``trl``: TRL has no per-message flag: ``assistant`` rows are ``{"messages", "tools"}`` trained with
  ``SFTConfig(assistant_only_loss=True)``; ``last`` rows are TRL's prompt-completion shape
  (``{"prompt", "completion", "tools"}``), whose loss falls on the completion only;
- ``sharegpt``: LLaMA-Factory trains every gpt/function_call turn; ``last`` is its ``mask_history``
  option, written into the ``dataset_info.json`` entry beside the export;
- ``hf``: a ``train_mask`` column, one bool per message.
"""

from __future__ import annotations

import json
from typing import Any

from toolflow.engine.errors import InputError
from toolflow.engine.jsontext import loads_or_text

TRAIN_ON: tuple[str, ...] = ("assistant", "last")


class ExportError(ValueError, InputError):
    """A dialogue that cannot be expressed in the requested format."""


def train_mask(messages: list[dict[str, Any]], train_on: str = "assistant") -> list[bool]:
    """Per message: does the loss fall on it under `train_on`."""
    if train_on not in TRAIN_ON:
        raise ExportError(f"unknown --train-on {train_on!r}; use one of {TRAIN_ON}")
    assistant = [m.get("role") == "assistant" for m in messages]
    if train_on == "assistant":
        return assistant
    last = max((i for i, a in enumerate(assistant) if a), default=-1)
    return [i == last for i in range(len(messages))]


def call_arguments(call: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments as a JSON object (records store the OpenAI wire form, a JSON string)."""
    fn = call["function"]
    args = fn.get("arguments") or "{}"
    try:
        parsed = json.loads(args) if isinstance(args, str) else args
    except ValueError as exc:
        raise ExportError(f"arguments of {fn.get('name')} are not JSON") from exc
    if not isinstance(parsed, dict):
        raise ExportError(f"arguments of {fn.get('name')} are not a JSON object")
    return parsed


def to_openai(d: dict[str, Any], train_on: str = "assistant") -> dict[str, Any]:
    """Messages (assistant ones weighted), tools, and where every argument value came from
    (``provenance``, when recorded): trainers read the first two; the third lets a user audit calls."""
    mask = train_mask(d["messages"], train_on)
    messages = [{**m, "weight": int(keep)} if m.get("role") == "assistant" else m
                for m, keep in zip(d["messages"], mask, strict=True)]
    out = {"messages": messages, "tools": d["tools"]}
    provenance = (d.get("meta") or {}).get("provenance")
    if provenance is not None:
        out["provenance"] = provenance
    return out


def trl_message(m: dict[str, Any]) -> dict[str, Any]:
    """One message as TRL and Hugging Face chat templates read it: arguments as objects, tool messages
    with their call id and tool name, text content never null (several templates concatenate it)."""
    role = m.get("role")
    out: dict[str, Any] = {"role": role, "content": m.get("content") or ""}
    if role == "assistant" and m.get("tool_calls"):
        out["tool_calls"] = [{"id": c.get("id"), "type": "function",
                              "function": {"name": c["function"]["name"], "arguments": call_arguments(c)}}
                             for c in m["tool_calls"]]
    if role == "tool":
        out["tool_call_id"] = m.get("tool_call_id")
        out["name"] = m.get("name")
    return out


def to_trl(d: dict[str, Any], train_on: str = "assistant") -> dict[str, Any]:
    """TRL's conversational shape (``messages`` + ``tools``), or prompt-completion for ``last``."""
    messages = [trl_message(m) for m in d["messages"]]
    mask = train_mask(messages, train_on)
    if train_on == "assistant":
        return {"messages": messages, "tools": d["tools"]}
    if True not in mask:
        raise ExportError("no assistant message to train on")
    cut = mask.index(True)
    return {"prompt": messages[:cut], "completion": messages[cut:], "tools": d["tools"]}


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    return tool.get("function", tool)


def _call_value(call: dict[str, Any]) -> dict[str, Any]:
    return {"name": call["function"]["name"], "arguments": call_arguments(call)}


def to_sharegpt(d: dict[str, Any], train_on: str = "assistant") -> dict[str, Any]:
    """One dialogue in LLaMA-Factory's sharegpt shape (roles must alternate, checked here). Parallel calls
    become one function_call whose value is a JSON list, and their results one observation."""
    train_mask(d["messages"], train_on)  # validates the option; the mask itself is LLaMA-Factory's mask_history
    system = ""
    conv: list[dict[str, str]] = []
    pending_results: list[str] = []

    def flush_results() -> None:
        if pending_results:
            value = pending_results[0] if len(pending_results) == 1 else json.dumps(
                [loads_or_text(r) for r in pending_results], ensure_ascii=False)
            conv.append({"from": "observation", "value": value})
            pending_results.clear()

    for m in d["messages"]:
        role = m.get("role")
        if role == "system":
            system = m.get("content") or ""
            continue
        if role == "tool":
            pending_results.append(m.get("content") or "")
            continue
        flush_results()
        if role == "user":
            conv.append({"from": "human", "value": m.get("content") or ""})
        elif role == "assistant" and m.get("tool_calls"):
            calls = [_call_value(c) for c in m["tool_calls"]]
            value = calls[0] if len(calls) == 1 else calls
            conv.append({"from": "function_call", "value": json.dumps(value, ensure_ascii=False)})
        elif role == "assistant":
            conv.append({"from": "gpt", "value": m.get("content") or ""})
    flush_results()
    for i, turn in enumerate(conv):
        expected = ("human", "observation") if i % 2 == 0 else ("gpt", "function_call")
        if turn["from"] not in expected:
            raise ExportError(f"{d.get('id')}: message {i} is {turn['from']!r}, sharegpt needs one of {expected}")
    return {"conversations": conv, "system": system,
            "tools": json.dumps([_function(t) for t in d["tools"]], ensure_ascii=False)}


def sharegpt_dataset_info(file_name: str, train_on: str = "assistant") -> dict[str, Any]:
    """LLaMA-Factory's ``dataset_info.json`` entry for a sharegpt export (``mask_history`` for ``last``)."""
    entry: dict[str, Any] = {"file_name": file_name, "formatting": "sharegpt",
                             "columns": {"messages": "conversations", "system": "system", "tools": "tools"}}
    if train_on == "last":
        entry["mask_history"] = True
    return entry


def hf_row(d: dict[str, Any], train_on: str = "assistant") -> dict[str, Any]:
    """A row of the HF export: OpenAI-shaped messages (arguments as the JSON string the API uses, so one
    Arrow type fits every tool), the per-message ``train_mask``, and the record's provenance as JSON."""
    messages = []
    for m in d["messages"]:
        messages.append({
            "role": m.get("role"),
            "content": m.get("content"),
            "tool_calls": [{"id": c.get("id"), "type": "function",
                            "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}}
                           for c in m.get("tool_calls") or []] or None,
            "tool_call_id": m.get("tool_call_id"),
            "name": m.get("name"),
        })
    meta = d.get("meta") or {}
    return {"id": d["id"], "messages": messages, "tools": json.dumps(d["tools"], ensure_ascii=False),
            "train_mask": train_mask(d["messages"], train_on),
            "scenario": meta.get("scenario") or "standard",
            "sample_id": (d.get("sample") or {}).get("id"),
            "meta": json.dumps(meta, ensure_ascii=False),  # includes provenance
            "plan": json.dumps(d.get("plan"), ensure_ascii=False)}  # with the call blueprint


def hf_features() -> Any:
    """Explicit Arrow types, so rows with and without tool calls share one schema."""
    from datasets import Features, Value

    call = {"id": Value("string"), "type": Value("string"),
            "function": {"name": Value("string"), "arguments": Value("string")}}
    message = {"role": Value("string"), "content": Value("string"), "tool_calls": [call],
               "tool_call_id": Value("string"), "name": Value("string")}
    return Features({"id": Value("string"), "messages": [message], "tools": Value("string"),
                     "train_mask": [Value("bool")], "scenario": Value("string"),
                     "sample_id": Value("string"), "meta": Value("string"), "plan": Value("string")})
