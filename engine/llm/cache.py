"""On-disk response cache: a rerun costs nothing and a crashed run resumes cheaply.

One JSON file per request, named by the sha256 of the canonical request (endpoint, model, messages,
params) and sharded by the first two hex digits so no directory grows huge. Files are written to a
temporary name and `os.replace`d, so concurrent writers and crashes never leave half a file; an
unreadable file counts as a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from toolflow.engine.llm.jsonbytes import dumps, loads

_SALT: ContextVar[str | None] = ContextVar("toolflow_llm_cache_salt", default=None)


@contextlib.contextmanager
def cache_scope(salt: str) -> Iterator[None]:
    """Mix `salt` (e.g. a dialogue id) into the cache keys of requests made inside this block.

    Without it, two dialogues whose prompts happen to be identical (the same tool combination
    sampled twice) would share one cached answer even within a run; with a deterministic salt a rerun
    still replays every dialogue from the cache. Tasks started inside the block inherit the salt.
    """
    token = _SALT.set(salt)
    try:
        yield
    finally:
        _SALT.reset(token)


def request_key(
    base_url: str, model: str | None, messages: list[dict[str, Any]], params: dict[str, Any]
) -> str:
    """sha256 over a canonical JSON of everything that changes the response (and the scope's salt)."""
    payload: dict[str, Any] = {"base_url": base_url, "model": model, "messages": messages, "params": params}
    salt = _SALT.get()
    if salt is not None:
        payload["salt"] = salt
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """A directory of cached completions, safe for concurrent processes.

    Every request that reaches the network goes through :meth:`get` and :meth:`put` on the event loop's
    thread, so both stay cheap: string paths, shard directories created once per process, the value
    encoded in one go and written in one call.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._root = str(self.root)
        self._shards: set[str] = set()  # shard directories known to exist

    def path(self, key: str) -> Path:
        return Path(self._file(key))

    def _file(self, key: str) -> str:
        return os.path.join(self._root, key[:2], f"{key}.json")

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self._file(key), "rb") as fh:
                value = loads(fh.read())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        shard = os.path.join(self._root, key[:2])
        if shard not in self._shards:
            os.makedirs(shard, exist_ok=True)
            self._shards.add(shard)
        fd, tmp = _temp_file(shard, f".{key[:8]}-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(dumps(value))
            os.replace(tmp, self._file(key))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.json")) if self.root.exists() else 0


def _temp_file(directory: str, prefix: str) -> tuple[int, str]:
    """A new file only this call opened, private to the user (what `tempfile.mkstemp` does, without its
    per-call argument checks)."""
    while True:
        name = os.path.join(directory, f"{prefix}{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), name
        except FileExistsError:
            continue
