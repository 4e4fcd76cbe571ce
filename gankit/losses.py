"""Adversarial losses and gradient regularizers, as plain functions of tensors.

A loss is a pair of functions of the discriminator's logits on a real batch and a fake batch,
``(real_logits, fake_logits) -> scalar``: ``d_loss`` trains D, ``g_loss`` trains G. Logits are the
raw, 1-D outputs of ``D`` (shape ``(B,)``); no sigmoid is applied anywhere by the caller.

Only the relativistic loss needs D(real) in the generator step (``g_needs_real``), so the engine can
skip that extra forward pass for the others; their ``g_loss`` ignores ``real_logits``, and passing
``None`` for it is fine.

Regularizers take the critic as a callable, so a conditional task can close over its labels:
``r1_penalty(lambda x: D(x, labels), real)``. They return the raw penalty; the caller chooses the
weight (R1 is usually added as ``gamma / 2 * r1_penalty(...)``).

Example:
    >>> import torch
    >>> loss = get_loss("hinge")
    >>> real_logits, fake_logits = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    >>> loss.d_loss(real_logits, fake_logits)  # (0 + 0.5) / 2 + (0 + 1) / 2
    tensor(0.7500)
    >>> loss.g_loss(real_logits, fake_logits)
    tensor(1.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import GankitError

Critic = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class AdversarialLoss:
    """A named pair of D and G losses over ``(real_logits, fake_logits)``.

    ``g_needs_real`` is True only when ``g_loss`` reads ``real_logits`` (relativistic losses); for
    the others the engine may pass ``None`` and save a D forward pass on reals.
    """

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor | None, Tensor], Tensor]
    g_needs_real: bool


# --- Non-saturating (Goodfellow et al. 2014, the "-log D" trick) ---
# -log(sigmoid(x)) == softplus(-x) and -log(1 - sigmoid(x)) == softplus(x); softplus never takes
# the log of a saturated sigmoid, so large logits give exact losses instead of inf/NaN.


def nonsaturating_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``-log D(real) - log(1 - D(fake))``, averaged; logits 0 everywhere give ``2 log 2``."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def nonsaturating_g_loss(real_logits: Tensor | None, fake_logits: Tensor) -> Tensor:
    """``-log D(fake)``, averaged: strong gradients while D still rejects the fakes."""
    return F.softplus(-fake_logits).mean()


# --- Hinge (Lim & Ye 2017; SNGAN, BigGAN) ---


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``relu(1 - real) + relu(1 + fake)``, averaged: zero once reals > 1 and fakes < -1."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(real_logits: Tensor | None, fake_logits: Tensor) -> Tensor:
    """``-fake``, averaged (the generator side of the hinge loss has no margin)."""
    return -fake_logits.mean()


# --- Wasserstein (Arjovsky et al. 2017); needs a Lipschitz critic, e.g. gradient_penalty ---


def wasserstein_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``mean(fake) - mean(real)``: the negated critic estimate of the Wasserstein-1 distance."""
    return fake_logits.mean() - real_logits.mean()


def wasserstein_g_loss(real_logits: Tensor | None, fake_logits: Tensor) -> Tensor:
    """``-mean(fake)``."""
    return -fake_logits.mean()


# --- Least squares (Mao et al. 2017, targets a=0 fake, b=1 real, c=1 for G) ---
# Applied to the raw D output (no sigmoid), with the paper's factor 1/2.


def least_squares_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``(real - 1)^2 / 2 + fake^2 / 2``, averaged."""
    return 0.5 * (real_logits - 1.0).square().mean() + 0.5 * fake_logits.square().mean()


def least_squares_g_loss(real_logits: Tensor | None, fake_logits: Tensor) -> Tensor:
    """``(fake - 1)^2 / 2``, averaged."""
    return 0.5 * (fake_logits - 1.0).square().mean()


# --- Relativistic pairing (RpGAN, Jolicoeur-Martineau 2018; the loss of R3GAN, 2024) ---
# D judges each fake *relative to* a real: real i is paired with fake i, so both batches must have
# the same shape. Usually combined with R1 + R2 (R3GAN).


def _check_pairs(real_logits: Tensor, fake_logits: Tensor) -> None:
    # Without this check (B,) - (B, 1) would silently broadcast to (B, B) and pair everything.
    if real_logits.shape != fake_logits.shape:
        raise GankitError(
            f"the relativistic loss pairs real and fake logits element-wise, but got shapes "
            f"{tuple(real_logits.shape)} and {tuple(fake_logits.shape)}; use the same batch size "
            f"for reals and fakes and a D that returns (B,) logits"
        )


def rpgan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``softplus(fake - real)``, averaged over pairs."""
    _check_pairs(real_logits, fake_logits)
    return F.softplus(fake_logits - real_logits).mean()


def rpgan_g_loss(real_logits: Tensor | None, fake_logits: Tensor) -> Tensor:
    """``softplus(real - fake)``, averaged over pairs; ``real_logits`` must not be None."""
    if real_logits is None:
        raise GankitError("the relativistic 'rpgan' G loss needs real_logits (g_needs_real=True)")
    _check_pairs(real_logits, fake_logits)
    return F.softplus(real_logits - fake_logits).mean()


