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
  thriftpy2 imports it for loading IDLs from URLs, which no test does.
"""

import os
import sys
import types


class _PatchOnImport:
    """A meta path finder that runs patch(module) right after `name` is executed."""

    def __init__(self, name, patch):
        self.name, self.patch = name, patch

    def find_spec(self, name, path=None, target=None):
        if name != self.name:
            return None
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec(name, path, target)
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
    sys.meta_path.insert(0, _PatchOnImport("ply.yacc", _tables_from_pickle))
    _lazy_urllib_request()
