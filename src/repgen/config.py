"""The params schema: params.yaml parsed once into frozen, typed objects.

Every section forbids unknown keys, so a typo stops the stage at load with one line that
names the key and what is allowed::

    params = load("params.yaml")
    params.classifier.epochs
"""

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from repgen.errors import RepgenError

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class Section(BaseModel):
    """A params section: frozen, strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(Section):
    dataset: Literal["fashion-mnist", "mnist", "folder"] = "fashion-mnist"
    folder: str | None = None  # images in one subfolder per class, for dataset: folder
    mirrors: tuple[str, ...] = ()  # tried before the built-in mirrors: folders, file://, https://
    valid_fraction: Fraction = 0.1  # folder source only; IDX datasets use their fixed split
    test_fraction: Fraction = 0.15
    train_limit: PositiveInt | None = None  # class-balanced subsets for quick runs
    valid_limit: PositiveInt | None = None
    test_limit: PositiveInt | None = None


def _levels(max_level: float | None = None):
    return Annotated[tuple[Annotated[float, Field(gt=0, le=max_level)], ...], Field()]


class CorruptParams(Section):
    # Level meanings: gaussian and speckle, the noise standard deviation on [0, 1] images;
    # salt_and_pepper, the fraction of pixels replaced; poisson, the photon count of a white
    # pixel (lower is noisier); masking, the fraction of the image covered by random blocks.
    gaussian: _levels(1.0) = (0.1, 0.3, 0.5)
    salt_and_pepper: _levels(1.0) = (0.1,)
    speckle: _levels(1.0) = (0.3,)
    poisson: _levels() = (10.0,)
    masking: _levels(0.9) = (0.25,)
    mask_block: Annotated[int, Field(ge=1, le=14)] = 4  # side of a masking block, in pixels
    superres_factors: tuple[Literal[2, 4], ...] = (2, 4)
    preview_images: Annotated[int, Field(ge=1, le=32)] = 8


class TrainingParams(Section):
    # auto: MirroredStrategy when there are several GPUs, else the default strategy;
    # multi_worker reads the cluster from TF_CONFIG.
    strategy: Literal["auto", "default", "mirrored", "multi_worker"] = "auto"


class ClassifierParams(Section):
    epochs: PositiveInt = 10
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 2e-3
    width: PositiveInt = 32  # channels of the first block; the second has twice as many
    feature_dim: PositiveInt = 128  # the penultimate layer that the feature metrics use
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.3
    augment: bool = True  # random horizontal flips


class GanParams(Section):
    epochs: PositiveInt = 3
    batch_size: PositiveInt = 64
    train_limit: PositiveInt | None = None  # class-balanced subset of the training set
    learning_rate: PositiveFloat = 2e-4
    latent_dim: PositiveInt = 64
    width: PositiveInt = 32  # discriminator/generator channels; the deeper layer has twice as many
    loss: Literal["bce", "hinge", "wgan-gp"] = "hinge"
    spectral_norm: bool = True  # on every discriminator layer
    gp_weight: Annotated[float, Field(ge=0)] = 10.0  # wgan-gp only
    ema_decay: Annotated[float, Field(ge=0, lt=1)] = 0.999  # EMA generator used for sampling
    conditional: bool = True  # class labels into both networks
    grid_images: Annotated[int, Field(ge=1, le=100)] = 64  # fixed-noise grid logged each epoch


class SuperresParams(Section):
    factor: Literal[2, 4] = 2  # reads data/corrupted/lowres_x<factor>.npz
    width: PositiveInt = 32
    blocks: PositiveInt = 3  # residual blocks at low resolution
    batch_size: PositiveInt = 64
    train_limit: PositiveInt | None = None  # first N training images; null keeps all
    epochs: PositiveInt = 2  # content (pixel MSE) loss alone
    learning_rate: PositiveFloat = 1e-3
    gan_epochs: PositiveInt = 1  # adversarial fine-tuning from the content-loss generator
    gan_learning_rate: PositiveFloat = 1e-4
    adversarial_weight: PositiveFloat = 1e-3  # weight of the adversarial term beside MSE


class VaeParams(Section):
    epochs: PositiveInt = 1
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 2e-3
    train_limit: PositiveInt | None = None  # class-balanced subset; null keeps all
    latent_dim: PositiveInt = 16
    width: PositiveInt = 32  # channels of the first conv; the second has twice as many
    beta: PositiveFloat = 1.0  # weight of the KL term; 1 is the ELBO (bits/dim need beta 1)
    warmup_epochs: Annotated[float, Field(ge=0)] = 0.3  # KL weight rises 0 -> beta over these
    conditional: bool = False  # class labels into encoder and decoder


class FlowParams(Section):
    epochs: PositiveInt = 1
    batch_size: PositiveInt = 64
    learning_rate: PositiveFloat = 2e-3
    train_limit: PositiveInt | None = 20000  # class-balanced subset; null keeps all
    scales: Annotated[int, Field(ge=1, le=2)] = 2  # squeeze + factor-out levels (28 -> 14 -> 7)
    couplings: PositiveInt = 3  # checkerboard couplings, and as many channel ones, per scale
    hidden: PositiveInt = 32  # channels of each coupling network
    depth: PositiveInt = 2  # hidden conv layers of each coupling network
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05  # logit pre-transform margin
    temperature: PositiveFloat = 0.7  # sampling: z ~ N(0, T^2 I)


class LikelihoodParams(Section):
    iw_samples: PositiveInt = 8  # k of the VAE's importance-weighted bound
    test_limit: PositiveInt | None = 2000  # class-balanced test subset; null keeps all
    grid_images: Annotated[int, Field(ge=1, le=100)] = 64  # samples in each sample grid
    interpolation_steps: Annotated[int, Field(ge=3, le=20)] = 10


class EvaluateGenerativeParams(Section):
    # Samples per generator, scored against the test set; the real_train floor and the noise
    # ceiling use as many images. FID is biased upward at small n: compare like with like.
    n_samples: Annotated[int, Field(ge=100)] = 10_000
    n_samples_for: dict[str, Annotated[int, Field(ge=100)]] = {}  # per-generator overrides
    sample_batch: PositiveInt = 1000  # images per sample() call
    nearest_k: PositiveInt = 3  # k of the k-NN manifolds (precision and recall)
    kid_blocks: PositiveInt = 25  # KID: the mean MMD^2 over this many random block pairs
    kid_block_size: PositiveInt = 1000
    grid_per_class: Annotated[int, Field(ge=1, le=20)] = 10  # sample grid: images per row


class DownstreamParams(Section):
    # The few-shot settings (real_<n> and real_<n>_plus_<gen>) train the classifier's
    # architecture for `steps` steps, so only their pools differ; the whole-pool settings
    # (real_all and synthetic_only_<gen>, which the classification accuracy score compares)
    # train for `full_pool_steps`.
    real_per_class: tuple[PositiveInt, ...] = (10, 100)  # the few-shot settings
    # Conditional generators whose samples (data/samples/<name>.npz) join; null: all of them.
    generators: tuple[str, ...] | None = None
    synthetic_per_class: PositiveInt = 200  # added per class from each of those generators
    # Share of a real + synthetic pool that is real, reached by repeating the real images
    # (so the few real ones are not drowned out); null: the plain union.
    real_share: Annotated[float, Field(gt=0, lt=1)] | None = 0.5
    seeds: Annotated[int, Field(ge=1)] = 3
    steps: PositiveInt = 300
    full_pool_steps: PositiveInt = 300
    batch_size: PositiveInt = 32


class DiffusionSamplerParams(Section):
    kind: Literal["ddim", "ddpm"] = "ddim"  # ddpm: ancestral over all T steps
    steps: Annotated[int, Field(ge=1)] | None = None  # ddim only; <= timesteps
    eta: Annotated[float, Field(ge=0, le=1)] = 0.0  # ddim only; 0 is deterministic


class DiffusionParams(Section):
    epochs: PositiveInt = 3
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 2e-3  # peak; cosine decay to a tenth
    train_limit: PositiveInt | None = None  # first N training images; null keeps all
    timesteps: Annotated[int, Field(ge=2)] = 200  # T
    schedule: Literal["linear", "cosine"] = "cosine"
    prediction: Literal["eps", "v"] = "v"
    widths: Annotated[tuple[PositiveInt, ...], Field(min_length=1, max_length=2)] = (32, 64)
    blocks: PositiveInt = 1  # residual blocks per level
    attention: bool = False  # self-attention at the lowest resolution (7x7)
    embedding_dim: PositiveInt = 64  # time (and class) embedding
    class_conditional: bool = True
    class_dropout: Annotated[float, Field(ge=0, lt=1)] = 0.1  # null label rate (guidance)
    guidance: Annotated[float, Field(ge=0)] = 1.0  # w: 0 unconditional, 1 conditional
    ema_decay: Annotated[float, Field(ge=0, lt=1)] = 0.995
    samplers: tuple[DiffusionSamplerParams, ...] = (
        DiffusionSamplerParams(kind="ddim", steps=20),
        DiffusionSamplerParams(kind="ddpm"),
    )  # the first is the default of `repgen sample diffusion`

    @field_validator("samplers")
    @classmethod
    def _sampler_steps(cls, samplers, info):
        timesteps = info.data.get("timesteps", 200)
        for sampler in samplers:
            if sampler.kind == "ddim" and not (sampler.steps and sampler.steps <= timesteps):
                raise ValueError(f"a ddim sampler needs steps from 1 to timesteps ({timesteps})")
            if sampler.kind == "ddpm" and sampler.steps is not None:
                raise ValueError("a ddpm sampler runs all timesteps; leave out its steps")
        if not samplers:
            raise ValueError("list at least one sampler")
        return samplers


class AutoencoderParams(Section):
    epochs: PositiveInt = 4
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 2e-3
    train_limit: PositiveInt | None = None  # class-balanced subset; null keeps all
    hidden: PositiveInt = 128  # the chapter's 784-128-codings-128-784
    codings: PositiveInt = 64
    preview_images: Annotated[int, Field(ge=1, le=32)] = 8  # reconstructions shown each epoch


class ConvAutoencoderParams(Section):
    epochs: PositiveInt = 2
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 2e-3
    train_limit: PositiveInt | None = None  # class-balanced subset; null keeps all
    width: PositiveInt = 16  # channels of the first conv; the second has twice as many
    codings: PositiveInt = 32
    preview_images: Annotated[int, Field(ge=1, le=32)] = 8


def _noise_levels(max_level: float | None = None):
    return tuple[Annotated[float, Field(gt=0, le=max_level)], ...]


class DaeNoiseParams(Section):
    # Levels mean what they mean in `corrupt`; dropout zeroes each pixel with probability level.
    gaussian: _noise_levels(1.0) = (0.1, 0.3, 0.5)
    salt_and_pepper: _noise_levels(1.0) = (0.1,)
    speckle: _noise_levels(1.0) = (0.3,)
    poisson: _noise_levels() = (10.0,)
    masking: _noise_levels(0.9) = (0.25,)
    dropout: _noise_levels(0.9) = (0.5,)


class DaeNoiseWeights(Section):
    # Share of the training images each kind gets (normalised; split evenly among its levels).
    gaussian: Annotated[float, Field(ge=0)] = 4.0
    salt_and_pepper: Annotated[float, Field(ge=0)] = 1.0
    speckle: Annotated[float, Field(ge=0)] = 1.0
    poisson: Annotated[float, Field(ge=0)] = 1.0
    masking: Annotated[float, Field(ge=0)] = 1.0
    dropout: Annotated[float, Field(ge=0)] = 0.5


class DenoisingAutoencoderParams(Section):
    epochs: PositiveInt = 1
    batch_size: PositiveInt = 32
    learning_rate: PositiveFloat = 3e-3
    train_limit: PositiveInt | None = None  # class-balanced subset; null keeps all
    width: PositiveInt = 16  # U-Net channels at full resolution (w, 2w, 4w)
    noise: DaeNoiseParams = DaeNoiseParams()
    noise_weights: DaeNoiseWeights = DaeNoiseWeights()
    mask_block: Annotated[int, Field(ge=1, le=14)] = 4  # masking block side, as in `corrupt`
    valid_limit: PositiveInt = 500  # validation images per corruption setting
    preview_images: Annotated[int, Field(ge=1, le=32)] = 8


class EvaluateDenoisingParams(Section):
    # The classical denoisers (BM3D above all) are slow: they, and every method they are
    # compared with, run on the first `subset_size` test images; the denoising autoencoder is
    # also scored on the whole test set (key `<setting>.denoising_autoencoder_full`).
    subset_size: PositiveInt = 100
    median_size: Annotated[int, Field(ge=3)] = 3  # side of the median filter window
    tv_weight: PositiveFloat = 0.1  # denoise_tv_chambolle weight
    preview_images: Annotated[int, Field(ge=1, le=16)] = 6


class EvaluateLatentParams(Section):
    fit_size: PositiveInt = 10_000  # training codes the k-NN and the linear probe learn from
    tsne_points: PositiveInt = 1500  # test codes in the t-SNE and the trustworthiness
    neighbors: PositiveInt = 10  # k of trustworthiness and of the k-NN classifier


class Params(Section):
    seed: Annotated[int, Field(ge=0)] = 42
    data: DataParams = DataParams()
    corrupt: CorruptParams = CorruptParams()
    training: TrainingParams = TrainingParams()
    classifier: ClassifierParams = ClassifierParams()
    autoencoder: AutoencoderParams = AutoencoderParams()
    conv_autoencoder: ConvAutoencoderParams = ConvAutoencoderParams()
    denoising_autoencoder: DenoisingAutoencoderParams = DenoisingAutoencoderParams()
    evaluate_denoising: EvaluateDenoisingParams = EvaluateDenoisingParams()
    evaluate_latent: EvaluateLatentParams = EvaluateLatentParams()
    vae: VaeParams = VaeParams()
    flow: FlowParams = FlowParams()
    evaluate_likelihood: LikelihoodParams = LikelihoodParams()
    gan: GanParams = GanParams()
    superres: SuperresParams = SuperresParams()
    diffusion: DiffusionParams = DiffusionParams()
    evaluate_generative: EvaluateGenerativeParams = EvaluateGenerativeParams()
    downstream: DownstreamParams = DownstreamParams()

    @field_validator("data")
    @classmethod
    def _folder_needs_path(cls, data: DataParams) -> DataParams:
        if data.dataset == "folder" and not data.folder:
            raise ValueError("dataset 'folder' needs data.folder, the path of the image folder")
        return data


def _describe(error: dict, model: type[BaseModel]) -> str:
    """One line for one pydantic error: the dotted key, the value, what is allowed."""
    loc = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        section = model
        for part in error["loc"][:-1]:
            annotation = section.model_fields[str(part)].annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                section = annotation
        allowed = ", ".join(section.model_fields)
        return f"{loc}: unknown key; allowed keys here: {allowed}"
    value = error.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{loc}{shown}: {message}"


def parse(raw: dict, source: str = "params") -> Params:
    """Validate a params mapping; the first problem raises a RepgenError naming its key."""
    if not isinstance(raw, dict):
        raise RepgenError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        errors = err.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RepgenError(f"{source}: {_describe(errors[0], Params)}{more}") from None


def load(path: str | os.PathLike = "params.yaml") -> Params:
    """Read and validate params.yaml."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise RepgenError(f"{path}: params file not found") from None
    except yaml.YAMLError as err:
        raise RepgenError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None
    return parse(raw or {}, str(path))
