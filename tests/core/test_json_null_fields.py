"""An object's null fields, sent as one list of their names: nothing is lost."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom import Headroom
from headroom.transforms.flags import question_words
from headroom.transforms.json_null_fields import (
    NULL_FIELDS_KEY,
    expand_null_fields,
    factor_null_fields,
)
from tests.core.test_transforms import compressed_tool, tool_request

_UNSET = ("account_name", "application", "customer_email", "customer_phone", "description")


def invoice(i: int) -> dict[str, Any]:
    return {
        "id": f"in_{i}",
        "amount_due": 1000 + i,
        **dict.fromkeys(_UNSET),
        "address": {"city": None, "line1": None, "line2": None, "postal_code": None},
        "status": "open" if i % 9 else "paid",
        "footer": None,
    }


def test_null_fields_become_one_list_where_the_first_was() -> None:
    document = [invoice(1)]
    snapshot = json.dumps(document)
    out, changed = factor_null_fields(document)
    assert json.dumps(document) == snapshot, "input not mutated"
    assert changed == 2  # the invoice and its address
    assert list(out[0]) == ["id", "amount_due", NULL_FIELDS_KEY, "address", "status"]
    assert out[0][NULL_FIELDS_KEY] == " ".join((*_UNSET, "footer"))
    assert out[0]["address"] == {NULL_FIELDS_KEY: "city line1 line2 postal_code"}
    assert expand_null_fields(out) == document
    assert factor_null_fields(out) == (out, 0), "idempotent"
    assert len(json.dumps(out, separators=(",", ":"))) < len(
        json.dumps(document, separators=(",", ":"))
    )


def test_a_field_the_question_names_stays_and_few_stay() -> None:
    out, _ = factor_null_fields([invoice(1)], question_words("Has the customer an email?"))
    assert out[0]["customer_email"] is None
    assert "customer_email" not in out[0][NULL_FIELDS_KEY].split()
    few = {"id": 1, "fax": None, "company": None, "state": None}
    assert factor_null_fields([few]) == ([few], 0), "three nulls cost less than the list"
    spaced = {"id": 1, **{f"unset field {i}": None for i in range(6)}}
    assert factor_null_fields(spaced) == (spaced, 0), "a name with a space stays"


_names = st.sampled_from(["fax", "company", "due_date", "state", "a b", "", "x", "closed_at"])


@st.composite
def sparse_object(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = {"id": draw(st.integers(0, 9))}
    for name in draw(st.lists(_names, max_size=8, unique=True)):
        node[name] = draw(st.sampled_from([None, None, 0, "", "set"]))
    if depth < 2 and draw(st.booleans()):
        node["inner"] = draw(sparse_object(depth + 1))
    if depth < 2 and draw(st.booleans()):
        node["items"] = draw(st.lists(sparse_object(depth + 1), max_size=3))
    return node


@settings(max_examples=300, deadline=None)
@given(
    st.lists(sparse_object(), min_size=1, max_size=5),
    st.frozensets(st.sampled_from(["fax", "state", "date", "due"])),
)
def test_listing_is_lossless_deterministic_idempotent_and_shorter(
    document: list[Any], asked: frozenset[str]
) -> None:
    snapshot = json.dumps(document)
    out, changed = factor_null_fields(document, asked)
    assert json.dumps(document) == snapshot
    assert expand_null_fields(out) == document
    assert factor_null_fields(document, asked) == (out, changed)
    assert factor_null_fields(out, asked) == (out, 0)
    if changed:
        compact = json.dumps(out, separators=(",", ":"))
        assert len(compact) < len(json.dumps(document, separators=(",", ":")))


def test_the_engine_lists_nulls_and_recall_sees_what_is_shown() -> None:
    invoices = [invoice(i) for i in range(60)]
    messages = tool_request(json.dumps(invoices, indent=2), "List the invoices.", name="invoices")
    body, digest = compressed_tool(Headroom().simulate(messages)).rsplit("\n", 1)
    assert digest.startswith("<headroom:tool_digest") and NULL_FIELDS_KEY in body
    kept = [item for item in expand_null_fields(json.loads(body)) if "id" in item]
    assert all(item == invoices[int(item["id"][3:])] for item in kept)
    follow_up = [
        {"role": "assistant", "content": "Done."},
        {"role": "user", "content": "What is the amount due of in_0?"},
    ]
    plan = Headroom().simulate(messages + follow_up)
    assert plan.messages[-1]["role"] == "user", "an invoice that was sent is not recalled"
    follow_up[-1]["content"] = "What is the amount due of in_33?"
    recalled = Headroom().simulate(messages + follow_up).messages[-1]
    assert recalled["role"] == "tool" and NULL_FIELDS_KEY in recalled["content"]
    assert expand_null_fields(json.loads(recalled["content"].split("\n", 1)[1])) == [invoice(33)]


def test_a_profile_can_turn_null_lists_off() -> None:
    original = json.dumps([invoice(i) for i in range(60)])
    off = {"invoices": {"factor_null_fields": False}}
    plan = Headroom().simulate(tool_request(original, name="invoices"), tool_profiles=off)
    assert NULL_FIELDS_KEY not in compressed_tool(plan)
    on = Headroom().simulate(tool_request(original, name="invoices"))
    assert NULL_FIELDS_KEY in compressed_tool(on)
