"""Polymarket RTDS (real-time data socket) wire structs for the crypto price topics.

Every message is ``{"topic","type","timestamp","payload"}``; the payload shape depends on
``type``. Prices arrive as JSON numbers and decode straight to ``Decimal`` from their text, so
no float rounding happens. These types never leave ``venues.polymarket``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

__all__ = [
    "RtdsEnvelope",
    "RtdsHistoryPoint",
    "RtdsPriceSnapshot",
    "RtdsPriceUpdate",
    "RtdsSubscribeRequest",
    "RtdsSubscription",
]


EpochMs = Annotated[int, msgspec.Meta(ge=0, le=(2**63 - 1) // 1_000_000)]
"""Epoch milliseconds that still fit an int64 once converted to nanoseconds."""


class RtdsEnvelope(msgspec.Struct, frozen=True, gc=False):
    """Any RTDS message, payload left undecoded until ``topic`` and ``type`` are known.

    The envelope ``timestamp`` (send time) is not read: events carry the price's own time.

    ``{"topic":"crypto_prices","type":"update","timestamp":1780730269142,"payload":{…}}``
    """

    topic: str
    type: str
    payload: msgspec.Raw


class RtdsPriceUpdate(msgspec.Struct, frozen=True, gc=False):
    """Payload of a ``crypto_prices`` ``update`` (``timestamp`` is the price's time, ms).

    ``{"symbol":"btcusdt","timestamp":1780730269000,"value":61035.86,
    "full_accuracy_value":"61035.86000000"}``
    """

    symbol: str
    timestamp: EpochMs
    value: Decimal
    full_accuracy_value: str | None = None


class RtdsHistoryPoint(msgspec.Struct, frozen=True, gc=False):
    """One point of a subscribe snapshot: ``{"timestamp":1780726209000,"value":61164.12}``"""

    timestamp: EpochMs
    value: Decimal


class RtdsPriceSnapshot(msgspec.Struct, frozen=True, gc=False):
    """Payload of the ``subscribe`` reply: recent history of one symbol, oldest first.

    ``{"symbol":"btcusdt","data":[{"timestamp":1780726209000,"value":61164.12},…]}``
    """

    symbol: str
    data: list[RtdsHistoryPoint]


class RtdsSubscription(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """One topic of a subscribe request: ``{"topic":"crypto_prices","type":"update"}``

    ``filters`` is a comma-separated symbol list in the docs (``"btcusdt,ethusdt"``).
    """

    topic: str
    type: str
    filters: str | None = None


class RtdsSubscribeRequest(msgspec.Struct, frozen=True, gc=False):
    """What a client sends to subscribe (or, with ``"unsubscribe"``, to stop).

    ``{"action":"subscribe","subscriptions":[{"topic":"crypto_prices","type":"update"}]}``
    """

    action: str
    subscriptions: list[RtdsSubscription]
