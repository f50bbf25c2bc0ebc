"""Restoring an engine from its journal, on DuckDB and on PostgreSQL: the restored state is
the state the engine had, whether it comes from the newest snapshot plus the records after it
or from every record; client ids, trade ids and strategy state carry on; the run continues."""

from __future__ import annotations

import msgspec

from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderStatus
from prediction_engine.engine.journaling import JournalKind
from prediction_engine.engine.loop import Engine
from prediction_engine.engine.snapshot import EngineSnapshot
from prediction_engine.storage.journal import JournalOptions, open_backend
from prediction_engine.storage.restore import check_run, restore
from prediction_engine.storage.rows import decode
from tests.engine_helpers import S
from tests.journal.trading import (
    MARKET,
    RUN_ID,
    START,
    Scripted,
    books,
    engine_with,
    open_journal,
    resolve,
    trade,
)


def _ledger(engine: Engine) -> tuple[object, ...]:
    """What must survive a restart, comparable field by field."""
    state = engine.export_state()
    return (state.portfolio, state.open_orders, state.order_strategy, state.next_order,
            state.kill_switch)


def test_a_restored_engine_holds_exactly_what_the_journaled_one_held(journal_target: str) -> None:
    journal = open_journal(journal_target)
    engine, _ = engine_with(journal, Scripted())
    trade(engine, 5)  # 3 fills, 2 orders resting, a snapshot after every step
    before = _ledger(engine)
    journal.close()

    for use_snapshots in (True, False):
        again = open_journal(journal_target)
        restored_engine, _ = engine_with(again, Scripted())
        restored = restore(restored_engine, again.backend, RUN_ID, use_snapshots=use_snapshots)
        assert _ledger(restored_engine) == before
        assert (restored.snapshot_seq > 0) is use_snapshots
        again.close()

    held = before[0]
    assert isinstance(held, msgspec.Struct)
    # 10 bought at 0.42, 4 sold at 0.40, 5 more at 0.42: 11 shares, fees paid on all three.
    assert held.positions[0].shares == 11 * ONE  # type: ignore[attr-defined]
    assert held.cash < START - 11 * 40 * ONE // 100  # type: ignore[attr-defined]


def test_the_run_continues_after_a_restart_without_reusing_ids(journal_target: str) -> None:
    journal = open_journal(journal_target)
    first_strategy = Scripted()
    engine, _ = engine_with(journal, first_strategy)
    ts = trade(engine, 2)  # one fill, one resting GTC at 0.40
    journal.close()

    again = open_journal(journal_target, JournalOptions(snapshot_interval_s=3600))
    strategy = Scripted()
    engine, paper = engine_with(again, strategy)
    restored = restore(engine, again.backend, RUN_ID)
    assert strategy.step == 2, "the strategy's own state came back from the snapshot"
    assert [o.status for o in restored.open_orders] == [OrderStatus.ACCEPTED]
    paper.restore(restored.open_orders)
    trade(engine, 3, ts)
    resolve(engine, ts + 10 * S, winner=0)
    again.close()

    with open_backend(journal_target) as backend:
        records = [decode(row) for row in backend.read(RUN_ID)]
        assert check_run(backend, RUN_ID).ok
    client_ids = [r.order.client_id for k, r in records if k is JournalKind.SUBMIT]  # type: ignore[attr-defined]
    trade_ids = [r.fill.trade_id for k, r in records  # type: ignore[attr-defined]
                 if k is JournalKind.REPORT and r.fill is not None]  # type: ignore[attr-defined]
    assert client_ids == [f"scripted-{n}" for n in range(1, 6)]
    assert len(trade_ids) == len(set(trade_ids)) >= 3
    # After the resolution every share of the winner paid 1: flat, cash = start + realized.
    assert not any(p.shares for p in engine.state.portfolio.positions.values())
    assert engine.state.portfolio.cash == START + engine.state.portfolio.realized \
        - engine.state.portfolio.fees


def test_a_resting_order_restored_into_paper_joins_the_queue_and_can_fill(
        journal_target: str) -> None:
    journal = open_journal(journal_target)
    engine, _ = engine_with(journal, Scripted())
    ts = trade(engine, 2)  # the GTC buy 5 @ 0.40 rests
    journal.close()

    again = open_journal(journal_target)
    engine, paper = engine_with(again, Scripted())
    restored = restore(engine, again.backend, RUN_ID)
    paper.restore(restored.open_orders)
    (order,) = restored.open_orders
    assert order.client_id not in paper.resting, "it waits for its book"
    engine.handle(books(ts))
    assert paper.queue_ahead(order.client_id) == 100 * ONE, "behind the displayed 100"
    # The ask drops through our bid: the resting buy fills as a maker at its own price.
    from tests.engine_helpers import snapshot
    engine.handle([snapshot(MARKET, 0, [(0.38, 100)], [(0.39, 100)], ts + S)])
    assert engine.state.orders[order.client_id].status is OrderStatus.FILLED
    again.close()


def test_snapshots_carry_marks_and_are_decodable(journal_target: str) -> None:
    journal = open_journal(journal_target)
    engine, _ = engine_with(journal, Scripted())
    trade(engine, 1)
    journal.close()
    with open_backend(journal_target) as backend:
        snapshots = [decode(row)[1] for row in backend.read(RUN_ID, kinds=["snapshot"])]
    assert snapshots
    last = snapshots[-1]
    assert isinstance(last, EngineSnapshot)
    assert last.marks == {MARKET.tokens[0]: 410_000}, "held YES marked at its mid"
