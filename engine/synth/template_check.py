"""Render dialogues through a model's real chat template and report what the model would not see.

A dataset can load and still train a model on conversations without their calls: several chat templates
silently drop ``tool_calls`` or tool results, or refuse a role order. This module takes the template from
where models ship it (a tokenizer folder, a ``tokenizer_config.json``, a GGUF file's metadata, or a bare
``.jinja`` file), renders each dialogue exactly as ``transformers`` does (its own sandboxed Jinja
renderer, ``render_jinja_template``), and looks for every message's payload in the rendered text, in
order: text of user and assistant turns, each call's name and argument values, each tool result.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from toolflow.engine.errors import InputError
from toolflow.engine.synth.export_rows import trl_message

#: Templates that ship several variants name the tool-aware one so (tokenizer_config.json list form).
TOOL_VARIANT = "tool_use"
#: Characters per token when no tokenizer file is at hand to count them (a rough English average).
CHARS_PER_TOKEN = 4


class TemplateError(ValueError, InputError):
    """A SOURCE that holds no usable chat template (one line, naming the file)."""


class ChatTemplate(BaseModel):
    source: str
    template: str
    bos_token: str = ""
    eos_token: str = ""
    tokenizer_file: str | None = Field(default=None, description="tokenizer.json beside the template, if any.")


class DialogueReport(BaseModel):
    id: str
    lost: list[str] = Field(default_factory=list, description="Payloads missing from the rendered text.")
    refused: str | None = Field(default=None, description="The template's own error (e.g. a role order).")
    length: int = 0
    length_unit: str = "tokens"
    over_length: bool = False


def _token_text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("content") or "")
    return str(value or "")


def _pick_variant(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        named = {v.get("name"): v.get("template") for v in value if isinstance(v, dict)}
        chosen = named.get(TOOL_VARIANT) or named.get("default")
        if isinstance(chosen, str):
            return chosen
    raise TemplateError(f"{where}: no chat_template (string, or a list with a 'default' or 'tool_use' entry)")


def _from_config(path: Path) -> ChatTemplate:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TemplateError(f"{path}: not a readable JSON file ({exc})") from exc
    jinja = path.with_name("chat_template.jinja")
    template = jinja.read_text(encoding="utf-8") if jinja.is_file() else _pick_variant(
        config.get("chat_template"), f"{path}: field chat_template")
    tok = path.with_name("tokenizer.json")
    return ChatTemplate(source=str(path), template=template, bos_token=_token_text(config.get("bos_token")),
                        eos_token=_token_text(config.get("eos_token")),
                        tokenizer_file=str(tok) if tok.is_file() else None)


def _gguf_string(reader: Any, key: str) -> str | None:
    field = reader.fields.get(key)
    return bytes(field.parts[field.data[0]]).decode("utf-8") if field is not None else None


def _from_gguf(path: Path) -> ChatTemplate:
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except (OSError, ValueError) as exc:
        raise TemplateError(f"{path}: not a readable GGUF file ({exc})") from exc
    template = _gguf_string(reader, f"tokenizer.chat_template.{TOOL_VARIANT}") or _gguf_string(
        reader, "tokenizer.chat_template")
    if template is None:
        raise TemplateError(f"{path}: the GGUF metadata has no tokenizer.chat_template")
    tokens = reader.fields.get("tokenizer.ggml.tokens")

    def token(key: str) -> str:
        f = reader.fields.get(key)
        if f is None or tokens is None:
            return ""
        i = int(f.contents())
        return bytes(tokens.parts[tokens.data[i]]).decode("utf-8", errors="replace")

    return ChatTemplate(source=str(path), template=template, bos_token=token("tokenizer.ggml.bos_token_id"),
                        eos_token=token("tokenizer.ggml.eos_token_id"))


def load_template(source: Path) -> ChatTemplate:
    """The chat template SOURCE holds: a tokenizer folder, a ``tokenizer_config.json``, a GGUF or a ``.jinja``."""
    if source.is_dir():
        config = source / "tokenizer_config.json"
        if not config.is_file():
            raise TemplateError(f"{source}: a tokenizer folder needs tokenizer_config.json")
        return _from_config(config)
    if not source.is_file():
        raise TemplateError(f"{source}: no such file or folder")
    if source.suffix == ".gguf":
        return _from_gguf(source)
    if source.suffix == ".jinja":
        return ChatTemplate(source=str(source), template=source.read_text(encoding="utf-8"))
    return _from_config(source)


def render(template: ChatTemplate, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
    """The text a model sees for one dialogue (transformers' own renderer; raises on a template error)."""
    from transformers.utils.chat_template_utils import render_jinja_template

    rendered, _ = render_jinja_template([messages], tools=tools or None, chat_template=template.template,
                                        bos_token=template.bos_token, eos_token=template.eos_token)
    return rendered[0]


def _leaf_texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _leaf_texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _leaf_texts(v)]
    if value is None or isinstance(value, bool):
        return []
    return [str(value)]


