"""In-silico saturation mutagenesis for any LegNet classifier, with a sequence-logo-style plot.

Every position is mutated to each of A, C, G, T; the effect is score(mutant) - score(reference), where
the score is a logit (default) or probability of one output. The logo draws, at each position, the
reference base with height = -(mean effect of mutating it away): tall letters above the axis are bases
the prediction depends on, letters below the axis are bases working against it.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..modeling.dna_encoding import BASES, encode_sequence, one_hot

LOGO_COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}


@torch.no_grad()
def in_silico_mutagenesis(model: nn.Module, sequence: str, target: int | None = None, output: str = "logit",
                          batch_size: int = 256) -> dict[str, object]:
    """Effects (L, 4) of every single-base substitution on one model output; 0 for the reference base.

    ``target``: output index (default: the predicted class, or 0 for a single-output model).
    ``output``: "logit" (raw model output) or "prob" (softmax, or sigmoid for one output / multi-label).
    Returns {"effects", "reference_score", "target", "sequence"}.
    """
    if output not in ("logit", "prob"):
        raise ValueError(f"output must be 'logit' or 'prob', got {output!r}")
    codes = encode_sequence(sequence, iupac="n")
    if codes.size == 0:
        raise ValueError("in_silico_mutagenesis: empty sequence")
    length = codes.size
    device = next(model.parameters()).device
    ref = torch.from_numpy(one_hot(codes[None])).to(device)  # (1, 4, L)
    mutants = ref.repeat(length * 4, 1, 1)  # mutant p*4+b: position p set to base b
    idx = torch.arange(length * 4, device=device)
    pos, base = idx // 4, idx % 4
    mutants[idx, :, pos] = 0.0
    mutants[idx, base, pos] = 1.0
    num_labels = int(model.config.num_labels)
    multi = num_labels == 1 or getattr(model.config, "problem_type", None) == "multi_label_classification"

    def score(x: torch.Tensor) -> torch.Tensor:
        logits = model(inputs_embeds=x).logits.float()
        if output == "prob":
            logits = torch.sigmoid(logits) if multi else logits.softmax(-1)
        return logits

    was_training = model.training
    model.eval()
    try:
        ref_scores = score(ref)[0]
        if target is None:
            target = 0 if num_labels == 1 else int(ref_scores.argmax())
        if not 0 <= target < ref_scores.numel():
            raise ValueError(f"target {target} outside the model's {ref_scores.numel()} outputs")
        out = torch.cat([score(mutants[s : s + batch_size])[:, target] for s in range(0, mutants.shape[0], batch_size)])
    finally:
        model.train(was_training)
    effects = (out - ref_scores[target]).reshape(length, 4).cpu().numpy()
    effects[codes < 4, codes[codes < 4]] = 0.0  # exactly zero for the reference base
    return {"effects": effects, "reference_score": float(ref_scores[target]), "target": target, "sequence": sequence}


def reference_importance(effects: np.ndarray, sequence: str) -> np.ndarray:
    """Per-position importance of the reference base: minus the mean effect of the three substitutions."""
    codes = encode_sequence(sequence, iupac="n")
    out = np.zeros(len(codes))
    for p, c in enumerate(codes):
        others = [b for b in range(4) if b != c]
        out[p] = -float(np.mean(effects[p, others]))
    return out


def _draw_letter(ax, letter: str, x: float, y: float, height: float, color: str) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    if abs(height) < 1e-9:
        return
    path = TextPath((0, 0), letter, size=1, prop={"family": "DejaVu Sans", "weight": "bold"})
    ext = path.get_extents()
    sx = 0.9 / ext.width
    sy = abs(height) / ext.height
    transform = Affine2D().translate(-ext.x0, -ext.y0).scale(sx, sy)
    if height < 0:
        transform = transform.scale(1, -1)
    transform = transform.translate(x - 0.45, y)
    ax.add_patch(PathPatch(transform.transform_path(path), color=color, lw=0))


def plot_mutagenesis(result: dict[str, object], path: str | os.PathLike, title: str | None = None) -> Path:
    """PNG with a logo of reference-base importance and a heatmap of all substitution effects."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    effects = np.asarray(result["effects"])
    sequence = str(result["sequence"]).upper()
    length = effects.shape[0]
    imp = reference_importance(effects, sequence)
    width = min(40.0, max(6.0, length * 0.12))
    fig, (ax_logo, ax_map) = plt.subplots(2, 1, figsize=(width, 4.2), sharex=True, layout="constrained",
                                          gridspec_kw={"height_ratios": [1.2, 1]})
    for p, ch in enumerate(sequence):
        _draw_letter(ax_logo, ch if ch in BASES else "N", p, 0.0, imp[p], LOGO_COLORS.get(ch, "0.5"))
    lim = max(1e-6, float(np.abs(imp).max()))
    ax_logo.set_xlim(-0.5, length - 0.5)
    ax_logo.set_ylim(-lim * 1.1 if imp.min() < 0 else 0, lim * 1.1)
    ax_logo.axhline(0, color="0.3", lw=0.6)
    ax_logo.set_ylabel("importance")
    vmax = max(1e-6, float(np.abs(effects).max()))
    im = ax_map.imshow(effects.T, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                       extent=(-0.5, length - 0.5, 3.5, -0.5), interpolation="nearest")
    ax_map.set_yticks(range(4), list(BASES))
    ax_map.set_xlabel("position")
    fig.colorbar(im, ax=ax_map, fraction=0.03, pad=0.01, label="effect")
    ax_logo.set_title(title or f"in-silico mutagenesis (output {result['target']}, reference {result['reference_score']:.3g})")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
