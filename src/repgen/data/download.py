"""Fetch files from an ordered list of mirrors, checked against pinned SHA-256 sums.

A mirror is a local folder, a file:// URL or an http(s):// URL; each file is tried on
each mirror in turn, checked, validated, and only then moved into place, so a failure
never leaves a partial file behind.
"""

import logging
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from repgen.errors import RepgenError
from repgen.io import atomic_path, sha256_of

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # bytes per read while copying


class MirrorError(Exception):
    """One mirror failed for one file; the reason goes into the final error message."""


def _is_transient(err: Exception) -> bool:
    if isinstance(err, urllib.error.HTTPError):
        return err.code >= 500 or err.code == 429
    return isinstance(err, urllib.error.URLError | TimeoutError | ConnectionError)


def _copy_url(url: str, dest: Path, retries: int, timeout: float) -> None:
    """Download `url` into `dest`, retrying transient network errors with backoff."""
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as f:
                shutil.copyfileobj(response, f, CHUNK)
            return
        except urllib.error.HTTPError as err:
            if not _is_transient(err) or attempt == retries:
                raise MirrorError(f"HTTP {err.code}") from err
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            if attempt == retries:
                reason = getattr(err, "reason", err)
                raise MirrorError(f"unreachable ({reason})") from err
        delay = 0.5 * 2**attempt
        log.info("%s: transient error, retrying in %.1fs", url, delay)
        time.sleep(delay)


def _fetch_one(mirror: str, name: str, dest: Path, retries: int, timeout: float) -> None:
    """Copy `name` from one mirror into `dest` (a temporary path)."""
    scheme = urllib.parse.urlparse(mirror).scheme
    if scheme in ("http", "https"):
        _copy_url(mirror.rstrip("/") + "/" + name, dest, retries, timeout)
        return
    folder = (
        Path(urllib.request.url2pathname(urllib.parse.urlparse(mirror).path))
        if (scheme == "file")
        else Path(mirror)
    )
    if scheme not in ("", "file"):
        raise MirrorError(f"unsupported scheme '{scheme}'; use a folder, file://, http(s)://")
    source = folder / name
    if not source.is_file():
        raise MirrorError("not found")
    shutil.copyfile(source, dest)


def fetch(
    name: str,
    sha256: str,
    mirrors: Iterable[str],
    dest_dir: Path,
    *,
    validate: Callable[[Path], None] | None = None,
    retries: int = 2,
    timeout: float = 60.0,
) -> Path:
    """Fetch file `name` into `dest_dir` from the first mirror that has it intact.

    `validate` (optional) reads the checked file and raises RepgenError if it is unusable.
    Raises RepgenError listing every mirror tried and why each failed.
    """
    dest = Path(dest_dir) / name
    if dest.is_file() and sha256_of(dest) == sha256:
        return dest
    failures = []
    for mirror in mirrors:
        try:
            with atomic_path(dest) as tmp:
                _fetch_one(mirror, name, tmp, retries, timeout)
                actual = sha256_of(tmp)
                if actual != sha256:
                    raise MirrorError(f"checksum mismatch: got {actual[:12]}…, want {sha256[:12]}…")
                if validate is not None:
                    validate(tmp)
        except (MirrorError, RepgenError, OSError) as err:
            reason = str(err).replace(tmp.name, name)
            failures.append(f"{mirror} ({reason})")
            log.info("%s: %s failed: %s", name, mirror, reason)
            continue
        log.info("%s: fetched from %s", name, mirror)
        return dest
    tried = "; ".join(failures) or "no mirrors configured"
    raise RepgenError(f"could not fetch {name} from any mirror: {tried}")