def _payloads(i: int, m: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(what, texts that must appear in order) for one message."""
    role = m.get("role")
    out: list[tuple[str, list[str]]] = []
    if role in ("user", "assistant") and (m.get("content") or "").strip():
        out.append((f"{role} text at message {i}", [m["content"].strip()]))
    for call in m.get("tool_calls") or []:
        fn = call["function"]
        out.append((f"call {fn['name']} at message {i}", [fn["name"], *_leaf_texts(fn["arguments"])]))
    if role == "tool":
        content = m.get("content") or ""
        try:
            texts = _leaf_texts(json.loads(content))
        except ValueError:
            texts = [content.strip()]
        out.append((f"result of {m.get('name') or m.get('tool_call_id')} at message {i}", texts or [content]))
    return out


def _find(text: str, needle: str, start: int) -> int:
    """End of `needle` in `text` from `start` (also as a JSON-escaped string), or -1."""
    for form in (needle, json.dumps(needle, ensure_ascii=False)[1:-1], json.dumps(needle)[1:-1]):
        at = text.find(form, start)
        if at >= 0:
            return at + len(form)
    return -1


def lost_payloads(rendered: str, messages: list[dict[str, Any]]) -> list[str]:
    """What of `messages` is missing from `rendered`, each looked for after the previous one found (so a
    call dropped from its turn is not excused by the tool's name in the tool list)."""
    lost: list[str] = []
    cursor = 0
    for i, m in enumerate(messages):
        for what, texts in _payloads(i, m):
            at = cursor
            for t in texts:
                end = _find(rendered, t, at)
                if end < 0:
                    lost.append(what)
                    break
                at = end
            else:
                cursor = at
    return lost


@lru_cache(maxsize=4)
def _tokenizer(path: str) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def _length(template: ChatTemplate, rendered: str) -> tuple[int, str]:
    if template.tokenizer_file:
        return len(_tokenizer(template.tokenizer_file).encode(rendered, add_special_tokens=False).ids), "tokens"
    return -(-len(rendered) // CHARS_PER_TOKEN), "tokens (estimated, chars/4)"


def check_one(template: ChatTemplate, record: dict[str, Any], max_length: int | None) -> DialogueReport:
    """One dialogue's template report: lost payloads, a refusal, its length against `max_length`."""
    report = DialogueReport(id=str(record.get("id", "?")))
    messages = [trl_message(m) for m in record.get("messages") or []]
    try:
        rendered = render(template, messages, record.get("tools"))
    except Exception as exc:  # noqa: BLE001 - a template raises whatever its author chose (raise_exception, TypeError)
        report.refused = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
        return report
    report.lost = lost_payloads(rendered, messages)
    report.length, report.length_unit = _length(template, rendered)
    report.over_length = max_length is not None and report.length > max_length
    return report


class TemplateReport(BaseModel):
    source: str
    dialogues: int = 0
    with_loss: int = 0
    lost_calls: int = 0
    lost_results: int = 0
    lost_text: int = 0
    refused: int = 0
    over_length: int = 0
    problems: list[DialogueReport] = Field(default_factory=list, description="Dialogues with any problem.")

    @property
    def failing(self) -> bool:
        return bool(self.with_loss or self.refused or self.over_length)


def check_records(template: ChatTemplate, records: list[dict[str, Any]], max_length: int | None = None) -> TemplateReport:
    """The template report over many dialogues."""
    report = TemplateReport(source=template.source)
    for record in records:
        r = check_one(template, record, max_length)
        report.dialogues += 1
        report.lost_calls += sum(x.startswith("call ") for x in r.lost)
        report.lost_results += sum(x.startswith("result ") for x in r.lost)
        report.lost_text += sum(" text at " in x for x in r.lost)
        report.with_loss += bool(r.lost)
        report.refused += r.refused is not None
        report.over_length += r.over_length
        if r.lost or r.refused or r.over_length:
            report.problems.append(r)
    return report
