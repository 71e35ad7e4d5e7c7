"""The accept that bridge.at.payloads.RunBudget stands for: the same rule, asked a frame -- what a
test compares the budget's one count check with."""
from __future__ import annotations

from typing import Optional


class PieceByPiece:
    """Takes frames of at least one byte while their payloads total at most `left` (None: any),
    asked once a frame; `calls`: how often it was asked."""

    def __init__(self, left: Optional[int]) -> None:
        self.left = left
        self.calls = 0

    def __call__(self, fields: tuple[bytes, ...], length: int) -> bool:
        self.calls += 1
        if not length or (self.left is not None and length > self.left):
            return False
        if self.left is not None:
            self.left -= length
        return True
