"""Fixed train/valid/test splits and class-balanced size limits."""

import numpy as np
from sklearn.model_selection import train_test_split

SPLITS = ("train", "valid", "test")
SPLIT_SEED = 0  # the split is part of the dataset, not of a run: it never follows `seed`


def stratified_split(
    images: np.ndarray, labels: np.ndarray, size: int | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split off `size` items (a count or a fraction), stratified by label, with a fixed seed.

    Returns (rest_images, rest_labels, split_images, split_labels).
    """
    rest_x, split_x, rest_y, split_y = train_test_split(
        images, labels, test_size=size, stratify=labels, random_state=SPLIT_SEED
    )
    return rest_x, rest_y, split_x, split_y


def limit(images: np.ndarray, labels: np.ndarray, n: int | None) -> tuple[np.ndarray, np.ndarray]:
    """A class-balanced subset of at most `n` items, in a fixed order; None keeps everything."""
    if n is None or n >= len(labels):
        return images, labels
    n_classes = len(np.unique(labels))
    if n < n_classes:
        # too few to stratify: the first n of a fixed permutation
        order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))[:n]
        return images[np.sort(order)], labels[np.sort(order)]
    _, _, subset_x, subset_y = stratified_split(images, labels, n)
    return subset_x, subset_y
