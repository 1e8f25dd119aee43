"""Text rules shared by the planner, the user agent and the checks: does a text name a tool?"""

from __future__ import annotations

import re


def mentions_name(text: str, name: str) -> bool:
    """True if `name` occurs in `text` as a whole identifier (underscores count as part of words)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text, re.IGNORECASE) is not None


def is_identifier_like(name: str) -> bool:
    """Names that no person would type by accident (snake_case, camelCase, digits, dashes).

    Plain words like "search" or "weather" are excluded: a user saying them is not leaking a tool name.
    """
    return bool(re.search(r"[_\-0-9]|[a-z][A-Z]", name))


_MARKUP = re.compile(r"[{}\[\]<>`*|\\]")
_PLACEHOLDER = re.compile(r"\s*(\.\.\.|…|\.?/)")  # the prompt's "..." copied, or a /command
_IDENTIFIER = re.compile(r"[A-Za-z]+_[A-Za-z0-9_]+")  # snake_case words: code, not speech


#: The reasons prose_problem gives (fed back to the user agent; the leak check looks for them in user turns).
NO_WORDS = "write it in plain words"
PLACEHOLDER = "write your own text, not the placeholder or a command"
NOT_PLAIN = "one plain sentence: no brackets, markup, code or placeholders"
PROSE_REASONS = (NO_WORDS, PLACEHOLDER, NOT_PLAIN)


def prose_problem(text: str, *, identifiers: bool = True) -> str | None:
    """Why `text` is not a plain sentence (placeholders, markup, no words at all, and with `identifiers`
    snake_case code words), or None."""
    if not re.search(r"[^\W\d_]{2,}", text):
        return NO_WORDS
    if _PLACEHOLDER.match(text):
        return PLACEHOLDER
    if "\n" in text.strip() or _MARKUP.search(text) or (identifiers and _IDENTIFIER.search(text)):
        return NOT_PLAIN
    return None
