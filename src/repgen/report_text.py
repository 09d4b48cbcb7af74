"""The prose of the report: model cards, the downstream protocol, notes beside metrics.

Kept apart from repgen.report so that the words can be edited without touching the code.
A model without an entry in MODEL_CARDS gets DEFAULT_CARD.
"""

SYNTHETIC_RULE = (
    "Every synthetic image this project writes to disk is a PNG whose text metadata says "
    "<code>Synthetic: true</code> and names the model that made it (<code>Model: "
    "&lt;name&gt;</code>), as <code>repgen.io.save_png(..., synthetic_from=...)</code> "
    "writes it; a figure that holds any generated pixel is marked as a whole. The sample "
    "arrays in data/samples/ are pipeline intermediates, not images for people."
)

MISUSE_RISK = (
    "Synthetic images can be passed off as real. At 28x28 grayscale clothing the stakes are "
    "low, but the same methods on faces, documents or medical images enable deception and "
    "fraud. A generator reproduces, and can amplify, the biases and gaps of its training "
    "data, and may memorise training images (a privacy risk on personal data). Training "
    "other models on its samples can hide those flaws behind good-looking numbers. Keep the "
    "metadata mark on every synthetic image, do not present samples as real photographs, "
    "and check a downstream model on real data."
)

DOWNSTREAM_PROTOCOL = (
    "The downstream experiment trains the domain classifier's architecture from scratch on "
    "a few real training images per class (<code>real_&lt;n&gt;</code>), on the same real "
    "images plus synthetic ones from each class-conditional generator "
    "(<code>real_&lt;n&gt;_plus_&lt;model&gt;</code>), on synthetic images only "
    "(<code>synthetic_only_&lt;model&gt;</code>, the classification accuracy score), and on "
    "every real training image (<code>real_all</code>, the upper bound); test accuracy is "
    "the mean and standard deviation over several seeds. The few-shot settings train for "
    "the same number of steps (<code>downstream.steps</code>); real_all and the "
    "synthetic-only ones, which the classification accuracy score compares, for "
    "<code>downstream.full_pool_steps</code>. <b>The "
    "generators saw all training labels; the few-shot classifier did not.</b> The "
    "synthetic images therefore carry label information from the whole training set into "
    "the few-shot setting, so a gain here shows what a generator trained on a larger "
    "labelled set can pass on, not what generation can do from the few labels alone."
)

METRIC_NOTES = {
    "generative": (
        "Computed on the domain classifier's penultimate features against the test set. FID "
        "and KID: lower is better; precision and density (fidelity), recall and coverage "
        "(diversity): higher is better, density about 1 for real data; class entropy: "
        "log2(classes) when classes are balanced, lower means missing modes. "
        "<code>real_train</code> (real training images) is the floor, <code>noise</code> "
        "(uniform noise) the ceiling: its high precision shows how a few wide real balls "
        "fool that measure, its coverage does not."
    ),
    "downstream": "Test accuracy, mean and standard deviation over seeds; see the protocol.",
}

_GENERATIVE_FAILURES = (
    "Check class entropy, recall and coverage for dropped modes, precision and density for "
    "implausible samples."
)

MODEL_CARDS = {
    "classifier": {
        "what": "A compact CNN (three conv blocks with batch norm, a dense feature layer).",
        "use": "The domain classifier: its penultimate features underlie FID, KID, precision, "
        "recall and class entropy, and its architecture is the downstream classifier.",
        "failures": "Confuses the similar upper-body classes (shirt, T-shirt, pullover, coat). "
        "Only for centred 28x28 grayscale items like the training set. Feature "
        "metrics inherit its blind spots: they reward what it separates, not what "
        "a person sees.",
    },
    "autoencoder": {
        "what": "A dense autoencoder with a small bottleneck.",
        "use": "Compression and representation learning; its codes feed the latent-space "
        "evaluation.",
        "failures": "Blurry reconstructions (the squared error averages over plausible "
        "details); the code space has holes, so decoding random codes does not "
        "give clothing.",
    },
    "conv_autoencoder": {
        "what": "A convolutional autoencoder.",
        "use": "Compression and representation learning with spatial structure.",
        "failures": "Blurry fine texture; codes are not disentangled and not a sampler.",
    },
    "denoising_autoencoder": {
        "what": "A convolutional autoencoder trained to undo the configured corruptions.",
        "use": "Removing the noise kinds and levels of the corrupt stage from similar images.",
        "failures": "Over-smooths texture; fails on noise kinds or levels it was not trained "
        "on; may invent plausible detail, so its output is not evidence of what "
        "the original showed.",
    },
    "vae": {
        "what": "A convolutional variational autoencoder.",
        "use": "Generation, a smooth latent space for interpolation, and a likelihood bound.",
        "failures": "Blurry samples; posterior collapse at a high KL weight; its bits/dim is a "
        "bound, not exact. " + _GENERATIVE_FAILURES,
    },
    "gan": {
        "what": "A (class-conditional) convolutional GAN, sampled from its EMA generator.",
        "use": "Sharp samples and synthetic training data for the downstream experiment.",
        "failures": "Mode collapse and training instability; a conditional generator can "
        "ignore or blur its label. " + _GENERATIVE_FAILURES,
    },
    "diffusion": {
        "what": "A denoising diffusion model with a small U-Net.",
        "use": "High-fidelity samples; few-step samplers trade quality for speed.",
        "failures": "Slow sampling; few steps give artefacts; can memorise training images. "
        + _GENERATIVE_FAILURES,
    },
    "flow": {
        "what": "A normalizing flow (affine couplings, multi-scale).",
        "use": "Exact likelihood (bits per dimension) and sampling.",
        "failures": "Sample quality lags the other generators at this size; the sampling "
        "temperature trades diversity for fidelity. " + _GENERATIVE_FAILURES,
    },
    "superres": {
        "what": "A super-resolution network (content loss, then adversarial fine-tuning).",
        "use": "Upscaling low-resolution images of the same kind.",
        "failures": "Invents detail that is not in the input (the adversarial version more), "
        "so an upscaled image is not evidence of the original.",
    },
}

DEFAULT_CARD = {
    "what": "A model of the pipeline.",
    "use": "As configured in params.yaml; see its training stage.",
    "failures": "Not yet described; see its metrics and pictures.",
}

# Model families whose outputs are synthetic images, so their cards carry the misuse risk.
GENERATIVE_FAMILIES = ("vae", "gan", "diffusion", "flow", "superres")
