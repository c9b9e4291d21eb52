"""Extension points: the one way a lower app lets the apps above it act on what it does.

A lower app (consent, questionnaires, tracking) declares a Hook and calls it; an app above connects
an effect with `@hook.connect` in its `subscriptions` or `exports` module, which core imports once
every app is loaded (`discover`). Effects run in the caller's order of connection and in the caller's
transaction, so what the hook stands for and everything its effects write commit or fail together;
an effect that raises stops the caller. Each effect is known by its qualified name, which the audit
records and which makes connecting twice (a module imported again) harmless.

Django signals would do the calling too; a Hook is used instead because its effects take typed
arguments rather than `sender, **kwargs`, are held strongly, and are named for the audit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from django.utils.module_loading import autodiscover_modules

P = ParamSpec("P")
R = TypeVar("R")

# The module names in each app that connect effects; imported once by core's AppConfig.ready.
SUBSCRIBER_MODULES = ("subscriptions", "exports")


class Hook(Generic[P, R]):
    """A named point that effects connect to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._effects: dict[str, Callable[P, R]] = {}

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, effects={list(self._effects)})"

    def connect(self, effect: Callable[P, R]) -> Callable[P, R]:
        self._effects[f"{effect.__module__}.{effect.__qualname__}"] = effect
        return effect

    def effects(self) -> list[str]:
        return list(self._effects)

    def run(self, *args: P.args, **kwargs: P.kwargs) -> list[str]:
        """Call every effect; the names of those that ran, for the caller's audit entry."""
        for effect in self._effects.values():
            effect(*args, **kwargs)
        return list(self._effects)

    def results(self, *args: P.args, **kwargs: P.kwargs) -> dict[str, R]:
        """Call every effect and keep what each returned, by its name."""
        return {name: effect(*args, **kwargs) for name, effect in self._effects.items()}


def discover() -> None:
    """Import every app's subscriber modules so that their effects are connected."""
    autodiscover_modules(*SUBSCRIBER_MODULES)
