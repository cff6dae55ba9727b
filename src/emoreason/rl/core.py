"""Pure tensor functions for GRPO: advantages, KL, clipped surrogate, loss aggregation.

Shapes: N sequences (completions), T completion positions (padded), G completions per prompt,
V vocabulary. Rows are laid out group-contiguous: rows g*G .. g*G+G-1 share one prompt.
A `mask` is [N, T] (bool or 0/1 float; nonzero means the token is trained on: completion
tokens, not padding and not hint tokens).

Variants are chosen by name through registries (`ADVANTAGE_SCALERS`, `LOSS_AGGREGATORS`), as in
verl's `core_algos`, so configs can name them and new ones can be added without new branches.
Nothing here keeps state; every function maps tensors to tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "ADVANTAGE_SCALERS",
    "ADVANTAGE_SCALES",
    "LOSS_AGGREGATORS",
    "LOSS_TYPES",
    "LossOutput",
    "advantage_shares",
    "advantage_sums",
    "aggregate_loss",
    "balance_advantages",
    "center_advantages",
    "center_advantages_in_groups",
    "clipped_surrogate",
    "entropy_from_logits",
    "group_advantages",
    "grpo_loss",
    "kl_k3",
    "masked_mean",
    "zero_std_groups",
]


def _check_same_shape(**tensors: Tensor) -> None:
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"shapes must match, got {shapes}")


def _check_choice(kind: str, name: str, valid: tuple[str, ...]) -> None:
    if name not in valid:
        raise ValueError(f"unknown {kind} {name!r}; valid: {', '.join(valid)}")


def _grouped(rewards: Tensor, group_size: int) -> Tensor:
    """[N] -> [N/G, G], checking that N splits into whole groups."""
    if rewards.dim() != 1:
        raise ValueError(f"rewards must be 1-D [N], got shape {tuple(rewards.shape)}")
    if group_size < 1 or rewards.numel() % group_size != 0:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of group_size={group_size}")
    return rewards.view(-1, group_size)


# --- advantages -------------------------------------------------------------------------------

# Each scaler gets (grouped rewards [N/G, G], centered [N/G, G], eps) and returns [N/G, G].
ADVANTAGE_SCALERS: dict[str, Callable[[Tensor, Tensor, float], Tensor]] = {
    # GRPO (DeepSeekMath): per-group z-score.
    "group": lambda grouped, centered, eps: centered / (grouped.std(dim=1, keepdim=True) + eps),
    # Batch std keeps the reward scale comparable across groups (REINFORCE++-style) while a
    # group with a tiny spread does not blow up to +-1/eps-sized advantages.
    "batch": lambda grouped, centered, eps: centered / (grouped.std() + eps),
    # Dr. GRPO: the std division biases towards easy/hard prompts, so leave it out.
    "none": lambda grouped, centered, eps: centered,
}
ADVANTAGE_SCALES: tuple[str, ...] = tuple(ADVANTAGE_SCALERS)


def group_advantages(rewards: Tensor, group_size: int, scale: str = "group", eps: float = 1e-4) -> Tensor:
    """Group-relative advantages, one per completion.

    A_i = (r_i - mean_{j in group(i)} r_j) / (s + eps), with s the unbiased std of the group
    (`scale="group"`), of all N rewards (`"batch"`), or no division (`"none"`: A_i = r_i - mean).

    rewards: [N] float, group-contiguous, N % group_size == 0. Returns [N] (float).
    A group whose rewards are all equal gets zeros (also with eps=0). With group_size 1 the group std is
    undefined (and the centered reward is 0 anyway), so the result is all zeros.
    """
    _check_choice("advantage scale", scale, ADVANTAGE_SCALES)
    if not rewards.is_floating_point():
        rewards = rewards.float()
    grouped = _grouped(rewards, group_size)
    if group_size == 1:
        return torch.zeros_like(rewards)
    centered = grouped - grouped.mean(dim=1, keepdim=True)
    scaled = ADVANTAGE_SCALERS[scale](grouped, centered, eps)
    # A flat group is 0/0 when eps == 0, and its mean may round away from its value (three equal
    # rewards of 2.9): its advantages are exactly 0 whatever the scale, so the update can skip it.
    flat = grouped.amax(dim=1, keepdim=True) == grouped.amin(dim=1, keepdim=True)
    return torch.where((centered == 0) | flat, torch.zeros_like(scaled), scaled).reshape(-1)


def _class_index(advantages: Tensor, classes: Sequence[str]) -> tuple[list[str], Tensor]:
    """(the class names sorted, each row's class index [N])."""
    if len(classes) != advantages.numel():
        raise ValueError(f"got {len(classes)} classes for {advantages.numel()} advantages")
    names = sorted(set(classes))
    position = {name: k for k, name in enumerate(names)}
    return names, torch.tensor([position[c] for c in classes], dtype=torch.long)


def _sum_by_class(values: Tensor, index: Tensor, count: int) -> Tensor:
    """Each class's sum of `values` [count], rows assigned by `index`."""
    return torch.zeros(count, dtype=values.dtype).index_add_(0, index, values)


def advantage_shares(advantages: Tensor, classes: Sequence[str], names: Sequence[str] = ()) -> dict[str, float]:
    """Each class's share of the total |advantage| (0 for every class when all are 0): which gold
    answers a step's update pulls for. `names` are reported too (0 when absent), so every step
    logs the same keys."""
    present, index = _class_index(advantages, classes)
    totals = _sum_by_class(advantages.abs(), index, len(present))
    total = float(totals.sum())
    shares = dict.fromkeys(names, 0.0)
    shares.update({name: float(t) / total if total > 0 else 0.0 for name, t in zip(present, totals, strict=True)})
    return dict(sorted(shares.items()))


def balance_advantages(advantages: Tensor, classes: Sequence[str], max_weight: float = 3.0) -> Tensor:
    """Rescale advantages so the rows of each class carry the same total |advantage|.

    Meant for classes = each row's gold polarity: the update then pulls equally for every gold
    answer, whatever the stream's mix and however often the policy misses each answer. (On the VADER
    recipe it did not stop the answers' move to "negative": RESULTS, "Advantages balanced per gold
    polarity".)

    advantages: [N]; classes: N keys (one per row). With S_c the sum of |A| over the rows of class c
    and S the mean of S_c over the classes with S_c > 0, a row of class c gets
    A * clamp(S / S_c, 1 / max_weight, max_weight): the clamp keeps a class whose only spread is
    score noise (a tiny S_c) from being blown up. Classes with S_c = 0 are left at 0.
    """
    if max_weight < 1.0:
        raise ValueError(f"max_weight must be >= 1, got {max_weight}")
    names, index = _class_index(advantages, classes)
    totals = _sum_by_class(advantages.abs(), index, len(names))
    active = totals > 0
    if not bool(active.any()):
        return advantages.clone()
    target = totals[active].mean()
    weights = torch.where(active, target / totals.where(active, torch.ones_like(totals)), torch.ones_like(totals))
    return advantages * weights.clamp(1.0 / max_weight, max_weight)[index]


def advantage_sums(advantages: Tensor, classes: Sequence[str], names: Sequence[str] = ()) -> dict[str, float]:
    """Each class's advantage sum (signed). With classes = the rollouts' own answers this is the
    step's push on each answer shared by all prompts (see `center_advantages`); `names` are
    reported too (0 when absent), so every step logs the same keys."""
    present, index = _class_index(advantages, classes)
    sums = _sum_by_class(advantages, index, len(present))
    out = dict.fromkeys(names, 0.0)
    out.update({name: float(total) for name, total in zip(present, sums, strict=True)})
    return dict(sorted(out.items()))


def center_advantages(advantages: Tensor, classes: Sequence[str], keep: Sequence[str] = ()) -> Tensor:
    """Subtract from each row the mean advantage of the rows with its class.

    Meant for classes = each rollout's own answer (its parsed polarity, or label). In a group the
    advantages sum to 0, so a step's push on the first answer token's logits, shared by all
    prompts, is each answer's advantage sum (`rl.rollouts.advantage_pull`); when the policy's
    errors are uneven across answers, that sum moves every prompt's answer the same way (RESULTS,
    "Where the move to "negative" comes from"). After centring every answer's sum is 0, but the
    groups' sums no longer are, and the shared push reappears through them (a unanimous group now
    gets minus its answer's mean): on the VADER recipe it was as large as without centring
    (RESULTS, "Advantages centred per answer"). `center_advantages_in_groups` removes both.

    advantages: [N]; classes: N keys. Rows whose class is in `keep` (e.g. "none" for answers that
    did not parse, which the format reward must still push down) are left as they are.
    """
    names, index = _class_index(advantages, classes)
    means = _sum_by_class(advantages, index, len(names)) / _sum_by_class(torch.ones_like(advantages), index, len(names))
    means[[k for k, name in enumerate(names) if name in set(keep)]] = 0.0
    return advantages - means[index]


def center_advantages_in_groups(
    advantages: Tensor, classes: Sequence[str], groups: Sequence[int], keep: Sequence[str] = ()
) -> Tensor:
    """The advantages less their best fit by one term per answer plus one term per group (least
    squares): every answer's sum and every group's sum are then 0.

    Why both: the first-order push of a step on an answer b's first-token logit, shared by all
    prompts, is sum_i A_i (1[a_i = b] - p_b(x_i)), with p_b(x) the policy's probability of b on
    prompt x (the same for a group's rows). While every group sums to 0 the second term vanishes
    and the push is the answer's advantage sum; `center_advantages` zeroes that sum but breaks the
    group sums, which moves the push into the second term (RESULTS, "Advantages centred per
    answer"). With both sums 0 the push is 0 whatever p_b is. What is left is the interaction:
    an answer raised on the prompts where it did better than its groups and its batch would
    predict. A unanimous group with flat rewards stays at 0.

    advantages: [N]; classes: N answer keys; groups: N group ids. Rows whose class is in `keep`
    get no answer term (only their group's), so e.g. unparsed answers keep their push down
    relative to their group.
    """
    if len(groups) != advantages.numel():
        raise ValueError(f"got {len(groups)} group ids for {advantages.numel()} advantages")
    names, index = _class_index(advantages, classes)
    fitted = [k for k, name in enumerate(names) if name not in set(keep)]
    group_ids = sorted(set(groups))
    design = torch.zeros(advantages.numel(), len(fitted) + len(group_ids), dtype=torch.float64)
    for column, k in enumerate(fitted):
        design[:, column] = (index == k).double()
    position = {g: len(fitted) + j for j, g in enumerate(group_ids)}
    design[torch.arange(advantages.numel()), [position[g] for g in groups]] = 1.0
    target = advantages.double().unsqueeze(1)
    # the two blocks share the all-ones direction (rank-deficient): the pseudo-inverse's fit is the
    # orthogonal projection onto their span either way
    fit = design @ (torch.linalg.pinv(design) @ target)
    return (target - fit).squeeze(1).to(advantages.dtype)


def zero_std_groups(rewards: Tensor, group_size: int, tol: float = 1e-6) -> Tensor:
    """Groups that carry no learning signal: max_j r_j - min_j r_j <= tol.

    rewards: [N], group-contiguous. Returns [N/G] bool.
    """
    grouped = _grouped(rewards, group_size)
    return (grouped.amax(dim=1) - grouped.amin(dim=1)) <= tol


# --- per-token terms --------------------------------------------------------------------------


def kl_k3(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """Schulman's k3 estimator of KL(pi || pi_ref), per token.

    k3 = exp(ref - logp) - (ref - logp) - 1, elementwise, >= 0 (since e^x >= 1 + x); unbiased for
    the KL under samples from pi and lower-variance than -log ratio. Any shape, both equal.
    """
    _check_same_shape(logp=logp, ref_logp=ref_logp)
    log_ratio = ref_logp - logp
    return torch.exp(log_ratio) - log_ratio - 1.0


def clipped_surrogate(
    logp: Tensor, old_logp: Tensor, advantages: Tensor, eps_low: float = 0.2, eps_high: float = 0.2
) -> tuple[Tensor, Tensor, Tensor]:
    """PPO clipped surrogate, per token (eps_high > eps_low is DAPO's clip-higher).

    ratio = exp(logp - old_logp);
    loss = -min(ratio * A, clamp(ratio, 1 - eps_low, 1 + eps_high) * A).

    logp, old_logp: [N, T]; advantages: [N], broadcast over T.
    Returns (loss [N, T], clipped_low [N, T] bool: ratio < 1 - eps_low and A < 0,
    clipped_high [N, T] bool: ratio > 1 + eps_high and A > 0); the flags mark exactly the tokens
    whose gradient the clip removed.
    """
    _check_same_shape(logp=logp, old_logp=old_logp)
    if logp.dim() != 2 or advantages.shape != logp.shape[:1]:
        raise ValueError(
            f"need logp [N, T] and advantages [N], got logp {tuple(logp.shape)}, advantages {tuple(advantages.shape)}"
        )
    adv = advantages.unsqueeze(1)
    ratio = torch.exp(logp - old_logp)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv
    loss = -torch.minimum(unclipped, clipped)
    clipped_low = (ratio < 1.0 - eps_low) & (adv < 0)
    clipped_high = (ratio > 1.0 + eps_high) & (adv > 0)
    return loss, clipped_low, clipped_high


# --- reductions -------------------------------------------------------------------------------


def masked_mean(values: Tensor, mask: Tensor, dim: int | None = None) -> Tensor:
    """sum(values * mask) / sum(mask), over `dim` (all elements if None); 0 where the mask is empty.

    values, mask: same shape. Masked-out entries are selected away (not multiplied by 0), so a
    NaN/inf there cannot leak into the result.
    """
    _check_same_shape(values=values, mask=mask)
    keep = mask.bool()
    total = torch.where(keep, values, torch.zeros_like(values))
    count = keep.to(values.dtype)
    if dim is None:
        total, count = total.sum(), count.sum()
    else:
        total, count = total.sum(dim), count.sum(dim)
    return torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))


