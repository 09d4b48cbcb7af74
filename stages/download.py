"""Stage download: fetch the configured dataset into a folder.

    python stages/download.py data/raw

IDX datasets (fashion-mnist, mnist) arrive as their four checked .gz files; a folder of
the user's images arrives as images.npz. Either way meta.json names the dataset and classes.
"""

import sys
from pathlib import Path

from repgen import config
from repgen.data import download, idx
from repgen.data.folder import read_image_folder
from repgen.data.registry import DATASETS, IDX_FILES
from repgen.errors import run_main
from repgen.io import save_npz, write_json


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    params = config.load().data
    out.mkdir(parents=True, exist_ok=True)

    if params.dataset == "folder":
        images, labels, classes = read_image_folder(params.folder)
        save_npz(out / "images.npz", images=images, labels=labels)
    else:
        spec = DATASETS[params.dataset]
        mirrors = [*params.mirrors, *spec.mirrors]
        for name in IDX_FILES:
            download.fetch(name, spec.sha256[name], mirrors, out, validate=idx.read_idx)
        classes = spec.class_names
    write_json(out / "meta.json", {"dataset": params.dataset, "class_names": list(classes)})


if __name__ == "__main__":
    run_main(main, sys.argv[1:])
