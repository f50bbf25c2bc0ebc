"""Typed decode errors: a protocol violation by the venue, dropped and counted, never fatal."""

from __future__ import annotations

from typing import TypeVar

import msgspec

__all__ = ["DecodeError", "UnknownEventError", "decode_json"]

_T = TypeVar("_T")

_EXCERPT = 200


class DecodeError(ValueError):
    """A venue frame or response body that does not match the protocol (drop it and count it).

    ``reason`` says what is wrong; ``excerpt`` holds the start of the offending frame so a log
    line shows what was received.
    """

    def __init__(self, reason: str, frame: bytes | str = b"") -> None:
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        self.reason = reason
        self.excerpt = text[:_EXCERPT]
        super().__init__(f"{reason} (frame: {self.excerpt!r})" if self.excerpt else reason)


class UnknownEventError(DecodeError):
    """A well-formed message of an event type we do not know (the venue added one)."""

    def __init__(self, event_type: str, frame: bytes | str = b"") -> None:
        self.event_type = event_type
        super().__init__(f"unknown event_type {event_type!r}", frame)


def decode_json(
    decoder: msgspec.json.Decoder[_T],
    data: bytes | str,
    frame: bytes | str,
    error: type[DecodeError] = DecodeError,
) -> _T:
    """Decode ``data`` (all or part of ``frame``); any failure becomes ``error`` about ``frame``."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as e:
        raise error(f"invalid message: {e}", frame) from e
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise error(f"malformed JSON: {e}", frame) from e
