"""End to end on the simulator: the arbitrage strategy takes an injected sub-1 ask sum.

The simulated venue makes one neg-risk event's YES asks sum below 1; the engine, fed by the
normal sessions, runs the arbitrage strategy and the paper execution client; every leg fills;
then the venue resolves the event (one outcome YES, the others NO) and the PnL at resolution
equals the locked-in edge minus the taker fees paid.
"""

from __future__ import annotations

from prediction_engine.core.numbers import ONE
from tests.integration.harness import wait_for
from tests.ops.paper import paper_run


async def test_arbitrage_takes_an_injected_sub_one_sum_and_earns_the_edge_minus_fees() -> None:
    async with paper_run() as run:
        event, engine = run.event, run.runtime.engine
        assert len(event) >= 3
        assert engine.counters.orders == 0  # the simulator makes no arbitrage by itself
        episode = await run.arbitrage()
        await wait_for(lambda: not engine.state.open_orders, 2)
        fills = [r for r in engine.state.orders.values() if r.filled]
        assert len(fills) == len(event), "one FOK order per outcome, all filled"
        shares = {o.filled for o in fills}
        assert len(shares) == 1, f"every leg the same size: {shares}"
        (size,) = shares
        paid = sum(o.price * o.filled // ONE for o in fills)
        assert sum(o.price for o in fills) == ONE - episode.edge  # the injected sub-1 sum
        portfolio = engine.state.portfolio
        fees = portfolio.fees
        assert portfolio.cash == 10_000 * ONE - paid - fees
        # Resolve the event: the first outcome wins, the others lose.
        for index, market in enumerate(event):
            await run.sim.resolve_market(market.condition_id, winner=0 if index == 0 else 1)
        await wait_for(lambda: engine.counters.settlements == len(event), 5)
        pnl = portfolio.cash - 10_000 * ONE
        edge = size - paid  # each basket of one share per outcome pays exactly 1
        assert edge == size * episode.edge // ONE
        assert fees > 0, "sports markets charge taker fees"
        assert pnl == edge - fees
        assert pnl > 0
        assert not any(p.shares for p in portfolio.positions.values())
