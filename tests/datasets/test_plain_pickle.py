"""The plain-data pickle reader: it reads what pickle writes for plain data, nothing more."""

import pickle

import pytest

from sknar.datasets._plain_pickle import PickleLimits, PickleRefused, load_plain_pickle

PLAIN = {
    "numbers": [0, 1, -1, 255, 256, 65535, 65536, -(2**31), 2**31, 2**100, -(2**70), 2.5, -0.0],
    "constants": [None, True, False],
    "strings": ["", "é", "x" * 300, "\ud800"],
    "containers": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], {}, {"a": {"b": [[1]]}}],
    3: {(1, "key"): "tuple keys"},
}


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_data_reads_back_at_every_protocol(protocol):
    assert load_plain_pickle(pickle.dumps(PLAIN, protocol=protocol), {}) == PLAIN


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_bytes_read_back(protocol):
    data = [b"", b"\x00" * 300, b"abc"]
    assert load_plain_pickle(pickle.dumps(data, protocol=protocol), {}) == data


def test_a_string_may_be_shared_but_a_container_may_not():
    text = "shared" * 10
    assert load_plain_pickle(pickle.dumps([text, text]), {}) == [text, text]
    inner = [1]
    with pytest.raises(PickleRefused, match="memo entry .* \\(a list\\) is fetched again"):
        load_plain_pickle(pickle.dumps([inner, inner]), {})
    loop = []
    loop.append(loop)
    with pytest.raises(PickleRefused, match="shared containers are refused"):
        load_plain_pickle(pickle.dumps(loop), {})


def test_the_depth_limit():
    limits = PickleLimits(max_depth=3)
    assert load_plain_pickle(pickle.dumps([[[]]]), {}, limits=limits) == [[[]]]
    assert load_plain_pickle(pickle.dumps({"a": ({"b": 1},)}), {}, limits=limits)
    for deep in ([[[[]]]], {"a": ({"b": [1]},)}, ((((1,),),),)):
        with pytest.raises(PickleRefused, match="nested deeper than 3 levels"):
            load_plain_pickle(pickle.dumps(deep), {}, limits=limits)


def test_sizes_beyond_the_limits():
    limits = PickleLimits(max_bytes=100, max_length=10)
    data = pickle.dumps(list(range(100)))
    with pytest.raises(PickleRefused, match=f"holds {len(data)} bytes, more than the 100"):
        load_plain_pickle(data, {}, limits=limits)
    with pytest.raises(PickleRefused, match="a string of 11 bytes is longer than the 10"):
        load_plain_pickle(pickle.dumps("x" * 11), {}, limits=limits)


def _pair(a, b):
    return f"{a}-{b}"


class _Pair:
    def __reduce__(self):
        return (_pair, (1, 2))


class _WithState:
    def __reduce__(self):
        return (str, ("x",), {"a": 1})


@pytest.mark.parametrize("protocol", [2, 4])
def test_only_the_allowed_calls_run(protocol):
    data = pickle.dumps([_Pair()], protocol=protocol)
    allowed = {(_pair.__module__, "_pair"): _pair}
    assert load_plain_pickle(data, allowed) == ["1-2"]
    with pytest.raises(PickleRefused, match=r"refusing to load .*\._pair: only plain"):
        load_plain_pickle(data, {})


def test_state_is_refused_without_a_setter():
    data = pickle.dumps(_WithState())
    with pytest.raises(PickleRefused, match=r"\(BUILD\): sets the state of an object"):
        load_plain_pickle(data, {("builtins", "str"): str})


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "does not start with a binary pickle header"),
        (b"\x80\x01N.", "does not start with a binary pickle header"),
        (b"(lp0\n.", r"its first bytes are b'\(lp0\\n.'"),  # protocol 0
        (pickle.dumps({1: 2}, protocol=3)[:-1], "the data ends before the STOP opcode"),
        (pickle.dumps("x" * 100)[:20], "its argument runs past the end of the data"),
        (pickle.dumps({1}), r"\(EMPTY_SET\): an opcode that plain data does not need"),
    ],
)
def test_malformed_data(data, message):
    with pytest.raises(PickleRefused, match=message):
        load_plain_pickle(data, {})
