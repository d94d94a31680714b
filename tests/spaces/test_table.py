"""Tests of TableSpace, a space restricted to the architectures of a table."""

import pytest

from sknar.datasets import load_nasbench101
from sknar.oracles import TabularOracle
from sknar.search import RegularizedEvolution
from sknar.spaces import NASBench201Space, TableSpace
from sknar.utils.testing import require_data


def test_table_space_keeps_a_search_inside_the_nasbench101_slice():
    path = require_data("nasbench101/nb101_official_records_30.json")
    data = load_nasbench101(path, allow_subset=True)
    space = TableSpace(data.space, data.archs)
    assert space.size == 30
    oracle = TabularOracle(data.archs, data.y, space=data.space)
    result = RegularizedEvolution(space, population_size=5, sample_size=2, random_state=0).run(
        oracle, 20
    )
    assert result.n_queries == 20
    table = {data.space.hash(arch) for arch in data.archs}
    assert all(data.space.hash(arch) in table for arch in result.archs)


def test_table_space_encodes_the_representatives_of_its_space():
    space = NASBench201Space()
    archs = [["avg_pool_3x3", "none", "none", "skip_connect", "none", "none"], ["none"] * 6]
    table = TableSpace(space, archs)
    assert table.representatives(archs) == space.representatives(archs)
    assert table.representatives(archs)[0] != table.validate(archs[0])


def test_table_space_refuses_a_network_listed_twice():
    space = NASBench201Space()
    with pytest.raises(ValueError, match="index 2 repeats the one at index 0"):
        TableSpace(space, [["none"] * 6, ["skip_connect"] * 6, ["none"] * 6])


def test_table_space_draws_and_lists_only_table_architectures():
    space = NASBench201Space()
    archs = space.sample(40, random_state=1)
    table = TableSpace(space, archs)
    assert list(table.enumerate()) == archs
    assert set(table.sample(40, random_state=0)) == set(archs)
    with pytest.raises(ValueError, match="cannot draw 41 distinct architectures"):
        table.sample(41)
    for seed in range(10):
        child = table.mutate(archs[seed], random_state=seed)
        assert child in set(archs) and child != archs[seed]


def test_a_mutant_that_misses_the_table_becomes_a_nearest_neighbour():
    from sknar.spaces import NASBench101Space

    space = NASBench101Space()
    archs = space.sample(40, random_state=0)
    table = TableSpace(space, archs)
    parent = table.archs[0]
    codes = [space.to_parameters(arch) for arch in table.archs]
    distances = [sum(code[name] != codes[0][name] for name in code) for code in codes]
    nearest = min(d for d in distances if d > 0)
    # No mutation of NAS-Bench-101 tried: the child is one of the table's nearest cells.
    children = {space.hash(table.mutate(parent, random_state=seed, max_tries=0))
                for seed in range(20)}
    assert children <= {space.hash(arch) for arch, d in zip(table.archs, distances)
                        if d == nearest}
    # With tries, a mutant in the table is always another network of the table.
    for seed in range(5):
        child = table.mutate(parent, random_state=seed)
        assert space.hash(child) in table.hashes and space.hash(child) != space.hash(parent)


def test_a_copy_of_a_table_shares_its_architectures_and_drops_its_memos():
    import copy

    table = TableSpace(NASBench201Space(), NASBench201Space().sample(30, random_state=0))
    table.mutate(table.archs[0], random_state=0, max_tries=0)
    copied = copy.deepcopy(table)
    assert copied.archs is table.archs and "_codes" not in vars(copied)
    assert copied.mutate(table.archs[0], random_state=1) in table.archs
