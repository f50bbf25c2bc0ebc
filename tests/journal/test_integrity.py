"""Damaged, old, new and busy journals: each gives a clear error naming the journal and what
can be recovered, and nothing is changed or skipped silently."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from prediction_engine.cli import _register, app
from prediction_engine.storage.errors import (
    JournalBusyError,
    JournalCorruptError,
    JournalInconsistentError,
    JournalUnreadableError,
    SchemaTooNewError,
)
from prediction_engine.storage.journal import open_backend
from prediction_engine.storage.migrations import SCHEMA_VERSION
from prediction_engine.storage.restore import Restored, check_run, restore
from prediction_engine.trading.resume import Resumed
from tests.journal.conftest import PG_URL, drop_schema, postgres_reachable
from tests.journal.trading import RUN_ID, Scripted, books, engine_with, open_journal, trade

_register()


def _journal_with_trades(target: str) -> int:
    """Trade 5 steps into ``target`` (a snapshot after the first 4, the last fill after the
    last snapshot); return the last sequence number."""
    journal = open_journal(target)
    engine, _ = engine_with(journal, Scripted())
    engine.handle(books(trade(engine, 4)))
    journal.close()
    return journal.last_seq


def _sql(target: str, statement: str) -> None:
    with open_backend(target) as backend:
        backend._execute(statement)


def _cut_payload(target: str, seq: int, keep: int) -> None:
    """Cut record ``seq``'s payload to its first ``keep`` bytes, as a torn write would."""
    with open_backend(target) as backend:
        (row,) = [r for r in backend.read(RUN_ID, after_seq=seq - 1) if r.seq == seq][:1]
        backend._execute("UPDATE journal SET payload = ? WHERE seq = ?", (row.payload[:keep], seq))


def _restore(target: str, *, use_snapshots: bool = True) -> Restored:
    journal = open_journal(target)
    try:
        engine, _ = engine_with(journal, Scripted())
        return restore(engine, journal.backend, RUN_ID, use_snapshots=use_snapshots)
    finally:
        journal.close()


def test_a_corrupt_record_stops_the_restore_and_says_what_is_intact(journal_target: str) -> None:
    last = _journal_with_trades(journal_target)
    # A report after the last snapshot changes on disk (bit rot, a hand edit).
    with open_backend(journal_target) as backend:
        seq = max(r.seq for r in backend.read(RUN_ID, kinds=["report"]))
    _cut_payload(journal_target, seq, 20)
    with pytest.raises(JournalCorruptError) as caught:
        _restore(journal_target)
    message = str(caught.value)
    assert f"record {seq} (report) is corrupt" in message
    assert f"records 1..{seq - 1} are intact" in message
    assert f"cannot be replayed: records {seq}..{last}" in message
    assert journal_target in message


def test_a_missing_record_is_named(journal_target: str) -> None:
    _journal_with_trades(journal_target)
    with open_backend(journal_target) as backend:
        seq = max(r.seq for r in backend.read(RUN_ID, kinds=["position"]))
    _sql(journal_target, f"DELETE FROM journal WHERE seq = {seq}")
    with pytest.raises(JournalCorruptError, match=f"record {seq} is missing"):
        _restore(journal_target)
    with open_backend(journal_target) as backend:
        assert check_run(backend, RUN_ID).missing == [(seq, seq)]


def test_a_damaged_snapshot_points_to_rebuilding_from_the_records(journal_target: str) -> None:
    _journal_with_trades(journal_target)
    with open_backend(journal_target) as backend:
        newest = backend.snapshot_seqs(RUN_ID)[0]
    # A snapshot cut short, as a torn write would leave it.
    _cut_payload(journal_target, newest, 40)
    with pytest.raises(JournalCorruptError) as caught:
        _restore(journal_target)
    assert "--restore-from-journal" in str(caught.value)
    assert f"record {newest} (snapshot) is corrupt" in str(caught.value)
    rebuilt = _restore(journal_target, use_snapshots=False)  # every record intact: no loss
    assert rebuilt.skipped_snapshots == (newest,)
    said = Resumed(RUN_ID, 2, rebuilt, 0, 0, 0, 0).describe(journal_target)
    assert f"damaged snapshots passed over (every record replayed instead): {newest}" in said


