"""The event store's version and table names (no pyarrow here: the CLI lists them in its help)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "BOOK_DELTAS",
    "BOOK_SNAPSHOTS",
    "CSV_TABLES",
    "LIFECYCLE",
    "MARKETS",
    "REFERENCE_PRICES",
    "SCHEMA_VERSION",
    "TABLES",
    "TICK_SIZES",
    "TOP_OF_BOOK",
    "TRADES",
]

SCHEMA_VERSION: Final = 1
"""The layout under ``v1/``; a new version gets a new directory."""

BOOK_SNAPSHOTS: Final = "book_snapshots"
BOOK_DELTAS: Final = "book_deltas"
TRADES: Final = "trades"
TOP_OF_BOOK: Final = "top_of_book"
TICK_SIZES: Final = "tick_sizes"
REFERENCE_PRICES: Final = "reference_prices"
LIFECYCLE: Final = "lifecycle"
MARKETS: Final = "markets"

TABLES: Final = (BOOK_SNAPSHOTS, BOOK_DELTAS, TRADES, TOP_OF_BOOK, TICK_SIZES, REFERENCE_PRICES,
                 LIFECYCLE, MARKETS)
"""Every table, in the order listings show them."""

CSV_TABLES: Final = (BOOK_DELTAS, TRADES, TOP_OF_BOOK, TICK_SIZES, BOOK_SNAPSHOTS,
                     REFERENCE_PRICES)
"""Tables a CSV file can fill (lifecycle and markets come from tapes only)."""