def _masked_sum(per_token: Tensor, keep: Tensor) -> Tensor:
    return torch.where(keep, per_token, torch.zeros_like(per_token)).sum()


def _agg_grpo(
    per_token: Tensor, keep: Tensor, num_sequences: float | None, num_tokens: float | None, max_len: int | None
) -> Tensor:
    # Sequence-mean then sum / window size, so each minibatch's share adds up to the full batch.
    per_seq = masked_mean(per_token, keep, dim=1)
    return per_seq.sum() / (num_sequences if num_sequences is not None else per_token.shape[0])


def _agg_dapo(
    per_token: Tensor, keep: Tensor, num_sequences: float | None, num_tokens: float | None, max_len: int | None
) -> Tensor:
    # Token-level mean over the whole window: long completions weigh in proportion to length.
    denom = float(num_tokens) if num_tokens is not None else float(keep.sum().item())
    return _masked_sum(per_token, keep) / max(denom, 1.0)


def _agg_dr_grpo(
    per_token: Tensor, keep: Tensor, num_sequences: float | None, num_tokens: float | None, max_len: int | None
) -> Tensor:
    # Dr. GRPO: a constant denominator removes the length bias of per-sequence means.
    if max_len is None:
        raise ValueError("loss_type 'dr_grpo' needs max_completion_length (a constant across minibatches)")
    n = num_sequences if num_sequences is not None else per_token.shape[0]
    return _masked_sum(per_token, keep) / (n * max_len)


