"""How good a generator's samples are, measured on the domain classifier's features.

    classifier = load_model("models/classifier.keras")
    real = classifier_features(classifier, test_images)  # uint8 (N, 28, 28)
    fake = classifier_features(classifier, samples)
    scores(real, fake)  # {"fid": ..., "kid": ..., "precision": ..., "recall": ..., ...}

Every number is computed on the penultimate layer of the classifier that the pipeline trains
on the same data (the role Inception-v3 plays for ImageNet-sized images):

- FID (Heusel et al. 2017, eq. 6): the Fréchet distance between Gaussians fitted to the
  two feature sets, ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)).
- KID (Bińkowski et al. 2018): the unbiased estimate of the squared maximum mean
  discrepancy with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over
  random blocks of the two sets (unbiased at any sample size, unlike FID).
- precision and recall (Kynkäänniemi et al. 2019): the share of generated samples inside
  the manifold of the real ones (fidelity), and of real samples inside the manifold of the
  generated ones (coverage). A manifold is the union of balls around each sample whose
  radius reaches that sample's k-th nearest neighbour in its own set.
- density and coverage (Naeem et al. 2020): the same question asked of the real balls
  alone. Precision trusts every real ball, and a real outlier's wide ball can swallow a
  whole cluster of bad samples (uniform noise scores a high precision here, a near-zero
  coverage); coverage cannot be fooled that way.
- class entropy: the entropy, in bits, of the classifier's predicted classes. log2(C) when
  the C classes are equally common; lower when a generator drops classes (mode collapse).
"""

import functools
import logging
from dataclasses import dataclass

import keras
import numpy as np
import scipy.linalg
import scipy.stats
from sklearn.metrics import pairwise_distances_chunked
from sklearn.metrics.pairwise import polynomial_kernel
from sklearn.neighbors import NearestNeighbors

from repgen.models.classifier import feature_extractor, to_input

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Features:
    """What the classifier sees in a set of images."""

    features: np.ndarray  # float64 (N, D), the penultimate layer
    predicted: np.ndarray  # int64 (N,), the predicted classes
    num_classes: int

    def first(self, n: int) -> "Features":
        """The first n images' features (class-balanced for balanced-label samples)."""
        return Features(self.features[:n], self.predicted[:n], self.num_classes)


@functools.lru_cache(maxsize=4)  # one model per classifier, so predict() is traced once
def _two_outputs(classifier: keras.Model) -> keras.Model:
    return keras.Model(classifier.inputs, [feature_extractor(classifier).output, classifier.output])


