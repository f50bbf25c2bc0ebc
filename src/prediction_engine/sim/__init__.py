"""Local venue servers that speak real venue wire formats, deterministic from a seed.

Used by end-to-end tests of the venue clients and by the `pengine sim` / `pengine demo`
commands. Modules here may import only the standard library, aiohttp and msgspec: never
`prediction_engine.venues.*` (the simulators are an independent implementation, so tests
compare two independent readings of the protocol) nor the engine. One exception:
`generate.py` (offline tapes, not a server) parses its own Gamma JSON with our Gamma parser to
record each market's metadata exactly as a live recorder would.
"""
