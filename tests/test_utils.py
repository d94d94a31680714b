"""sknar.utils.write_json: results as plain JSON."""

import json

import numpy as np
import pytest

from sknar.utils import write_json


def test_numpy_values_paths_and_tuples_become_plain_json(tmp_path):
    payload = {"tau": np.float32(0.5), "n": np.int64(3), "scores": np.arange(3.0),
               "pair": (1, 2), "file": tmp_path / "x.json"}
    path = write_json(payload, tmp_path / "deep" / "folder" / "out.json", indent=1)
    assert path == tmp_path / "deep" / "folder" / "out.json"
    text = path.read_text()
    assert text.endswith("}\n") and text.startswith('{\n "tau"')
    assert json.loads(text) == {"tau": 0.5, "n": 3, "scores": [0.0, 1.0, 2.0], "pair": [1, 2],
                                "file": str(tmp_path / "x.json")}


@pytest.mark.parametrize("path", [None, "-"])
def test_no_path_writes_to_stdout(path, capsys):
    assert write_json({"a": [1, 2]}, path, indent=None) is None
    assert capsys.readouterr().out == '{"a": [1, 2]}\n'


def test_a_value_without_json_form_leaves_no_file(tmp_path):
    with pytest.raises(TypeError, match="object"):
        write_json({"a": object()}, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()
