"""Every Kyso error class of the product, and one instance of each built from its
constructor's signature: for the tests that walk the whole exception tree."""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import typing
from pathlib import Path
from typing import Any

from common import KysoError

PACKAGES = ("common", "certs", "tokens", "signer", "documents", "api")


def import_all() -> None:
    """Import every module of the product, so that every error class is defined."""
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)


def error_classes() -> list[type[KysoError]]:
    import_all()
    found: dict[str, type[KysoError]] = {}
    stack: list[type[KysoError]] = [KysoError]
    while stack:
        cls = stack.pop()
        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
        stack.extend(cls.__subclasses__())
    return [found[k] for k in sorted(found)
            if found[k].__module__.split(".")[0] in PACKAGES]


#: Arguments for constructors that take one of a few known words.
SPECIAL: dict[str, tuple[Any, ...]] = {
    "InvalidToken": ("expired",),
    "BlockMismatch": ([("tên in khác", "the printed name differs")],),
}


def _value(annotation: Any) -> Any:
    for option in typing.get_args(annotation) or (annotation,):
        if isinstance(option, type) and issubclass(option, enum.Enum):
            return next(iter(option))
        if isinstance(option, type) and issubclass(option, KysoError):
            return KysoError("lỗi bên trong", "inner error")
    text = str(annotation)
    if "Path" in text:
        return Path("/tmp/tep-thu.pdf")
    if text.startswith(("list", "tuple", "Sequence")):
        return ["thứ nhất", "thứ hai"]
    if text.startswith("bool"):
        return True
    if text.startswith("int"):
        return 3
    if text.startswith("float"):
        return 1.5
    return "giá trị thử"


def example(cls: type[KysoError]) -> KysoError:
    """An instance of ``cls``, each argument a plausible value of its annotated type."""
    if cls.__name__ in SPECIAL:
        return cls(*SPECIAL[cls.__name__])
    init = getattr(cls.__init__, "__wrapped__", cls.__init__)
    hints = typing.get_type_hints(init, vars(importlib.import_module(cls.__module__)))
    required = [p for p in list(inspect.signature(init).parameters.values())[1:]
                if p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    args = [_value(hints.get(p.name)) for p in required if p.kind is not p.KEYWORD_ONLY]
    kwargs = {p.name: _value(hints.get(p.name)) for p in required if p.kind is p.KEYWORD_ONLY}
    return cls(*args, **kwargs)


def _note(cls: type[KysoError], notes: dict[str, str]) -> str:
    if cls.__name__ in notes:
        return notes[cls.__name__]
    first = (vars(cls).get("__doc__") or "").strip().split("\n")[0]
    return first[:-1] if first.endswith(".") and len(first) <= 60 else ""


def draw_tree(root: type[KysoError] = KysoError, module: str | None = None,
              notes: dict[str, str] | None = None, column: int = 27) -> str:
    """The subclasses of ``root`` as an indented tree (as in the package docstrings),
    limited to the classes defined in ``module`` when given, each with a note (``notes``
    by class name, else the first line of the class's own docstring)."""
    import_all()
    notes = notes or {}

    def inside(cls: type[KysoError]) -> bool:
        return module is None or cls.__module__ == module

    def shown(cls: type[KysoError]) -> bool:
        return inside(cls) or any(shown(s) for s in cls.__subclasses__())

    lines = [f"    {root.__name__}"]

    def walk(cls: type[KysoError], prefix: str) -> None:
        children = sorted((s for s in cls.__subclasses__() if shown(s)),
                          key=lambda s: s.__name__)
        for i, child in enumerate(children):
            last = i == len(children) - 1
            head = f"    {prefix}{'└── ' if last else '├── '}{child.__name__}"
            note = _note(child, notes)
            lines.append(f"{head:<{column}} {note}".rstrip() if note else head)
            walk(child, prefix + ("    " if last else "│   "))

    walk(root, "")
    return "\n".join(lines)


def tree_names(text: str) -> list[str]:
    """The class names of a drawn tree, in order (its notes left out)."""
    return [line.strip(" │├└─").split()[0] for line in text.splitlines()
            if line.strip(" │├└─") and line.startswith("    ")]
