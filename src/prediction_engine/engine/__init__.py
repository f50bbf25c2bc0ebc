"""Engine: clocks and (later) the single-owner loop.

May import ``core``; must not call venue sessions directly. Only ``engine.clock`` reads the time.
"""
