"""Errors of the LLM layer, kept apart so agents can catch them without importing the client."""

from __future__ import annotations

from toolflow.engine.errors import ConfigError
from toolflow.engine.errors import LLMError as ToolFlowLLMError


class LLMError(RuntimeError, ToolFlowLLMError):
    """Base class: the LLM layer could not produce what was asked."""


class LLMSettingsError(ValueError, ConfigError):
    """A setting (environment variable or option) with a value that cannot be used; names the variable."""


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


class ContextOverflowError(StructuredOutputError):
    """The prompt does not fit the model's context window.

    Deterministic for a given dialogue (a rerun would fail the same way), so it is a kind of "no valid
    output": callers that reject on StructuredOutputError reject here too, instead of retrying forever.
    """


class MalformedResponseError(StructuredOutputError):
    """The server answered 200 with an unusable body (not JSON, or no ``choices``), on every retry.

    Retried like a 5xx first (one bad reply in eight used to error a dialogue outright); when retries run
    out it is a kind of "no valid output", so the dialogue is rejected with this reason and the run goes on.
    """


#: How servers say a prompt is too long (OpenAI's error code, llama.cpp's and vLLM's messages).
CONTEXT_OVERFLOW_MARKERS = ("context_length_exceeded", "maximum context length", "context window")


def is_context_overflow(exc: BaseException) -> bool:
    """A 400 whose code, message or body says the prompt is too long. The body counts because the `openai`
    SDK keeps a plain-text error body out of the exception's message (it has no ``error.message``)."""
    text = f"{getattr(exc, 'code', '')} {exc} {getattr(exc, 'body', '')}".lower()
    return getattr(exc, "status_code", None) == 400 and any(m in text for m in CONTEXT_OVERFLOW_MARKERS)


class LocalLLMUnavailable(LLMError):
    """The embedded model cannot run here (package missing, server did not come up)."""
