"""No leaked scaffolding, no echoes: each case of issue 26 section 5 is rejected with its reason code."""

import json

from tests.unit.synth.test_export import parallel_dialogue
from toolflow.engine.llm.repair import TRUNCATED_FEEDBACK
from toolflow.engine.models import Dialogue
from toolflow.engine.synth.agents.prompting import load_prompt
from toolflow.engine.synth.checks import check_dialogue, reason_code
from toolflow.engine.synth.leak_checks import fragments, scaffolding_fragments


def _with_user(text: str, at: int = 6) -> Dialogue:
    d = parallel_dialogue()
    d["messages"][at] = {"role": "user", "content": text}
    return Dialogue.model_validate(d)


def _codes(d: Dialogue, **kw) -> set[str]:
    return {reason_code(r) for r in check_dialogue(d, **kw).failed}


def test_clean_dialogue_passes():
    assert check_dialogue(Dialogue.model_validate(parallel_dialogue())).passed


def test_user_turn_with_our_repair_instruction_is_rejected():
    # the fragment from kept dialogues of the old code
    d = _with_user("Thanks! is not something a person types: write it in plain words")
    assert "scaffolding_in_user" in _codes(d)
    assert "scaffolding_in_user" in _codes(_with_user(f"ok. {TRUNCATED_FEEDBACK.lower()}"))


def test_fragments_are_derived_from_prompt_and_repair_texts(tmp_path, monkeypatch):
    frags = scaffolding_fragments()
    assert ("is", "not", "something", "a", "person", "types") in frags  # the user agent's feedback
    assert ("write", "it", "in", "plain", "words") in frags  # prose_problem's reason
    line = "Write one or two natural sentences, no lists or markup."  # user.md
    assert line in load_prompt("user")
    assert "scaffolding_in_user" in _codes(_with_user(f"Sure. {line}"))
    # a prompt override folder is read too: its sentences become fragments
    (tmp_path / "user.md").write_text("Speak like a weary sailor who misses the salty sea.\n")
    monkeypatch.setenv("TOOLFLOW_PROMPTS_DIR", str(tmp_path))
    assert ("like", "a", "weary", "sailor", "who", "misses") in scaffolding_fragments()
    # quoted examples and placeholders are the user's words, not ours
    assert fragments(['Say "book the cheapest of those three rooms" for $intent here']) == frozenset()


def test_everyday_words_are_not_scaffolding():
    for text in ("Thanks, that is all I needed today!", "Can you write it down in plain words for my mum?",
                 "Please book the cheapest of those for Friday."):
        assert "scaffolding_in_user" not in _codes(_with_user(text)), text


def test_user_pasting_a_tool_description_is_rejected():
    d = parallel_dialogue()
    desc = d["tools"][0]["function"]["description"]
    assert len(desc.split()) >= 5
    assert "tool_description_in_user" in _codes(_with_user(f"Hi. {desc}"))
    d["tools"][0]["function"]["description"] = "Add two numbers."
    d["messages"][6] = {"role": "user", "content": "Tool description: Add two numbers. Please do it."}
    assert "tool_description_in_user" in _codes(Dialogue.model_validate(d))
    d["messages"][6] = {"role": "user", "content": "Could you add two numbers for me?"}
    assert "tool_description_in_user" not in _codes(Dialogue.model_validate(d))


def test_user_echoing_the_assistant_is_rejected():
    d = _with_user("Sunny, and try Zia.")
    assert "user_echoes_assistant" in _codes(d)
    assert "user_echoes_assistant" not in _codes(_with_user("Sunny sounds great, thanks."))


def test_tool_result_with_model_chatter_is_rejected():
    d = parallel_dialogue()
    chatter = "2026-04-27 14:53:09\ntype:'string' }\n```\nThe result is a JSON in a"
    d["messages"][3]["content"] = json.dumps({"forecast": ["sun"], "local_time": chatter})
    assert "result_chatter" in _codes(Dialogue.model_validate(d))


def test_tool_result_values_are_validated_against_declared_formats():
    d = parallel_dialogue()
    returns = {"get_forecast": {"type": "object", "properties": {
        "local_time": {"type": "string", "format": "date-time"},
        "contact": {"type": "string", "format": "email"}}}}
    d["messages"][3]["content"] = json.dumps({"local_time": "2026-04-27T14:53:09Z", "contact": "a@b.org"})
    assert "result_bad_format" not in _codes(Dialogue.model_validate(d), returns=returns)
    d["messages"][3]["content"] = json.dumps({"local_time": "around two o'clock", "contact": "a@b.org"})
    failed = check_dialogue(Dialogue.model_validate(d), returns=returns).failed
    assert [r for r in failed if r.startswith("result_bad_format")] == [
        "result_bad_format: message 3 get_forecast.local_time: \"around two o'clock\" is not a date-time"]


def test_user_repeating_a_sentence_of_the_assistant_is_rejected():
    d = parallel_dialogue()
    d["messages"][5]["content"] = "Lisbon, Portugal is a major global city. This is a reference to its time zone."
    d["messages"][6] = {"role": "user", "content": "2026-04-27. Lisbon, Portugal is a major global city."}
    assert "user_echoes_assistant" in _codes(Dialogue.model_validate(d))
    d["messages"][6] = {"role": "user", "content": "Is Lisbon a big city?"}
    assert "user_echoes_assistant" not in _codes(Dialogue.model_validate(d))


def test_result_value_holding_the_schema_description_is_rejected():
    d = parallel_dialogue()
    returns = {"get_forecast": {"type": "object", "properties": {
        "timezone": {"type": "string", "description": "IANA time zone of the location, e.g. Europe/Lisbon"}}}}
    d["messages"][3]["content"] = json.dumps({"timezone": "IANA time zone of the location, e.g. Europe/Lisbon"})
    assert "result_chatter" in _codes(Dialogue.model_validate(d), returns=returns)
    d["messages"][3]["content"] = json.dumps({"timezone": "Europe/Lisbon"})
    assert "result_chatter" not in _codes(Dialogue.model_validate(d), returns=returns)
