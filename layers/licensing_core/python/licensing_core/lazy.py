"""Packages whose names load their module on first use (``schemas``, ``store.models``): a
function imports the models of its own route and tables only (cold starts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` of ``package``, whose ``names`` map
    each module to the names it defines (space-separated)."""
    modules = {name: module for module, listed in names.items() for name in listed.split()}

    def getattr_(name: str) -> Any:
        """Import the module that defines ``name`` (once), as ``package.name`` is read."""
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # __import__, not importlib.import_module: -X importtime then shows the module
        value = getattr(__import__(f"{package}.{module}", fromlist=[name]), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *modules})

    return sorted(modules), getattr_, dir_
