"""Pure domain: ids, exact numbers, events, order books, markets.

May import only the standard library and msgspec. No I/O, no asyncio, no clock reads.
"""
