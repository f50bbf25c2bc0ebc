"""Venue adapters. Each ``venues/<venue>/`` holds ``wire`` (structs mirroring the venue JSON,
never exported), ``parse`` (pure, wire to events), ``session`` (the only network code) and
``catalog`` (discovery). May import ``core``, ``config``, ``engine.clock``; not ``engine`` loops.
"""
