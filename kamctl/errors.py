"""Error types raised by several layers (workspace, git, history) and caught by the CLI.

A leaf: it imports nothing from kamctl, so any module may raise these without an import cycle.
"""

from __future__ import annotations


class WorkspaceError(Exception):
    """A usage or settings problem (exit 2): no workspace, unreadable kam.yaml, unknown account id."""


class GitError(WorkspaceError):
    """git is missing, the workspace is not in a repository, or a revision or date names no commit (exit 2)."""
