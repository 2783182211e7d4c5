"""Editing features (completion, hover, navigation, rename, symbols, quick fixes)."""

from __future__ import annotations


def register(server):
    """Register the editing features on ``server`` (filled in as they land)."""
