"""Overhead of the LLM layer under concurrency, against a fake OpenAI-compatible endpoint.

The fake answers every request with a schema-valid JSON object after a fixed delay (default 200 ms),
so an ideal client achieves ``concurrency / delay`` requests/s; the ratio achieved/ideal is what our
layer (transport, semaphore, retries, cache, validation) costs. Targets: >= 0.9 at concurrency 32,
>= 0.85 at concurrency 128 in one process. The workload drives ``OpenAIClientLLM.structured`` directly
(one request per unit); pass another `workload` (e.g. a whole synthesized dialogue) to
:func:`run_overhead` to measure that instead. A second pass over the same requests with the on-disk
cache shows what a rerun / resumed run costs.

Three clients run the same requests, interleaved, `--repeats` times each, and the table shows medians:
``ours`` (the client as it is: the SDK's ``chat.completions.with_raw_response.create`` with the body as
``extra_body``, engine/llm/transport.py), ``sdk`` (the same client with the request sent through the
`openai` SDK's generic ``post``, the path of the client before that module) and ``raw`` (the bare SDK's
``chat.completions.create`` with its typed parameters and response). The fake server is a Python process on the same cores, so
the ratios move with the machine's load (printed with them); the client's CPU per request does not.

    python bench/synth_overhead.py [--waves 40] [--delay 0.2] [--levels 1,8,32,128] [--repeats 3]
        [--workers 1,2] [--worker-levels 32,128] [--variants ours,sdk,raw] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import openai
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from fake_openai_server import FakeOpenAIServer, FakeServerProcess  # noqa: E402

from toolflow.engine.llm.client import OpenAIClientLLM  # noqa: E402
from toolflow.engine.llm.settings import LLMSettings, ResolvedRole  # noqa: E402

VARIANTS = ("ours", "sdk", "raw")


class Verdict(BaseModel):
    """A tiny structured output, like a judge score."""

    label: str
    score: int
    reasons: list[str] = []


Workload = Callable[[Any, int], Awaitable[Any]]


def _messages(i: int) -> list[dict[str, Any]]:
    # the index keeps requests distinct (and cache keys apart)
    return [
        {"role": "system", "content": "You grade dialogues."},
        {"role": "user", "content": f"Grade dialogue #{i}: the user asked for the weather and got it."},
    ]


async def structured_workload(llm: Any, i: int) -> Any:
    """One structured request per unit through our layer."""
    return await llm.structured("judge", _messages(i), Verdict)


async def raw_structured_workload(client: Any, i: int) -> Any:
    """The baseline: the same request with the bare `openai` client (no retries, cache, repairs, semaphore)."""
    resp = await client.chat.completions.create(
        model="fake",
        messages=_messages(i),
        temperature=0.7,
        max_tokens=1024,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Verdict", "schema": Verdict.model_json_schema(), "strict": False},
        },
    )
    return Verdict.model_validate(json.loads(resp.choices[0].message.content, strict=False))


class SdkTransport:
    """The request path before engine/llm/transport.py, kept as this bench's baseline: the `openai` SDK's
    generic ``post`` (raw JSON back) over its aiohttp transport with a pool of one connection per request."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        size = max(concurrency, 100)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self.client = openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0,
                                         http_client=openai.DefaultAioHttpClient(limits=limits))

    async def post(self, body: dict[str, Any], timeout: float) -> Any:
        async with asyncio.timeout(timeout):
            return await self.client.post("/chat/completions", cast_to=object, options={"timeout": timeout},
                                          body=body)

    async def close(self) -> None:
        await self.client.close()


class SdkPathLLM(OpenAIClientLLM):
    """Our client with its requests sent through :class:`SdkTransport`."""

    def _transport(self, rs: ResolvedRole) -> Any:
        if not self._transports:
            self._transports[("sdk", "")] = SdkTransport(rs.endpoint, self.settings.concurrency)
        return self._transports[("sdk", "")]


