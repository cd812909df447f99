"""Command-line options of the registered problems, declared beside each problem's builder.

A builder in :data:`jaxsim.problems.PROBLEMS` carries a :class:`CliSpec` (set by the
:func:`command_line` decorator): the options ``jaxsim run --problem NAME`` accepts for it, each
an :class:`Option` naming the builder parameter it fills, its help for this problem, how its text
is read, its command-line default and whether it is required. ``--n`` (the run's workers) fills
``CliSpec.workers``. :mod:`jaxsim.cli` builds its options from these declarations; an option
several problems take is one command-line option, read the same way for all of them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

#: How an option's text is read (:mod:`jaxsim.cli` maps each kind to its parser): ``count`` a
#: positive integer, ``real`` a float, ``seed`` an integer in ``[0, 2**32)``, ``path`` a file or
#: folder, ``choice`` one of :attr:`Option.choices`, ``flag`` present or not.
KINDS = ("count", "real", "seed", "path", "choice", "flag")


@dataclasses.dataclass(frozen=True)
class Option:
    """One command-line option of one problem: ``--<dest with dashes>`` fills the builder's
    ``param``.

    ``help``: what it is for this problem, with the default (plain text). ``default``: the
    command line's value when the option is not given, where it differs from the builder's
    (``None``: the builder's own default). ``required``: non-empty when the option must be given,
    saying what to give. ``convert``: the command line's value -> the builder's argument.
    ``only_with`` / ``only_without``: the dest of another option this one needs, or excludes
    (then its default is not applied either)."""

    dest: str
    param: str
    help: str
    kind: str = "real"
    choices: tuple = ()
    default: Any = None
    required: str = ""
    convert: Optional[Callable[[Any], Any]] = None
    only_with: str = ""
    only_without: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"option {self.dest}: kind {self.kind!r} is not one of {KINDS}")
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"option {self.dest}: choices go with kind 'choice'")


@dataclasses.dataclass(frozen=True)
class CliSpec:
    """What ``jaxsim run --problem NAME`` passes to a problem's builder: its :attr:`options`,
    the parameter ``--n`` fills (:attr:`workers`, ``""``: none) and the builder to call
    (:attr:`build`, ``None``: the registered builder itself)."""

    options: tuple = ()
    workers: str = ""
    build: Optional[Callable] = None


def command_line(*options: Option, workers: str = "", build: Optional[Callable] = None):
    """Decorator of a registered problem's builder: declare its command-line options
    (:class:`CliSpec`, stored as the builder's ``cli`` attribute)."""
    def deco(fn):
        fn.cli = CliSpec(options=tuple(options), workers=workers, build=build)
        return fn

    return deco


def cli_spec(builder) -> CliSpec:
    """The :class:`CliSpec` of a registered builder (no options when it declares none)."""
    return getattr(builder, "cli", None) or CliSpec()


__all__ = ["CliSpec", "KINDS", "Option", "cli_spec", "command_line"]
