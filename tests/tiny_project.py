"""Turn this checkout into the tiny project the tests run: the tests' tiny params merged into
params.yaml, and a generated image folder as the dataset. For CI (.github/workflows/ci.yml);
it rewrites params.yaml, so run it in a throwaway checkout.

    python tests/tiny_project.py /tmp/tiny-images && dvc repro
"""

import sys
from pathlib import Path

import yaml

from conftest import ROOT, TINY_PARAMS, deep_merge, write_image_folder


def main(argv: list[str]) -> None:
    folder = write_image_folder(Path(argv[0]))
    params = deep_merge(yaml.safe_load((ROOT / "params.yaml").read_text()), TINY_PARAMS)
    params["data"]["folder"] = str(folder.resolve())
    (ROOT / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


if __name__ == "__main__":
    main(sys.argv[1:])
