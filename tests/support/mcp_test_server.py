"""A small MCP server for the live-tool tests, on the SDK's own server class.

Typed tools (so `outputSchema` and `structuredContent` are exercised), read-only and destructive
annotations, a tool that fails, one that sleeps (timeouts), one that exits the process (a dying server),
and `tools/list` served in pages of two (pagination). Run over stdio (`python mcp_test_server.py`) or
streamable HTTP (`python mcp_test_server.py --http PORT`). The write tool appends to `writes.log` in
the working directory, so a test can tell whether a refused write really never ran.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ListToolsResult, ToolAnnotations
from pydantic import BaseModel

PAGE = 2
READ = ToolAnnotations(readOnlyHint=True, idempotentHint=True)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False)


class PagedServer(MCPServer):
    """`tools/list` in pages of PAGE tools: the cursor is the index of the next page's first tool."""

    async def _handle_list_tools(self, ctx: Any, params: Any) -> ListToolsResult:
        tools = await self.list_tools()
        start = int(params.cursor) if params is not None and params.cursor else 0
        end = start + PAGE
        return ListToolsResult(tools=tools[start:end], next_cursor=str(end) if end < len(tools) else None)


class Order(BaseModel):
    order_id: str
    customer_id: str
    total: float
    status: str


server = PagedServer("shop", version="1.2.3", log_level="ERROR")
ORDERS = {"A100": Order(order_id="A100", customer_id="C7", total=42.5, status="shipped"),
          "A101": Order(order_id="A101", customer_id="C7", total=9.99, status="open")}
WRITE_LOG: list[str] = []


@server.tool(annotations=READ)
def get_order(order_id: str) -> Order:
    """Look up one order by its id."""
    if order_id not in ORDERS:
        raise ToolError(f"no order {order_id!r}")
    return ORDERS[order_id]


@server.tool(annotations=READ)
def list_orders(customer_id: str) -> list[Order]:
    """All orders of a customer, newest first."""
    return [o for o in ORDERS.values() if o.customer_id == customer_id]


@server.tool(annotations=READ)
def order_count() -> int:
    """How many orders the shop holds."""
    return len(ORDERS)


@server.tool(annotations=WRITE)
def cancel_order(order_id: str, reason: str = "") -> str:
    """Cancel an order (destructive: it cannot be undone)."""
    with open("writes.log", "a", encoding="utf-8") as fh:  # in the working directory: the sandbox
        fh.write(f"cancel {order_id}\n")
    return f"order {order_id} cancelled"


@server.tool(annotations=READ)
async def slow_report(seconds: float = 5.0) -> str:
    """A report that takes `seconds` to compute."""
    await asyncio.sleep(seconds)
    return "done"


@server.tool(annotations=READ)
def server_pid() -> int:
    """The server's process id (tests kill it from outside)."""
    return os.getpid()


@server.tool(annotations=READ)
def crash() -> str:
    """Ends the server process abruptly (a server that dies mid-run)."""
    os._exit(3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=None, help="serve streamable HTTP on 127.0.0.1:PORT")
    args = parser.parse_args()
    if args.http is not None:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run()
    sys.exit(0)


if __name__ == "__main__":
    main()
