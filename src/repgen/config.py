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
    epochs: PositiveInt = 8
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 2e-3
    width: PositiveInt = 32  # channels of the first block; the second has twice as many
    feature_dim: PositiveInt = 128  # the penultimate layer that the feature metrics use
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.3
    augment: bool = True  # random horizontal flips


class Params(Section):
    seed: Annotated[int, Field(ge=0)] = 42
    data: DataParams = DataParams()
    corrupt: CorruptParams = CorruptParams()
    training: TrainingParams = TrainingParams()
    classifier: ClassifierParams = ClassifierParams()

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
