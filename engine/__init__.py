"""ToolFlow engine: graph build, sampling, LLM access, agents, synthesis, checks, export."""

__version__ = "0.1.0"
