"""The domain classifier: a compact CNN whose penultimate layer ("features") serves FID,
KID, precision/recall and class entropy, and whose architecture the downstream stage reuses.

Input: float32 (B, 28, 28, 1) in [0, 1]; output: class probabilities (B, num_classes).
"""

import keras
import numpy as np

FEATURES = "features"


def _conv_block(x, channels: int):
    x = keras.layers.Conv2D(channels, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.layers.ReLU()(x)


def build_classifier(
    *,
    num_classes: int = 10,
    width: int = 32,
    feature_dim: int = 128,
    dropout: float = 0.3,
    augment: bool = True,
    learning_rate: float = 2e-3,
    decay_steps: int | None = None,
) -> keras.Model:
    """A compiled CNN: three conv blocks (w, 2w, 2w) with batch norm, then the feature layer.

    `decay_steps` (total training steps) turns on cosine decay of the learning rate.
    """
    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    if augment:  # mirrored clothes are still the same class
        x = keras.layers.RandomFlip("horizontal")(x)
    x = _conv_block(x, width)  # (B, 28, 28, w)
    x = keras.layers.MaxPooling2D()(x)  # (B, 14, 14, w)
    x = _conv_block(x, 2 * width)  # (B, 14, 14, 2w)
    x = keras.layers.MaxPooling2D()(x)  # (B, 7, 7, 2w)
    x = _conv_block(x, 2 * width)  # (B, 7, 7, 2w)
    x = keras.layers.Flatten()(x)  # (B, 7 * 7 * 2w)
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Dense(feature_dim, activation="relu", name=FEATURES)(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="classifier")

    schedule = (
        keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
        if decay_steps
        else learning_rate
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def feature_extractor(classifier: keras.Model) -> keras.Model:
    """The classifier cut at its penultimate layer: images -> (B, feature_dim) features."""
    return keras.Model(classifier.inputs, classifier.get_layer(FEATURES).output)


def to_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return (np.asarray(images, np.float32) / 255.0)[..., None]
