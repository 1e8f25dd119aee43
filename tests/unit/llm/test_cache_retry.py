"""Response cache (atomic, sharded files) and the retry policy."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path
from types import SimpleNamespace

from toolflow.engine.llm.cache import ResponseCache, request_key
from toolflow.engine.llm.retry import RetryPolicy, retry_after_seconds


def test_key_depends_on_everything_that_changes_the_answer() -> None:
    msgs = [{"role": "user", "content": "hi"}]
    base = request_key("http://a/v1", "m", msgs, {"temperature": 0.7, "max_tokens": 10})
    assert base == request_key(
        "http://a/v1", "m", [dict(m) for m in msgs], {"max_tokens": 10, "temperature": 0.7}
    )
    assert base != request_key("http://b/v1", "m", msgs, {"temperature": 0.7, "max_tokens": 10})
    assert base != request_key("http://a/v1", "m2", msgs, {"temperature": 0.7, "max_tokens": 10})
    assert base != request_key("http://a/v1", "m", msgs, {"temperature": 0.2, "max_tokens": 10})
    assert base != request_key(
        "http://a/v1", "m", [{"role": "user", "content": "ho"}], {"temperature": 0.7, "max_tokens": 10}
    )


def test_cache_roundtrip_sharded_and_atomic(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = request_key("u", "m", [], {})
    assert cache.get(key) is None
    cache.put(key, {"content": "x"})
    assert cache.path(key) == tmp_path / key[:2] / f"{key}.json"
    assert cache.get(key) == {"content": "x"}
    assert [p.name for p in (tmp_path / key[:2]).iterdir()] == [f"{key}.json"]  # no temp files left
    cache.path(key).write_text('{"content": "trunc')  # a foreign half-written file is a miss, not a crash
    assert cache.get(key) is None
    assert len(cache) == 1


def test_retry_after_header_forms() -> None:
    def exc(headers: dict[str, str]) -> SimpleNamespace:
        return SimpleNamespace(response=SimpleNamespace(headers=headers))

    assert retry_after_seconds(exc({"retry-after": "2"})) == 2.0
    assert retry_after_seconds(exc({"retry-after-ms": "250"})) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_after_seconds(exc({"retry-after": date})) <= 31
    assert retry_after_seconds(exc({})) is None
    assert retry_after_seconds(ValueError()) is None


def test_full_jitter_backoff_is_bounded() -> None:
    p = RetryPolicy(base_delay=0.5, max_delay=4.0)
    for attempt in range(10):
        for _ in range(50):
            assert 0.0 <= p.backoff(attempt) <= min(4.0, 0.5 * 2**attempt)


def test_cache_scope_salts_keys_and_nests() -> None:
    from toolflow.engine.llm.cache import cache_scope

    plain = request_key("u", "m", [], {})
    with cache_scope("dlg-1"):
        one = request_key("u", "m", [], {})
        with cache_scope("dlg-2"):
            two = request_key("u", "m", [], {})
        assert request_key("u", "m", [], {}) == one
    assert len({plain, one, two}) == 3 and request_key("u", "m", [], {}) == plain
