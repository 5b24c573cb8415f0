"""Output folders that are never half-written and never replace an input.

A run writes its files into a staging folder inside the output folder, then moves them in
(each move atomic) and writes ``govsurvey-manifest.json`` naming the run and every file it
wrote. Files of an earlier run that this run did not write again (a PDF that failed this
time) are removed when the earlier manifest lists them, so the folder is one run's
consistent set; files govsurvey did not write are left alone. A lock file refuses a second
run into the same folder while one is writing; staging folders and lock files left by a
killed run are recognised and cleaned up by the next run.

Examples
--------
>>> import tempfile, pathlib
>>> from govsurvey.data.outputs import OutputFolder
>>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
>>> with OutputFolder(out, inputs=[]) as folder:
...     _ = (folder.staging / "results.json").write_text("{}")
...     written = folder.commit({"study": "example"})
>>> sorted(p.name for p in out.iterdir())
['govsurvey-manifest.json', 'results.json']
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import platform
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from govsurvey.data.files import sha256_file
from govsurvey.errors import ReportError

__all__ = ["OutputFolder", "MANIFEST", "LOCK", "check_not_inputs", "os_error"]

MANIFEST = "govsurvey-manifest.json"
LOCK = ".govsurvey.lock"
STAGING_PREFIX = ".govsurvey-staging-"


def os_error(exc: OSError, where: Path) -> ReportError:
    """An operating-system error while writing outputs, as a ReportError with the fix."""
    fixes = {errno.ENOSPC: "the disk is full: free space or choose another --out",
             errno.EACCES: "no permission to write there: choose a folder you own",
             errno.EROFS: "the folder is on a read-only file system: choose another --out",
             errno.ENOTDIR: "a part of the path is a file, not a folder: choose another --out",
             errno.EISDIR: "an output name is taken by a folder: remove or rename that folder",
             errno.EEXIST: "a file is in the way: remove it or choose another --out"}
    fix = fixes.get(exc.errno, "check that the folder exists and is writable")
    return ReportError(f"Cannot write outputs into {where}: {exc.strerror or exc} ({exc.filename or where}). Fix: {fix}.")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_not_inputs(targets: Iterable[Path], inputs: Iterable[str | Path],
                     fix: str = "choose another --out folder (outputs are report.*, results.json, scores.csv, "
                                "exclusions.csv, failure_cases.csv)") -> None:
    """Refuse (before anything is written) an output path that is an input, or a hard or
    symbolic link of one."""
    inputs = [Path(p) for p in inputs if p is not None]
    for target in targets:
        for source in inputs:
            if _same(target, source) or target.resolve() == source.resolve():
                raise ReportError(f"The output {target} would replace the input {source}. Fix: {fix}.")


def _alive(lock: dict[str, Any]) -> bool:
    if lock.get("host") != platform.node():
        return True                      # another machine's run: cannot tell, assume it is live
    try:
        os.kill(int(lock.get("pid", -1)), 0)
    except (OSError, ValueError):
        return False
    return True


class OutputFolder:
    """A locked output folder with a staging area; :meth:`commit` moves the staged files in."""

    def __init__(self, folder: str | Path, *, inputs: Iterable[str | Path]) -> None:
        self.folder = Path(folder)
        self.inputs = list(inputs)
        self.run_id = uuid.uuid4().hex[:12]
        self.staging = self.folder / f"{STAGING_PREFIX}{os.getpid()}-{self.run_id}"
        self._locked = False

    def __enter__(self) -> "OutputFolder":
        try:
            if self.folder.exists() and not self.folder.is_dir():
                raise ReportError(f"--out {self.folder} is a file, not a folder. Fix: choose a folder name.")
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock()
            self._clean_stale()
            self.staging.mkdir()
        except OSError as exc:
            self._unlock()
            raise os_error(exc, self.folder) from None
        return self

    def __exit__(self, *exc_info) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self._unlock()

    def _lock(self) -> None:
        path = self.folder / LOCK
        body = json.dumps({"pid": os.getpid(), "host": platform.node(), "run": self.run_id})
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    held = json.loads(path.read_text(encoding="utf-8") or "{}")
                except (OSError, ValueError):
                    held = {}
                if _alive(held):
                    raise ReportError(f"Another govsurvey run (process {held.get('pid', '?')}) is writing into {self.folder}. "
                                      f"Fix: wait for it to finish, or write into another --out folder; if no run is going on, "
                                      f"delete {path}.") from None
                path.unlink(missing_ok=True)          # left by a run that was killed
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            self._locked = True
            return

    def _unlock(self) -> None:
        if self._locked:
            (self.folder / LOCK).unlink(missing_ok=True)
            self._locked = False

    def _clean_stale(self) -> None:
        """Staging folders and temporary files of killed runs (the lock proves none is live)."""
        for path in self.folder.iterdir():
            if path.name.startswith(STAGING_PREFIX) and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith(".govsurvey-tmp-") and path.is_file():
                path.unlink(missing_ok=True)

    def commit(self, manifest: dict[str, Any]) -> dict[str, Path]:
        """Move every staged file into the folder, remove files of the previous run that this
        run did not write, and write the manifest (run, files with SHA-256). Returns name → path."""
        staged = sorted(p for p in self.staging.iterdir() if p.is_file())
        targets = [self.folder / p.name for p in staged]
        check_not_inputs(targets, self.inputs)
        previous = self._previous_files()
        for target in targets:
            if target.is_dir():
                raise ReportError(f"{target} is a folder, so the output {target.name} cannot be written there. "
                                  "Fix: remove or rename that folder, or choose another --out.")
        try:
            for source, target in zip(staged, targets):
                os.replace(source, target)
            for name in previous - {t.name for t in targets}:
                stale = self.folder / name
                if stale.is_file() and not any(_same(stale, Path(i)) for i in self.inputs):
                    stale.unlink()
            files = {t.name: sha256_file(t) for t in targets}
            body = json.dumps({**manifest, "run": self.run_id, "files": files}, ensure_ascii=False, indent=1, sort_keys=True)
            tmp = self.folder / f".govsurvey-tmp-{MANIFEST}"
            tmp.write_text(body + "\n", encoding="utf-8")
            os.replace(tmp, self.folder / MANIFEST)
        except OSError as exc:
            raise os_error(exc, self.folder) from None
        return {t.name: t for t in targets}

    def _previous_files(self) -> set[str]:
        try:
            old = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            return {str(n) for n in old.get("files", {}) if "/" not in str(n) and not str(n).startswith(".")}
        except (OSError, ValueError, AttributeError):
            return set()

