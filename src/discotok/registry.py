"""Named registries of components, so later modules add entries without touching the core.

A component section of a config is a dict ``{"name": ..., **kwargs}``; the registry checks the
name (listing the valid choices) and the keyword arguments (listing the accepted ones) against
the registered constructor's signature before building it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from discotok.errors import ConfigError


class Registry:
    """A name -> constructor map for one kind of component (dataset, encoder, method, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: ``@METHODS.register("simclr")`` above a class or factory function."""

        def add(obj: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return add

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> Callable[..., Any]:
        if name not in self._entries:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; valid choices: {', '.join(self.names())}"
            )
        return self._entries[name]

    def summary(self, name: str) -> str:
        """First line of the entry's docstring, for `discotok list`."""
        doc = inspect.getdoc(self.get(name)) or ""
        return doc.splitlines()[0] if doc else ""

    def options(self, name: str, context: tuple[str, ...] = ()) -> dict[str, Any]:
        """The user-settable keyword arguments of an entry and their defaults.

        A class constructor that passes ``**kwargs`` on to its base class also accepts the
        base constructor's arguments; they are followed up the class hierarchy.
        """
        entry = self.get(name)
        chain = [cls.__init__ for cls in entry.__mro__] if inspect.isclass(entry) else [entry]
        found: dict[str, Any] = {}
        for fn in chain:
            if fn is object.__init__:
                break
            params = inspect.signature(fn).parameters
            for key, p in params.items():
                if key in ("self", *context) or key in found:
                    continue
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
                    found[key] = None if p.default is inspect.Parameter.empty else p.default
            if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                break
        return found

    def resolve(self, spec: dict[str, Any], context: tuple[str, ...] = ()) -> dict[str, Any]:
        """Return `spec` with every default filled in; reject unknown keys by name.

        `context` names the arguments the pipeline supplies itself (e.g. ``encoder``), which a
        user may not set.
        """
        if "name" not in spec:
            raise ConfigError(
                f"the {self.kind} section needs a 'name'; choose one of: {', '.join(self.names())}"
            )
        name = spec["name"]
        options = self.options(name, context)
        unknown = sorted(set(spec) - {"name"} - set(options))
        if unknown:
            raise ConfigError(
                f"{self.kind} {name!r} has no option {', '.join(map(repr, unknown))}; "
                f"valid options: {', '.join(options) or '(none)'}"
            )
        return {"name": name, **options, **{k: v for k, v in spec.items() if k != "name"}}

    def build(self, spec: dict[str, Any], **context: Any) -> Any:
        """Construct the entry named by ``spec["name"]`` with its options plus `context`."""
        resolved = self.resolve(spec, tuple(context))
        kwargs = {k: v for k, v in resolved.items() if k != "name"}
        return self.get(resolved["name"])(**kwargs, **context)


DATASETS = Registry("dataset")
VIEWS = Registry("views")
ENCODERS = Registry("encoder")
METHODS = Registry("method")
TOKENIZERS = Registry("tokenizer")
EVALUATORS = Registry("evaluator")

ALL = {
    "datasets": DATASETS,
    "views": VIEWS,
    "encoders": ENCODERS,
    "methods": METHODS,
    "tokenizers": TOKENIZERS,
    "evaluators": EVALUATORS,
}
