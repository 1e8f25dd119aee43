"""A stand-in for ``llama_cpp.server`` in lifetime tests: answers GET /v1/models on --port, nothing else.

With FAKE_SERVER_IGNORE_SIGTERM=1 it ignores SIGTERM, as llama.cpp's server does while a request is in
flight, so the tests can check that stopping escalates to SIGKILL. Run as ``__main__`` by server_guard.
"""

from __future__ import annotations

import argparse
import os
import signal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"object": "list", "data": [{"id": "fake"}]}'
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    args, _ = ap.parse_known_args()
    if os.environ.get("FAKE_SERVER_IGNORE_SIGTERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
