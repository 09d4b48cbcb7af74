"""The one error type a user sees, and the wrapper that turns it into a one-line message.

Usage from a stage script or the CLI::

    if __name__ == "__main__":
        run_main(main)
"""

import logging
import os
import sys
from collections.abc import Callable


class RepgenError(Exception):
    """Bad input from the user (params, data, files): the message says what and what is allowed."""


def configure_logging() -> None:
    """Progress and messages to stderr, one line per event; TensorFlow's chatter off."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("absl", "tensorflow", "h5py", "matplotlib", "PIL", "dvclive", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_main(main: Callable[[list[str]], None], argv: list[str] | None = None) -> None:
    """Run `main(argv)`; a RepgenError becomes `error: <message>` on stderr and exit status 2."""
    configure_logging()
    try:
        main(sys.argv[1:] if argv is None else argv)
    except RepgenError as err:
        message = " ".join(str(err).split())
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted; rerun the same command to resume", file=sys.stderr)
        sys.exit(130)
