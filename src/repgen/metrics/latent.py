"""Latent-space numbers that a t-SNE picture cannot give.

    trustworthiness(images, codes, k)       # are the code's neighbours neighbours in pixels?
    knn_accuracy(train_codes, train_labels, test_codes, test_labels, k)
    linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels)
    tsne(codes, seed)                       # (N, 2) for the scatter

All are sklearn; codes are float arrays (N, D).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.manifold import trustworthiness as sk_trustworthiness
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _flat(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, np.float32).reshape(len(array), -1)  # (N, D)


def trustworthiness(inputs: np.ndarray, codes: np.ndarray, k: int = 10) -> float:
    """sklearn's trustworthiness of the codes with respect to the inputs (1 = no false
    neighbours among each point's k nearest codes)."""
    return float(sk_trustworthiness(_flat(inputs), _flat(codes), n_neighbors=k))


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, k: int = 10) -> float:
    """Accuracy of a k-nearest-neighbour vote (Euclidean) from training codes to test codes."""
    knn = KNeighborsClassifier(n_neighbors=k, algorithm="brute", n_jobs=-1)
    knn.fit(_flat(train_codes), train_labels)
    return float(np.mean(knn.predict(_flat(test_codes)) == np.asarray(test_labels)))


def linear_probe_accuracy(
    train_codes, train_labels, test_codes, test_labels, *, max_iter: int = 300
) -> float:
    """Accuracy of a logistic regression on standardised codes."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(_flat(train_codes), train_labels)
    return float(np.mean(probe.predict(_flat(test_codes)) == np.asarray(test_labels)))


def tsne(codes: np.ndarray, seed: int = 0, max_iter: int = 500) -> np.ndarray:
    """A 2-D t-SNE embedding (PCA initialisation, fixed seed): (N, D) -> (N, 2).

    500 iterations rather than sklearn's 1000: the scatter of a few thousand points has
    settled by then, at half the cost (t-SNE dominates evaluate_latent's time on a CPU).
    """
    perplexity = min(30.0, (len(codes) - 1) / 3)
    tsne_ = TSNE(
        n_components=2,
        init="pca",
        random_state=seed,
        perplexity=perplexity,
        max_iter=max_iter,
        n_jobs=-1,
    )
    return tsne_.fit_transform(_flat(codes))
