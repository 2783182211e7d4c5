"""Guild run command lines (``op a=1 --label x -m 3``) as used in workflow steps.

A step's ``run`` string is parsed by Guild with the ``guild run`` click command. We split
it with shell rules while keeping offsets, then sort the words into the op spec, flag
assignments, batch files and run options. The option table is Guild 0.9.0's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from . import flagvals

# option string -> (param name, takes a value, may repeat)
_OPTS: Dict[str, Tuple[str, bool, bool]] = {}


def _opt(names, param, value, multiple=False):
    for n in names:
        _OPTS[n] = (param, value, multiple)


_opt(["-l", "--label"], "label", True)
_opt(["-t", "--tag"], "tags", True, True)
_opt(["-c", "--comment"], "comment", True)
_opt(["-ec", "--edit-comment"], "edit_comment", False)
_opt(["-e", "--edit-flags"], "edit_flags", False)
_opt(["-d", "--run-dir"], "run_dir", True)
_opt(["--stage"], "stage", False)
_opt(["--start", "--restart"], "restart", True)
_opt(["--proto"], "proto", True)
_opt(["--force-sourcecode"], "force_sourcecode", False)
_opt(["--gpus"], "gpus", True)
_opt(["--no-gpus"], "no_gpus", False)
_opt(["-bl", "--batch-label"], "batch_label", True)
_opt(["-bt", "--batch-tag"], "batch_tags", True, True)
_opt(["-bc", "--batch-comment"], "batch_comment", True)
_opt(["-ebc", "--edit-batch-comment"], "edit_batch_comment", False)
_opt(["-o", "--optimizer"], "optimizer", True)
_opt(["-O", "--optimize"], "optimize", False)
_opt(["-N", "--minimize"], "minimize", True)
_opt(["-X", "--maximize"], "maximize", True)
_opt(["-Fo", "--opt-flag"], "opt_flags", True, True)
_opt(["-m", "--max-trials", "--trials"], "max_trials", True)
_opt(["--random-seed"], "random_seed", True)
_opt(["--debug-sourcecode"], "debug_sourcecode", True)
_opt(["--stage-trials"], "stage_trials", False)
_opt(["-r", "--remote"], "remote", True)
_opt(["-y", "--yes"], "yes", False)
_opt(["-f", "--force-flags"], "force_flags", False)
_opt(["--force-deps"], "force_deps", False)
_opt(["--stop-after"], "stop_after", True)
_opt(["--fail-on-trial-error"], "fail_on_trial_error", False)
_opt(["--needed"], "needed", False)
_opt(["-b", "--background"], "background", False)
_opt(["--pidfile"], "pidfile", True)
_opt(["-n", "--no-wait"], "no_wait", False)
_opt(["--save-trials"], "save_trials", True)
_opt(["--keep-run"], "keep_run", False)
_opt(["--keep-batch"], "keep_batch", False)
_opt(["-D", "--dep"], "additional_deps", True, True)
_opt(["--break"], "break_", True, True)
_opt(["--break-on-error"], "break_on_error", False)
_opt(["-q", "--quiet"], "quiet", False)
_opt(["--print-cmd"], "print_cmd", False)
_opt(["--print-env"], "print_env", False)
_opt(["--print-trials"], "print_trials", False)
_opt(["--help-model"], "help_model", False)
_opt(["-h", "--help-op"], "help_op", False)
_opt(["--test-output-scalars"], "test_output_scalars", True)
_opt(["--test-sourcecode"], "test_sourcecode", False)
_opt(["--test-flags"], "test_flags", False)
_opt(["--run-id"], "run_id", True)

RUN_OPTIONS = dict(_OPTS)

# Parameters a step passes on to its child run (Guild's STEP_USED_PARAMS).
STEP_USED_PARAMS = {
    "batch_label", "batch_tags", "fail_on_trial_error", "force_flags", "gpus", "label",
    "max_trials", "maximize", "minimize", "needed", "no_gpus", "opt_flags", "optimize",
    "optimizer", "random_seed", "remote", "stop_after", "tags", "additional_deps",
    "break_on_error", "force_sourcecode", "yes", "keep_batch", "opspec", "flags",
}

# Step mapping keys that set run parameters (key -> param).
STEP_OPTION_KEYS = {
    "label": "label", "tags": "tags", "gpus": "gpus", "no-gpus": "no_gpus",
    "max-trials": "max_trials", "maximize": "maximize", "minimize": "minimize",
    "optimize": "optimize", "optimizer": "optimizer", "opt-flags": "opt_flags",
    "random-seed": "random_seed", "remote": "remote", "stop-after": "stop_after",
    "needed": "needed", "force-flags": "force_flags",
    "fail-on-trial-error": "fail_on_trial_error", "batch-label": "batch_label",
    "batch-tags": "batch_tags", "opspec": "opspec", "additional-deps": "additional_deps",
    "break-on-error": "break_on_error", "force-sourcecode": "force_sourcecode",
}


@dataclass
class Word:
    text: str
    start: int  # offset in the run string
    end: int


_WORD_RE = re.compile(r"\S+")  # (\s is what str.isspace says, in a str pattern)


def split_words(s: str) -> Tuple[List[Word], Optional[str]]:
    """Shell-style split (POSIX rules, like ``shlex.split``) keeping offsets."""
    if "'" not in s and '"' not in s and "\\" not in s:
        # nothing quoted or escaped (most run strings): the words are the runs of
        # non-space characters, as the loop below finds them
        return [Word(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(s)], None
    return _split_quoted(s)


def _split_quoted(s: str) -> Tuple[List[Word], Optional[str]]:
    words: List[Word] = []
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        buf = []
        while i < n and not s[i].isspace():
            c = s[i]
            if c == "'":
                j = s.find("'", i + 1)
                if j < 0:
                    return words, "No closing quotation"
                buf.append(s[i + 1:j])
                i = j + 1
            elif c == '"':
                i += 1
                while i < n and s[i] != '"':
                    if s[i] == "\\" and i + 1 < n and s[i + 1] in '"\\$`\n':
                        buf.append(s[i + 1])
                        i += 2
                    else:
                        buf.append(s[i])
                        i += 1
                if i >= n:
                    return words, "No closing quotation"
                i += 1
            elif c == "\\":
                if i + 1 < n:
                    buf.append(s[i + 1])
                    i += 2
                else:
                    return words, "No escaped character"
            else:
                buf.append(c)
                i += 1
        words.append(Word("".join(buf), start, i))
    return words, None


def decode_flag_value(s: str) -> Any:
    """Decode a command-line flag value as Guild does (no declared type). Values that
    cannot change (text, numbers, booleans, null) are remembered by their text: the same
    few values recur in a file's steps, and each decoding tries several decoders."""
    v = _DECODED.get(s, _NOT_SEEN)
    if v is _NOT_SEEN:
        v = flagvals.decode_flag_val(s)
        if v is None or v.__class__ in _IMMUTABLE:
            if len(_DECODED) >= 4096:
                _DECODED.clear()
            _DECODED[s] = v
    return v


