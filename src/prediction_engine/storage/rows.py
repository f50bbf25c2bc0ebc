"""One journal row as stored, the payload codec, and the checksum that guards it.

Every row keeps its typed payload as msgspec JSON plus the columns queries filter on (kind,
strategy, client id, market, token, time). ``crc`` is CRC-32 over the run id, sequence number,
kind and payload: a row changed or cut short on disk no longer matches it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import msgspec

from prediction_engine.core.commands import CancelOrder, ExecutionReport, SubmitOrder
from prediction_engine.core.events import MarketResolved
from prediction_engine.core.portfolio import Position
from prediction_engine.engine.journaling import CashMovement, JournalKind, Shutdown
from prediction_engine.engine.snapshot import EngineSnapshot, SessionStart
from prediction_engine.engine.telemetry import OrderRecord, SignalRecord
from prediction_engine.risk.limits import KillSwitch

__all__ = ["COLUMNS", "JournalRow", "RunInfo", "checksum", "decode", "encode_row"]

COLUMNS = ("run_id", "seq", "session", "ts_ns", "kind", "strategy", "client_id", "market",
           "token", "payload", "crc")
"""The journal table's columns, in the order rows are written."""

_K = JournalKind
_TYPES: dict[JournalKind, type[Any]] = {
    _K.SESSION: SessionStart,
    _K.SIGNAL: SignalRecord,
    _K.SUBMIT: SubmitOrder,
    _K.CANCEL: CancelOrder,
    _K.RISK_REJECTED: OrderRecord,
    _K.REPORT: ExecutionReport,
    _K.POSITION: Position,
    _K.CASH: CashMovement,
    _K.RESOLUTION: MarketResolved,
    _K.KILL_SWITCH: KillSwitch,
    _K.SNAPSHOT: EngineSnapshot,
    _K.SHUTDOWN: Shutdown,
}
_DECODERS = {kind: msgspec.json.Decoder(kind_type) for kind, kind_type in _TYPES.items()}
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One stored record (``payload`` is its msgspec JSON)."""

    run_id: str
    seq: int
    session: int
    ts_ns: int
    kind: str
    strategy: str
    client_id: str
    market: str
    token: str
    payload: bytes
    crc: int

    def as_tuple(self) -> tuple[object, ...]:
        """The row in :data:`COLUMNS` order."""
        return (self.run_id, self.seq, self.session, self.ts_ns, self.kind, self.strategy,
                self.client_id, self.market, self.token, self.payload, self.crc)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run in a journal: its id, config, sessions and records."""

    run_id: str
    config: str
    created_ns: int
    sessions: int
    records: int
    last_ts_ns: int


def checksum(run_id: str, seq: int, kind: str, payload: bytes) -> int:
    """CRC-32 of a row's identity and payload."""
    return zlib.crc32(payload, zlib.crc32(f"{run_id}\x00{seq}\x00{kind}\x00".encode()))


def _keys(record: object) -> tuple[str, str, str]:
    """The client id, market and token a record is about ("" where it has none)."""
    match record:
        case SubmitOrder(order=order):
            return order.client_id, order.market, order.token
        case ExecutionReport(client_id=client_id, fill=fill):
            return client_id, fill.market if fill else "", fill.token if fill else ""
        case CancelOrder(client_id=client_id):
            return client_id, "", ""
        case SignalRecord() | OrderRecord() | Position():
            client = record.client_id if isinstance(record, OrderRecord) else ""
            return client, record.market, record.token
        case CashMovement(client_id=client_id, market=market):
            return client_id, market, ""
        case MarketResolved(market=market):
            return "", market, ""
    return "", "", ""


def encode_row(
    run_id: str, seq: int, session: int, kind: JournalKind, ts_ns: int, *, record: object,
    strategy: str,
) -> JournalRow:
    """Encode one appended record as a row."""
    payload = _ENCODER.encode(record)
    client_id, market, token = _keys(record)
    return JournalRow(run_id, seq, session, ts_ns, kind.value, strategy, client_id, market, token,
                      payload, checksum(run_id, seq, kind.value, payload))


def decode(row: JournalRow) -> tuple[JournalKind, object]:
    """Return a row's kind and typed record; raise ``ValueError`` if it fails its checksum or
    does not decode."""
    if checksum(row.run_id, row.seq, row.kind, row.payload) != row.crc:
        raise ValueError("checksum mismatch")
    try:
        kind = JournalKind(row.kind)
    except ValueError:
        raise ValueError(f"unknown record kind {row.kind!r}") from None
    try:
        return kind, _DECODERS[kind].decode(row.payload)
    except msgspec.DecodeError as e:
        raise ValueError(f"payload does not decode: {e}") from e
