"""A Ray session for the executors that reach past one machine (`synth` and `graph build --executor ray`).

Either an existing cluster (``auto`` or ``HOST:PORT``) or a private one started on this machine for one
command: temporary session folder, small object store, no dashboard, shut down at the end by this
process's own handle (never `ray stop`, which ends every Ray process on the machine by name). Ray is
imported here, only when a session is opened: it is the optional extra ``toolflow[ray]``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import tempfile
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

#: Ray reads this before it picks the node's address: "0" keeps a single-machine cluster on loopback
#: (every server on 127.0.0.1) instead of the first routable address.
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


#: Seconds the workers get to start (a cluster without room for them would otherwise wait forever).
READY_TIMEOUT_S = 600


class RayOptions(BaseModel):
    """Where the job runs: an existing cluster (`address`) or a private one started on this machine."""

    address: str | None = Field(default=None, description="auto | HOST:PORT; None starts a local cluster.")
    workers: int = Field(default=1, ge=1, description="Workers (Ray actors) the command starts.")
    worker_cpus: float = Field(default=1.0, gt=0, description="CPUs Ray reserves per worker.")
    object_store_mb: int = Field(default=200, ge=75, description="Object store of a local cluster.")
    temp_dir: str | None = Field(default=None, description="Session folder of a local cluster (default: private).")


@contextlib.contextmanager
def ray_session(options: RayOptions) -> Iterator[Any]:
    """Connect to `options.address`, or start a private cluster on loopback for this run; shut down
    what this process started (its own handle), never other Ray processes on the machine."""
    local = options.address in (None, "local") or options.address.split(":")[0] in ("127.0.0.1", "localhost")
    if local:
        os.environ.setdefault(LOOPBACK_ENV, "0")
    if options.address in (None, "local"):
        # a token for this cluster only, in the environment its processes inherit: nothing written to
        # ~/.ray (a user's own RAY_AUTH_* settings win)
        os.environ.setdefault("RAY_AUTH_MODE", "token")
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    import ray  # the optional extra: `pip install toolflow[ray]`

    if ray.is_initialized():  # a caller (a notebook, a test) already connected: use its session, keep it
        yield ray
        return
    kwargs: dict[str, Any] = {"configure_logging": False, "log_to_driver": False}
    with contextlib.ExitStack() as stack:
        if options.address in (None, "local"):
            temp = options.temp_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="tfray-"))
            kwargs.update(num_cpus=max(2, int(options.workers * options.worker_cpus + 0.999)),
                          object_store_memory=options.object_store_mb * 1024**2, include_dashboard=False,
                          _temp_dir=temp)
        else:
            _reachable(options.address)
            kwargs["address"] = options.address
        ray.init(**kwargs)
        try:
            yield ray
        finally:
            ray.shutdown()


def _reachable(address: str) -> None:
    """Fail at once on a HOST:PORT nobody listens on (ray.init would retry it for minutes)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "ray://…": Ray resolves those itself
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise ConnectionError(f"nothing answers at {address} ({exc.strerror or exc})") from exc
