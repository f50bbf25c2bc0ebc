"""Structured logs: JSON lines carry the run, the task's venue/market/token context, exceptions."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from prediction_engine.ops.logs import configure_logging, current_context, log_context


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = configure_logging(True, "DEBUG", run_id="run-7", stream=buffer)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    """The JSON lines written, less asyncio's own debug records."""
    parsed = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return [line for line in parsed if line["logger"] != "asyncio"]


def test_a_record_is_one_json_line_with_time_level_logger_message_and_run(
    stream: io.StringIO,
) -> None:
    logging.getLogger("prediction_engine.test").warning("book %s stale", "abc")
    (line,) = lines(stream)
    assert line["level"] == "WARNING"
    assert line["logger"] == "prediction_engine.test"
    assert line["message"] == "book abc stale"
    assert line["run_id"] == "run-7"
    stamp = str(line["ts"])
    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).utcoffset() is not None


def test_context_and_extra_fields_appear_and_nest(stream: io.StringIO) -> None:
    log = logging.getLogger("prediction_engine.test")
    with log_context(venue="polymarket", market="0xm"):
        with log_context(token="123", session=None):
            log.info("inner")
        log.info("outer", extra={"token": "999"})
    log.info("outside")
    inner, outer, outside = lines(stream)
    assert (inner["venue"], inner["market"], inner["token"]) == ("polymarket", "0xm", "123")
    assert "session" not in inner
    assert outer["token"] == "999" and outer["market"] == "0xm"
    assert not {"venue", "market", "token"} & outside.keys()
    assert current_context() == {}


async def test_the_context_follows_each_task_without_leaking(stream: io.StringIO) -> None:
    log = logging.getLogger("prediction_engine.test")

    async def work(market: str) -> None:
        with log_context(market=market):
            await asyncio.sleep(0.01)
            log.info("tick")

    await asyncio.gather(work("a"), work("b"))
    assert sorted(str(line["market"]) for line in lines(stream)) == ["a", "b"]


def test_an_exception_is_included_and_the_line_stays_one_line(stream: io.StringIO) -> None:
    try:
        raise ValueError("bad frame\nsecond line")
    except ValueError:
        logging.getLogger("x").exception("decode failed")
    (line,) = lines(stream)
    assert stream.getvalue().count("\n") == 1
    assert line["level"] == "ERROR"
    assert "ValueError: bad frame" in str(line["exception"])
    assert "Traceback" in str(line["exception"])


def test_configuring_twice_replaces_the_handler_and_text_mode_is_not_json() -> None:
    root = logging.getLogger()
    level = root.level
    first, second = io.StringIO(), io.StringIO()
    handler = configure_logging(True, "INFO", stream=first)
    handler = configure_logging(False, "INFO", stream=second)
    try:
        logging.getLogger("prediction_engine.t").info("hello")
        logging.getLogger("prediction_engine.t").debug("hidden")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert first.getvalue() == ""
    assert "INFO" in second.getvalue() and "hello" in second.getvalue()
    assert "hidden" not in second.getvalue()
    assert not second.getvalue().startswith("{")


def test_an_unknown_level_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(True, "LOUD", stream=io.StringIO())