def classifier_features(
    classifier: keras.Model, images: np.ndarray, *, batch_size: int = 500
) -> Features:
    """Penultimate features and predicted classes of uint8 (N, 28, 28) images, in one pass."""
    features, probabilities = _two_outputs(classifier).predict(
        to_input(images), batch_size=batch_size, verbose=0
    )
    return Features(
        features=features.astype(np.float64),
        predicted=probabilities.argmax(axis=1).astype(np.int64),
        num_classes=probabilities.shape[1],
    )


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """FID between two feature sets (N, D) and (M, D)."""
    mu_r, mu_g = real.mean(axis=0), fake.mean(axis=0)
    sigma_r, sigma_g = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    covmean = scipy.linalg.sqrtm(sigma_r @ sigma_g)
    if not np.isfinite(covmean).all():
        # A singular product (dead ReLU features, fewer samples than dimensions) can make the
        # square root blow up; a tiny ridge on both diagonals fixes it, as pytorch-fid does.
        ridge = np.eye(len(mu_r)) * 1e-6
        covmean = scipy.linalg.sqrtm((sigma_r + ridge) @ (sigma_g + ridge))
    if np.iscomplexobj(covmean):
        # The product of two PSD matrices has a real square root; an imaginary part is
        # round-off. A large one means the covariance estimates are too noisy to trust.
        imaginary = np.abs(covmean.imag).max()
        if imaginary > 1e-3 * max(np.abs(covmean.real).max(), 1.0):
            log.warning("FID: imaginary part %.3g in sqrt(S_r S_g); too few samples?", imaginary)
        covmean = covmean.real
    diff = mu_r - mu_g
    return float(diff @ diff + np.trace(sigma_r) + np.trace(sigma_g) - 2.0 * np.trace(covmean))


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of two equal-sized blocks (Gretton et al. 2012, eq. 3)."""
    m = len(x)
    gamma = 1.0 / x.shape[1]  # k(x, y) = (x.y / d + 1)^3
    k_xx = polynomial_kernel(x, x, degree=3, gamma=gamma, coef0=1)
    k_yy = polynomial_kernel(y, y, degree=3, gamma=gamma, coef0=1)
    k_xy = polynomial_kernel(x, y, degree=3, gamma=gamma, coef0=1)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.mean())


def kernel_inception_distance(
    real: np.ndarray,
    fake: np.ndarray,
    *,
    blocks: int = 100,
    block_size: int = 1000,
    seed: int = 0,
) -> float:
    """KID: the mean unbiased MMD^2 over `blocks` random pairs of blocks of `block_size`."""
    m = min(block_size, len(real), len(fake))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    estimates = [
        _mmd2_unbiased(
            real[rng.choice(len(real), m, replace=False)],
            fake[rng.choice(len(fake), m, replace=False)],
        )
        for _ in range(blocks)
    ]
    return float(np.mean(estimates))


def manifold_radii(features: np.ndarray, k: int = 3) -> np.ndarray:
    """The distance from each sample to its k-th nearest neighbour in the same set."""
    k = min(k, len(features) - 1)
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(features)
    return distances[:, k]  # column 0 is the sample itself, at distance 0


def balls_containing(queries: np.ndarray, support: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For each of `queries`, how many balls (support_i, radii_i) contain it, int (Q,)."""
    counts = pairwise_distances_chunked(
        queries,
        support,
        reduce_func=lambda block, start: (block <= radii).sum(axis=1),
        working_memory=256,
    )
    return np.concatenate(list(counts))


def manifold_scores(real: np.ndarray, fake: np.ndarray, *, k: int = 3) -> dict[str, float]:
    """Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al.
    2020, arXiv:2002.09797), from the k-NN balls of each set, each ball set computed once.

    precision: the share of fakes inside at least one real ball; recall: the share of reals
    inside at least one fake ball; density: the mean number of real balls around a fake,
    over k (about 1 when the sets match, unbounded above); coverage: the share of real balls
    holding at least one fake. Unlike precision, density and coverage do not let a few real
    outliers with wide balls make a pile of fakes in one spot look faithful.
    """
    real_radii = manifold_radii(real, k)
    around_fake = balls_containing(fake, real, real_radii)  # (M,) real balls around each fake
    around_real = balls_containing(real, fake, manifold_radii(fake, k))  # (N,)
    nearest_fake, _ = NearestNeighbors(n_neighbors=1).fit(fake).kneighbors(real)  # (N, 1)
    return {
        "precision": float((around_fake > 0).mean()),
        "recall": float((around_real > 0).mean()),
        "density": float(around_fake.mean() / min(k, len(real) - 1)),
        "coverage": float((nearest_fake[:, 0] <= real_radii).mean()),
    }


def class_entropy_bits(predicted: np.ndarray, num_classes: int) -> float:
    """Entropy in bits of the distribution of predicted classes; log2(C) at most."""
    counts = np.bincount(np.asarray(predicted, np.int64), minlength=num_classes)
    return float(scipy.stats.entropy(counts, base=2))


def scores(
    real: Features,
    fake: Features,
    *,
    k: int = 3,
    kid_blocks: int = 100,
    kid_block_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Every sample-quality number of `fake` against `real`, rounded for metrics files."""
    manifold = manifold_scores(real.features, fake.features, k=k)
    kid = kernel_inception_distance(
        real.features, fake.features, blocks=kid_blocks, block_size=kid_block_size, seed=seed
    )
    return {
        "fid": round(frechet_distance(real.features, fake.features), 4),
        "kid": round(kid, 6),
        **{name: round(value, 4) for name, value in manifold.items()},
        "class_entropy_bits": round(class_entropy_bits(fake.predicted, fake.num_classes), 4),
    }
