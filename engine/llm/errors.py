"""Errors of the LLM layer, kept apart so agents can catch them without importing the client."""

from __future__ import annotations


class LLMError(RuntimeError):
    """Base class: the LLM layer could not produce what was asked."""


class LLMTransportError(LLMError):
    """The endpoint kept failing (timeouts, 429, 5xx, connection) after all retries."""


class StructuredOutputError(LLMError):
    """No valid output after all repair attempts; `last_output` and `errors` say what came back."""

    def __init__(
        self, message: str, *, last_output: str | None = None, errors: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.last_output = last_output
        self.errors = errors or []


class LocalLLMUnavailable(LLMError):
    """The embedded model cannot run here (package missing, server did not come up)."""
