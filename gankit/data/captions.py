"""Captioned digits: every image of a labelled digit set gets a sentence from its label and from
its measured stroke thickness and slant.

The attributes come from :mod:`gankit.data.attributes`, binned into three levels each at the
terciles of the training set (``thin / medium / thick``, ``left / upright / right``), so every
level is about as common as the others. Several phrasing templates turn (digit, thickness, slant)
into text; a separate set of **held-out templates** never appears in training and is used to ask a
trained model for digits in words it has not seen.

Size and position are *not* captioned for MNIST: its digits were normalised to a 20-pixel box and
centred by their centre of mass, so those measurements barely vary (see docs/text_to_image.md).

Everything is deterministic given ``seed`` (which template each image gets).

Example:
    >>> from gankit.data import load_digits
    >>> data = captioned_digits(load_digits(16), seed=0)
    >>> data.caption_of(0)
    'zero, leaning to the right, drawn with a thin stroke'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from gankit.data.attributes import measure_in_chunks
from gankit.data.images import ImageData
from gankit.errors import GankitError

# The captioned attributes and the words for their levels, in increasing order of the measure.
LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "thickness": ("thin", "medium", "thick"),
    "slant": ("left", "upright", "right"),
}
CAPTIONED = tuple(LEVEL_WORDS)
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# Phrase forms a template can use for each level: {slant_adj}, {slant_phrase}, {slant_short}, ...
_SLANT_FORMS = {
    "slant_adj": ("left-slanted", "upright", "right-slanted"),
    "slant_short": ("slanted left", "upright", "slanted right"),
    "slant_phrase": ("leaning to the left", "standing upright", "leaning to the right"),
}
_THICK_FORMS = {
    "thick": ("thin", "medium", "thick"),
    "thick_stroke": ("a thin stroke", "a medium stroke", "a thick stroke"),
}

TRAIN_TEMPLATES = (
    "a {thick} {slant_adj} {digit}",
    "the digit {num}, written {thick} and {slant_short}",
    "{digit}, {slant_phrase}, drawn with {thick_stroke}",
    "a handwritten {digit} in {thick} ink, {slant_short}",
    "number {num}: {thick} strokes, {slant_adj}",
    "a {slant_adj} {num} with {thick} lines",
)
HELDOUT_TEMPLATES = (
    "please draw a {thick} {digit} that is {slant_phrase}",
    "{slant_adj}, {thick}-stroked digit {digit}",
    "an image of the number {num} written with {thick_stroke}, {slant_short}",
)
TEMPLATE_SETS = {"train": TRAIN_TEMPLATES, "heldout": HELDOUT_TEMPLATES}

# "a" before a vowel sound becomes "an" ("an upright eight"); "one" starts with a "w" sound.
_ARTICLE = re.compile(r"\b([Aa]) (?=(?!one\b)[aeiou8])")


def _fix_articles(text: str) -> str:
    return _ARTICLE.sub(lambda m: f"{m.group(1)}n ", text)


def render_caption(template: str, digit: int, thickness: int, slant: int) -> str:
    """The sentence ``template`` gives for a digit at the given thickness and slant levels.

    Example:
        >>> render_caption(TRAIN_TEMPLATES[0], 7, thickness=0, slant=2)
        'a thin right-slanted seven'
        >>> render_caption(TRAIN_TEMPLATES[0], 8, thickness=1, slant=1)
        'a medium upright eight'
    """
    fields = {"digit": DIGIT_WORDS[digit], "num": str(digit)}
    fields.update({name: forms[thickness] for name, forms in _THICK_FORMS.items()})
    fields.update({name: forms[slant] for name, forms in _SLANT_FORMS.items()})
    return _fix_articles(template.format(**fields))


def fit_level_edges(attributes: dict[str, torch.Tensor]) -> dict[str, tuple[float, ...]]:
    """Tercile edges of each captioned attribute (NaNs from empty images are ignored).

    Example:
        >>> edges = fit_level_edges({"thickness": torch.arange(9.0), "slant": torch.arange(9.0)})
        >>> [round(e, 2) for e in edges["thickness"]]
        [2.67, 5.33]
    """
    edges = {}
    for name, words in LEVEL_WORDS.items():
        values = attributes[name][~attributes[name].isnan()]
        if len(values) < len(words):
            raise GankitError(
                f"cannot bin {name} into {len(words)} levels from {len(values)} measured images"
            )
        quantiles = torch.arange(1, len(words), dtype=torch.float64) / len(words)
        edges[name] = tuple(float(e) for e in values.double().quantile(quantiles))
    return edges


def to_levels(
    attributes: dict[str, torch.Tensor], edges: dict[str, tuple[float, ...]]
) -> torch.Tensor:
    """``(N, len(CAPTIONED))`` int64 levels of each image (an empty image counts as the middle).

    Example:
        >>> to_levels({"thickness": torch.tensor([1.0, 3.0]), "slant": torch.tensor([0.0, 9.0])},
        ...           {"thickness": (2.0, 2.5), "slant": (-1.0, 5.0)}).tolist()
        [[0, 1], [2, 2]]
    """
    columns = []
    for name in CAPTIONED:
        values = attributes[name]
        level = torch.bucketize(values.double(), torch.tensor(edges[name], dtype=torch.float64))
        columns.append(torch.where(values.isnan(), len(edges[name]) // 2, level))
    return torch.stack(columns, dim=1).long()


@dataclass(frozen=True, eq=False)
class CaptionedDigits:
    """Labelled digit images, their attribute levels, and one template per image.

    ``captions`` lists every distinct sentence this dataset can produce (digit x levels x
    template), so a text encoder embeds each once; ``caption_index[i]`` points image ``i`` at its
    sentence. ``edges`` are the level boundaries (fitted on the training split; pass them on to
    caption a test split the same way).
    """

    images: ImageData
    attributes: dict[str, torch.Tensor]
    levels: torch.Tensor  # int64 (N, len(CAPTIONED))
    edges: dict[str, tuple[float, ...]]
    templates: tuple[str, ...]
    template_index: torch.Tensor  # int64 (N,): which template image i is captioned with
    seed: int

    def __len__(self) -> int:
        return len(self.images)

    @property
    def captions(self) -> list[str]:
        """All distinct sentences, ordered by (digit, thickness, slant, template)."""
        return [
            render_caption(template, digit, thick, slant)
            for digit in range(10)
            for thick in range(len(LEVEL_WORDS["thickness"]))
            for slant in range(len(LEVEL_WORDS["slant"]))
            for template in self.templates
        ]

    def caption_id(
        self, digits: torch.Tensor, levels: torch.Tensor, template: torch.Tensor
    ) -> torch.Tensor:
        """Index into :attr:`captions` of (digit, levels, template) rows (all int64 tensors)."""
        n_thick, n_slant = (len(LEVEL_WORDS[name]) for name in CAPTIONED)
        meaning = (digits * n_thick + levels[:, 0]) * n_slant + levels[:, 1]
        return meaning * len(self.templates) + template

    @property
    def caption_index(self) -> torch.Tensor:
        """``(N,)`` index into :attr:`captions` of each image's own sentence."""
        return self.caption_id(self.images.labels, self.levels, self.template_index)

    def caption_of(self, i: int) -> str:
        """The sentence image ``i`` is captioned with."""
        return self.captions[int(self.caption_index[i])]

    def describe(self) -> dict[str, Any]:
        """JSON-able summary: level edges, templates, seed (enough to caption new data alike)."""
        return {
            "edges": {name: list(edges) for name, edges in self.edges.items()},
            "templates": list(self.templates),
            "seed": self.seed,
        }


