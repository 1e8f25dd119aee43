"""The FEEDS evidence rule: the misses of the paper's cosine rule found, hard negatives kept out, links, fields.

Pure cases call `score_pair` with a given cosine (the rule, independent of the embedder); end-to-end cases
build a graph with the real embedder (cached) and read the edges back from both stores.
"""

from __future__ import annotations

from toolflow.engine.graph.facts import field_facts, name_tokens, singular, tool_entity
from toolflow.engine.graph.fields import MAX_RETURN_FIELDS, param_fields, return_fields
from toolflow.engine.graph.matching import score_pair
from toolflow.engine.models import FieldNode, Tool


def _tool(name: str, params: dict, returns: dict | None = None, *, api: str = "shop", extra: dict | None = None,
          desc: str = "") -> Tool:
    return Tool(
        id=f"t:{api}/{name}",
        name=name,
        description=desc or f"{name.replace('_', ' ')}",
        parameters={"type": "object", "properties": params, "required": list(params)},
        returns=returns,
        source="t",
        extra=extra or {},
    )


def _s(desc: str, t: str = "string", **kw) -> dict:
    return {"type": t, "description": desc, **kw}


def _obj(**props) -> dict:
    return {"type": "object", "properties": props}


def _field(tool: Tool, path: str, role: str) -> FieldNode:
    fields = return_fields(tool) if role == "return" else param_fields(tool)
    return next(f for f in fields if f.path == path)


def _verdict(src_tool: Tool, src_path: str, dst_tool: Tool, dst_path: str, cos: float | None,
             entities: frozenset[str] = frozenset()):
    r, p = _field(src_tool, src_path, "return"), _field(dst_tool, dst_path, "param")
    ents = entities or frozenset(filter(None, [tool_entity(src_tool), tool_entity(dst_tool)]))
    rf = field_facts(r, src_tool, tool_entity(src_tool), ents)
    pf = field_facts(p, dst_tool, tool_entity(dst_tool), ents)
    same_api = src_tool.id.rsplit("/", 1)[0] == dst_tool.id.rsplit("/", 1)[0]
    return score_pair(r, p, rf, pf, cos, same_api, 0.82)


# ---- names and entities -------------------------------------------------------------------------------

def test_name_normalization_and_tool_entities():
    assert name_tokens("receiverId") == name_tokens("receiver_id") == name_tokens("receiver-ids") == ("receiver", "id")
    assert name_tokens("isbn13") == ("isbn",)
    assert singular("companies") == "company" and singular("addresses") == "address" and singular("status") == "status"
    assert tool_entity(_tool("get_ticket", {})) == "ticket"
    assert tool_entity(_tool("companiesOne", {})) == "company"
    assert tool_entity(_tool("getRepositoriesByOwner", {})) == "repository"
    assert tool_entity(_tool("x", {}, extra={"path": "/v1/profiles/{id}/updates/pending.json"})) == "update"
    assert tool_entity(_tool("x", {}, extra={"path": "/profiles{mediaTypeExtension}"})) == "profile"


# ---- the misses of the paper rule, as rule cases --------------------------------------------------------

LOOKUP = _tool("symbol_lookup", {"query": _s("Company name to search for")},
               _obj(symbol=_s("Ticker of the best matching listing")), api="quotes")
QUOTE = _tool("get_quote", {"symbol": _s("The stock symbol, e.g. AAPL")}, _obj(price=_s("Last price", "number")),
              api="quotes")
LOGIN = _tool("authenticate", {"username": _s("User name"), "password": _s("Password")},
              _obj(access_token=_s("Bearer token for the other calls")), api="bank")
BALANCE = _tool("get_balance", {"access_token": _s("Token returned by authenticate"), "account": _s("Account number")},
                _obj(balance=_s("Balance in dollars", "number")), api="bank")
TRANSFER = _tool("transfer_money", {"access_token": _s("Auth token"), "amount": _s("Amount of dollars to send", "number")},
                 _obj(transfer_id=_s("Id of the transfer")), api="bank")
RAPID = _tool("weather", {"X-RapidAPI-Key": _s("Your RapidAPI key"), "city": _s("City name")}, None, api="bank")
GET_TICKET = _tool("get_ticket", {"ticket_id": _s("Ticket to fetch")},
                   _obj(id=_s("Identifier"), subject=_s("Subject line")), api="desk")
CLOSE_TICKET = _tool("close_ticket", {"ticket_id": _s("The ticket to close"), "resolution": _s("Why it was closed")},
                     _obj(closed=_s("Whether it worked", "boolean")), api="desk")
LIST_PAYMENTS = _tool("list_payments", {"month": _s("Month, YYYY-MM")},
                      _obj(results={"type": "array", "items": _obj(receiver_id=_s("Who got paid"),
                                                                     amount=_s("Paid amount", "number"))}), api="pay")
GET_RECEIVER = _tool("get_receiver", {"receiver_id": _s("Receiver account identifier")},
                     _obj(name=_s("Receiver name")), api="pay")


def test_symbol_to_symbol_by_name_even_below_the_cosine_threshold():
    v = _verdict(LOOKUP, "symbol", QUOTE, "symbol", cos=0.78)
    assert v is not None and v.evidence == ("name",) and v.score >= 0.82
    assert _verdict(LOOKUP, "symbol", QUOTE, "symbol", cos=0.1) is None  # same name, unrelated meaning