async def _drive(llm: Any, workload: Workload, units: range, concurrency: int) -> None:
    """`concurrency` workers, each running units back to back, as the synthesis run does.

    (Queueing all units on the client's semaphore instead hands each freed slot to a waiter at the back
    of the event loop's ready queue, serializing a whole burst's CPU: a driver artefact, not LLM cost.)
    """
    todo = iter(units)

    async def worker() -> None:
        for i in todo:
            await workload(llm, i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def _reset(srv: FakeServerProcess | FakeOpenAIServer, delay: float) -> None:
    if isinstance(srv, FakeServerProcess):
        srv.reset(delay)
    else:
        srv.delay = delay
        srv.reset_counters()


def _stats(srv: FakeServerProcess | FakeOpenAIServer) -> dict[str, Any]:
    if isinstance(srv, FakeServerProcess):
        return srv.stats()
    return {"requests": srv.request_count, "max_in_flight": srv.max_in_flight}


def _client(variant: str, base_url: str, concurrency: int, cache_dir: Path | None) -> Any:
    """The client of `variant` (see the module docstring) for a fake endpoint at `base_url`."""
    if variant == "raw":
        return openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)
    settings = LLMSettings(base_url=base_url, model="fake", api_key="sk-bench", structured_mode="json_schema",
                           concurrency=concurrency, cache_dir=cache_dir)
    return SdkPathLLM(settings) if variant == "sdk" else OpenAIClientLLM(settings)


async def _timed(client: Any, variant: str, workload: Workload, n: int, concurrency: int, warmup: bool,
                 srv: FakeServerProcess | FakeOpenAIServer, delay: float) -> tuple[float, float, int]:
    """Wall seconds, client CPU seconds and cached requests of `n` units (after a warm-up wave that opens
    the connection pool: a one-time cost that a real run amortizes)."""
    async with client as llm:
        if warmup:
            await _drive(llm, workload, range(-concurrency, 0), concurrency)
            if variant != "raw":
                llm.usage = type(llm.usage)()
            _reset(srv, delay)
        start, cpu_start = time.perf_counter(), time.process_time()
        await _drive(llm, workload, range(n), concurrency)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        return elapsed, cpu, 0 if variant == "raw" else llm.usage.total().cached


async def run_overhead(
    concurrency: int,
    n: int,
    delay: float,
    *,
    server: FakeServerProcess | FakeOpenAIServer | None = None,
    cache_dir: Path | None = None,
    workload: Workload = structured_workload,
    warmup: bool = True,
    variant: str = "ours",
) -> dict[str, Any]:
    """Run `n` workload units at `concurrency` against a fake endpoint with `delay`; return the numbers.

    Requests/s is counted at the server (every HTTP request, whatever the workload), so the ideal is
    always ``concurrency / delay``. Without `server`, a fake server process is started for this call.
    `variant` "raw" runs :func:`raw_structured_workload` on the bare `openai` client instead.
    """
    own = server is None
    srv = server if server is not None else FakeServerProcess(delay).__enter__()
    _reset(srv, delay)
    if variant == "raw":
        workload = raw_structured_workload
    try:
        client = _client(variant, srv.base_url, concurrency, cache_dir)
        elapsed, cpu, cached = await _timed(client, variant, workload, n, concurrency, warmup, srv, delay)
        stats = _stats(srv)
    finally:
        if own:
            srv.__exit__(None, None, None)
    requests = stats["requests"]
    rps = requests / elapsed if elapsed > 0 else 0.0
    ideal = concurrency / delay if delay > 0 else float("inf")
    return {
        "variant": variant, "concurrency": concurrency, "units": n, "requests": requests, "cached": cached,
        "elapsed_s": round(elapsed, 3), "req_per_s": round(rps, 1), "ideal_req_per_s": round(ideal, 1),
        "ratio": round(rps / ideal, 3) if requests else None, "server_max_in_flight": stats["max_in_flight"],
        # client CPU per unit: the layer's cost, much less dependent on how busy the machine is
        "client_cpu_ms_per_unit": round(cpu / n * 1000, 3) if n else None,
    }