def test_an_edited_fill_is_caught_by_the_journaled_positions(journal_target: str) -> None:
    _journal_with_trades(journal_target)
    # Someone edits a fill's size and fixes up its checksum: every record still decodes, but
    # replaying it no longer gives the position and cash journaled right after it.
    from prediction_engine.storage.rows import checksum

    with open_backend(journal_target) as backend:
        row = next(r for r in backend.read(RUN_ID, kinds=["report"]) if b'"fill":{' in r.payload)
        edited = row.payload.replace(b'"size":10000000', b'"size":9000000')
        assert edited != row.payload
        backend._execute("UPDATE journal SET payload = ?, crc = ? WHERE seq = ?",
                         (edited, checksum(row.run_id, row.seq, row.kind, edited), row.seq))
    with pytest.raises(JournalInconsistentError) as caught:
        _restore(journal_target, use_snapshots=False)
    assert f"replaying up to record {row.seq + 1} disagrees" in str(caught.value)
    assert "position" in str(caught.value)


def test_a_truncated_duckdb_file_is_named_with_what_is_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "journal.duckdb"
    _journal_with_trades(str(path))
    data = path.read_bytes()
    for keep in (len(data) // 2, 3000):
        path.write_bytes(data[:keep])
        with pytest.raises(JournalUnreadableError) as caught:
            _restore(str(path))
        message = str(caught.value)
        assert str(path) in message and f"({keep} bytes)" in message
        assert "not modified" in message and "move it aside" in message
        assert path.read_bytes() == data[:keep], "nothing was changed"
    result = CliRunner().invoke(app, ["journal", "fills", "--journal", str(path)])
    assert result.exit_code == 3 and str(path) in result.output


def test_journal_check_reports_damage_and_exits_3(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = str(tmp_path / "journal.duckdb")
    _journal_with_trades(target)
    runner = CliRunner()
    ok = runner.invoke(app, ["journal", "check", "--journal", target])
    assert ok.exit_code == 0 and "intact" in ok.output
    _sql(target, "UPDATE journal SET crc = crc + 1 WHERE seq = 7")
    bad = runner.invoke(app, ["journal", "check", "--journal", target])
    assert bad.exit_code == 3
    assert "record 7" in bad.output and "records 1..6 are intact" in bad.output


def test_an_old_schema_is_migrated_with_its_records_kept(journal_target: str) -> None:
    with open_backend(journal_target) as backend:
        assert backend.migrate(1, target=1) == [1]
        backend._execute("INSERT INTO runs VALUES ('r1', '{}', 1)")
        backend._execute("INSERT INTO journal (run_id, seq, ts_ns, kind, strategy, client_id, "
                         "market, token, payload, crc) VALUES ('r1', 1, 5, 'cash', '', '', "
                         "'', '', ?, 0)", (b"{}",))
        assert backend.schema_version() == 1
    with open_backend(journal_target) as backend:
        assert backend.migrate(2) == list(range(2, SCHEMA_VERSION + 1))
        (row,) = backend.read("r1")
        assert (row.seq, row.session, row.payload) == (1, 0, b"{}")
        assert backend.migrate(3) == [], "idempotent"


def test_a_newer_schema_is_refused_untouched(journal_target: str) -> None:
    _journal_with_trades(journal_target)
    _sql(journal_target, "INSERT INTO pengine_schema VALUES (99, 0)")
    with pytest.raises(SchemaTooNewError, match="version 99, newer than"):
        open_journal(journal_target)


def test_a_run_has_one_writer_at_a_time_on_postgresql() -> None:
    why = postgres_reachable()
    if why is not None:
        pytest.skip(why)
    target = f"{PG_URL}?schema=pengine_test_busy"
    try:
        first = open_journal(target)
        with pytest.raises(JournalBusyError, match="another process"):
            open_journal(target)
        first.close()
        open_journal(target).close()  # the lock went with the first writer
    finally:
        drop_schema("pengine_test_busy")


def test_an_unreachable_postgresql_is_a_clear_error() -> None:
    with pytest.raises(JournalUnreadableError, match=r"cannot connect to PostgreSQL"):
        open_backend("postgresql://postgres:secret@127.0.0.1:9/test")
    with pytest.raises(JournalUnreadableError) as caught:
        open_backend("postgresql://postgres:secret@127.0.0.1:9/test")
    assert "secret" not in str(caught.value)
    assert psycopg  # the driver is a dependency
