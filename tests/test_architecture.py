"""The layers of skkan point one way (doc/architecture.rst); these tests parse the imports to keep it so.

engine (torch only)  <-  estimators (the scikit-learn face)  <-  interpret, benchmark
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skkan"


def _modules(folder=""):
    return sorted((PACKAGE / folder).rglob("*.py"))


def _name(path):
    return ".".join(("skkan", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")


def _imports(path, *, top_level_only=False):
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _name(path).split(".") if path.name == "__init__.py" else _name(path).split(".")[:-1]
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]
    return found


def _is_under(name, prefix):
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("path", _modules("_engine"), ids=_name)
def test_the_engine_imports_nothing_above_it(path):
    for name in _imports(path):
        assert not _is_under(name, "sklearn"), f"{_name(path)} imports {name}"
        if _is_under(name, "skkan"):
            assert _is_under(name, "skkan._engine") or _is_under(name, "skkan.exceptions"), (
                f"{_name(path)} imports {name}"
            )


FACE = [path for path in _modules() if path.parent == PACKAGE]


@pytest.mark.parametrize("path", FACE, ids=_name)
def test_the_face_does_not_depend_on_interpret_or_benchmark(path):
    for name in _imports(path, top_level_only=True):
        assert not _is_under(name, "skkan.interpret"), f"{_name(path)} imports {name}"
        assert not _is_under(name, "skkan.benchmark"), f"{_name(path)} imports {name}"
    if path.name != "_interpretation_methods.py":
        # Only the delegating methods may reach interpret, and only when called.
        for name in _imports(path):
            assert not _is_under(name, "skkan.interpret"), f"{_name(path)} imports {name}"


def _private_attribute_reads(path):
    """``obj._name`` where ``obj`` is not ``self``/``cls`` (dunders excepted)."""
    reads = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                reads.append(f"line {node.lineno}: .{node.attr}")
    return reads


@pytest.mark.parametrize("path", [*_modules("interpret"), PACKAGE / "_persistence.py"], ids=_name)
def test_interpret_and_persistence_read_no_private_attributes(path):
    assert _private_attribute_reads(path) == []


@pytest.mark.parametrize("path", _modules("interpret"), ids=_name)
def test_interpret_uses_only_the_public_face_and_the_engine(path):
    for name in _imports(path):
        if _is_under(name, "skkan") and not _is_under(name, "skkan.interpret"):
            assert _is_under(name, "skkan._engine") or name in ("skkan", "skkan.exceptions"), (
                f"{_name(path)} imports {name}"
            )


@pytest.mark.parametrize("path", _modules("export"), ids=_name)
def test_export_uses_the_public_face_the_engine_and_the_input_encoding(path):
    for name in _imports(path):
        if _is_under(name, "skkan") and not _is_under(name, "skkan.export"):
            public = not any(part.startswith("_") for part in name.split(".")[1:])
            assert public or _is_under(name, "skkan._engine") or _is_under(name, "skkan._encoding"), (
                f"{_name(path)} imports {name}"
            )


@pytest.mark.parametrize("path", _modules("benchmark"), ids=_name)
def test_the_benchmark_uses_only_public_names(path):
    for name in _imports(path):
        if _is_under(name, "skkan") and not _is_under(name, "skkan.benchmark"):
            assert not any(part.startswith("_") for part in name.split(".")[1:]), f"{_name(path)} imports {name}"


def test_one_module_decides_devices():
    deciding = [
        _name(path)
        for path in _modules()
        if any(marker in path.read_text() for marker in ("torch.cuda", "torch.backends.mps"))
    ]
    assert deciding == ["skkan._engine.device"]


def test_the_checker_sees_violations(tmp_path):
    # The parser itself must catch what it guards against.
    bad = tmp_path / "bad.py"
    bad.write_text("import sklearn\nfrom skkan.interpret import prune\nx = est._network\nself._ok = 1\n")
    assert "sklearn" in _imports(bad) and "skkan.interpret.prune" in _imports(bad)
    assert _private_attribute_reads(bad) == ["line 3: ._network"]
