"""The cross-encoder ENR reads the entailment column of a local NLI model (a tiny BERT written by the test; torch and transformers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_dialogues import tiny_nli_model

from tests.unit.eval.test_judge import nli_pairs
from toolflow.engine.eval.entailment import cross_encoder_enr


@pytest.mark.parametrize("id2label", [{0: "contradiction", 1: "entailment", 2: "neutral"},
                                      {0: "entailment", 1: "neutral", 2: "contradiction"}])
def test_cross_encoder_enr_uses_the_models_entailment_column(tmp_path: Path, id2label: dict[int, str]) -> None:
    yes = cross_encoder_enr(nli_pairs(), str(tiny_nli_model(tmp_path / "yes", id2label, "entailment")))
    no = cross_encoder_enr(nli_pairs(), str(tiny_nli_model(tmp_path / "no", id2label, "neutral")))
    assert (yes.enr, yes.pairs, yes.entailed, yes.method) == (1.0, 2, 2, "cross-encoder")
    assert (no.enr, no.entailed) == (0.0, 0)
    with pytest.raises(FileNotFoundError, match="--nli-model"):
        cross_encoder_enr(nli_pairs(), str(tmp_path / "missing"))
