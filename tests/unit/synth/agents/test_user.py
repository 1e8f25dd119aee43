"""User agent: what it is told for each turn kind, what it can see, and the −Plan mode."""

import pytest
from fake_llm import ScriptedLLM, fixture_tools

from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.llm.repair import DEFAULT_REPAIRS
from toolflow.engine.models import PlanTurn
from toolflow.engine.synth.agents.user import UserTurn, next_user_message, user_turn_schema

TOOLS = fixture_tools()
HISTORY = [
    {"role": "user", "content": "Any hotels in Porto from June 3?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "search_hotels", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "c1", "name": "search_hotels", "content": '{"secret_marker": 1}'},
    {"role": "assistant", "content": "I found Casa Azul for 80 EUR."},
]


def _prompt(llm: ScriptedLLM) -> str:
    return llm.calls_for("user")[-1]["messages"][-1]["content"]


async def test_user_sees_only_text_not_tool_traffic():
    llm = ScriptedLLM({"user": [{"message": "  Great, book it.  "}]})
    turn = PlanTurn(kind="follow_up", intent="book the hotel you found", tools=["book_hotel"], depends_on=[0])
    out = await next_user_message(llm, HISTORY, turn=turn, tools=TOOLS)
    assert out == UserTurn(message="Great, book it.", done=False)
    prompt = _prompt(llm)
    assert "Casa Azul" in prompt and "book the hotel you found" in prompt
    assert "secret_marker" not in prompt and "search_hotels" not in prompt
    assert "builds on what the assistant told you" in prompt


async def test_clarify_turn_omits_then_supplies_the_missing_value():
    turn = PlanTurn(kind="clarify", intent="book the hotel", tools=["book_hotel"], missing=["guests"])
    llm = ScriptedLLM({"user": [{"message": "Book it"}, {"message": "We are two"}]})
    await next_user_message(llm, HISTORY, turn=turn, tools=TOOLS)
    first = _prompt(llm)
    assert "leave out this information" in first and "guests (Number of guests)" in first
    await next_user_message(llm, HISTORY, turn=turn, tools=TOOLS, answering=True)
    second = _prompt(llm)
    assert "Give it now" in second and "leave out" not in second
    assert "If the assistant asked you for something" in second


async def test_system_prompt_forbids_naming_tools():
    llm = ScriptedLLM({"user": [{"message": "hi"}]})
    await next_user_message(llm, [], turn=PlanTurn(kind="chitchat", intent="greet"), tools=TOOLS,
                            scenario="A student in Oslo.")
    system = llm.calls_for("user")[0]["messages"][0]["content"]
    assert "Never mention tools" in system and "A student in Oslo." in system
    assert "has not started yet" in _prompt(llm)


async def test_no_plan_mode_improvises_from_capabilities():
    llm = ScriptedLLM({"user": [{"message": "", "done": True}]})
    out = await next_user_message(llm, HISTORY, turn=None, tools=TOOLS, turn_number=2, max_turns=4)
    assert out.done is True
    prompt = _prompt(llm)
    assert "Weather forecast for a city." in prompt and "turn 3 of at most 4" in prompt
    assert "Your goal" not in prompt


@pytest.mark.parametrize(("answer", "why"), [
    ({"message": "Please run search_hotels for Porto", "done": False}, "function names"),
    ({"message": "][ {", "done": False}, "plain words"),
    ({"message": "What about [city]?", "done": False}, "no brackets"),
    ({"message": "", "done": True}, "is empty"),
])
async def test_unusable_messages_are_refused_for_a_re_ask(answer, why):
    llm = ScriptedLLM({"user": [answer] * (DEFAULT_REPAIRS + 1)})
    turn = PlanTurn(kind="tool_call", intent="find a hotel in Porto", tools=["search_hotels"])
    with pytest.raises(StructuredOutputError, match=why):
        await next_user_message(llm, HISTORY, turn=turn, tools=TOOLS)
    assert len(llm.calls_for("user")) == DEFAULT_REPAIRS + 1  # the one repair policy's budget, then the error
    assert why in llm.calls_for("user")[1]["messages"][-1]["content"]  # the problem was fed back
    schema = llm.calls_for("user")[0]["json_schema"]
    assert schema == user_turn_schema() and schema["required"] == ["message", "done"]


async def test_email_addresses_and_plain_messages_pass():
    llm = ScriptedLLM({"user": [{"message": "Send it to jo_smith@example.com, please.", "done": False}]})
    turn = PlanTurn(kind="tool_call", intent="email the plan", tools=["search_hotels"])
    out = await next_user_message(llm, HISTORY, turn=turn, tools=TOOLS)
    assert out.message == "Send it to jo_smith@example.com, please."


@pytest.mark.parametrize(("answer", "why"), [
    ("Sure: is not something a person types: write it in plain words", "copied an instruction"),
    ("I found Casa Azul for 80 EUR.", "repeated the assistant's message"),
])
async def test_copied_instructions_and_echoes_are_re_asked(answer, why):
    llm = ScriptedLLM({"user": [{"message": answer, "done": False}, {"message": "Book it for two.", "done": False}]})
    turn = PlanTurn(kind="follow_up", intent="book the hotel you found", tools=["book_hotel"], depends_on=[0])
    out = await next_user_message(llm, HISTORY, turn=turn, tools=TOOLS)
    assert out.message == "Book it for two."
    assert why in llm.calls_for("user")[1]["messages"][-1]["content"]
