"""Secrets never printed: URI passwords, API keys and registered values are masked in any text."""

from __future__ import annotations

from toolflow.engine.secrets import mask_uri_passwords, redact


def test_redact_masks_uri_passwords_keys_and_registered_values():
    assert mask_uri_passwords("x bolt://u:p@ss@h:1/db y") == "x bolt://u:***@h:1/db y"
    assert mask_uri_passwords("bolt://h:7687 and http://u@h") == "bolt://h:7687 and http://u@h"
    assert redact("Incorrect API key provided: sk-proj-abcdefgh12345678") == "Incorrect API key provided: ***"
    assert redact("auth Bearer abcdefghijk failed") == "auth Bearer *** failed"
    assert redact("key=custom-key-0001 bad", ["custom-key-0001"]) == "key=*** bad"
