"""Every reader of files, given files of the wrong kind: one clear line naming the file."""

import gzip
import json

import pytest

from sknar.datasets import load_nasbench101, load_nasbench201, load_nasbench_graph, read_table
from sknar.spaces import NASBench201Space

ARCHS = NASBench201Space().sample(300, random_state=0)
TABLE = "arch,accuracy\n" + "".join(f"{arch},{90 + i / 1000}\n" for i, arch in enumerate(ARCHS))
JSON_LINES = "".join(json.dumps({"arch": arch, "accuracy": 90}) + "\n" for arch in ARCHS)
BINARY = b"PK\x03\x04" + bytes(range(256)) * 8  # a zip archive's start, then NUL bytes
NOT_UTF8 = b"arch,accuracy\n\xff\xfe\x8b,1\n" * 10

# name -> (content, suffix added to the reader's file name, expected for text readers)
CASES = {
    "gzip of binary data": (gzip.compress(BINARY), "", "a binary gzip'd file"),
    "binary data": (BINARY, "", r"a binary file \(a NUL byte at byte 4\)"),
    "not UTF-8": (NOT_UTF8, "", r"the file is not UTF-8 text \(it holds the byte 0xff\)"),
    "UTF-16 text": (TABLE[:200].encode("utf-16"), "", "the file is UTF-16 text; save it as UTF-8"),
    "a cut .gz": (None, ".gz", "the gzip data ends early"),  # a good table, cut
    "a .gz that is not gzip": (BINARY, ".gz", "a binary file"),
    "corrupt gzip": (b"\x1f\x8b" + b"not gzip data" * 10, ".gz", "corrupt gzip data"),
    "an empty file": (b"", "", "the file is empty; expected"),
    "a JSON string": (b'"just a string"', "", None),
    "a JSON object of the wrong shape": (b'{"a": [1, 2]}', "", None),
}
# what each reader says of the two JSON files, which are valid text
WRONG_SHAPE = {
    "nasbench201": "(missing column|record 'a': the record key must be a benchmark index)",
    "nasbench101": "not a NAS-Bench-101 file",
    "table.csv": "column 'arch' not found",
    "table.json": "expected a JSON list of records .*got (a JSON str|an object with the keys a)",
    "table.jsonl": "(line 1: expected an object, got str|line 1: field 'arch' not found)",
}
READERS = {
    "nasbench201": (".csv", lambda path: load_nasbench201(path=path)),
    "nasbench101": (".json", lambda path: load_nasbench101(path)),
    "nasbench_graph": (".bench", lambda path: load_nasbench_graph(path=path)),
    "table.csv": (".csv", lambda path: read_table(path, NASBench201Space())),
    "table.json": (".json", lambda path: read_table(path, NASBench201Space())),
    "table.jsonl": (".jsonl", lambda path: read_table(path, NASBench201Space())),
}


def _expected(reader, case):
    content, _, text_message = CASES[case]
    if reader == "nasbench_graph":  # a pickle, not text: the header check names it
        return "the file is empty" if content == b"" else "does not start with a binary pickle"
    return text_message or WRONG_SHAPE[reader]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("reader", list(READERS))
def test_a_bad_file_gets_one_line_naming_it(tmp_path, reader, case):
    suffix, read = READERS[reader]
    content, extra_suffix, _ = CASES[case]
    if content is None:  # rows are read one by one: those before the cut must be good
        whole = gzip.compress((JSON_LINES if reader == "table.jsonl" else TABLE).encode())
        content = whole[: len(whole) // 2]
    path = tmp_path / f"data{suffix}{extra_suffix}"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=_expected(reader, case)) as info:
        read(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message and len(message) < 400, message


@pytest.mark.parametrize("reader", list(READERS))
def test_a_directory_is_named(tmp_path, reader):
    suffix, read = READERS[reader]
    folder = tmp_path / f"data{suffix}"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=f"{folder} is a directory"):
        read(folder)


@pytest.mark.parametrize("reader", list(READERS))
def test_a_missing_file_is_named(tmp_path, reader):
    suffix, read = READERS[reader]
    path = tmp_path / f"absent{suffix}"
    with pytest.raises(FileNotFoundError, match=str(path)):
        read(path)