LOSS_AGGREGATORS: dict[str, Callable[[Tensor, Tensor, float | None, float | None, int | None], Tensor]] = {
    "grpo": _agg_grpo,
    "dapo": _agg_dapo,
    "dr_grpo": _agg_dr_grpo,
}
LOSS_TYPES: tuple[str, ...] = tuple(LOSS_AGGREGATORS)


def aggregate_loss(
    per_token: Tensor,
    mask: Tensor,
    loss_type: str = "grpo",
    *,
    num_sequences: float | None = None,
    num_tokens: float | None = None,
    max_completion_length: int | None = None,
) -> Tensor:
    """Reduce a per-token loss [N, T] under mask [N, T] to a scalar.

    - "grpo":    sum_i (sum_t m_it l_it / max(sum_t m_it, 1)) / S   (a row with no token gives 0)
    - "dapo":    sum_it m_it l_it / max(K, 1)
    - "dr_grpo": sum_it m_it l_it / (S * L)
    with S = num_sequences or N, K = num_tokens or sum(m), L = max_completion_length (required
    for "dr_grpo"). Pass S and K as totals over a gradient-accumulation window: the per-minibatch
    losses then sum to the loss of the whole window.
    """
    _check_choice("loss_type", loss_type, LOSS_TYPES)
    _check_same_shape(per_token=per_token, mask=mask)
    if per_token.dim() != 2:
        raise ValueError(f"per_token must be [N, T], got shape {tuple(per_token.shape)}")
    return LOSS_AGGREGATORS[loss_type](per_token, mask.bool(), num_sequences, num_tokens, max_completion_length)