_DECODED: Dict[str, Any] = {}
_NOT_SEEN = object()
_IMMUTABLE = frozenset((str, int, float, bool))


@dataclass
class Assign:
    name: str
    text: str  # value as written
    value: Any  # decoded
    start: int  # offset of the name in the run string
    end: int  # end of the whole word
    value_start: int

    @property
    def name_end(self) -> int:
        return self.start + len(self.name)


@dataclass
class RunSpec:
    opspec: Optional[str] = None
    opspec_start: int = 0
    opspec_end: int = 0
    assigns: List[Assign] = field(default_factory=list)
    batch_files: List[Word] = field(default_factory=list)
    options: Dict[str, Any] = field(default_factory=dict)
    option_words: List[Tuple[str, Word]] = field(default_factory=list)
    problems: List[Tuple[str, int, int]] = field(default_factory=list)  # message, start, end
    ignored: List[Tuple[str, int, int]] = field(default_factory=list)  # warnings
    words: List[Word] = field(default_factory=list)


def parse_run(s: str) -> RunSpec:
    spec = RunSpec()
    words, err = split_words(s)
    spec.words = words
    if err:
        spec.problems.append((f"invalid run spec '{s}': {err}", 0, len(s)))
        return spec
    positional: List[Word] = []
    i = 0
    only_args = False
    while i < len(words):
        w = words[i]
        t = w.text
        if not only_args and t == "--":
            only_args = True
            i += 1
            continue
        if not only_args and t.startswith("-") and len(t) > 1 and not _looks_negative_number(t):
            name, eq, inline = t.partition("=")
            opt = _OPTS.get(name)
            if opt is None and not name.startswith("--") and len(name) > 2:
                # click style combined short flags (-yq) are rare; report as unknown
                opt = None
            if opt is None:
                if name == "--help":
                    spec.options["help"] = True
                    i += 1
                    continue
                spec.problems.append((f"No such option '{name}'.", w.start, w.end))
                break  # click stops at the first bad option: later words are not reported again
            param, takes_value, multiple = opt
            if takes_value:
                if eq:
                    val = inline
                    vw = Word(inline, w.start + len(name) + 1, w.end)
                elif i + 1 < len(words):
                    i += 1
                    vw = words[i]
                    val = vw.text
                else:
                    spec.problems.append((f"Option '{name}' requires an argument.", w.start, w.end))
                    i += 1
                    continue
                if multiple:
                    spec.options.setdefault(param, []).append(val)
                else:
                    spec.options[param] = val
                spec.option_words.append((param, vw))
            else:
                spec.options[param] = True
                spec.option_words.append((param, w))
            if param not in STEP_USED_PARAMS:
                spec.ignored.append((f"run parameter {name} used in '{s}' ignored", w.start, w.end))
            i += 1
            continue
        positional.append(w)
        i += 1
    if not positional:
        return spec
    op = positional[0]
    spec.opspec, spec.opspec_start, spec.opspec_end = op.text, op.start, op.end
    bad = []
    for w in positional[1:]:
        if w.text.startswith("@"):
            spec.batch_files.append(w)
            continue
        name, eq, val = w.text.partition("=")
        if not eq or not name:
            bad.append(w)
            continue
        # offset of the value: the '=' may be inside quotes, so find it in the raw text
        raw = s[w.start:w.end]
        eqpos = raw.find("=")
        vstart = w.start + eqpos + 1 if eqpos >= 0 else w.end
        nstart = w.start + (1 if raw[:1] in "'\"" else 0)
        spec.assigns.append(Assign(name, val, decode_flag_value(val), nstart, w.end, vstart))
    for w in bad:
        spec.problems.append((f"invalid argument(s): {w.text} expected NAME=VAL", w.start, w.end))
    return spec


def _looks_negative_number(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False


def link_name(name: str) -> str:
    """Name of the link a workflow run makes for a step (before ``_2`` suffixes)."""
    return re.sub(r"[ :/\\]", "-", name)
