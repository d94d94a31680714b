"""Tests of the SearchSpace protocol: argument checks, defaults and state, on every space."""

import copy
import pickle

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sknar.spaces import (
    NASBench101Space,
    NASBench201Space,
    NASBenchGraphSpace,
    SearchSpace,
    TableSpace,
)
from sknar.utils.testing import ChainSpace


def _table():
    space = NASBench201Space()
    return TableSpace(space, space.sample(40, random_state=0))


SPACES = {
    "nasbench101": NASBench101Space,
    "nasbench201": NASBench201Space,
    "nasbench_graph": NASBenchGraphSpace,
    "table": _table,
    "chain": ChainSpace,
}


@pytest.fixture(scope="module", params=sorted(SPACES))
def space(request):
    return SPACES[request.param]()


class MinimalSpace(SearchSpace):
    """Only what the protocol requires: validate, hash and sample."""

    name = "minimal"
    op_names = ("a", "b")

    def validate(self, arch):
        if arch not in self.op_names:
            raise ValueError(f"unknown op {arch!r}")
        return arch

    def hash(self, arch):
        return self.validate(arch)

    def sample(self, n, random_state=None):
        return self._sample_by_rejection(n, lambda rng: self.op_names[rng.randint(2)], random_state)


# --- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.sample(1.5), r"'n' parameter of \w+\.sample must be an int in the range \[0"),
        (lambda s: s.sample("3"), r"'n' parameter of \w+\.sample must be .* Got '3' instead"),
        (lambda s: s.sample(-1), r"'n' parameter of \w+\.sample must be .* Got -1 instead"),
        (lambda s: s.sample(None), r"'n' parameter of \w+\.sample must be .* Got None"),
        (lambda s: s.sample(2, random_state="0"), r"'random_state' parameter of \w+\.sample"),
        (lambda s: s.sample(2, random_state=1.5), r"'random_state' parameter of \w+\.sample"),
        (lambda s: s.mutate(s.sample(1, random_state=0)[0], random_state="seed"),
         r"'random_state' parameter of \w+\.mutate must be"),
        (lambda s: s.enumerate(verbose="yes"), r"'verbose' parameter of \w+\.enumerate must be"),
        (lambda s: s.enumerate(verbose=-1), r"'verbose' parameter of \w+\.enumerate must be"),
    ],
    ids=[
        "sample-float", "sample-str", "sample-negative", "sample-none", "sample-seed-str",
        "sample-seed-float", "mutate-seed", "enumerate-verbose-str", "enumerate-verbose-negative",
    ],
)
def test_shared_arguments_are_checked_naming_the_parameter(space, call, message):
    with pytest.raises(InvalidParameterError, match=message):
        call(space)


def test_sample_refuses_more_than_a_known_size(space):
    if space.size is None:
        space = ChainSpace(n_slots=2, known_size=True)
    with pytest.raises(ValueError, match=rf"n must be at most {space.size}\b"):
        space.sample(space.size + 1)


def test_the_errors_name_the_space_class():
    with pytest.raises(InvalidParameterError, match="NASBench201Space.sample"):
        NASBench201Space().sample(1.5)
    with pytest.raises(InvalidParameterError, match="MinimalSpace.sample"):
        MinimalSpace().sample("3")


def test_valid_arguments_still_work(space):
    drawn = space.sample(np.int64(3), random_state=np.random.RandomState(0))
    assert len({space.hash(arch) for arch in drawn}) == 3
    assert space.sample(n=0) == []
    assert space.hash(space.mutate(drawn[0], random_state=np.int64(1))) != space.hash(drawn[0])


# --- what a minimal space gets --------------------------------------------------------------


@pytest.mark.parametrize(
    "call, method",
    [
        (lambda s: list(s.enumerate()), "enumerate"),
        (lambda s: s.cost_features("a"), "cost_features"),
        (lambda s: s.total_cost("a"), "cost_features"),
        (lambda s: s.total_costs(["a"]), "cost_features"),
        (lambda s: s.structure_features("a"), "to_networkx"),
        (lambda s: s.to_networkx("a"), "to_networkx"),
        (lambda s: s.from_networkx(None), "from_networkx"),
        (lambda s: s.mutate("a", random_state=0), "to_networkx"),
        (lambda s: s.patch_features(["a"]), "patch_features"),
    ],
)
def test_a_minimal_space_names_what_it_lacks(call, method):
    with pytest.raises(NotImplementedError, match=rf"MinimalSpace \(space 'minimal'\) does not "
                                                  rf"implement {method}\(\), which"):
        call(MinimalSpace())