def entropy_from_logits(logits: Tensor, chunk_size: int = 1024) -> Tensor:
    """Entropy of softmax(logits) along the last dim: H = logsumexp(z) - sum_v softmax(z)_v z_v.

    logits: [..., V] -> [...], float32 (computed in float32 for bf16/fp16 inputs). Rows are
    processed `chunk_size` at a time so a [B, T, V] tensor never gets a full float32 softmax copy.
    Zero-probability entries (including -inf logits) contribute 0.
    """
    flat = logits.reshape(-1, logits.shape[-1])
    parts = []
    for chunk in flat.split(chunk_size, dim=0):
        z = chunk.float()
        probs = torch.softmax(z, dim=-1)
        # where() rather than p * z: p = 0 with z = -inf would give NaN.
        pz = torch.where(probs > 0, probs * z, torch.zeros_like(z)).sum(-1)
        parts.append(torch.logsumexp(z, dim=-1) - pz)
    return torch.cat(parts).reshape(logits.shape[:-1]) if parts else flat.new_zeros(logits.shape[:-1]).float()


# --- full objective ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LossOutput:
    """Result of `grpo_loss`. Only `loss` carries gradient; the rest are detached scalars for logs."""

    loss: Tensor
    policy_loss: Tensor
    kl: Tensor
    clip_ratio_low: Tensor
    clip_ratio_high: Tensor

    def as_floats(self) -> dict[str, float]:
        """Every field as a Python float, keyed by field name."""
        return {name: float(getattr(self, name).detach().item()) for name in self.__dataclass_fields__}


