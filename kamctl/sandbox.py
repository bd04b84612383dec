"""The sandbox a workspace template runs in, and the limits that stop a runaway one.

Jinja's SandboxedEnvironment keeps Python internals out of reach; this tightens it for templates from
an untrusted fork (no `_` attribute, no call but a short list) and bounds what a template can build:
checked sizes where a value grows in one step (*, **, +, %, a few filters, range), a step and time
budget per document, an alarm and an address-space cap while it runs (Unix). Anything past a limit
raises TemplateLimit; kamctl.render turns it into its one-line RenderError.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator


class TemplateLimit(Exception):
    """A template went past a limit (size, steps, time, memory); becomes a RenderError."""


# --- limits: generous for any real document, small enough that a runaway template stops fast -------

MAX_TEXT = 4 * 1024 * 1024  # characters of any string or list built in a template, and of the output
MAX_INT_BITS = 64 * 1024  # bits of an integer built with * or **
MAX_STEPS = 1_000_000  # range() items iterated in one document
MAX_SECONDS = 5.0  # wall clock for one document
MAX_MEMORY = 512 * 1024 * 1024  # extra address space while rendering (Unix; a MemoryError beyond it)
_WIDTH = re.compile(r"%[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


# Methods a template may call on its data or on Jinja's own helpers: none builds a big value.
SAFE_METHODS = frozenset({
    "items", "keys", "values", "get",  # dict
    "lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith", "endswith",
    "split", "rsplit", "splitlines", "count", "find", "isdigit", "isalpha", "isspace",  # str
    "cycle", "changed", "next", "reset", "current",  # loop, cycler
})


@lru_cache(maxsize=None)
def sandbox() -> type:
    """Jinja's sandbox, tightened for untrusted templates (built once, jinja2 imported lazily)."""
    from jinja2 import filters as jinja_filters
    from jinja2.runtime import BlockReference, LoopContext, Macro
    from jinja2.sandbox import SandboxedEnvironment
    from jinja2.utils import Cycler, Joiner

    helpers = (Macro, BlockReference, LoopContext, Joiner)
    owners = (dict, str, LoopContext, Cycler)

    class TemplateSandbox(SandboxedEnvironment):
        """No attribute starting with _, no call but the globals, macros and SAFE_METHODS; *, **, +
        and % checked for size; range() counted against MAX_STEPS; lipsum gone."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.steps = 0
            self.deadline = float("inf")
            self.globals.pop("lipsum", None)
            self.globals["range"] = self.range  # the same bound method, so is_safe_callable knows it
            self.filters.update(_sized_filters(jinja_filters))

        def start(self) -> None:
            """A new document: a fresh step and time budget."""
            self.steps = 0
            self.deadline = time.monotonic() + MAX_SECONDS

        def tick(self) -> None:
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise TemplateLimit(f"more than {MAX_STEPS:,} loop steps")
            self.clock()

        def clock(self) -> None:
            if time.monotonic() > self.deadline:
                raise TemplateLimit(f"took longer than {MAX_SECONDS:g} s")

        def range(self, *args: int) -> "_Steps":
            steps = range(*args)
            if len(steps) > MAX_TEXT:
                raise TemplateLimit(f"range of {len(steps):,} items")
            return _Steps(steps, self)

        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, dict) and attribute in obj:  # data first: a key named "items" is the key
                return obj[attribute]
            return super().getattr(obj, attribute)

        def wrap_str_format(self, value: Any) -> None:
            return None  # no str.format / format_map: a width like {:>1000000000} builds any size

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            if attr.startswith("_") or not super().is_safe_attribute(obj, attr, value):
                return False
            return not callable(value) or self.is_safe_callable(value)

        def is_safe_callable(self, obj: Any) -> bool:
            if not super().is_safe_callable(obj):
                return False
            if isinstance(obj, helpers) or any(obj is g for g in self.globals.values()):
                return True
            return isinstance(getattr(obj, "__self__", None), owners) and getattr(obj, "__name__", "") in SAFE_METHODS

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                _check_power(left, right)
            elif operator == "*":
                _check_product(left, right)
            elif operator == "+" and _sized(left) and _sized(right):
                _check_size(len(left) + len(right))
            elif operator == "%" and isinstance(left, str):
                _check_format(left)
            self.clock()
            return super().call_binop(context, operator, left, right)

    return TemplateSandbox


class _Steps:
    """range() for templates: each item iterated counts against the document's step and time budget."""

    def __init__(self, steps: range, env: Any) -> None:
        self._steps, self._env = steps, env  # _: out of the template's reach

    def __len__(self) -> int:
        return len(self._steps)

    def __iter__(self) -> Iterator[int]:
        for i in self._steps:
            self._env.tick()
            yield i


def _sized(value: Any) -> bool:
    return isinstance(value, (str, list, tuple))


