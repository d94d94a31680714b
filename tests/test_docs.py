"""Documentation checks: public names, docstrings, signatures, and the docs build helpers."""

import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO_ROOT / "docs"
API_RST = DOCS_DIR / "api.rst"

PUBLIC_MODULES = [
    "sknar",
    "sknar.spaces",
    "sknar.datasets",
    "sknar.encoding",
    "sknar.tiers",
    "sknar.ranker",
    "sknar.nn",
    "sknar.sampler",
    "sknar.search",
    "sknar.oracles",
    "sknar.metrics",
    "sknar.model_selection",
    "sknar.utils",
    "sknar.utils.testing",
]
# numpydoc validation codes every public docstring must pass: a docstring exists, the
# documented parameters match the signature, functions say what they return, and public
# classes and functions show an example.
FUNCTION_CODES = {"GL08", "PR01", "PR02", "RT01", "EX01"}
CLASS_CODES = {"GL08", "PR01", "PR02", "EX01"}
METHOD_CODES = {"GL08", "PR01", "PR02"}


def _public_objects():
    objects = {}
    for module_name in PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # reported by test_public_module_names_exist
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                key = f"{obj.__module__}.{obj.__qualname__}"
                objects.setdefault(key, obj)
    return sorted(objects.items())


def _api_names():
    text = API_RST.read_text(encoding="utf-8")
    return set(re.findall(r"^\s+([A-Za-z_]\w*)\s*$", text, flags=re.M)) | set(
        re.findall(r"^\.\. (?:data|function|class):: (\w+)", text, flags=re.M)
    )


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_names_exist(module_name):
    module = importlib.import_module(module_name)
    assert hasattr(module, "__all__"), f"{module_name} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ lists undefined names {missing}"
    assert len(set(module.__all__)) == len(module.__all__), f"{module_name}.__all__ repeats"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_the_api_reference(module_name):
    module = importlib.import_module(module_name)
    documented = _api_names()
    undocumented = [
        name
        for name in module.__all__
        if name != "__version__" and not inspect.ismodule(getattr(module, name))
        and name not in documented
    ]
    assert not undocumented, f"docs/api.rst does not list {module_name}: {undocumented}"


def test_api_reference_lists_only_existing_names():
    text = API_RST.read_text(encoding="utf-8")
    current, missing = None, []
    for line in text.splitlines():
        match = re.match(r"^\.\. currentmodule:: ([\w.]+)", line)
        if match:
            current = importlib.import_module(match.group(1))
            continue
        entry = re.match(r"^   ([A-Za-z_]\w*)\s*$", line) or re.match(
            r"^\.\. data:: (\w+)", line
        )
        if entry and current is not None and not hasattr(current, entry.group(1)):
            missing.append(f"{current.__name__}.{entry.group(1)}")
    assert not missing, f"docs/api.rst lists names that do not exist: {missing}"


def _numpydoc_errors(obj_name, codes):
    validate = pytest.importorskip("numpydoc.validate")
    result = validate.validate(obj_name)
    return [f"{code}: {message}" for code, message in result["errors"] if code in codes]


def _public_methods(cls):
    for name, member in vars(cls).items():
        if name.startswith("_") or not callable(member):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member):
            yield name


def _is_documented_namedtuple(cls):
    """A NamedTuple whose fields are all described in its Attributes section."""
    if not (issubclass(cls, tuple) and hasattr(cls, "_fields")):
        return False
    from numpydoc.docscrape import ClassDoc

    described = {attribute.name for attribute in ClassDoc(cls)["Attributes"]}
    return set(cls._fields) <= described


@pytest.mark.parametrize(
    "qualname, obj", [pytest.param(q, o, id=q) for q, o in _public_objects()]
)
def test_public_docstrings(qualname, obj):
    if inspect.isclass(obj):
        codes = CLASS_CODES - ({"PR01"} if _is_documented_namedtuple(obj) else set())
        errors = _numpydoc_errors(qualname, codes)
        for method in _public_methods(obj):
            errors += [
                f"{method}: {error}"
                for error in _numpydoc_errors(f"{qualname}.{method}", METHOD_CODES)
            ]
    else:
        errors = _numpydoc_errors(qualname, FUNCTION_CODES)
    assert not errors, f"{qualname}:\n" + "\n".join(errors)


def _estimators():
    from skorch import NeuralNet  # skorch nets take open-ended **kwargs by skorch's design

    return [
        (qualname, obj)
        for qualname, obj in _public_objects()
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator)
        and not issubclass(obj, NeuralNet)
    ]