def _worker_process(base_url: str, concurrency: int, units: range, ready, go, cpu_out) -> None:
    async def body() -> None:
        settings = LLMSettings(base_url=base_url, model="fake", api_key="sk-bench", structured_mode="json_schema",
                               concurrency=concurrency, cache_dir=None)
        async with OpenAIClientLLM(settings) as llm:
            warm = -(units.start + 1) * 10**6  # distinct warm-up requests per process
            await _drive(llm, structured_workload, range(warm - concurrency, warm), concurrency)
            ready.wait()
            go.wait()
            cpu = time.process_time()
            await _drive(llm, structured_workload, units, concurrency)
            cpu_out.value = time.process_time() - cpu

    asyncio.run(body())


def run_workers(concurrency: int, n: int, delay: float, workers: int, server: FakeServerProcess) -> dict[str, Any]:
    """The same workload split over `workers` forked processes (what `toolflow synth --workers` does), each
    with its own client at concurrency/workers; requests/s counted at the server."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    ready, go = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1)
    per = n // workers
    cpus = [ctx.Value("d", 0.0) for _ in range(workers)]
    procs = [ctx.Process(target=_worker_process, args=(server.base_url, max(1, concurrency // workers),
                                                       range(w * per, (w + 1) * per), ready, go, cpus[w]))
             for w in range(workers)]
    for proc in procs:
        proc.start()
    ready.wait()
    _reset(server, delay)
    go.wait()
    start = time.perf_counter()
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - start
    requests = server.stats()["requests"]
    ideal = concurrency / delay
    rps = requests / elapsed if elapsed > 0 else 0.0
    return {"concurrency": concurrency, "workers": workers, "requests": requests, "elapsed_s": round(elapsed, 3),
            "req_per_s": round(rps, 1), "ideal_req_per_s": round(ideal, 1), "ratio": round(rps / ideal, 3),
            "client_cpu_ms_per_unit": round(sum(c.value for c in cpus) / (per * workers) * 1000, 3)}


def _median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run's fields with the median of every timing over the runs, and the single ratios."""
    row = dict(runs[0])
    for key in ("elapsed_s", "req_per_s", "ratio", "client_cpu_ms_per_unit"):
        row[key] = round(statistics.median(r[key] for r in runs), 3)
    row["ratios"] = [r["ratio"] for r in runs]
    return row


async def _levels(args: argparse.Namespace, server: FakeServerProcess) -> list[dict[str, Any]]:
    """One row per concurrency level and variant, each the median of `repeats` runs; the variants run
    interleaved (ours, sdk, raw, ours, ...) so a change in the machine's load hits them alike."""
    rows = []
    for c in (int(x) for x in args.levels.split(",")):
        # At concurrency 1 each request costs a full delay; a few dozen give a stable rate. Otherwise
        # `waves` rounds of `c` units: with few rounds the synchronized first and last waves (all units
        # start together, the fake answers after the same delay) weigh on the rate.
        n = args.n1 if c == 1 else args.waves * c
        variants = args.variants.split(",")
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
        for _ in range(args.repeats):
            for v in variants:
                runs[v].append(await run_overhead(c, n, args.delay, server=server, variant=v))
        rows.append({v: _median_row(runs[v]) for v in variants})
    return rows


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    load_start = os.getloadavg()
    with FakeServerProcess(args.delay) as server:
        levels = await _levels(args, server)
        top = max(int(x) for x in args.levels.split(","))
        with tempfile.TemporaryDirectory(prefix="toolflow-bench-cache-") as tmp:
            first = await run_overhead(top, args.waves * top, args.delay, server=server, cache_dir=Path(tmp))
            rerun = await run_overhead(top, args.waves * top, args.delay, server=server, cache_dir=Path(tmp))
        worker_rows = [_median_row([run_workers(c, args.n_workers or args.waves * c, args.delay, w, server)
                                    for _ in range(args.repeats)])
                       for c in (int(x) for x in args.worker_levels.split(","))
                       for w in (int(x) for x in args.workers.split(","))]
    cache = {
        "concurrency": top, "units": args.waves * top, "first_s": first["elapsed_s"],
        "first_requests": first["requests"], "rerun_s": rerun["elapsed_s"], "rerun_requests": rerun["requests"],
        "rerun_cached": rerun["cached"], "first_cpu_ms_per_unit": first["client_cpu_ms_per_unit"],
        "rerun_cpu_ms_per_unit": rerun["client_cpu_ms_per_unit"],
        "speedup": round(first["elapsed_s"] / rerun["elapsed_s"], 1) if rerun["elapsed_s"] else None,
    }
    return {
        "delay_s": args.delay,
        "repeats": args.repeats,
        "workload": "OpenAIClientLLM.structured, 1 request per unit (sdk: same client, the SDK's generic post; "
                    "raw: bare openai client, same requests)",
        "load_avg_start": [round(x, 2) for x in load_start],
        "load_avg_end": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "levels": levels,
        "workers": worker_rows,
        "cache": cache,
    }


