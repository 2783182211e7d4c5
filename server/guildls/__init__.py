"""guildls: language server, linter and workflow executor for Guild AI guild files."""

__version__ = "0.1.0"
