"""Download from mirrors: a loopback HTTP server and file mirrors serving small IDX files."""

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from repgen.data import download, idx
from repgen.errors import RepgenError
from tests.conftest import class_images, write_idx

NAME = "train-images-idx3-ubyte.gz"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def served(tmp_path):
    """A folder with a valid IDX file, and an HTTP server on 127.0.0.1 serving it.

    The server answers 503 to the first `fail_first` requests (a transient error)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    images, _ = class_images(5)
    write_idx(folder / NAME, images)

    class Handler(http.server.SimpleHTTPRequestHandler):
        fail_first = 0

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self):
            if Handler.fail_first > 0:
                Handler.fail_first -= 1
                self.send_error(503)
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/", Handler, images
    server.shutdown()


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def fetch(mirrors, dest, checksum, **kwargs):
    return download.fetch(
        NAME, checksum, mirrors, dest, validate=idx.read_idx, retries=1, timeout=5, **kwargs
    )


def test_http_mirror_success(served, tmp_path):
    folder, url, _, images = served
    dest = tmp_path / "out"
    path = fetch([url], dest, sha(folder / NAME))
    np.testing.assert_array_equal(idx.read_idx(path), images)
    assert sorted(p.name for p in dest.iterdir()) == [NAME]


def test_file_url_and_folder_mirrors(served, tmp_path):
    folder, _, _, images = served
    for mirror in (folder.as_uri(), str(folder)):
        dest = tmp_path / f"out-{len(mirror)}"
        np.testing.assert_array_equal(
            idx.read_idx(fetch([mirror], dest, sha(folder / NAME))), images
        )


def test_down_mirror_falls_through_to_next(served, tmp_path):
    folder, url, _, _ = served
    dest = tmp_path / "out"
    fetch([closed_port_url(), str(tmp_path / "missing"), url], dest, sha(folder / NAME))
    assert (dest / NAME).is_file()


def test_transient_error_is_retried(served, tmp_path):
    folder, url, handler, _ = served
    handler.fail_first = 1
    fetch([url], tmp_path / "out", sha(folder / NAME))
    assert handler.fail_first == 0


def test_every_mirror_failing_lists_each_and_leaves_nothing(served, tmp_path):
    folder, url, _, _ = served
    dest = tmp_path / "out"
    down = closed_port_url()
    with pytest.raises(RepgenError) as err:
        fetch([down, url, str(tmp_path / "missing")], dest, "0" * 64)
    message = str(err.value)
    assert down in message and "unreachable" in message
    assert url in message and "checksum mismatch" in message
    assert "missing (not found)" in message
    assert list(dest.iterdir()) == []


def test_truncated_gzip_is_rejected_and_not_kept(served, tmp_path):
    folder, _, _, _ = served
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / NAME).write_bytes((folder / NAME).read_bytes()[:-40])
    dest = tmp_path / "out"
    with pytest.raises(RepgenError, match="not a complete gzip file"):
        fetch([str(bad)], dest, sha(bad / NAME))
    assert list(dest.iterdir()) == []


def test_wrong_idx_magic_is_rejected(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    with gzip.open(bad / NAME, "wb") as f:
        f.write(b"\x00\x00\x0d\x03" + b"\x00" * 20)
    dest = tmp_path / "out"
    with pytest.raises(RepgenError, match="wrong IDX magic number 00000d03"):
        fetch([str(bad)], dest, sha(bad / NAME))
    assert list(dest.iterdir()) == []


def test_idx_shape_mismatch_is_rejected(tmp_path):
    path = tmp_path / NAME
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"\x01" * 9)
    with pytest.raises(RepgenError, match="declares shape"):
        idx.read_idx(path)


def test_registry_pins_a_sha256_for_every_file():
    from repgen.data.registry import DATASETS, IDX_FILES

    for spec in DATASETS.values():
        assert set(spec.sha256) == set(IDX_FILES)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in spec.sha256.values())
        assert len(spec.class_names) == 10
