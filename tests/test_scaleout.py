"""Scale-out: the training harness under MirroredStrategy on two devices trains like one device.

The CPU is split into two logical devices before TensorFlow initializes, so the run happens
in a subprocess (this pytest process may have initialized TensorFlow already).
"""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path

    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    sys.path.insert(0, sys.argv[2])
    from conftest import class_images
    from repgen.training import TrainPaths, fingerprint, fit, shuffled_batches

    images, labels = class_images(32)  # 128 images, 4 classes
    data = (images[..., None].astype("float32") / 255.0, labels.astype("int32"))
    root, result = Path(sys.argv[1]), {}

    def build():
        # No batch norm and no dropout: per-replica statistics or masks would differ.
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, strides=2, activation="relu"),  # (B, 13, 13, 4)
            keras.layers.Flatten(),  # (B, 676)
            keras.layers.Dense(4, activation="softmax"),
        ])
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
        result[strategy + "_replicas"] = tf.distribute.get_strategy().num_replicas_in_sync
        return model

    for strategy in ("mirrored", "default"):
        paths = TrainPaths.for_model(strategy, root / f"{strategy}.keras", root=root)
        fit(strategy, build=build, epochs=3, seed=1, fingerprint=fingerprint(strategy),
            batches=lambda epoch: shuffled_batches(data, 32, seed=1, epoch=epoch),
            paths=paths, strategy=strategy)
        result[strategy] = json.loads(paths.metrics.read_text())["train"]["loss"]
    print(json.dumps(result))
""")


def test_mirrored_on_two_devices_matches_one_device(tmp_path):
    tests = str(__import__("pathlib").Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), tests], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["mirrored_replicas"] == 2 and result["default_replicas"] == 1
    assert abs(result["mirrored"] - result["default"]) <= 1e-4 * abs(result["default"]), result
