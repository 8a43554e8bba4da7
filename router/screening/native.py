"""The screening hot path compiled with mypyc, and the guard that keeps a stale build out.

``make native`` (run by ``make install``; ``native.main(["build"])``) compiles ``COMPILED`` with
mypyc into extension modules beside their sources (``index.cpython-311-*.so`` next to
``index.py``). Python imports an extension before a ``.py`` of the same name, so a build left
over from older sources would silently run old code after an edit. The build therefore records a
digest of the sources it compiled (``native.sha256``), and ``guard`` (called by the package's
``__init__`` before any of these modules is imported) compares it with the sources on disk: if
they differ, or the digest is missing, every compiled module is loaded from its ``.py`` instead,
with a warning. It is all or nothing because the compiled modules call each other natively: a
compiled ``index`` would keep calling the old compiled ``normalise`` even if ``normalise`` alone
fell back. ``ROUTER_SCREENING_PURE=1`` forces the pure-Python modules without a warning (to
compare the two). Without mypy or a C compiler the build is skipped and the pure-Python modules
run as before: decisions are the same either way, only the speed differs.

This module is never compiled itself: it has to run before the compiled ones load.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# The modules of a screened name's path (BENCHMARKS.md, "Fifth session").
COMPILED = ("normalise", "chinese", "chinese_index", "index", "screener")
PACKAGE = "router.screening"
DIGEST_FILE = "native.sha256"
# The shared library mypyc puts the group's code in (one group: the modules call each other natively).
GROUP = f"{PACKAGE}.native_group"

HERE = Path(__file__).resolve().parent


def source_digest(root: Path = HERE) -> str:
    h = hashlib.sha256()
    for name in COMPILED:
        h.update(name.encode() + b"\0" + (root / f"{name}.py").read_bytes() + b"\0")
    return h.hexdigest()


def compiled_files(root: Path = HERE) -> list[Path]:
    return sorted(p for name in (*COMPILED, "native_group__mypyc")
                  for p in root.glob(f"{name}.*") if p.suffix in (".so", ".pyd"))


def loadable(root: Path = HERE) -> bool:
    """Whether this Python would import a compiled module here (a build for another Python is ignored)."""
    return any((root / f"{name}{suffix}").exists()
               for name in COMPILED for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def is_current(root: Path = HERE) -> bool:
    stamp = root / DIGEST_FILE
    return stamp.exists() and stamp.read_text().strip() == source_digest(root)


def active() -> bool:
    """Whether the screening modules imported in this process are the compiled ones."""
    module = sys.modules.get(f"{PACKAGE}.index")
    return module is not None and not (module.__file__ or "").endswith(".py")


class _SourceFinder:
    """Finds ``router.screening.<compiled module>`` as its ``.py`` source, ahead of the extension."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != PACKAGE or name not in COMPILED:
            return None
        source = str(self.root / f"{name}.py")
        return importlib.util.spec_from_file_location(
            fullname, source, loader=importlib.machinery.SourceFileLoader(fullname, source))


def guard(root: Path = HERE) -> None:
    if not loadable(root):
        return
    forced = os.environ.get("ROUTER_SCREENING_PURE", "") not in ("", "0")
    if not forced and is_current(root):
        return
    if not forced:
        warnings.warn(
            "router.screening: the compiled screening modules were built from other sources than "
            f"the ones in {root}; running the pure-Python modules (slower). Rebuild with "
            "`make native` (or `make install`).", RuntimeWarning, stacklevel=2)
    if not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder(root))


def build(root: Path = HERE) -> bool:
    """Compile ``COMPILED`` in place; False (and the pure-Python modules stay) if that is impossible."""
    if loadable(root) and is_current(root):
        print("router.screening: compiled modules are up to date")
        return True
    for stale in compiled_files(root):
        stale.unlink()
    (root / DIGEST_FILE).unlink(missing_ok=True)
    try:
        from mypyc.build import mypycify
        from setuptools import Distribution
    except ImportError as exc:
        print(f"router.screening: not compiled ({exc}); the pure-Python modules run")
        return False
    project = root.parents[1]
    digest = source_digest(root)
    cwd = Path.cwd()
    os.chdir(project)  # mypyc names a module after its path from here
    try:
        paths = [str((root / f"{name}.py").relative_to(project)) for name in COMPILED]
        extensions = mypycify(paths, opt_level="3", group_name=GROUP, target_dir="build/mypyc")
        # A bare Distribution: setup() would read pyproject.toml, which the venv's setuptools may not parse.
        dist = Distribution({"name": "router-screening-native", "ext_modules": extensions})
        dist.script_args = ["-q", "build_ext", "--inplace", "--build-temp", "build/mypyc/temp"]
        dist.parse_command_line()
        dist.run_commands()
    except (Exception, SystemExit) as exc:  # a missing compiler raises SystemExit from distutils
        for partial_build in compiled_files(root):
            partial_build.unlink()
        print(f"router.screening: not compiled ({exc}); the pure-Python modules run")
        return False
    finally:
        os.chdir(cwd)
    (root / DIGEST_FILE).write_text(digest + "\n")
    print(f"router.screening: compiled {', '.join(COMPILED)}")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["build"]:
        build()
        return 0  # the pure-Python modules are a working install, not a failure
    if args == ["clean"]:
        for path in compiled_files():
            path.unlink()
        (HERE / DIGEST_FILE).unlink(missing_ok=True)
        return 0
    if args == ["status"]:
        files = compiled_files()
        print("compiled, current" if files and is_current() else "compiled, STALE" if files else "not compiled")
        return 0
    print("usage: native.main([build|clean|status])", file=sys.stderr)
    return 2
