"""The mypyc build's guard: a build from other sources never shadows the .py files."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pytest

from router.screening import native


def _tree(tmp_path: Path) -> Path:
    for name in native.COMPILED:
        (tmp_path / f"{name}.py").write_text(f"# {name}\n")
    # An extension module only has to exist for the guard: it is never loaded here.
    (tmp_path / f"index{sysconfig.get_config_var('EXT_SUFFIX')}").write_bytes(b"")
    return tmp_path


def _finders() -> list[object]:
    return [f for f in sys.meta_path if isinstance(f, native._SourceFinder)]


@pytest.fixture
def meta_path() -> object:
    saved = list(sys.meta_path)
    sys.meta_path[:] = [f for f in saved if not isinstance(f, native._SourceFinder)]
    yield
    sys.meta_path[:] = saved


def test_a_build_without_its_digest_loads_the_sources(tmp_path: Path, meta_path: object,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTER_SCREENING_PURE", raising=False)
    root = _tree(tmp_path)
    with pytest.warns(RuntimeWarning, match="pure-Python"):
        native.guard(root)
    [finder] = _finders()
    spec = finder.find_spec("router.screening.index")  # type: ignore[attr-defined]
    assert spec.origin == str(root / "index.py")
    assert finder.find_spec("router.screening.model") is None  # type: ignore[attr-defined]


def test_an_edited_source_makes_the_build_stale(tmp_path: Path, meta_path: object,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTER_SCREENING_PURE", raising=False)
    root = _tree(tmp_path)
    (root / native.DIGEST_FILE).write_text(native.source_digest(root) + "\n")
    native.guard(root)
    assert native.is_current(root) and not _finders()
    (root / "normalise.py").write_text("# normalise, edited\n")
    assert not native.is_current(root)
    with pytest.warns(RuntimeWarning):
        native.guard(root)
    assert len(_finders()) == 1


def test_pure_python_can_be_forced_without_a_warning(tmp_path: Path, meta_path: object,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    (root / native.DIGEST_FILE).write_text(native.source_digest(root) + "\n")
    monkeypatch.setenv("ROUTER_SCREENING_PURE", "1")
    native.guard(root)
    assert len(_finders()) == 1


def test_no_build_no_guard(tmp_path: Path, meta_path: object) -> None:
    for name in native.COMPILED:
        (tmp_path / f"{name}.py").write_text("")
    native.guard(tmp_path)
    assert not _finders()