@pytest.mark.parametrize(
    "qualname, estimator", [pytest.param(q, e, id=q) for q, e in _estimators()]
)
def test_estimator_constructor_takes_keywords_and_stores_them(qualname, estimator):
    signature = inspect.signature(estimator.__init__)
    parameters = [p for p in signature.parameters.values() if p.name != "self"]
    assert all(p.kind is not p.VAR_POSITIONAL for p in parameters), qualname
    keyword_only = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
    # The search space may come first, positionally, as in TierSampler(space, ...).
    positional = [p.name for p in parameters if p.kind is not p.KEYWORD_ONLY]
    assert positional in ([], ["space"]), f"{qualname} takes {positional} positionally"
    assert len(keyword_only) + len(positional) == len(parameters)
    defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
    assert set(estimator._get_param_names()) == {p.name for p in parameters}
    if len(defaults) == len(parameters):
        params = estimator().get_params(deep=False)
        assert params.keys() == defaults.keys()


# --- the benchmark-report page ------------------------------------------------------------


@pytest.fixture(scope="module")
def results_page():
    sys.path.insert(0, str(DOCS_DIR))
    try:
        yield importlib.import_module("_results_page")
    finally:
        sys.path.remove(str(DOCS_DIR))


def _docutils_messages(rst):
    core = pytest.importorskip("docutils.core")
    from io import StringIO

    warnings = StringIO()
    core.publish_doctree(
        "Report\n======\n\n" + rst,
        settings_overrides={"warning_stream": warnings, "report_level": 2},
    )
    return warnings.getvalue()


def test_results_page_without_results_says_how_to_make_them(results_page, tmp_path):
    target = tmp_path / "generated" / "results.rst.inc"
    results_page.write_results_page(tmp_path / "absent.md", target, tmp_path / "generated" / "im")
    text = target.read_text()
    assert "python -m benchmarks.run" in text
    assert _docutils_messages(text) == ""


MARKDOWN = """\
# Results

Ran with `torch` on 2 cores, see [the suite](https://example.org). A name_ with *emphasis*.

## Ranking quality

| method | n_train | Kendall tau |
|---|---:|:---:|
| NARRanker (`fast`) | 100 | 0.81 ± 0.01 |
| xgboost_onehot | 100 | |

- first point with `code`
  - nested point
- second point, long enough
  to continue on a second line
  and a third (with parentheses)

1. one
   - nested under a number
2. two, with a table:

   | a | b |
   |---|---|
   | 1 | 2 |

![curve](results/curve.png)

```
python -m benchmarks.run --quick
```
"""


def test_results_page_converts_the_report_to_valid_rest(results_page, tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "curve.png").write_bytes(b"\x89PNG fake")
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text(MARKDOWN)
    target = tmp_path / "generated" / "results.rst.inc"
    images = tmp_path / "generated" / "images"
    results_page.write_results_page(results_md, target, images)
    rst = target.read_text()
    assert _docutils_messages(rst) == ""
    assert ".. list-table::" in rst and "0.81 ± 0.01" in rst
    assert "``fast``" in rst and "`the suite <https://example.org>`__" in rst
    assert "name\\_" in rst
    assert ".. image:: generated/images/curve.png" in rst
    assert (images / "curve.png").read_bytes() == b"\x89PNG fake"
    assert "1. one" in rst and "python -m benchmarks.run --quick" in rst
    # continuation lines stay inside their item, nested lists sit under the parent's text
    assert "- second point, long enough\n  to continue on a second line\n  and a third" in rst
    assert "\n   - nested under a number" in rst
    assert rst.count(".. list-table::") == 2


def test_results_page_reports_a_missing_figure_instead_of_failing(results_page, tmp_path):
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("# R\n\n![gone](results/gone.png)\n")
    target = tmp_path / "out.rst.inc"
    results_page.write_results_page(results_md, target, tmp_path / "images")
    rst = target.read_text()
    assert "missing" in rst and ".. image::" not in rst
    assert _docutils_messages(rst) == ""


def test_every_gallery_example_has_a_title_and_compiles():
    examples = sorted((REPO_ROOT / "examples").glob("*.py"))
    assert any(path.name.startswith("plot_") for path in examples), "no plot_*.py examples"
    for path in examples:
        source = path.read_text(encoding="utf-8")
        docstring = re.match(r'^"""\n(.+)\n(=+)\n', source)
        assert docstring, f"{path.name} must open with a docstring whose first line is a title"
        assert len(docstring.group(2)) >= len(docstring.group(1)), path.name
        compile(source, str(path), "exec")
