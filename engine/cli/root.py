"""The `toolflow` command line: one root group; each command group lives in its own module.

Heavy imports (torch via sentence-transformers, the Neo4j driver, FAISS) happen inside the commands that
need them, so `toolflow --help` answers at once.
"""

from __future__ import annotations

import os

import click

from toolflow.engine import __version__
from toolflow.engine.cli.eval import ablate, eval_cmd
from toolflow.engine.cli.export import export_cmd
from toolflow.engine.cli.graph import graph
from toolflow.engine.cli.options import EXIT_CODES_HELP, ToolFlowGroup
from toolflow.engine.cli.reasons import reasons_cmd
from toolflow.engine.cli.retrieve import retrieve, retrieve_eval
from toolflow.engine.cli.sample import sample
from toolflow.engine.cli.synth import synth
from toolflow.engine.secrets import install_excepthook


@click.group(
    cls=ToolFlowGroup,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="toolflow")
def cli() -> None:
    """ToolFlow: synthesize coherent multi-turn tool-calling dialogues.

    \b
    The pipeline:
      1. toolflow graph build TOOLS...   tool files → tool graph (embedded store or Neo4j)
      2. toolflow sample -n N            random walks → related tool combinations
      3. toolflow synth -n N             plan + user/assistant/tool agents → dialogues.jsonl
      4. toolflow export FILE            → OpenAI / ShareGPT / Hugging Face datasets

    \b
    Quick start (no server needed; embedded graph + local model):
      toolflow graph build examples/travel_tools.jsonl
      toolflow synth -n 3 --out dialogues.jsonl
    """
    install_excepthook()  # a traceback that still escapes prints with passwords and keys masked
    # Hugging Face's own bars (transformers' "Loading weights" for the embedder and the NLI cross-encoder) print
    # on stderr between ours; the local models load in under a second. Read when transformers is first
    # imported, so set here, before any command loads a model; an explicit setting in the environment wins.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


cli.add_command(graph)
cli.add_command(sample)
cli.add_command(synth)
cli.add_command(export_cmd)
cli.add_command(eval_cmd)
cli.add_command(ablate)
cli.add_command(retrieve)
cli.add_command(retrieve_eval)
cli.add_command(reasons_cmd)


if __name__ == "__main__":
    cli()
