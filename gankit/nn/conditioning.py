"""Conditioning blocks shared by the image architectures: what a condition is, and where it enters.

A *condition* steers what G draws and what D judges. It comes in kinds, each turned into a
fixed-width embedding by a :class:`ConditionEncoder` from the registry :data:`CONDITION_ENCODERS`:

- ``"class"``: integer labels ``(B,)`` (or class weights ``(B, K)`` for blends between classes)
  -> ``nn.Embedding(K, dim)``.
- ``"vector"``: any float vector ``(B, size)``, e.g. a sentence embedding -> ``nn.Linear``.

Where the embedding enters:

- **G** — :class:`ConditionalBatchNorm2d` (de Vries et al. 2017; Miyato & Koyama 2018): batch norm
  whose per-channel gain and bias are predicted from the condition embedding, at every BN layer.
- **D** — :class:`Projection` (Miyato & Koyama 2018): ``D(x, y) = psi(phi(x)) + <embed(y), phi(x)>``
  where ``phi(x)`` is D's feature vector; the inner product rewards features that match the
  condition, which is far more stable than concatenating the condition to the input.
- optionally an **auxiliary classifier** head on D's features (AC-GAN, Odena et al. 2017); its loss
  is an :class:`~gankit.train.objective.Objective` added by the task.

An architecture config mixes in :class:`ConditionSettings` (flat fields, so ``config.json`` and
``--set model.condition=class`` stay simple).

Example:
    >>> import torch
    >>> encoder = build_condition_encoder("class", size=10, dim=16)
    >>> encoder(torch.tensor([3, 7])).shape
    torch.Size([2, 16])
    >>> bn = ConditionalBatchNorm2d(8, embed_dim=16)
    >>> bn(torch.randn(2, 8, 4, 4), encoder(torch.tensor([3, 7]))).shape
    torch.Size([2, 8, 4, 4])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.layers import sn

NO_CONDITION = "none"


class ConditionEncoder(nn.Module):
    """Maps a batch of conditions of one kind to embeddings ``(B, dim)``; checks its input.

    Subclasses set :attr:`kind` and implement :meth:`embed`; :meth:`check` turns a wrong dtype,
    shape or value into a :class:`GankitError` that says what was expected.
    """

    kind: str = ""

    def __init__(self, size: int, dim: int) -> None:
        super().__init__()
        if size < 1 or dim < 1:
            raise GankitError(
                f"{self.kind} condition needs size >= 1 and dim >= 1, got {size}, {dim}"
            )
        self.size = size
        self.dim = dim

    def check(self, cond: Tensor) -> None:
        raise NotImplementedError

    def embed(self, cond: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, cond: Tensor) -> Tensor:
        self.check(cond)
        return self.embed(cond)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, size={self.size}, dim={self.dim}"


class LabelEncoder(ConditionEncoder):
    """Class labels -> a learned embedding per class.

    Input: int64 labels ``(B,)`` in ``0..size-1``, or float class weights ``(B, size)`` whose rows
    blend the class embeddings (a one-hot row is the class itself; interpolation between two classes
    walks the weights from one one-hot to the other). The table starts N(0, 1), as BigGAN's
    shared embedding, so the condition is loud from the first step; ``small_init`` (xavier) suits
    an embedding that enters a wide inner product, as in the projection D.

    Example:
        >>> encoder = LabelEncoder(size=3, dim=4)
        >>> torch.allclose(encoder(torch.tensor([2])), encoder(torch.tensor([[0.0, 0.0, 1.0]])))
        True
    """

    kind = "class"

    def __init__(
        self, size: int, dim: int, spectral_norm: bool = False, small_init: bool = False
    ) -> None:
        super().__init__(size, dim)
        table = nn.Embedding(size, dim)  # N(0, 1)
        if small_init:
            nn.init.xavier_uniform_(table.weight)
        self.table = sn(table, spectral_norm)

    def check(self, cond: Tensor) -> None:
        if cond.dtype in (torch.int64, torch.int32):
            if cond.dim() != 1:
                raise GankitError(f"class labels must be 1-D (B,), got shape {tuple(cond.shape)}")
            # torch.export cannot read values (an exported graph cannot raise): the range is
            # checked in eager mode, and an ONNX runtime reports an index out of range itself.
            exporting = torch.compiler.is_exporting()
            if len(cond) and not exporting and (cond.min() < 0 or cond.max() >= self.size):
                raise GankitError(
                    f"class labels must lie in 0..{self.size - 1}, got "
                    f"{int(cond.min())}..{int(cond.max())}"
                )
        elif cond.is_floating_point():
            if cond.dim() != 2 or cond.shape[1] != self.size:
                raise GankitError(
                    f"class weights must have shape (B, {self.size}), got {tuple(cond.shape)}"
                )
        else:
            raise GankitError(f"class conditions must be int64 labels, got {cond.dtype}")

    def embed(self, cond: Tensor) -> Tensor:
        if cond.is_floating_point():
            return cond.to(self.table.weight.dtype) @ self.table.weight  # (B, K) @ (K, D)
        return self.table(cond.long())  # the module's own call: Opacus' per-sample hooks see it


class VectorEncoder(ConditionEncoder):
    """A float condition vector ``(B, size)`` (e.g. a sentence embedding) -> ``(B, dim)``.

    ``bias=False`` where the embedding only enters an inner product (the projection D), since a
    constant there is the same for every condition and duplicates D's unconditional output.

    Example:
        >>> VectorEncoder(size=384, dim=32)(torch.randn(2, 384)).shape
        torch.Size([2, 32])
    """

    kind = "vector"

    def __init__(
        self,
        size: int,
        dim: int,
        spectral_norm: bool = False,
        bias: bool = True,
        small_init: bool = False,
    ) -> None:
        super().__init__(size, dim)
        linear = nn.Linear(size, dim, bias=bias)  # torch's default init keeps unit-scale outputs
        if small_init:
            nn.init.xavier_uniform_(linear.weight)
        if bias:
            nn.init.zeros_(linear.bias)
        self.linear = sn(linear, spectral_norm)

    def check(self, cond: Tensor) -> None:
        if not cond.is_floating_point() or cond.dim() != 2 or cond.shape[1] != self.size:
            raise GankitError(
                f"condition vectors must be float (B, {self.size}), got {cond.dtype} "
                f"of shape {tuple(cond.shape)}"
            )

    def embed(self, cond: Tensor) -> Tensor:
        return self.linear(cond.to(self.linear.weight.dtype))


# kind -> encoder class. A new kind (say, a text encoder with conditioning augmentation) registers
# here and every conditional architecture accepts it through ``condition=<kind>``.
CONDITION_ENCODERS: dict[str, Callable[..., ConditionEncoder]] = {
    LabelEncoder.kind: LabelEncoder,
    VectorEncoder.kind: VectorEncoder,
}


def build_condition_encoder(
    kind: str, size: int, dim: int, spectral_norm: bool = False, **options: bool
) -> ConditionEncoder:
    """The registered encoder for ``kind``; an unknown kind lists the valid ones.

    Example:
        >>> build_condition_encoder("vector", size=8, dim=4, bias=False).linear.bias is None
        True
    """
    if kind not in CONDITION_ENCODERS:
        raise GankitError(
            f"unknown condition kind {kind!r}; valid kinds: "
            f"{', '.join([NO_CONDITION, *CONDITION_ENCODERS])}"
        )
    if kind == LabelEncoder.kind:
        options.pop("bias", None)  # an embedding table has no bias to drop
    return CONDITION_ENCODERS[kind](size, dim, spectral_norm=spectral_norm, **options)


@dataclass(frozen=True)
class ConditionSettings:
    """Conditioning fields shared by the image architecture configs (mixed in, all defaulted).

    ``condition``: ``"none"`` or a kind of :data:`CONDITION_ENCODERS` (``"class"``, ``"vector"``).
    ``condition_size``: number of classes, or the length of the condition vector.
    ``condition_embed``: width of G's shared condition embedding (first layer and every
    conditional BN). Kept well below ``latent_dim``: on digits a 128-wide class embedding next to
    a 64-d noise made G ignore the noise within a class, and 16 kept most of the real variety at
    a much lower FD (docs/BENCHMARKS.md, "Class embedding width (digits)").
    ``projection``: D adds ``<embed(y), phi(x)>`` (Miyato & Koyama); off leaves D unconditional.
    ``aux_classifier``: D also predicts the class from its features (AC-GAN; class kind only).
    ``clusters``: self-conditioning (:mod:`gankit.nn.self_conditioning`): G and D are built
    class-conditional over this many clusters of the training images, and G draws its own
    cluster from the noise when called without one. 0: off. Needs ``condition="none"``.
    """

    condition: str = NO_CONDITION
    condition_size: int = 0
    condition_embed: int = 16
    projection: bool = True
    aux_classifier: bool = False
    clusters: int = 0

    @property
    def conditional(self) -> bool:
        return self.condition != NO_CONDITION

    def check_condition(self, arch: str, pack: int = 1) -> None:
        """Refuse inconsistent conditioning settings, naming the field and what to do."""
        if self.clusters:
            if self.clusters < 2 or self.condition != NO_CONDITION:
                raise GankitError(
                    f"{arch} clusters must be 0 (off) or >= 2 on a model without another "
                    f"condition, got clusters={self.clusters}, condition={self.condition!r}"
                )
            if pack != 1:
                raise GankitError(
                    f"{arch}: clusters (self-conditioning) and pack (PacGAN) cannot be combined, "
                    "since a pack mixes clusters; set clusters to 0 or pack to 1"
                )
            self.by_cluster().check_condition(arch, pack)
            return
        if self.condition == NO_CONDITION:
            if self.aux_classifier:
                raise GankitError(f"{arch} aux_classifier needs condition='class'")
            return
        if self.condition not in CONDITION_ENCODERS:
            raise GankitError(
                f"{arch} condition {self.condition!r} is unknown; valid: "
                f"{', '.join([NO_CONDITION, *CONDITION_ENCODERS])}"
            )
        if self.condition_size < 1:
            raise GankitError(
                f"{arch} condition={self.condition!r} needs condition_size >= 1 (classes or "
                f"vector length), got {self.condition_size}"
            )
        if self.condition_embed < 1:
            raise GankitError(f"{arch} condition_embed must be >= 1, got {self.condition_embed}")
        if self.aux_classifier and self.condition != LabelEncoder.kind:
            raise GankitError(f"{arch} aux_classifier predicts classes: it needs condition='class'")
        if pack != 1:
            # A pack mixes samples of different conditions; one condition per logit is undefined.
            raise GankitError(f"{arch}: a conditional D cannot pack samples; set pack=1")

    def by_cluster(self) -> ConditionSettings:
        """These settings as the class-conditional model over clusters that is actually built."""
        return replace(self, condition=LabelEncoder.kind, condition_size=self.clusters, clusters=0)

    def generator_encoder(self) -> ConditionEncoder | None:
        """G's shared condition embedding, or None for an unconditional model."""
        if not self.conditional:
            return None
        return build_condition_encoder(self.condition, self.condition_size, self.condition_embed)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose gain and bias come from a condition embedding (de Vries et al. 2017).

    ``y = BN(x) * (1 + gain(e)) + bias(e)``: ``BN`` has no affine weights of its own, ``gain`` and
    ``bias`` are linear maps of the embedding ``e`` (B, embed_dim). Both maps start near zero, so
    at initialisation this is a plain BN and every condition starts from the same G.

    Example:
        >>> bn = ConditionalBatchNorm2d(4, embed_dim=3)
        >>> bn(torch.randn(2, 4, 5, 5), torch.randn(2, 3)).shape
        torch.Size([2, 4, 5, 5])
    """

    def __init__(self, num_features: int, embed_dim: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gain = nn.Linear(embed_dim, num_features)
        self.bias = nn.Linear(embed_dim, num_features)
        for linear in (self.gain, self.bias):
            nn.init.normal_(linear.weight, 0.0, 0.02)
            nn.init.zeros_(linear.bias)

    def forward(self, x: Tensor, embedding: Tensor) -> Tensor:
        gain = 1.0 + self.gain(embedding)[:, :, None, None]  # (B, C) -> (B, C, 1, 1)
        bias = self.bias(embedding)[:, :, None, None]
        return self.bn(x) * gain + bias


def batch_norm(num_features: int, embed_dim: int = 0) -> nn.Module:
    """``nn.BatchNorm2d``, or a :class:`ConditionalBatchNorm2d` when ``embed_dim > 0``.

    Unconditional models keep the exact modules (and weight names) they had before conditioning.
    """
    if embed_dim > 0:
        return ConditionalBatchNorm2d(num_features, embed_dim)
    return nn.BatchNorm2d(num_features)


def apply_layer(layer: nn.Module, x: Tensor, embedding: Tensor | None) -> Tensor:
    """``layer(x)``, or ``layer(x, embedding)`` for a conditional layer."""
    if isinstance(layer, ConditionalBatchNorm2d):
        if embedding is None:
            raise GankitError("this generator is conditional: pass a condition, G(z, cond)")
        return layer(x, embedding)
    return layer(x)


class ConditionalSequential(nn.Sequential):
    """``nn.Sequential`` that hands the condition embedding to the conditional layers in it.

    Weight names are those of ``nn.Sequential``, so an unconditional model built with it loads the
    same state dict as before.
    """

    def forward(self, x: Tensor, embedding: Tensor | None = None) -> Tensor:
        for layer in self:
            x = apply_layer(layer, x, embedding)
        return x


class Projection(nn.Module):
    """The projection discriminator's conditional term ``<embed(y), phi(x)>`` (Miyato & Koyama).

    ``features`` is D's feature vector ``phi(x)`` (B, F); the encoder maps the condition to the
    same F dimensions. Returns ``(B,)``, to be added to D's unconditional logit ``psi(phi(x))``.

    Example:
        >>> head = Projection(ConditionSettings("class", 10), features=32)
        >>> head(torch.randn(4, 32), torch.tensor([0, 1, 2, 3])).shape
        torch.Size([4])
    """

    def __init__(
        self, settings: ConditionSettings, features: int, spectral_norm: bool = False
    ) -> None:
        super().__init__()
        self.encoder = build_condition_encoder(
            settings.condition,
            settings.condition_size,
            features,
            spectral_norm,
            bias=False,
            small_init=True,  # <e, phi(x)> sums over many features: start it small
        )

    def forward(self, features: Tensor, cond: Tensor) -> Tensor:
        return (self.encoder(cond) * features).sum(dim=1)  # (B, F) . (B, F) -> (B,)


class ConditionalHead(nn.Module):
    """Everything a conditional D adds on top of its features: projection and/or an AC-GAN head.

    ``forward(features, cond)`` gives the projection term (0 without one); ``classify(features)``
    gives the auxiliary class logits (B, K).
    """

    def __init__(
        self, settings: ConditionSettings, features: int, spectral_norm: bool = False
    ) -> None:
        super().__init__()
        self.projection = (
            Projection(settings, features, spectral_norm) if settings.projection else None
        )
        self.classifier: nn.Module | None = None
        if settings.aux_classifier:
            linear = nn.Linear(features, settings.condition_size)
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
            self.classifier = sn(linear, spectral_norm)

    def forward(self, features: Tensor, cond: Tensor | None) -> Tensor:
        if cond is None:
            raise GankitError("this discriminator is conditional: pass a condition, D(x, cond)")
        if self.projection is None:
            return features.new_zeros(features.shape[0])
        return self.projection(features, cond)

    def classify(self, features: Tensor) -> Tensor:
        if self.classifier is None:
            raise GankitError("this discriminator has no auxiliary classifier (aux_classifier)")
        return self.classifier(features)


def conditional_head(
    settings: ConditionSettings, features: int, spectral_norm: bool = False
) -> ConditionalHead | None:
    """D's :class:`ConditionalHead`, or None for an unconditional model."""
    if not settings.conditional:
        return None
    return ConditionalHead(settings, features, spectral_norm)
