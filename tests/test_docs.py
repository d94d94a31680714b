"""Documentation checks: public names, docstrings, signatures, the benchmark page and the
gallery."""

import ast
import importlib
import inspect
import re
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
    "sknar.proxies",
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
    """Public methods the class defines or inherits from a sknar class (the docs show both)."""
    seen = set()
    for owner in cls.__mro__:
        for name, member in vars(owner).items():
            if name in seen:
                continue  # overridden further down the hierarchy
            seen.add(name)
            from_sknar = owner.__module__.startswith("sknar")
            if not from_sknar or name.startswith("_") or not callable(member):
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

RESULTS_MD = REPO_ROOT / "benchmarks" / "RESULTS.md"


def test_benchmark_page_includes_the_report_and_its_figures_exist():
    """The page includes benchmarks/RESULTS.md as it stands; a figure it names but that is
    missing would fail the docs build, so it fails here first."""
    page = (DOCS_DIR / "benchmarks.md").read_text(encoding="utf-8")
    assert "```{include} ../benchmarks/RESULTS.md" in page and ":relative-images:" in page
    figures = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", RESULTS_MD.read_text(encoding="utf-8"))
    assert figures, "RESULTS.md shows no figure"
    missing = [name for name in figures if not (RESULTS_MD.parent / name).is_file()]
    assert not missing, f"RESULTS.md shows figures that do not exist: {missing}"


def test_every_gallery_example_has_a_title_and_compiles():
    examples = sorted((REPO_ROOT / "examples").glob("*.py"))
    assert any(path.name.startswith("plot_") for path in examples), "no plot_*.py examples"
    for path in examples:
        source = path.read_text(encoding="utf-8")
        docstring = re.match(r'^"""\n(.+)\n(=+)\n', source)
        assert docstring, f"{path.name} must open with a docstring whose first line is a title"
        assert len(docstring.group(2)) >= len(docstring.group(1)), path.name
        compile(source, str(path), "exec")


def _example_data():
    """``EXAMPLE_DATA`` of docs/conf.py: the examples that read benchmark files, and the files."""
    tree = ast.parse((DOCS_DIR / "conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "EXAMPLE_DATA":
            return ast.literal_eval(node.value)
    raise AssertionError("docs/conf.py defines no EXAMPLE_DATA")


# What a gallery example writes when it reads a file that no package ships.
_READS_A_DATA_FILE = re.compile(
    r"load_nasbench201\(|load_nasbench101\(|get_data_home\(|"
    r"load_benchmark\(\s*\"nasbench(?:201|101)\""
)


def test_gallery_examples_that_read_benchmark_files_are_declared():
    """The docs build without the benchmark files shows these examples instead of running
    them; an undeclared one would break that build, so it fails here first."""
    declared = _example_data()
    examples = {path.name: path for path in (REPO_ROOT / "examples").glob("plot_*.py")}
    assert set(declared) <= set(examples), "docs/conf.py names examples that do not exist"
    undeclared = [
        name for name, path in sorted(examples.items())
        if _READS_A_DATA_FILE.search(path.read_text(encoding="utf-8")) and name not in declared
    ]
    assert not undeclared, f"add these examples and their files to EXAMPLE_DATA: {undeclared}"
    for name, files in declared.items():
        source = examples[name].read_text(encoding="utf-8")
        assert files and all(isinstance(file, str) for file in files), name
        assert _READS_A_DATA_FILE.search(source), f"{name} reads no benchmark file"
    # The examples a search user needs most must run on a benchmark that ships.
    assert not {"plot_ask_tell.py", "plot_tier_search.py"} & set(declared)