def test_auth_token_chain_login_token_to_the_tools_that_take_it():
    for dst in (BALANCE, TRANSFER):
        v = _verdict(LOGIN, "access_token", dst, "access_token", cos=0.5)
        assert v is not None and v.evidence == ("credential",)
    # A credential that no tool returns stays out: a token is not a RapidAPI key.
    assert _verdict(LOGIN, "access_token", RAPID, "X-RapidAPI-Key", cos=0.9) is None


def test_id_of_get_ticket_is_a_ticket_id():
    v = _verdict(GET_TICKET, "id", CLOSE_TICKET, "ticket_id", cos=None)
    assert v is not None and v.evidence[0] == "entity_id"


def test_list_element_receiver_id_feeds_receiver_id():
    (f,) = [f for f in return_fields(LIST_PAYMENTS) if f.name == "receiver_id"]
    assert f.path == "results[].receiver_id"
    v = _verdict(LIST_PAYMENTS, "results[].receiver_id", GET_RECEIVER, "receiver_id", cos=0.4)
    assert v is not None and v.evidence[0] == "entity_id"


# ---- hard negatives ---------------------------------------------------------------------------------------

STATUS_MSG = _tool("submit_order", {"item": _s("Item")},
                   _obj(status=_s("Human readable status message of the submission"),
                        order=_obj(status=_s("Order status message"))), api="shop")
LIST_ORDERS = _tool("list_orders", {"status": _s("Filter orders by status", enum=["open", "shipped", "closed"])},
                    _obj(count=_s("n", "integer")), api="shop")
POSITION = _tool("get_position", {"ticker": _s("Ticker")},
                 _obj(amount=_s("Number of shares held", "number")), api="broker")
PAY = _tool("send_payment", {"amount": _s("Amount of US dollars to pay", "number")}, None, api="broker")


def test_status_message_does_not_fill_a_status_filter():
    assert _verdict(STATUS_MSG, "status", LIST_ORDERS, "status", cos=0.9) is None
    assert _verdict(STATUS_MSG, "order.status", LIST_ORDERS, "status", cos=0.9) is None


def test_enum_parameter_takes_a_value_only_when_it_can_be_a_member():
    src_ok = _tool("get_order", {"id": _s("Order")}, _obj(state=_s("Order state", enum=["open", "closed"])), api="s")
    src_bad = _tool("get_order2", {"id": _s("Order")}, _obj(state=_s("Order state", enum=["open", "lost"])), api="s")
    dst = _tool("find_orders", {"state": _s("Order state", enum=["open", "shipped", "closed"])}, None, api="s")
    assert _verdict(src_ok, "state", dst, "state", cos=0.95) is not None
    assert _verdict(src_bad, "state", dst, "state", cos=0.95) is None


def test_amount_of_shares_is_not_an_amount_of_dollars():
    assert _verdict(POSITION, "amount", PAY, "amount", cos=0.6) is None
    # A numeric measure with the same name needs what the paper asks of any pair: cosine above the threshold.
    assert _verdict(POSITION, "amount", PAY, "amount", cos=0.9) is not None


def test_ids_of_different_entities_never_match_and_deletes_are_no_sources():
    profiles = _tool("get_profiles", {}, {"type": "array", "items": _obj(id=_s("Profile id"))},
                     api="buf", extra={"path": "/profiles", "method": "GET"})
    update = _tool("get_update", {"id": _s("Update id", **{"x-in": "path"})}, _obj(text=_s("Text")),
                   api="buf", extra={"path": "/updates/{id}", "method": "GET"})
    ents = frozenset({"profile", "update"})
    assert _verdict(profiles, "[].id", update, "id", cos=0.99, entities=ents) is None
    delete = _tool("delete_update", {"id": _s("Update id", **{"x-in": "path"})}, _obj(id=_s("Deleted update id")),
                   api="buf", extra={"path": "/updates/{id}", "method": "DELETE"})
    r, p = _field(delete, "id", "return"), _field(update, "id", "param")
    rf, pf = field_facts(r, delete, "update", ents), field_facts(p, update, "update", ents)
    assert score_pair(r, p, rf, pf, 1.0, True, 0.82, src_deletes=True) is None
    assert score_pair(r, p, rf, pf, 1.0, True, 0.82) is not None  # the veto is the DELETE, not the ids


# ---- fields: compositions, list elements, deep identifiers --------------------------------------------------

def test_fields_walk_all_of_and_keep_deep_identifiers_first():
    pet = {"allOf": [_obj(name=_s("Pet name")), {"type": "object", "properties": {"id": _s("Pet id", "integer")}}]}
    tool = _tool("find_pets", {"tags": {"type": "array", "items": {"type": "string"}, "description": "Tags"}},
                 {"type": "array", "items": pet})
    paths = {f.path for f in return_fields(tool)}
    assert paths == {"[].name", "[].id"}
    assert {f.path for f in param_fields(tool)} == {"tags", "tags[]"}
    shallow = {f"f{i}": _s(f"field {i}") for i in range(MAX_RETURN_FIELDS + 10)}
    deep = _obj(**shallow, data=_obj(a=_obj(b=_obj(c=_obj(order_id=_s("Order id"))))))
    kept = {f.path for f in return_fields(_tool("big", {}, deep))}
    assert "data.a.b.c.order_id" in kept and len(kept) == MAX_RETURN_FIELDS