def _check_size(size: int) -> None:
    if size > MAX_TEXT:
        raise TemplateLimit(f"a value of {size:,} items (the limit is {MAX_TEXT:,})")


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise TemplateLimit(f"a number of about {bits:,} bits (the limit is {MAX_INT_BITS:,})")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_power(base: Any, exponent: Any) -> None:
    if _whole(base) and _whole(exponent) and exponent > 0 and abs(base) > 1:
        _check_bits(abs(base).bit_length() * exponent)


def _check_product(left: Any, right: Any) -> None:
    for a, b in ((left, right), (right, left)):
        if _sized(a) and _whole(b):
            _check_size(len(a) * b)
    if _whole(left) and _whole(right):
        _check_bits(abs(left).bit_length() + abs(right).bit_length())


def _check_format(text: str) -> None:
    """A %-format with a width or precision beyond MAX_TEXT (or a * one) could build any size."""
    for match in _WIDTH.finditer(text):
        for part in match.groups():
            if part == "*" or (part and int(part) > MAX_TEXT):
                raise TemplateLimit(f"a %-format width of {part} (the limit is {MAX_TEXT:,})")


def _sized_filters(jinja_filters: Any) -> dict[str, Any]:
    """Jinja's filters that can build a value far bigger than their input, with their sizes checked."""

    def center(value: Any, width: int = 80) -> str:
        _check_size(int(width))
        return jinja_filters.do_center(value, width)

    def indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> str:
        lines = str(value).count("\n") + 1
        _check_size(len(str(value)) + lines * (len(width) if isinstance(width, str) else int(width)))
        return jinja_filters.do_indent(value, width, first, blank)

    def replace(eval_ctx: Any, value: Any, old: str, new: str, count: int | None = None) -> Any:
        text = str(value)
        hits = text.count(str(old)) if count is None else min(int(count), text.count(str(old)))
        _check_size(len(text) + hits * len(str(new)))
        return jinja_filters.do_replace(eval_ctx, value, old, new, count)

    def format_(value: str, *args: Any, **kwargs: Any) -> str:
        _check_format(str(value))
        return jinja_filters.do_format(value, *args, **kwargs)

    def batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
        _check_size(int(linecount))
        return jinja_filters.do_batch(value, linecount, fill_with)

    def slice_(value: Any, slices: int, fill_with: Any = None) -> Any:
        _check_size(int(slices))
        return jinja_filters.do_slice(value, slices, fill_with)

    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
        items = list(value)
        _check_size(len(items) * len(str(d)) + sum(len(str(item)) for item in items if _sized(item)))
        return jinja_filters.do_join(eval_ctx, items, d, attribute)

    def wordwrap(environment: Any, s: str, width: int = 79, break_long_words: bool = True,
                 wrapstring: str | None = None, break_on_hyphens: bool = True) -> str:
        _check_size(len(str(s)) * (1 + len(wrapstring or "\n")))  # at worst one wrap per character
        return jinja_filters.do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)

    def tojson(eval_ctx: Any, value: Any, indent: Any = None) -> Any:
        if indent is not None and (len(indent) if isinstance(indent, str) else int(indent)) > 80:
            raise TemplateLimit(f"a tojson indent of {indent!r}")
        return jinja_filters.do_tojson(eval_ctx, value, indent)

    for wrapper, original in ((replace, "do_replace"), (join, "do_join"), (wordwrap, "do_wordwrap"),
                              (tojson, "do_tojson")):
        wrapper.jinja_pass_arg = getattr(jinja_filters, original).jinja_pass_arg  # type: ignore[attr-defined]
    return {"center": center, "indent": indent, "replace": replace, "format": format_, "batch": batch,
            "slice": slice_, "join": join, "wordwrap": wordwrap, "tojson": tojson}


@contextmanager
def guarded() -> Iterator[None]:
    """While a template runs (Unix, main thread): an alarm after MAX_SECONDS, whatever the template is
    doing, and at most MAX_MEMORY more address space, so a runaway ends in an exception, not a hang
    or a swapping machine. Both are put back afterwards."""
    alarm = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
             and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if alarm:
        def ring(signum: int, frame: Any) -> None:
            raise TemplateLimit(f"took longer than {MAX_SECONDS:g} s")

        previous = signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS + 0.5)
    limit = _memory_limit()
    try:
        yield
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if limit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, limit)


def _memory_limit() -> tuple[int, int] | None:
    """Lower the soft address-space limit to what is in use plus MAX_MEMORY; the old limit, or None."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    cap = used + MAX_MEMORY
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:
        return None
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (OSError, ValueError):
        return None
    return soft, hard


def generate(env: Any, template: Any, data: dict[str, Any]) -> str:
    """Render piece by piece, so the output size and the time are checked while it grows."""
    start = getattr(env, "start", None)
    if start:
        start()
    pieces, size = [], 0
    for piece in template.generate(**data):
        size += len(piece)
        if size > MAX_TEXT:
            raise TemplateLimit(f"output over {MAX_TEXT:,} characters")
        if start:
            env.clock()
        pieces.append(piece)
    return "".join(pieces)