LOSSES: dict[str, AdversarialLoss] = {
    "nonsaturating": AdversarialLoss(
        "nonsaturating", nonsaturating_d_loss, nonsaturating_g_loss, g_needs_real=False
    ),
    "hinge": AdversarialLoss("hinge", hinge_d_loss, hinge_g_loss, g_needs_real=False),
    "wasserstein": AdversarialLoss(
        "wasserstein", wasserstein_d_loss, wasserstein_g_loss, g_needs_real=False
    ),
    "least-squares": AdversarialLoss(
        "least-squares", least_squares_d_loss, least_squares_g_loss, g_needs_real=False
    ),
    "rpgan": AdversarialLoss("rpgan", rpgan_d_loss, rpgan_g_loss, g_needs_real=True),
}


def get_loss(name: str) -> AdversarialLoss:
    """The registered loss called ``name``; an unknown name is an error listing the valid ones.

    Example:
        >>> get_loss("rpgan").g_needs_real
        True
    """
    try:
        return LOSSES[name]
    except KeyError:
        raise GankitError(f"unknown loss {name!r}; valid losses: {', '.join(LOSSES)}") from None


# --- Gradient regularizers ---


def _input_grad_sq_norm(critic: Critic, inputs: Tensor) -> Tensor:
    """Per-sample ``||d critic / d x||^2`` at ``inputs``, kept in the graph; shape (B,)."""
    # A fresh leaf: the inputs may come from a no-grad data loader or from G (whose graph we must
    # not differentiate into), and both cases need a tensor we can take d/dx of.
    inputs = inputs.detach().requires_grad_(True)
    logits = critic(inputs)
    # The critic's outputs are independent across samples (or across packs of samples), so the
    # gradient of their sum holds each sample's own gradient. Summing in float32 keeps AMP exact.
    # create_graph=True so the penalty itself can be back-propagated into D's parameters.
    (grad,) = torch.autograd.grad(logits.float().sum(), inputs, create_graph=True)
    return grad.float().flatten(1).square().sum(dim=1)  # (B, *S) -> (B,)


def r1_penalty(critic: Critic, real: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): mean over the batch of ``||grad_x D(x)||^2`` at real samples.

    Returns the raw mean squared norm; add ``gamma / 2 * r1_penalty(D, real)`` to D's loss. Works
    for any input rank: images ``(B, C, H, W)``, points ``(B, 2)``.

    Example:
        >>> w = torch.tensor([3.0, 4.0])
        >>> r1_penalty(lambda x: x @ w, torch.zeros(5, 2))  # a linear critic: ||w||^2
        tensor(25.)
    """
    return _input_grad_sq_norm(critic, real).mean()


def r2_penalty(critic: Critic, fake: Tensor) -> Tensor:
    """R2: like :func:`r1_penalty`, at generated samples (pass ``fake`` detached or not).

    Example:
        >>> r2_penalty(lambda x: 2.0 * x.sum(dim=1), torch.ones(3, 4))  # grad = (2, 2, 2, 2)
        tensor(16.)
    """
    return _input_grad_sq_norm(critic, fake).mean()


def mixing_weights(n: int, like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """``n`` draws of ``eps ~ U[0, 1)`` shaped ``(n, 1, ..., 1)`` to broadcast over ``like``.

    Drawn where ``generator`` lives (the engine's RNGs are on CPU), then moved to ``like``'s
    device in its dtype. Example:
        >>> mixing_weights(3, torch.zeros(3, 1, 4, 4)).shape
        torch.Size([3, 1, 1, 1])
    """
    eps_shape = (n,) + (1,) * (like.dim() - 1)
    device = generator.device if generator is not None else like.device
    return torch.rand(eps_shape, generator=generator, device=device, dtype=like.dtype).to(
        like.device
    )


def gradient_penalty(
    critic: Critic,
    real: Tensor,
    fake: Tensor,
    generator: torch.Generator | None = None,
    eps: Tensor | None = None,
) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): ``mean((||grad_x D(x_hat)|| - 1)^2)``.

    ``x_hat = eps * real + (1 - eps) * fake`` with one ``eps ~ U[0, 1)`` per sample, drawn from
    ``generator`` (on any device) so a seeded run is reproducible, or given (distributed training
    draws the global batch's and passes each rank its slice). Usually weighted by 10. ``real``
    and ``fake`` must have the same shape.

    Example:
        >>> w = torch.tensor([0.6, 0.8])  # unit norm: a 1-Lipschitz linear critic
        >>> gradient_penalty(lambda x: x @ w, torch.randn(4, 2), torch.randn(4, 2))
        tensor(0.)
    """
    if real.shape != fake.shape:
        raise GankitError(
            f"gradient_penalty needs real and fake batches of the same shape, got "
            f"{tuple(real.shape)} and {tuple(fake.shape)}"
        )
    if eps is None:
        eps = mixing_weights(len(real), real, generator)
    mixed = torch.lerp(fake.detach(), real.detach(), eps)  # eps * real + (1 - eps) * fake
    # The tiny epsilon keeps sqrt differentiable where the gradient is exactly zero.
    grad_norm = (_input_grad_sq_norm(critic, mixed) + 1e-12).sqrt()
    return (grad_norm - 1.0).square().mean()
