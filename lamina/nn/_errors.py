"""Errors that say what and where: a layer's shape error names the layer and its path."""

from __future__ import annotations


class ModuleInputError(RuntimeError):
    """A layer got an input it cannot take. ``Module.__call__`` fills in the module's path
    (e.g. ``'net.2'``) as the exception travels up through its parents."""

    def __init__(self, module, what: str):
        self.module = module
        self.what = what
        self.path = None
        super().__init__(self._text())

    def _text(self) -> str:
        where = _short_repr(self.module)
        if self.path:
            where += f" at '{self.path}'"
        return f"{where} {self.what}"

    def set_root(self, root) -> None:
        """Called by each enclosing module; the outermost call leaves the full path."""
        if root is self.module:
            return
        for name, m in root.named_modules(remove_duplicate=False):
            if m is self.module and name:
                self.path = name
                self.args = (self._text(),)
                return


def _short_repr(module) -> str:
    r = repr(module)
    return r if "\n" not in r else type(module).__name__


def shape_error(module, shape, expected: str) -> ModuleInputError:
    """``Linear(in_features=256, out_features=10) got input of shape (2, 128); expected (*, 256)``"""
    return ModuleInputError(module, f"got input of shape {tuple(shape)}; expected {expected}")
