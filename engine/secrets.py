"""Keep secrets out of everything ToolFlow prints: messages, logs and tracebacks.

Two kinds leak in practice: a password inside a URI (``--store bolt://neo4j:pw@host:7687`` ended up in a
traceback) and an API key that a misbehaving server echoes in its error text (printed as is). So:

- :func:`mask_uri_passwords` replaces the password part of any ``scheme://user:password@`` with ``***``;
- :func:`redact` does that, and replaces every registered secret value (API keys from settings, the
  Neo4j password, and any environment variable whose name says KEY / TOKEN / SECRET / PASSWORD) and
  anything shaped like a bearer token or an ``sk-…`` key;
- :func:`install_excepthook` makes an uncaught exception's traceback go through :func:`redact` too.

Pure string functions plus one small registry; callers redact right before printing or raising.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType

MASK = "***"

# scheme://user:password@  — the password may hold anything but whitespace; greedy to the last '@' of
# the run, so an unescaped '@' inside the password is masked too.
_URI_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*:)(?P<pw>[^\s]*)@")
_TOKEN_SHAPES = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}|\bsk-[A-Za-z0-9_\-]{8,}")
_SECRET_ENV = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD)")
_MIN_SECRET_CHARS = 4  # shorter values ("pw", "1") would blank out ordinary words

_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so :func:`redact` removes it wherever it appears."""
    if value and len(value) >= _MIN_SECRET_CHARS:
        _registered.add(value)


def _env_secrets() -> Iterable[str]:
    for name, value in os.environ.items():
        if _SECRET_ENV.search(name) and value and len(value) >= _MIN_SECRET_CHARS:
            yield value


def mask_uri_passwords(text: str) -> str:
    """``bolt://neo4j:pw@127.0.0.1:7687`` → ``bolt://neo4j:***@127.0.0.1:7687`` (any scheme, anywhere in text)."""
    return _URI_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@", text)


def redact(text: object, extra: Iterable[str | None] = ()) -> str:
    """`text` with URI passwords, registered/environment secrets, `extra` values and key-shaped tokens masked."""
    out = mask_uri_passwords(str(text))
    values = {v for v in (*_registered, *_env_secrets(), *extra) if v and len(v) >= _MIN_SECRET_CHARS}
    for value in sorted(values, key=len, reverse=True):  # longest first: a key that contains another
        out = out.replace(value, MASK)
    return _TOKEN_SHAPES.sub(lambda m: f"{m.group(1) or ''}{MASK}", out)


class RedactingFilter(logging.Filter):
    """Masks a log record's text with :func:`redact`: LLM error text (an API key echoed by a server's error
    body) reaches warnings through ``%s`` arguments, so each call site would otherwise have to remember."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


def redact_logger(name: str) -> logging.Logger:
    """The logger `name`, every record it creates masked (idempotent)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger


def _hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(exc_type, exc, tb))))


def install_excepthook() -> None:
    """Route uncaught exceptions through :func:`redact` (idempotent)."""
    sys.excepthook = _hook
