"""Grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode (context managers and
decorators)."""

from __future__ import annotations

import functools
import inspect
import sys
import threading


class _GradState(threading.local):
    """Grad mode of the calling thread (as in torch: each thread starts with grad enabled and
    inference mode off, and a ``no_grad`` in one thread does not affect another)."""

    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _GradState()
_object_new = object.__new__


def is_grad_enabled() -> bool:
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _DecoratorContextManager:
    """A context manager usable as a decorator (``@no_grad()`` or ``@no_grad``)."""

    def __call__(self, func):
        if not callable(func):  # pragma: no cover - defensive
            raise TypeError(f"{type(self).__name__} expects a callable, got {func!r}")
        ctx_factory = self._clone
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(ctx_factory, func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with ctx_factory():
                return func(*args, **kwargs)

        return wrapper

    def _clone(self):
        return self.__class__()


def _wrap_generator(ctx_factory, func):
    """Run every step of a decorated generator inside the context (torch does the same)."""

    @functools.wraps(func)
    def gen_wrapper(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException:  # noqa: BLE001 - re-raised inside the generator
                    with ctx_factory():
                        response = gen.throw(*sys.exc_info())
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value

    return gen_wrapper


class no_grad(_DecoratorContextManager):
    """Disable graph recording: results of ops have ``requires_grad=False``."""

    __slots__ = ("prev",)

    # `with no_grad():` runs once per inference step: no __init__, and __new__ does only
    # the allocation unless used as a bare decorator (``prev`` is set by __enter__)
    def __new__(cls, func=None):
        self = _object_new(cls)
        if func is not None and callable(func):  # used as a bare decorator: @no_grad
            return self(func)
        return self

    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = False

    def __exit__(self, *exc):
        STATE.enabled = self.prev
        return False


class enable_grad(_DecoratorContextManager):
    """Enable graph recording inside a ``no_grad`` block."""

    __slots__ = ("prev",)

    def __new__(cls, func=None):
        self = _object_new(cls)
        if func is not None and callable(func):
            return self(func)
        return self

    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = True

    def __exit__(self, *exc):
        STATE.enabled = self.prev
        return False


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode on or off; works as a function, context manager or decorator."""

    __slots__ = ("mode", "prev")

    def __init__(self, mode: bool):
        self.prev = STATE.enabled
        self.mode = bool(mode)
        STATE.enabled = self.mode

    def _clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, func):
        # used as a decorator, the constructor's immediate switch is undone (as in torch)
        STATE.enabled = self.prev
        return super().__call__(func)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        STATE.enabled = self.prev
        return False


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad`` (lamina keeps no extra bookkeeping to skip, so it is the same speed)."""

    __slots__ = ("mode", "prev", "prev_inf")

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode) and not isinstance(mode, bool):
            self.__init__(True)
            return self(mode)
        return self

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.prev = True
        self.prev_inf = False

    def _clone(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self.prev = STATE.enabled
        self.prev_inf = STATE.inference
        if self.mode:
            STATE.enabled = False
            STATE.inference = True

    def __exit__(self, *exc):
        STATE.enabled = self.prev
        STATE.inference = self.prev_inf
        return False