def grpo_loss(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    ref_logp: Tensor | None = None,
    beta: float = 0.0,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
    loss_type: str = "grpo",
    num_sequences: float | None = None,
    num_tokens: float | None = None,
    max_completion_length: int | None = None,
    policy_mask: Tensor | None = None,
) -> LossOutput:
    """GRPO objective: aggregate(clipped_surrogate(logp, old_logp, A) + beta * kl_k3(logp, ref_logp)).

    logp, old_logp, ref_logp, mask: [N, T]; advantages: [N]. Only `logp` receives gradient:
    old_logp, ref_logp and advantages are detached. The KL term is added only when beta > 0.
    See `aggregate_loss` for loss_type and the window totals. `policy_mask` ([N, T], within `mask`)
    says which tokens the surrogate term counts on (default: all of `mask`); a token in `mask` but
    not in it keeps its KL term and its share of the normalisation, and no advantage moves it.
    """
    _check_choice("loss_type", loss_type, LOSS_TYPES)
    _check_same_shape(logp=logp, old_logp=old_logp, mask=mask)
    if policy_mask is not None:
        _check_same_shape(logp=logp, policy_mask=policy_mask)
        if bool((policy_mask > mask).any()):
            raise ValueError("policy_mask must lie within mask")
    if beta < 0 or not math.isfinite(beta):
        raise ValueError(f"beta must be a finite value >= 0, got {beta}")

    def agg(per_token: Tensor) -> Tensor:
        return aggregate_loss(
            per_token,
            mask,
            loss_type,
            num_sequences=num_sequences,
            num_tokens=num_tokens,
            max_completion_length=max_completion_length,
        )

    pg, low, high = clipped_surrogate(logp, old_logp.detach(), advantages.detach(), eps_low, eps_high)
    if policy_mask is not None:
        pg = pg * policy_mask
    policy_loss = agg(pg)
    loss, kl = policy_loss, logp.new_zeros(())
    if beta > 0:
        if ref_logp is None:
            raise ValueError(f"beta={beta} > 0 needs ref_logp")
        _check_same_shape(logp=logp, ref_logp=ref_logp)
        kl_tok = kl_k3(logp, ref_logp.detach())
        loss = agg(pg + beta * kl_tok)
        kl = masked_mean(kl_tok.detach(), mask)
    clipped_over = mask if policy_mask is None else mask * policy_mask  # a held token has no gradient to clip
    return LossOutput(
        loss=loss,
        policy_loss=policy_loss.detach(),
        kl=kl,
        clip_ratio_low=masked_mean(low.to(logp.dtype), clipped_over),
        clip_ratio_high=masked_mean(high.to(logp.dtype), clipped_over),
    )
