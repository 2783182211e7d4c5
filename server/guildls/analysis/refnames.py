"""Names a ``${...}`` reference may use besides the operation's flags (no LSP types here:
the checks of `guildls check` import this, not the completion module)."""

EXEC_NAMES = {
    "flag_args": "All flags as command-line arguments (`--name value`).",
    "main_args": "The arguments of `main`.",
    "python_exe": "The Python interpreter used for the run.",
    "guild_python_exe": "The Python interpreter Guild runs with.",
    "project_dir": "The directory of the Guild file.",
}
# `main` arguments resolve the same names (checked with Guild 0.9: `${project_dir}`,
# `${flag_args}`); `env` values resolve flags only.
MAIN_NAMES = EXEC_NAMES
# names Guild expands only when they are a whole word of the command
WHOLE_WORD_NAMES = ("flag_args", "main_args")
