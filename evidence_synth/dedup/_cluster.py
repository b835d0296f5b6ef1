"""Grouping that does not chain: a group only grows when every cross pair agrees."""

from __future__ import annotations

import numpy as np


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected-component label (smallest member position) of each of ``n`` nodes."""
    uf = _UnionFind(n)
    for a, b in edges:
        uf.union(int(a), int(b))
    return np.array([uf.find(k) for k in range(n)])


def constrained_groups(n: int, edges: list[tuple[int, int]], allowed: set[tuple[int, int]],
                       forced: set[tuple[int, int]], forbidden: set[tuple[int, int]]) -> np.ndarray:
    """Group labels built from ``edges`` (in priority order) without chaining.

    Two clusters join only when every cross pair is in ``allowed`` and none is
    ``forbidden``; ``forced`` pairs (manual matches) need only the absence of a forbidden
    cross pair. Deterministic for a given edge order.
    """
    members: dict[int, list[int]] = {k: [k] for k in range(n)}
    label = np.arange(n)
    for a, b in edges:
        la, lb = int(label[a]), int(label[b])
        if la == lb:
            continue
        key = (min(a, b), max(a, b))
        ok = True
        for x in members[la]:
            for y in members[lb]:
                pair = (min(x, y), max(x, y))
                if pair in forbidden or (key not in forced and pair not in allowed):
                    ok = False
                    break
            if not ok:
                break
        if not ok:
            continue
        keep, drop = min(la, lb), max(la, lb)
        members[keep].extend(members.pop(drop))
        label[members[keep]] = keep
    return label