def test_a_minimal_space_samples_validates_and_describes_itself():
    space = MinimalSpace()
    assert sorted(space.sample(2, random_state=0)) == ["a", "b"]
    assert space.validate_all(["a", "b"]) == ["a", "b"] == space.representatives(["a", "b"])
    assert space.size is None and repr(space) == "MinimalSpace()"
    assert [space.op_code(op) for op in ("a", "b", "input", "output")] == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="unknown op 'c'"):
        space.op_code("c")


# --- defaults built on the graph and the costs ----------------------------------------------


def test_default_structure_and_totals_come_from_the_graph_and_the_costs():
    space = ChainSpace(n_slots=4)
    arch = ("a", "c", "c", "b")
    assert space.structure_features(arch) == {
        "n_nodes": 4, "n_edges": 3, "n_a": 1, "n_b": 1, "n_c": 2,
    }
    costs = space.cost_features(arch)
    assert space.total_cost(arch) == {"flops": 211, "params": 17}
    assert space.total_cost(arch)["flops"] == int(costs["flops"].sum())
    flops, params = space.total_costs([arch, ("a",) * 4])
    assert flops.tolist() == [211, 4] and params.tolist() == [17, 0]


def test_default_patches_of_a_node_op_space():
    space = ChainSpace(n_slots=3)
    patches = space.patch_features([("a", "c", "b")])
    codes = {"a": 1, "b": 2, "c": 3}
    # edges 0 -> 1 and 1 -> 2 carry the code and the costs of the node they lead to
    expected_ops = np.zeros((3, 3))
    expected_ops[0, 1], expected_ops[1, 2] = codes["c"], codes["b"]
    np.testing.assert_array_equal(patches.ops[0], expected_ops)
    assert patches.flops.shape == (1, 1, 3, 3)
    assert patches.flops[0, 0, 0, 1] == 100 and patches.flops[0, 0, 1, 2] == 10
    assert patches.params[0, 0, 0, 1] == 7 and patches.params.sum() == 10


@pytest.mark.parametrize(
    "make_space, archs",
    [
        (NASBench201Space, lambda s: s.sample(50, random_state=0)),
        (NASBenchGraphSpace, lambda s: s.sample(50, random_state=0)),
        # the default pads at the end, NAS-Bench-101 before the output: equal for 7 vertices
        (NASBench101Space,
         lambda s: [c for c in s.sample(80, random_state=0) if c.n_vertices == 7][:20]),
    ],
    ids=["edge-ops", "node-ops-no-costs", "node-ops-with-costs"],
)
def test_default_patches_equal_the_benchmark_spaces_own(make_space, archs):
    space = make_space()
    archs = archs(space)
    own = space.patch_features(archs)
    default = SearchSpace.patch_features(space, archs)
    for field in own._fields:
        np.testing.assert_array_equal(getattr(default, field), getattr(own, field), field)


def test_default_patches_refuse_a_graph_larger_than_max_nodes():
    class Wide(ChainSpace):
        max_nodes = 2

    with pytest.raises(ValueError, match="index 0 has 6 nodes, more than max_nodes=2"):
        Wide().patch_features([("a",) * 6])


# --- representation and state ---------------------------------------------------------------


def test_representation_shows_the_arguments_that_are_not_defaults():
    assert repr(ChainSpace()) == "ChainSpace()"
    assert repr(ChainSpace(4, known_size=True)) == "ChainSpace(n_slots=4, known_size=True)"
    assert repr(NASBenchGraphSpace(op_set="proteins")) == "NASBenchGraphSpace(op_set='proteins')"
    assert repr(NASBench101Space()) == "NASBench101Space()"


def test_memos_are_not_part_of_a_space(space):
    archs = space.sample(3, random_state=0)
    keys = [space.hash(arch) for arch in archs]
    assert space._memoized(len, 8)(tuple(archs)) == 3
    assert "_memos" in vars(space)
    for copied in (copy.deepcopy(space), pickle.loads(pickle.dumps(space))):
        assert "_memos" not in vars(copied)
        assert [copied.hash(arch) for arch in archs] == keys
    if not isinstance(space, TableSpace):  # a table is equal only to itself
        fresh = type(space)(**{k: v for k, v in vars(space).items() if not k.startswith("_")})
        assert fresh == space and hash(fresh) == hash(space)


def test_enumerate_shows_progress_only_when_asked(capsys):
    space = NASBenchGraphSpace(op_set="proteins")
    assert len(list(space.enumerate())) == 2021
    assert capsys.readouterr().err == ""
    assert len(list(space.enumerate(verbose=True))) == 2021
    assert "nasbench_graph architectures" in capsys.readouterr().err
