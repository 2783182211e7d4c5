"""The positioned guild-file model (text in, objects with source ranges out)."""

from .guildfile import (  # noqa: F401
    ERROR, HINT, INFO, WARNING, Check, Dependency, Flag, FlagAssign, Guildfile, Model,
    Operation, Problem, Ref, Resource, Source, Step, load, load_path, merge,
)
from .nodes import HAVE_LIBYAML, MAP, SCALAR, SEQ, Node, Range, compose  # noqa: F401
