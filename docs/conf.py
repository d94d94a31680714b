"""Sphinx configuration of the sknar documentation."""

import importlib
import inspect
import os
import pkgutil
import re
import sys
import warnings
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parent
REPO_ROOT = DOCS_DIR.parent
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import sknar  # noqa: E402
from sknar.datasets import get_data_home  # noqa: E402

# The gallery reads benchmark files through the loaders; outside CI the shared data folder
# beside the checkout is the natural default, as in the test suite.
_shared_data = REPO_ROOT.parent / "shared" / "data"
if "SKNAR_DATA" not in os.environ and _shared_data.is_dir():
    os.environ["SKNAR_DATA"] = str(_shared_data)

# Gallery examples that read benchmark files no package ships, with the files they read
# (relative to the data home, see sknar.datasets.get_data_home). Where a file is absent the
# example is shown but not run, under a note that names what it needs, so the docs build
# anywhere. Every other example must run on what the install ships (NAS-Bench-Graph, the
# datasets bundled with scikit-learn); tests/test_docs.py checks that the examples that load
# NAS-Bench-101 or NAS-Bench-201 files are listed here.
EXAMPLE_DATA = {
    "plot_cross_dataset.py": ["nasbench201/nats_tss_test_acc_200ep.csv"],
    "plot_read_formats.py": [
        "nasbench101/nb101_20k_val108.json.gz",
        "nasbench101/nb101_official_records_30.json",
        "nar_reference/nasbench101_vertice_example.json",
        "nar_reference/nasbench201_vertice_example.json",
    ],
}
MISSING_DATA = {
    example: [name for name in names if not (get_data_home() / name).is_file()]
    for example, names in EXAMPLE_DATA.items()
}
MISSING_DATA = {example: names for example, names in MISSING_DATA.items() if names}

# The gallery's models are tiny: one thread trains them fastest, while more threads spin-wait
# for each other on a busy machine (many times slower). The examples run in this process.
torch.set_num_threads(1)
threadpool_limits(1)
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

project = "sknar"
author = "The sknar developers"
copyright = "The sknar developers"
version = sknar.__version__
release = sknar.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- API reference ------------------------------------------------------------------------
autosummary_generate = True


def _foreign_base_names():
    """Names of the classes outside sknar that sknar's classes derive from.

    Given to autodoc's ``inherited-members``, they make a class page show what the class
    inherits from sknar's own base classes (the encoders' ``fit`` and ``transform`` live in a
    private one) and nothing of scikit-learn, numpy, torch or Python.
    """
    names = {"object"}
    for module_info in pkgutil.walk_packages(sknar.__path__, "sknar."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            names.update(
                base.__name__ for base in cls.__mro__ if not base.__module__.startswith("sknar")
            )
    return ",".join(sorted(names))


autodoc_default_options = {"members": True, "inherited-members": _foreign_base_names()}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Gallery ------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(REPO_ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Run the plot_* examples, except those whose benchmark files are absent.
    "filename_pattern": "/"
    + "".join(f"(?!{re.escape(example)}$)" for example in sorted(MISSING_DATA))
    + "plot_",
    "ignore_pattern": r"__init__\.py",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sknar",),
    "reference_url": {"sknar": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}

# -- HTML ---------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sknar {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # The examples and the report need the width more than an in-page table of contents.
    "secondary_sidebar_items": {
        "getting_started": ["page-toc"],
        "user_guide/*": ["page-toc"],
        "api": ["page-toc"],
        "generated/*": ["page-toc"],
        "index": [],
        "auto_examples/*": [],
        "benchmarks": [],
    },
}
html_sidebars = {"index": [], "getting_started": [], "benchmarks": []}
html_show_sourcelink = False


_FITTED_NAME_IN_SHAPE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=[\s,)+*/-])")
_GENERATED_METHOD = re.compile(r"^set_\w+_request$")


def _escape_fitted_names_in_shapes(app, what, name, obj, options, lines):
    """Quote fitted-attribute names such as ``n_tiers_`` in ``of shape (...)`` phrases.

    numpydoc renders type fields as reST, where a word ending in an underscore is a
    hyperlink reference; shapes written with fitted attributes would then break the build.
    """
    del app, what, name, obj, options
    for index, line in enumerate(lines):
        if "shape (" in line:
            head, _, shape = line.partition("shape (")
            lines[index] = head + "shape (" + _FITTED_NAME_IN_SHAPE.sub(r"``\1``", shape)


def _skip_generated_members(app, what, name, obj, skip, options):
    """Leave out the metadata-routing methods scikit-learn generates on every estimator."""
    del app, what, obj, options
    if _GENERATED_METHOD.match(name) or name in {"get_metadata_routing", "set_output"}:
        return True
    return skip


_GALLERY_TITLE = re.compile(r"^\.\. _sphx_glr_auto_examples_\S+:\n+.+\n=+\n", re.M)


def _note_examples_not_run(app, docname, source):
    """Put a note under the title of a gallery example that was not run for lack of data."""
    del app
    example = docname.rpartition("/")[2] + ".py"
    if not docname.startswith("auto_examples/") or example not in MISSING_DATA:
        return
    files = ", ".join(f"``{name}``" for name in MISSING_DATA[example])
    note = (
        "\n.. note::\n\n"
        f"   This example was not run when these pages were built: it reads {files}, which\n"
        "   no package ships. With the files in the folder that ``SKNAR_DATA`` names (see\n"
        "   :ref:`datasets`), the build runs it and shows its output here.\n\n"
    )
    source[0] = _GALLERY_TITLE.sub(lambda match: match.group(0) + note, source[0], count=1)


def setup(app):
    app.connect("source-read", _note_examples_not_run)
    app.connect("autodoc-process-docstring", _escape_fitted_names_in_shapes)
    app.connect("autodoc-skip-member", _skip_generated_members)
    app.add_css_file("sknar.css")
