# SPDX-License-Identifier: GPL-2.0
"""Imported by every Python process in a test VM: thrift_kgen.testing.vm puts this folder
on the guest's PYTHONPATH.  Under TCG, with the host's files read over uncached 9p, a
guest Python costs seconds per module it imports and thriftpy2.load() ~15 s per IDL
(PLY builds thriftpy2's LALR tables anew in every process).  Two savings, nothing else
changes (same thriftpy2, same grammar, same code paths once loaded):

* thriftpy2's parser tables come from a pickle the host wrote ($KGEN_PLY_TABLES, made by
  vm.ply_tables()); PLY itself checks the pickle's grammar signature and builds the
  tables as before when it differs;
* `urllib.request` (http.client, email, ssl: ~3 s) is loaded on first use only:
  thriftpy2 imports it for loading IDLs from URLs, which no test does;
* the pure-Python modules of thriftpy2 and of the standard library that the guest scripts
  import come compiled from one file the host wrote at boot ($KGEN_GUEST_MODULES, made by
  vm.guest_modules() from the very files the guest would read): one read instead of the
  look-ups, stats and reads of ~200 modules over 9p.  Each module keeps its own path
  (__file__, __path__, tracebacks read the real source); modules not in the file (extension
  modules, the repository's own) are found as before.
"""

import os
import sys
import types


class _Bundle:
    """A meta path finder serving modules from the host's bundle {name: (origin,
    is_package, marshalled code)}; None (the next finder) for anything else."""

    def __init__(self, modules):
        self.modules = modules

    def find_spec(self, name, path=None, target=None):
        entry = self.modules.get(name)
        if entry is None:
            return None
        from importlib.machinery import ModuleSpec
        origin, is_package, _ = entry
        spec = ModuleSpec(name, self, origin=origin, is_package=is_package)
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        spec.has_location = True
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        import marshal
        code = marshal.loads(self.modules.pop(module.__spec__.name)[2])
        exec(code, module.__dict__)


def _load_bundle(path):
    if not path:
        return None
    try:
        import marshal
        from importlib.util import MAGIC_NUMBER
        with open(path, "rb") as f:
            magic, version, modules = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if magic != MAGIC_NUMBER or version != sys.version:
        return None
    # modules the interpreter loaded before this file ran stay as they are
    return _Bundle({k: v for k, v in modules.items() if k not in sys.modules})


def _next_spec(finder, name, path, target):
    """The spec the finders after `finder` in sys.meta_path give."""
    after = sys.meta_path[sys.meta_path.index(finder) + 1:] if finder in sys.meta_path else sys.meta_path
    for f in after:
        find = getattr(f, "find_spec", None)
        spec = find(name, path, target) if find else None
        if spec is not None:
            return spec
    return None


class _PatchOnImport:
    """A meta path finder that runs patch(module) right after `name` is executed."""

    def __init__(self, name, patch):
        self.name, self.patch = name, patch

    def find_spec(self, name, path=None, target=None):
        if name != self.name:
            return None
        spec = _next_spec(self, name, path, target)
        if spec is None or spec.loader is None:
            return spec
        loader, patch = spec.loader, self.patch

        class Loader:
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                patch(module)
        spec.loader = Loader()
        return spec


def _tables_from_pickle(yacc_module):
    tables = os.environ.get("KGEN_PLY_TABLES", "")
    build = yacc_module.yacc

    def yacc(*args, **kwargs):
        frame = sys._getframe(1)
        if "module" not in kwargs:
            # PLY reads the grammar from its caller's names, as it would without this frame
            names = dict(frame.f_globals)
            if frame.f_locals is not frame.f_globals:
                names.update(frame.f_locals)
            kwargs["module"] = types.SimpleNamespace(**names)
        if frame.f_globals.get("__name__") == "thriftpy2.parser.parser" and os.path.isfile(tables) \
                and not args and "picklefile" not in kwargs:
            kwargs["picklefile"] = tables
        return build(*args, **kwargs)
    yacc_module.yacc = yacc


def _lazy_urllib_request():
    if "urllib.request" in sys.modules:
        return
    import urllib

    def real():
        if isinstance(sys.modules.get("urllib.request"), _Stub):
            del sys.modules["urllib.request"]
        import importlib
        return importlib.import_module("urllib.request")

    class _Stub(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):       # the import system probing (__path__...)
                raise AttributeError(name)
            return getattr(real(), name)

    stub = _Stub("urllib.request")
    stub.urlopen = lambda *a, **kw: real().urlopen(*a, **kw)
    sys.modules["urllib.request"] = urllib.request = stub


if os.environ.get("KGEN_GUEST") == "1":
    _bundle = _load_bundle(os.environ.get("KGEN_GUEST_MODULES", ""))
    if _bundle is not None:
        sys.meta_path.insert(0, _bundle)
    sys.meta_path.insert(0, _PatchOnImport("ply.yacc", _tables_from_pickle))
    _lazy_urllib_request()
