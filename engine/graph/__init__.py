"""The tool graph: field matching and evaluation against labelled flows."""
