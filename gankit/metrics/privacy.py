"""How much a synthetic table gives away about the rows it was trained on: a privacy report.

Distances alone are not enough ("DCR delusion": a table can pass distance tests while a membership
attack succeeds), so the report has both kinds, each against a **held-out** split of real rows
that the generator never saw:

- **DCR**: median distance of synthetic rows to their closest training row, beside the same for
  held-out rows (:func:`gankit.metrics.tabular.dcr`); a ratio well below 1 means copying.
- **NNDR**: nearest / second-nearest training-row distance ratio; synthetic rows that sit much
  closer to one training row than to the next (a ratio near 0) are near-copies of that row.
- **Membership inference, DOMIAS-style** (van Breugel et al., AISTATS 2023): the attacker holds
  the synthetic table and a reference sample of real rows from the same population. A target
  row scores ``log p_synthetic(x) - log p_reference(x)``; a generator that overfits puts more
  synthetic density on its training rows than the population has. Densities are k-nearest-
  neighbour estimates (``log p ~ -dim * log r_k``, with equal-sized sets, so the score is the log
  ratio of the two k-th neighbour radii). Targets: ``n`` training rows (members) and ``n``
  held-out rows (non-members). **AUC** 0.5 is no better than a coin; it is reported overall and
  on the ``outliers`` targets (half members, half not) farthest from the reference sample,
  where Stadler et al. and DOMIAS find the leaks.

Rows are encoded as in :func:`gankit.metrics.tabular.dcr` (one differing category or a column's
full range costs 1).

Example:
    >>> import pandas as pd, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=1200), "y": rng.normal(size=1200)})
    >>> train, holdout = real[:300], real[300:]
    >>> report = privacy_report(train, holdout, synthetic=train, n=150)  # a copying "generator"
    >>> report["mia_auc"] > 0.9, report["dcr_synthetic_median"]
    (True, 0.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from gankit.data.tabular.columns import ColumnSpec, infer_columns
from gankit.errors import GankitError
from gankit.metrics._knn import distance_chunks
from gankit.metrics.tabular import _encode, dcr

_FLOOR = 1e-6  # radii of exact duplicates: log(0) would make every tie infinite


def _kth_radius(query: torch.Tensor, ref: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each query row to its k-th nearest ``ref`` row, shape (N,)."""
    return torch.cat(
        [d.topk(k, dim=1, largest=False).values[:, k - 1] for _, d in distance_chunks(query, ref)]
    )


def _nndr(query: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Nearest / second-nearest distance of each query row among ``ref`` (0/0 counts as 1)."""
    chunks = distance_chunks(query, ref)
    two = torch.cat([d.topk(2, dim=1, largest=False).values for _, d in chunks])
    return torch.where(two[:, 1] > 0, two[:, 0] / two[:, 1].clamp_min(1e-12), torch.ones(()))


def _auc(scores: np.ndarray, members: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(members, scores))


def privacy_report(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    specs: list[ColumnSpec] | None = None,
    n: int = 1000,
    outliers: int = 200,
    k: int = 1,
    seed: int = 0,
    max_rows: int = 10_000,
) -> dict[str, Any]:
    """DCR, NNDR and the membership-inference AUC (overall and on outliers) of ``synthetic``.

    ``train`` are the rows the generator was fitted on, ``holdout`` real rows it never saw:
    ``n`` of them are non-member targets (beside ``n`` training rows, the members), the rest (at
    most ``max_rows``) the attacker's reference sample, and as many synthetic rows are used.
    ``specs`` say each column's kind (default: detected from ``train``).
    """
    n = min(n, len(holdout) // 2, len(train))
    size = min(len(holdout) - n, len(synthetic), max_rows)  # reference and synthetic rows
    if n < 20 or size < 20:
        raise GankitError(
            "the privacy report needs at least 20 training rows, 20 synthetic rows and 40 "
            f"held-out rows; got {len(train)}, {len(synthetic)} and {len(holdout)}"
        )
    outliers = min(outliers, n)
    columns = list(train.columns)
    for name, frame in (("holdout", holdout), ("synthetic", synthetic)):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise GankitError(f"the {name} table lacks column(s) {missing} of the training table")
    specs = specs if specs is not None else infer_columns(train)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(holdout))
    nonmembers = holdout.iloc[order[:n]][columns]
    reference = holdout.iloc[order[n : n + size]][columns]
    members = train.iloc[rng.choice(len(train), n, replace=False)][columns]
    synth = synthetic.iloc[rng.choice(len(synthetic), size, replace=False)][columns]

    def encode(frame: pd.DataFrame) -> torch.Tensor:
        return _encode(frame, specs, train)

    train_x, synth_x, ref_x = encode(train), encode(synth), encode(reference)
    targets = torch.cat([encode(members), encode(nonmembers)])
    is_member = np.r_[np.ones(n), np.zeros(n)]
    k = min(k, size - 1)
    radius_synth = _kth_radius(targets, synth_x, k).clamp_min(_FLOOR)
    radius_ref = _kth_radius(targets, ref_x, k).clamp_min(_FLOOR)
    # log p_S(x) - log p_R(x) with kNN densities of equal-sized sets (the dimension is a common
    # positive factor, which an AUC does not see).
    scores = (radius_ref.log() - radius_synth.log()).numpy()
    isolated = np.r_[
        np.argsort(-radius_ref[:n].numpy())[: outliers // 2],
        n + np.argsort(-radius_ref[n:].numpy())[: outliers - outliers // 2],
    ]
    nndr_synth = _nndr(synth_x, train_x)
    nndr_holdout = _nndr(encode(nonmembers), train_x)
    result = dcr(train, synth, specs, holdout=nonmembers, n=size, seed=seed)
    result.update(
        nndr_synthetic_median=round(float(nndr_synth.median()), 4),
        nndr_holdout_median=round(float(nndr_holdout.median()), 4),
        mia_auc=round(_auc(scores, is_member), 4),
        mia_auc_outliers=round(_auc(scores[isolated], is_member[isolated]), 4),
        mia_targets=2 * n,
        mia_outlier_targets=len(isolated),
        mia_attack=f"DOMIAS density ratio, {k}-NN densities of {size} synthetic and {size} "
        "held-out reference rows",
    )
    return result
