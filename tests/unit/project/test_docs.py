"""The README stays a short guide, its links and the docs' links resolve, and the reason lists match the registry."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from toolflow.engine.synth.reasons import Reason

# The checkout root, wherever under tests/ this file lives.
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
README = ROOT / "README.md"
DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))
MARKDOWN = [README, *DOC_PAGES]

# [text](target) outside code; images too. Targets with a scheme (http:, mailto:) are not files.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _prose(text: str) -> str:
    """The text without fenced blocks and code spans, where brackets are code, not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out: set[str] = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        if m := re.match(r"#{1,6}\s+(.*)", line):
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def _relative_links(page: Path) -> list[str]:
    links = LINK.findall(_prose(page.read_text(encoding="utf-8")))
    return [t for t in links if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_readme_is_a_short_guide() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines; move detail to docs/"


def test_the_readme_links_the_docs_index_and_every_subsystem_page() -> None:
    targets = set(_relative_links(README))
    for page in ("docs/README.md", "docs/graph.md", "docs/sampling.md", "docs/synthesis.md",
                 "docs/retrieval.md", "docs/stores.md", "docs/reliability.md"):
        assert page in targets, f"README.md does not link {page}"


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file_and_heading(page: Path) -> None:
    broken = []
    for target in _relative_links(page):
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {dest.relative_to(ROOT)})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_every_doc_page_is_in_the_docs_index() -> None:
    listed = set(_relative_links(ROOT / "docs" / "README.md"))
    missing = [p.name for p in DOC_PAGES if p.name != "README.md" and p.name not in listed]
    assert not missing, f"docs/README.md does not list {missing}"


def test_the_readme_lists_exactly_the_registered_reason_codes() -> None:
    section = README.read_text(encoding="utf-8").split("## Rejection reasons", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"`([a-z_]+)`", section)
    assert sorted(listed) == sorted(r.value for r in Reason)


def test_the_errors_page_table_matches_the_registry() -> None:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (.+?) \|$", text, re.M))
    assert rows == {r.value: r.description for r in Reason}


MAIN_JOB = ("bash scripts/install.sh && toolflow graph build examples/travel_tools.jsonl"
            " && toolflow synth -n 3 --out dialogues.jsonl")


def test_the_two_setup_commands_are_there_and_name_real_files() -> None:
    blocks = FENCE.findall(README.read_text(encoding="utf-8"))
    lines = {line.strip() for block in blocks for line in block.splitlines()}
    assert MAIN_JOB in lines and "bash scripts/test.sh" in lines
    for path in ("scripts/install.sh", "scripts/test.sh", "examples/travel_tools.jsonl"):
        assert (ROOT / path).is_file(), path


def _readme_invocations() -> list[list[str]]:
    """Every `toolflow …` command in the README's code blocks, as argument lists (comments dropped)."""
    calls = []
    for block in FENCE.findall(README.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("```"):
                continue
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0] == "toolflow":
                    calls.append(words[1:])
    return calls


def test_every_readme_command_and_option_exists() -> None:
    import click

    from toolflow.engine.cli import main

    calls = _readme_invocations()
    assert len(calls) >= 20, calls  # the usage section shows every use case
    unknown = []
    for args in calls:
        command: click.Command = main
        rest = list(args)
        while isinstance(command, click.Group) and rest and rest[0] in command.commands:
            command = command.commands[rest.pop(0)]
        assert not isinstance(command, click.Group), f"toolflow {' '.join(args)}: no such command"
        known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        unknown += [f"toolflow {' '.join(args)}: {w}" for w in rest
                    if w.startswith("-") and w.split("=")[0] not in known]
    assert not unknown, unknown
