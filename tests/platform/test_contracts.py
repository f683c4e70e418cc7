"""The contract building blocks on their own (app/contracts/): what pydantic's strict models
refuse by themselves, the query-string types, the refusal messages and field paths, the JSON
media types."""

from __future__ import annotations

from typing import Annotated

import pytest

from app.contracts.fields import Contract, Int, Num, QBool, QInt, QNum, QueryContract, QWords, Text, Words
from app.contracts.reading import is_json, parse_json
from app.errors import BadRequest


class Inner(Contract):
    price: Annotated[float, Num(0, 100)] | None = None
    tags: Words | None = None


class Body(Contract):
    text: Annotated[str, Text(20, min_len=1)]
    count: Annotated[int, Int(1, 50)] = 10
    inner: Inner | None = None


class Query(QueryContract):
    limit: Annotated[int, QInt(1, 50)] = 20
    price: Annotated[float, QNum(0, 1e6)] | None = None
    on: QBool | None = None
    colors: QWords | None = None


def refused(raw: bytes) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse_json(raw, Body)
    assert caught.value.status == 400
    return caught.value


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"text": "red \\ud800 kurta"}', "text"),  # the parser refuses it; the field is found
        (b'{"text": "ok", "inner": {"tags": ["a", "\\udfff"]}}', "inner.tags.1"),
        (b'{"text":' + b"[" * 3000 + b"]" * 3000 + b"}", "body"),  # no RecursionError
        (b'{"text": "ok", "inner": {"price": NaN}}', "inner.price"),
        (b'{"text": "ok", "inner": {"price": Infinity}}', "inner.price"),
        (b'{"text": "ok", "inner": {"price": 1e400}}', "inner.price"),
        (b'{"text": "ok", "count": 9223372036854775808}', "count"),
        (b'{"text": "ok", "count": ' + b"1" * 5000 + b"}", "body"),
        (b'{"text": "ok", "count": "10"}', "count"),  # JSON types: a string is no integer
        (b'{"text": "ok", "count": 10.0}', "count"),
        (b'{"text": "ok", "count": true}', "count"),
        (b'{"text": "a\\u0000b"}', "text"),
        (b'{"text": "   "}', "text"),
        (b'{"text": "ok", "extra": 1}', "extra"),
        (b"[1, 2]", "body"),
        (b"", "body"),
    ],
)
def test_strict_models_refuse_by_themselves(raw: bytes, field: str) -> None:
    assert refused(raw).field == field


def test_messages_name_the_field_and_the_rule() -> None:
    assert refused(b'{"text": "ok", "count": 99}').message == "count must be an integer from 1 to 50"
    assert refused(b'{"text": ""}').message == "text must not be empty"
    assert refused(b'{"text": "' + b"x" * 21 + b'"}').message == "text must be at most 20 characters"
    assert refused(b'{}').message == "text is required"
    assert "lone surrogates" in refused(b'{"text": "\\ud800"}').message
    assert refused(b'{"text": "ok", "inner": {"price": -1}}').message == "inner.price must be a number from 0 to 100"


def test_surrogate_pairs_and_plain_unicode_are_fine() -> None:
    body = parse_json('{"text": "लहंगा \\ud83d\\udc57 سلام"}'.encode(), Body)
    assert body.text == "लहंगा 👗 سلام"


@pytest.mark.parametrize(
    ("value", "ok"),
    [("7", 7), (" 7 ", 7), ("+7", 7), ("\u00b2", None), ("\u0663", None), ("7.0", None), ("1e1", None),
     ("1" * 19, None), ("1" * 4400, None), ("0x10", None), ("", None)],
)
def test_query_integers_are_ascii_digits(value: str, ok: int | None) -> None:
    if ok is None:
        with pytest.raises(Exception):  # noqa: B017 - pydantic's ValidationError
            Query.model_validate({"limit": value})
    else:
        assert Query.model_validate({"limit": value}).limit == ok


def test_query_numbers_flags_and_lists() -> None:
    query = Query.model_validate({"price": "1,299.50", "on": "Yes", "colors": "red, blue,,"})
    assert (query.price, query.on, query.colors) == (1299.5, True, ["red", "blue"])
    for bad in ("nan", "inf", "\u0663\u0660\u0660", "1e400", "12abc"):
        with pytest.raises(Exception):  # noqa: B017
            Query.model_validate({"price": bad})


@pytest.mark.parametrize(
    ("content_type", "json"),
    [("application/json", True), ("application/json; charset=utf-8", True), ("Application/JSON", True),
     ("application/vnd.storestream+json", True), ("application/json; charset=latin-1", False),
     ("text/plain", False), ("text/json", False), ("application/x-www-form-urlencoded", False),
     ("multipart/form-data; boundary=x", False), ("", False), (None, False)],
)
def test_json_media_types(content_type: str | None, json: bool) -> None:
    assert is_json(content_type) is json
