"""Data-quality evaluation as the ToolFlow paper measures it (SS, EnR, H, Distinct-3, LLM judge), our own
structural metrics, and the four-setting ablation runner (`toolflow eval`, `toolflow ablate`)."""