def print_table(report: dict[str, Any]) -> None:
    print(f"workload: {report['workload']}; fake endpoint delay {report['delay_s'] * 1000:.0f} ms; "
          f"median of {report['repeats']} runs (single ratios in brackets)")
    print(f"machine: {report['cpus']} CPUs, load average (1/5/15 min) {report['load_avg_start']} at the start, "
          f"{report['load_avg_end']} at the end (ratios drop on a busy machine; CPU per request does not)")
    print(f"{'conc':>5} {'units':>6} {'variant':>7} {'req/s':>8} {'ideal':>8} {'ratio':>6} {'runs':<20} "
          f"{'peak':>5} {'cpu ms/req':>10} {'vs raw':>7}")
    for level in report["levels"]:
        raw = level["raw"]["req_per_s"] if "raw" in level else 0
        for v, r in level.items():
            runs = "[" + " ".join(f"{x:.2f}" for x in r["ratios"]) + "]"
            print(f"{r['concurrency']:>5} {r['units']:>6} {v:>7} {r['req_per_s']:>8.1f} {r['ideal_req_per_s']:>8.1f} "
                  f"{r['ratio']:>6.3f} {runs:<20} {r['server_max_in_flight']:>5} {r['client_cpu_ms_per_unit']:>10.3f}"
                  + (f" {r['req_per_s'] / raw:>7.2f}" if raw else f" {'-':>7}"))
    print("processes (`synth --workers`): the same requests split over forked processes, one client each")
    print(f"{'conc':>5} {'workers':>8} {'reqs':>6} {'req/s':>8} {'ideal':>8} {'ratio':>6} {'runs':<20} {'cpu ms/req':>10}")
    for r in report["workers"]:
        runs = "[" + " ".join(f"{x:.2f}" for x in r["ratios"]) + "]"
        print(f"{r['concurrency']:>5} {r['workers']:>8} {r['requests']:>6} {r['req_per_s']:>8.1f} "
              f"{r['ideal_req_per_s']:>8.1f} {r['ratio']:>6.3f} {runs:<20} {r['client_cpu_ms_per_unit']:>10.3f}")
    c = report["cache"]
    print(
        f"cache: first run {c['first_s']:.2f} s ({c['first_requests']} requests, {c['first_cpu_ms_per_unit']:.3f} cpu "
        f"ms/req), rerun {c['rerun_s']:.3f} s ({c['rerun_requests']} requests, {c['rerun_cached']} cached, "
        f"{c['rerun_cpu_ms_per_unit']:.3f} cpu ms/req): {c['speedup']}x faster"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--waves", type=int, default=40,
                   help="rounds of `concurrency` units per level (units = waves x concurrency)")
    p.add_argument("--n1", type=int, default=25, help="units at concurrency 1 (each costs a full delay)")
    p.add_argument("--delay", type=float, default=0.2, help="fake endpoint latency in seconds")
    p.add_argument("--levels", default="1,8,32,128", help="comma-separated concurrency levels")
    p.add_argument("--repeats", type=int, default=3, help="runs per row; the table shows medians")
    p.add_argument("--workers", default="1,2", help="comma-separated process counts for the workers table")
    p.add_argument("--worker-levels", default="32,128", help="concurrency levels of the workers table")
    p.add_argument("--n-workers", type=int, default=None,
                   help="units per row of the workers table (default: waves x concurrency, as above)")
    p.add_argument("--variants", default=",".join(VARIANTS), help="clients to run per level: ours,sdk,raw")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)
    report = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
