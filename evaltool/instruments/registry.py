"""Find and load plugins (instruments, definition files, output formats).

Loading is explicit (nothing happens at import time) and fault-isolated: each entry point is
loaded on its own, and a broken plugin is recorded with its package and error while the others
still load. ``EVALTOOL_DISABLE_PLUGIN_AUTOLOAD=1`` turns off entry-point loading.
"""

from __future__ import annotations

import importlib
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from evaltool.config import read_toml_text
from evaltool.errors import PluginError
from evaltool.instruments import hookspecs
from evaltool.instruments.base import Instrument

ENTRY_POINT_GROUP = "evaltool"
DISABLE_AUTOLOAD = "EVALTOOL_DISABLE_PLUGIN_AUTOLOAD"
_NAME = re.compile(r"^[a-z][a-z0-9_\-]*$")
_COMMON_KEYS = {"name", "kind", "title", "table", "description", "version"}

#: the built-in plugins (evaltool/plugins), loaded by name exactly as entry points are
DEFAULT_PLUGINS = (
    "evaltool.plugins.builtin_definitions",
    "evaltool.plugins.goal_attainment",
    "evaltool.plugins.goal_based_outcomes",
    "evaltool.plugins.domain_scale",
    "evaltool.plugins.survey",
    "evaltool.plugins.partner_access",
    "evaltool.plugins.pregnancies",
    "evaltool.plugins.outputs",
)

#: the modules of the plugin contract's hookspecs, loaded by name as the built-in plugins are:
#: the instruments' here, the output formats' with the report that renders them
HOOKSPECS = ("evaltool.instruments.hookspecs", "evaltool.report.renderers")


@dataclass
class PluginInfo:
    """One plugin as ``evaltool plugins`` lists it."""

    name: str
    package: str
    version: str
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # file extensions of its output formats
    error: str | None = None


@dataclass
class Registry:
    """Every instrument kind, instrument and output format the installed plugins offer."""

    kinds: dict[str, type[Instrument]]
    instruments: dict[str, Instrument]
    plugins: list[PluginInfo]
    #: the output formats by file extension, collected by ``report.renderers.renderers_of``
    #: on first use (their hook and type belong to the report)
    renderers: dict[str, Any] = field(default_factory=dict)
    pm: pluggy.PluginManager | None = field(default=None, repr=False)

    def offers(self, hook: str) -> list[tuple[str, list]]:
        """What each plugin's ``hook`` returns, in registration order, as (plugin, list): a
        plugin whose hook raises is listed with the error (and offers nothing)."""
        if self.pm is None:
            return []
        by_name = {p.name: p for p in self.plugins}
        out = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            owner = _plugin_of(self.pm, impl)
            try:
                out.append((owner, list(impl.function() or [])))
            except Exception as exc:  # a plugin's bug: name it, keep going
                by_name[owner].error = f"{hook}() raised {type(exc).__name__}: {exc}"
                out.append((owner, []))
        return out

    @property
    def load_errors(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]

    def get(self, name: str) -> Instrument:
        if name in self.instruments:
            return self.instruments[name]
        known = ", ".join(sorted(self.instruments)) or "none"
        broken = "".join(
            f"; plugin {p.package} failed to load ({p.error})" for p in self.load_errors
        )
        raise PluginError(
            f"unknown instrument '{name}'; installed instruments: {known}{broken}. "
            "See `evaltool instruments`"
        )


def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    for module in HOOKSPECS:
        pm.add_hookspecs(importlib.import_module(module))
    return pm


def _builtin_dir() -> Path:
    """The shipped ``instruments/`` folder: in the wheel, or beside the package in a checkout."""
    package = Path(__file__).parent.parent  # evaltool/
    packaged = package / "_instruments"
    return packaged if packaged.is_dir() else package.parent / "instruments"


BUILTIN_DEFINITIONS = _builtin_dir()


