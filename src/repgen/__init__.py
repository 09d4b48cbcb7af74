"""repgen: a reproducible pipeline for representation learning and generative models of images."""

import os

# TensorFlow reads this once, at import: keep its C++ start-up chatter off stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