def captioned_digits(
    data: ImageData,
    templates: str | tuple[str, ...] = "train",
    edges: dict[str, tuple[float, ...]] | None = None,
    seed: int = 0,
) -> CaptionedDigits:
    """Caption a labelled digit dataset (MNIST, scikit-learn digits) from labels and attributes.

    ``templates``: "train", "heldout" or your own format strings (fields ``{digit}``, ``{num}``,
    ``{thick}``, ``{thick_stroke}``, ``{slant_adj}``, ``{slant_short}``, ``{slant_phrase}``).
    ``edges`` None fits tercile edges on ``data``; ``seed`` picks each image's template.

    Example:
        >>> from dataclasses import replace
        >>> from gankit.data import load_mnist
        >>> def first(data, n):  # a slice keeps the example quick
        ...     return replace(data, images=data.images[:n], labels=data.labels[:n])
        >>> data = captioned_digits(first(load_mnist(mnist_dir, "train"), 1000))
        >>> test = first(load_mnist(mnist_dir, "test"), 100)
        >>> test = captioned_digits(test, "heldout", data.edges)  # the training split's levels
        >>> len(test), test.edges == data.edges
        (100, True)
    """
    if data.labels is None or tuple(data.class_names) != tuple(map(str, range(10))):
        raise GankitError(
            f"dataset '{data.name}' needs digit labels 0-9 to be captioned "
            f"(got classes {list(data.class_names)[:12]}); use MNIST or the scikit-learn digits"
        )
    if isinstance(templates, str):
        if templates not in TEMPLATE_SETS:
            raise GankitError(
                f"unknown template set {templates!r}; valid: {', '.join(TEMPLATE_SETS)} "
                "or a tuple of format strings"
            )
        templates = TEMPLATE_SETS[templates]
    templates = tuple(templates)
    if not templates:
        raise GankitError("captioned_digits needs at least one template")
    for template in templates:
        try:
            render_caption(template, 0, 0, 0)
        except (KeyError, IndexError, ValueError) as err:
            raise GankitError(
                f"caption template {template!r} is invalid ({err!r}); use the fields "
                "{digit} {num} {thick} {thick_stroke} {slant_adj} {slant_short} {slant_phrase}"
            ) from None
    attributes = measure_in_chunks(data.images)
    if edges is None:
        edges = fit_level_edges(attributes)
    missing = [name for name in CAPTIONED if name not in edges]
    if missing:
        raise GankitError(f"level edges lack {missing}; pass edges for {list(CAPTIONED)}")
    generator = torch.Generator().manual_seed(seed)
    template_index = torch.randint(len(templates), (len(data),), generator=generator)
    return CaptionedDigits(
        images=data,
        attributes=attributes,
        levels=to_levels(attributes, edges),
        edges={name: tuple(edges[name]) for name in CAPTIONED},
        templates=templates,
        template_index=template_index,
        seed=seed,
    )


