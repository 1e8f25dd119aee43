"""Synthesis: agents, the dialogue loop, the job, checks, JSONL I/O and export."""
