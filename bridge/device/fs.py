"""The emulated module's file system: module paths mapped into one host directory.

Module paths look like "/test.txt", "test.txt", "/etc/http_file/x" or "certs/ca.pem";
all of them live under `root`.  No path may leave the root: ".." components, NUL
bytes and symlinks that lead outside are refused with :class:`PathEscapeError`, and so are
control characters (a name is shown in listings and logs).  A well-formed name the file system
cannot hold -- a name over NAME_MAX bytes, a path deeper than DEPTH_MAX folders or longer than
PATH_MAX bytes, a symbolic-link loop -- is refused with :class:`UnusablePathError` (a
PathEscapeError too), before anything is created, so no host call raises on it later.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterable, Union


class PathEscapeError(ValueError):
    """A module path that is malformed or would reach outside the module file system."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"module path {path!r} refused: {why}")
        self.path = path


class UnusablePathError(PathEscapeError):
    """A well-formed module path the file system cannot hold (too long, too deep, a link loop)."""


# Host limits, checked before any call that would fail on them: Linux's NAME_MAX (one name) and
# a path well inside PATH_MAX (4096) with the root in front; the depth also bounds the recursion
# of host tree walks (pathlib's mkdir(parents=True), shutil.rmtree) far below Python's limit.
NAME_MAX = 255
PATH_MAX = 1024
DEPTH_MAX = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ModuleFileSystem:
    """A module's flat-or-nested file store rooted at one host directory.

    With no `root`, a fresh temporary directory is used and removed by :meth:`close`.
    A given root is created if missing and never removed.
    """

    def __init__(self, root: Union[str, os.PathLike, None] = None) -> None:
        self._owned = root is None
        if root is None:
            root = tempfile.mkdtemp(prefix="atbridge-fs-")
        Path(root).mkdir(parents=True, exist_ok=True)
        self.root = Path(root).resolve(strict=True)

    # ---- path mapping ---------------------------------------------------------

    def resolve(self, path: str) -> Path:
        """The host path for module path `path`; raises :class:`PathEscapeError` (or its
        :class:`UnusablePathError`)."""
        parts = self._parts(path)
        candidate = self.root.joinpath(*parts)
        try:
            real = candidate.resolve(strict=False)
        except (RuntimeError, OSError):  # Python < 3.13 raises RuntimeError on a link loop
            raise UnusablePathError(_shown(path), "a symbolic-link loop") from None
        if real != self.root and self.root not in real.parents:
            raise PathEscapeError(_shown(path), "it leads outside the module file system")
        if len(real.parts) - len(self.root.parts) > DEPTH_MAX or len(os.fsencode(real)) > len(os.fsencode(self.root)) + PATH_MAX:
            raise UnusablePathError(_shown(path), "it leads too deep (through a link)")
        return real

    @staticmethod
    def _parts(path: str) -> list[str]:
        if not isinstance(path, str):
            raise PathEscapeError(_shown(repr(path)), "a module path must be a string")
        if "\x00" in path:
            raise PathEscapeError(_shown(path), "it contains a NUL byte")
        if _CONTROL.search(path):
            raise PathEscapeError(_shown(path), "it contains a control character")
        if len(path.encode("utf-8", "surrogateescape")) > PATH_MAX:
            raise UnusablePathError(_shown(path), f"longer than {PATH_MAX} bytes")
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts:
            raise PathEscapeError(_shown(path), "'..' is not allowed")
        if len(parts) > DEPTH_MAX:
            raise UnusablePathError(_shown(path), f"deeper than {DEPTH_MAX} folders")
        if any(len(p.encode("utf-8", "surrogateescape")) > NAME_MAX for p in parts):
            raise UnusablePathError(_shown(path), f"a name longer than {NAME_MAX} bytes")
        return parts

    # ---- files ----------------------------------------------------------------

    def open_write(self, path: str, append: bool = False) -> BinaryIO:
        """Open a module file for writing (truncate, or append), creating parent folders."""
        target = self.resolve(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "ab" if append else "wb")

    def open_read(self, path: str) -> BinaryIO:
        """Open a module file for reading."""
        return open(self.resolve(path), "rb")

    def read_bytes(self, path: str) -> bytes:
        """The whole content of a (small) module file."""
        return self.resolve(path).read_bytes()

    def write_file(self, path: str, data: Union[bytes, Iterable[bytes]], append: bool = False) -> int:
        """Write `data` (bytes or chunks) to a module file; returns the bytes written."""
        chunks = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data
        written = 0
        with self.open_write(path, append=append) as handle:
            for chunk in chunks:
                written += handle.write(chunk)
        return written

    def size(self, path: str) -> int:
        """Size in bytes of a module file."""
        return self.resolve(path).stat().st_size

    def exists(self, path: str) -> bool:
        """Whether the module path names an existing file or folder."""
        return self.resolve(path).exists()

    def remove(self, path: str) -> None:
        """Delete a module file."""
        target = self.resolve(path)
        if target == self.root:
            raise PathEscapeError(path, "the root cannot be removed")
        target.unlink()

    def list(self, path: str = "/") -> list[str]:
        """Names in a module folder, sorted."""
        return sorted(entry.name for entry in self.resolve(path).iterdir())

    # ---- life cycle -----------------------------------------------------------

    def close(self) -> None:
        """Remove the root if it is a temporary one made by this object."""
        if self._owned and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)
        self._owned = False

    def __enter__(self) -> "ModuleFileSystem":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ModuleFileSystem({str(self.root)!r})"


def _shown(path: str) -> str:
    """A path as an error message quotes it: at most 64 characters (a log line stays short)."""
    return path if len(path) <= 64 else path[:61] + "..."
