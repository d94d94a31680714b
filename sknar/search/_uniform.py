"""Uniform draws of new architectures, shared by the searchers."""

import warnings

import numpy as np

__all__ = ["UniformStream", "distinct_uniform", "draw_seed", "space_left"]

_SEED_MAX = np.iinfo(np.int32).max
_MAX_ENUMERATE = 100_000


def draw_seed(rng):
    """An int seed drawn from ``rng``."""
    return int(rng.randint(_SEED_MAX))


def space_left(space, n_taken):
    """Architectures of the space not yet taken; None when the space's size is unknown."""
    size = space.size
    return None if size is None else max(int(size) - n_taken, 0)


def distinct_uniform(space, n, taken, rng, max_draws=20, allow_fewer=False):
    """``n`` uniform architectures whose hash is not in ``taken`` (duplicates redrawn).

    A small space whose draws keep hitting taken architectures is enumerated instead. With
    ``allow_fewer``, a space that cannot supply ``n`` gives what it could (a space of unknown
    size may refuse a draw larger than itself: smaller draws are tried).
    """
    found = []
    for _ in range(max_draws):
        if len(found) == n:
            return found
        blocked = set(taken) | {space.hash(arch) for arch in found}
        try:
            batch = space.sample(n - len(found), random_state=draw_seed(rng))
        except ValueError:
            if space.size is not None or n - len(found) == 1:
                raise
            batch = space.sample(1, random_state=draw_seed(rng))
        found.extend(arch for arch in batch if space.hash(arch) not in blocked)
    size = space.size
    if len(found) < n and size is not None and size <= _MAX_ENUMERATE:
        blocked = set(taken) | {space.hash(arch) for arch in found}
        left = [arch for arch in space.enumerate() if space.hash(arch) not in blocked]
        picks = rng.choice(len(left), size=min(n - len(found), len(left)), replace=False)
        found.extend(left[index] for index in picks)
    if len(found) < n and not allow_fewer:
        raise ValueError(f"the space {space.name} could not supply {n} new architectures.")
    return found


class UniformStream:
    """The uniform draws of one seed, in order: ``space.sample(m, seed)`` for a growing ``m``.

    Every space of sknar draws a prefix-consistent sequence (the first ``k`` of
    ``sample(m, seed)`` are ``sample(k, seed)``), so the stream is that sequence however it
    is consumed: a random search asks the same architectures in batches of 1 or 100. The
    draw doubles when more is needed, so a search of ``n`` queries draws ``O(n)`` in all.
    """

    def __init__(self, space, seed):
        self.space = space
        self.seed = seed
        self.archs = []
        self.keys = set()
        self.cursor = 0
        self.exhausted = False

    def take(self, n, taken):
        """The next ``n`` draws whose hash is not in ``taken`` (fewer if the space runs out)."""
        found = []
        while len(found) < n:
            if self.cursor == len(self.archs) and not self._extend(
                len(self.archs) + n - len(found)
            ):
                break
            arch = self.archs[self.cursor]
            self.cursor += 1
            if self.space.hash(arch) not in taken:
                found.append(arch)
        return found

    def _extend(self, needed):
        if self.exhausted:
            return False
        target = max(needed, 2 * len(self.archs))
        size = self.space.size
        if size is not None:
            target = min(target, int(size))
        if target <= len(self.archs):
            self.exhausted = True
            return False
        draws = self._draw(target, min(needed, target), size)
        if draws is None:
            self.exhausted = True
            return False
        n_before = len(self.archs)
        for arch in draws:
            key = self.space.hash(arch)
            if key not in self.keys:
                self.keys.add(key)
                self.archs.append(arch)
        if len(self.archs) == n_before:
            self.exhausted = True
        return len(self.archs) > n_before

    def _draw(self, target, needed, size):
        """``sample(target)``; for a space of unknown size that cannot supply it, smaller
        draws down to one more than the stream holds; None when even that fails."""
        sizes = [target, needed]
        while sizes[-1] > len(self.archs) + 1:
            sizes.append(max(len(self.archs) + 1, sizes[-1] // 2))
        for n in dict.fromkeys(sizes):
            try:
                return self.space.sample(n, random_state=self.seed)
            except ValueError as exc:
                if size is not None:
                    raise
                error = exc
        warnings.warn(
            f"the space {self.space.name} supplied no more uniform draws ({error}).",
            RuntimeWarning,
            stacklevel=5,
        )
        return None
