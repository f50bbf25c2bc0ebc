from typing import Any

import numpy as np

class Assembler:
    def __init__(
        self, kinds: np.ndarray, bounds: np.ndarray, ts: np.ndarray,
        tables: list[tuple[Any, np.ndarray, tuple[tuple[Any, ...], ...]]],
    ) -> None: ...
    def frames(self, first: int, stop: int, /) -> list[tuple[Any, tuple[Any, ...]]]: ...
