"""prediction-engine: trade and research prediction markets.

Layers (see docs/ARCHITECTURE in the shared design): ``core`` is pure domain code,
``venues`` hold wire codecs and the only network sessions, ``sim`` serves local venues,
``cli`` is a thin shell over library functions.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
