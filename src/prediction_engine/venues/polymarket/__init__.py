"""Polymarket: wire codec (pure), REST/WS sessions, catalog.

Wire structs (``wire``) stay inside this package; everything else sees ``core`` events.
"""