def _hooks_of(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    return sorted(h.name for h in pm.get_hookcallers(plugin) or [])


def load_plugins(pm: pluggy.PluginManager, autoload: bool | None = None) -> list[PluginInfo]:
    """Register the built-in plugins, then each entry-point plugin on its own."""
    from evaltool import __version__

    infos: list[PluginInfo] = []
    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        infos.append(PluginInfo(module_name, "evaltool", __version__, True, _hooks_of(pm, module)))
    pm.check_pending()  # a misspelt hook in a built-in plugin is a bug: fail loudly
    if autoload is None:
        autoload = os.environ.get(DISABLE_AUTOLOAD, "").strip().lower() not in ("1", "true", "yes")
    if not autoload:
        return infos
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        package = ep.dist.name if ep.dist else ep.value
        version = ep.dist.version if ep.dist else "?"
        info = PluginInfo(ep.name, package, version, False)
        infos.append(info)
        if pm.has_plugin(ep.name):
            info.error = f"another plugin is already registered as '{ep.name}'"
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a broken plugin must not stop the others
            info.error = f"{type(exc).__name__}: {exc}"
            continue
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            pm.unregister(plugin)
            info.error = _explain_pending(exc)
            continue
        info.hooks = _hooks_of(pm, plugin)
    return infos


def _explain_pending(exc: pluggy.PluginValidationError) -> str:
    import difflib

    text = str(exc)
    match = re.search(r"unknown hook '([^']+)'", text)
    if not match:
        return text
    name = match.group(1)
    hooks = [n for m in HOOKSPECS for n in dir(importlib.import_module(m))]
    guess = difflib.get_close_matches(name, [n for n in hooks if n.startswith("evaltool_")], n=1)
    return f"unknown hook '{name}'" + (f"; did you mean '{guess[0]}'?" if guess else "")


def _plugin_of(pm: pluggy.PluginManager, impl: pluggy.HookImpl) -> str:
    return pm.get_name(impl.plugin) or repr(impl.plugin)


def build_registry(extra_paths: Iterable[Path] = (), autoload: bool | None = None) -> Registry:
    """Load every plugin and definition file into one registry of kinds and instruments."""
    pm = plugin_manager()
    infos = load_plugins(pm, autoload)
    by_name = {i.name: i for i in infos}

    def call(impl, hook: str) -> tuple[str, list]:
        """One plugin's hook: a plugin whose hook raises is listed with the error (and adds
        nothing); the others load as usual."""
        owner = _plugin_of(pm, impl)
        try:
            return owner, list(impl.function() or [])
        except Exception as exc:  # a plugin's bug: name it, keep going
            info = by_name[owner]
            info.error = f"{hook}() raised {type(exc).__name__}: {exc}"
            return owner, []

    kinds: dict[str, type[Instrument]] = {}
    kind_owner: dict[str, str] = {}
    for impl in pm.hook.evaltool_instrument_kinds.get_hookimpls():
        owner, offered = call(impl, "evaltool_instrument_kinds")
        for cls in offered:
            kind = getattr(cls, "kind", "")
            if not kind:
                raise PluginError(f"plugin {owner}: instrument kind {cls.__name__} sets no `kind`")
            if kind in kinds:
                raise PluginError(
                    f"two plugins offer the instrument kind '{kind}': {kind_owner[kind]} and "
                    f"{owner}; uninstall one of them"
                )
            kinds[kind] = cls
            kind_owner[kind] = owner
            by_name[owner].kinds.append(kind)

    instruments: dict[str, Instrument] = {}
    origin: dict[str, str] = {}

    def add(instrument: Instrument, where: str, plugin: str | None) -> None:
        if not _NAME.match(instrument.name):
            raise PluginError(
                f"{where}: instrument name '{instrument.name}' must be lower-case letters, "
                "digits, '-' or '_'"
            )
        if instrument.name in instruments:
            raise PluginError(
                f"two plugins offer the instrument '{instrument.name}': {origin[instrument.name]} "
                f"and {where}; rename one or uninstall a plugin"
            )
        instruments[instrument.name] = instrument
        origin[instrument.name] = where
        if plugin:
            by_name[plugin].instruments.append(instrument.name)

    for impl in pm.hook.evaltool_instruments.get_hookimpls():
        owner, offered = call(impl, "evaltool_instruments")
        for instrument in offered:
            add(instrument, f"plugin {owner}", owner)
    for impl in pm.hook.evaltool_instrument_definitions.get_hookimpls():
        owner, offered = call(impl, "evaltool_instrument_definitions")
        for path in offered:
            for file in _definition_files(Path(path)):
                try:
                    instrument = load_definition(file, kinds)
                except PluginError as exc:
                    if by_name[owner].builtin:  # evaltool's own files: a bug, fail loudly
                        raise
                    # another plugin's broken file: listed with its plugin, the rest load
                    info = by_name[owner]
                    info.error = "; ".join(filter(None, [info.error, str(exc)]))
                    continue
                add(instrument, f"{file} (plugin {owner})", owner)
    for folder in extra_paths:
        folder = Path(folder)
        if not folder.exists():
            raise PluginError(f"instrument folder {folder} (instruments.paths) does not exist")
        for file in _definition_files(folder):
            add(load_definition(file, kinds), str(file), None)
    return Registry(kinds, instruments, infos, pm=pm)


def _definition_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.toml")) if path.is_dir() else [path]


def load_definition(file: Path, kinds: dict[str, type[Instrument]]) -> Instrument:
    """Create an instrument from a definition file, with errors that name the file and key."""
    try:
        data: dict[str, Any] = tomllib.loads(read_toml_text(file))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PluginError(f"instrument definition {file} cannot be read: {exc}") from None
    for key in ("name", "kind"):
        if key not in data:
            raise PluginError(f"instrument definition {file}: missing '{key} = ...'")
    kind = data["kind"]
    if kind not in kinds:
        raise PluginError(
            f"instrument definition {file}: unknown kind '{kind}'; "
            f"installed kinds: {', '.join(sorted(kinds))}"
        )
    cls = kinds[kind]
    unknown = set(data) - _COMMON_KEYS - set(cls.definition_keys)
    if unknown:
        raise PluginError(
            f"instrument definition {file}: unknown key(s) {', '.join(sorted(unknown))} for kind "
            f"'{kind}'; allowed: {', '.join(sorted(_COMMON_KEYS | set(cls.definition_keys)))}"
        )
    try:
        return cls.from_definition(data, str(file))
    except PluginError:
        raise
    except (KeyError, ValueError, TypeError) as exc:
        raise PluginError(f"instrument definition {file}: {exc}") from None
