"""Trading applications: the engine wired to venue sessions and an execution client.

May import every package except ``cli``. This is where I/O meets the engine: sessions feed the
engine's inbox, the engine's subscription changes drive the sessions, a writer task writes
telemetry, and the paper execution client matches against the engine's live books.
"""
