"""Bounded memory of pure per-line answers, keyed by exact values.

A shop's lines repeat (the same products at the same prices), so the per-line steps — rounding a
completed line, fitting it to the target's computation, translating a source line, formatting an
import-file line — remember their answer per distinct line. The key holds the line's
``core.records.ExactRecord.exact_key`` (every ``Decimal`` by its digits) and the other inputs, so
an answer is only ever reused for inputs that are the same in every digit. Bounded: when full, the
memory starts afresh (as the Strato reader's caches do), so it stays flat however many distinct
lines a file has, and a full memory costs one ``clear`` per ``size`` new answers, not a search.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Remembered"]

K = TypeVar("K")
V = TypeVar("V")


class Remembered(dict[K, V], Generic[K, V]):
    """``answers.get(key)``, else ``answers.keep(key, computed)``: at most ``size`` answers."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def keep(self, key: K, answer: V) -> V:
        """Remember ``answer`` for ``key`` (after emptying a full memory) and return it."""
        if len(self) >= self.size:
            self.clear()
        self[key] = answer
        return answer