@dataclass(frozen=True, eq=False)
class EmbeddedCaptions:
    """What a text-conditional GAN trains on: images and the embedding of each one's caption.

    ``embeddings`` holds one row per distinct caption (``(K, dim)``, embedded once), and
    ``caption_index[i]`` picks image ``i``'s row, so batches cost an index lookup, not an encoder
    call. The engine sees ``conditional = True`` and calls ``G(z, emb)`` and ``D(x, emb)``.

    Example:
        >>> data = EmbeddedCaptions(ImageData(torch.zeros(2, 1, 4, 4, dtype=torch.uint8),
        ...                                   None, (), "tiny"),
        ...                         torch.tensor([1, 0]), torch.eye(2))
        >>> x, emb = data.batch(torch.tensor([0]))
        >>> x.shape, emb.tolist()
        (torch.Size([1, 1, 4, 4]), [[0.0, 1.0]])
    """

    images: ImageData
    caption_index: torch.Tensor  # int64 (N,)
    embeddings: torch.Tensor  # float32 (K, dim)
    conditional: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if len(self.caption_index) != len(self.images):
            raise GankitError(
                f"{len(self.caption_index)} caption indices for {len(self.images)} images"
            )
        if self.embeddings.dim() != 2 or (
            len(self.caption_index) and int(self.caption_index.max()) >= len(self.embeddings)
        ):
            raise GankitError(
                f"caption embeddings must be (K, dim) with a row for every caption index, got "
                f"{tuple(self.embeddings.shape)}"
            )

    def __len__(self) -> int:
        return len(self.images)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.images.class_names

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [-1, 1] and their caption embeddings for the rows in ``index``."""
        return self.images.batch(index), self.embeddings[self.caption_index[index]]
