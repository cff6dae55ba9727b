"""Tests for emoreason.rl.core against numbers worked out by hand (derivations in comments)."""

from __future__ import annotations

import math

import pytest
import torch

from emoreason.rl.core import (
    ADVANTAGE_SCALES,
    LOSS_TYPES,
    advantage_shares,
    advantage_sums,
    aggregate_loss,
    balance_advantages,
    center_advantages,
    center_advantages_in_groups,
    clipped_surrogate,
    entropy_from_logits,
    group_advantages,
    grpo_loss,
    kl_k3,
    masked_mean,
    zero_std_groups,
)

T = torch.tensor
close = torch.testing.assert_close
REWARDS = T([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0])  # G = 4: one informative group, one flat


def test_registries_names():
    assert ADVANTAGE_SCALES == ("group", "batch", "none")
    assert LOSS_TYPES == ("grpo", "dapo", "dr_grpo")


# --- advantages -------------------------------------------------------------------------------
# Group 1 [1,0,0,0]: mean 0.25, centered [0.75,-0.25,-0.25,-0.25],
# unbiased var (0.5625 + 3*0.0625)/3 = 0.25, std 0.5. Group 2 is flat: centered all 0.
# Batch (all 8): mean 0.625, sum sq dev 5*0.375^2 + 3*0.625^2 = 1.875, var 1.875/7, std 0.51754917.


# balance_advantages: two groups of gold negative (|A| total 1 + 1 + 0.5 + 0.5 = 3), one of gold
# positive (0.1 + 0.1 = 0.2), one flat neutral group (0: left alone). Mean over the active classes
# S = (3 + 0.2) / 2 = 1.6: negative rows x 1.6 / 3, positive rows x 1.6 / 0.2 = 8, clamped to 3.
BALANCE_ADV = T([1.0, -1.0, 0.5, -0.5, 0.1, -0.1, 0.0, 0.0])
BALANCE_GOLD = ["negative"] * 4 + ["positive"] * 2 + ["neutral"] * 2


def test_balance_advantages_hand_values():
    w = 1.6 / 3
    close(balance_advantages(BALANCE_ADV, BALANCE_GOLD), T([w, -w, 0.5 * w, -0.5 * w, 0.3, -0.3, 0.0, 0.0]))
    # unclamped, each class carries the same total |A|: 3 * 1.6 / 3 = 0.2 * 8 = 1.6
    out = balance_advantages(BALANCE_ADV, BALANCE_GOLD, max_weight=10.0)
    close(out[4:6], T([0.8, -0.8]))
    close(out[:4].abs().sum(), out[4:].abs().sum())
    # one class only, or no spread at all: nothing to balance
    close(balance_advantages(BALANCE_ADV[:4], BALANCE_GOLD[:4]), BALANCE_ADV[:4])
    close(balance_advantages(torch.zeros(4), ["a", "b", "a", "b"]), torch.zeros(4))


def test_advantage_shares_hand_values():
    # |A| totals 3, 0.2, 0 of 3.2
    shares = advantage_shares(BALANCE_ADV, BALANCE_GOLD)
    assert shares == pytest.approx({"negative": 3 / 3.2, "positive": 0.2 / 3.2, "neutral": 0.0})
    assert advantage_shares(torch.zeros(2), ["a", "b"]) == {"a": 0.0, "b": 0.0}
    assert advantage_shares(T([1.0, -1.0]), ["a", "a"], names=["a", "b"]) == {"a": 1.0, "b": 0.0}


# center_advantages, classes = each rollout's own answer: two groups [1, -1], [0.5, -0.5] whose
# right answer is negative, a third [0.3, -0.3] with a neutral and an unparsed answer. Answer
# sums: negative 1 + 0.5 = 1.5, positive -1.5, neutral 0.3, none -0.3. Means: negative 0.75,
# positive -0.75, neutral 0.3 (one row); "none" is kept, so its row stays -0.3.
CENTER_ADV = T([1.0, -1.0, 0.5, -0.5, 0.3, -0.3])
CENTER_ANSWERS = ["negative", "positive", "negative", "positive", "neutral", "none"]


def test_advantage_sums_hand_values():
    sums = advantage_sums(CENTER_ADV, CENTER_ANSWERS, names=["negative", "neutral", "positive", "mixed"])
    assert sums == pytest.approx({"mixed": 0.0, "negative": 1.5, "neutral": 0.3, "none": -0.3, "positive": -1.5})


def test_center_advantages_hand_values():
    out = center_advantages(CENTER_ADV, CENTER_ANSWERS, keep=("none",))
    close(out, T([0.25, -0.25, -0.25, 0.25, 0.0, -0.3]))
    # every centred answer now sums to 0; the kept one is untouched
    assert advantage_sums(out, CENTER_ANSWERS) == pytest.approx(
        {"negative": 0.0, "positive": 0.0, "neutral": 0.0, "none": -0.3}
    )
    # nothing kept: the unparsed row is centred too (a lone row goes to 0)
    close(center_advantages(CENTER_ADV, CENTER_ANSWERS)[5], T(0.0))
    # already centred: unchanged
    close(center_advantages(out[:4], CENTER_ANSWERS[:4]), out[:4])
    with pytest.raises(ValueError, match="2 classes for 6 advantages"):
        center_advantages(CENTER_ADV, ["a", "b"])


# center_advantages_in_groups. Two groups, each [negative, positive], with advantages [1, -1] and
# [0.5, -0.5]: the fit is answer terms +-0.75 and group terms 0, so the residual is the
# interaction [+0.25, -0.25, -0.25, +0.25] (each group and each answer sums to 0).
def test_center_advantages_in_groups_hand_values():
    out = center_advantages_in_groups(T([1.0, -1.0, 0.5, -0.5]), ["negative", "positive"] * 2, [0, 0, 1, 1])
    close(out, T([0.25, -0.25, -0.25, 0.25]))
    # one informative group beside a unanimous one: pushing "negative" up on group 0's prompt is,
    # to first order, the shared push itself (answer sum and group sums 0 force every row to 0)
    out = center_advantages_in_groups(
        T([1.0, -1.0, 0.0, 0.0]), ["negative", "positive", "negative", "negative"], [0, 0, 1, 1]
    )
    close(out, torch.zeros(4), atol=1e-6, rtol=0)
    # an unparsed row kept out of the answer terms: group 1 = [negative, none] at [0.5, -0.5].
    # Answer terms for negative and positive and two group terms are 4 independent columns for
    # 4 rows, so the fit is exact and every row is 0 (an earlier version of this test asked the
    # none row to be below 0, which only float rounding had made true)
    out = center_advantages_in_groups(
        T([1.0, -1.0, 0.5, -0.5]), ["negative", "positive", "negative", "none"], [0, 0, 1, 1], keep=("none",)
    )
    close(out, torch.zeros(4), atol=1e-9, rtol=0)
    # two groups of [negative, none]: one answer term and two group terms for 4 rows leave
    # 0.25 x (+1, -1, -1, +1), by hand: every group and the negative answers sum to 0
    out = center_advantages_in_groups(
        T([1.0, -1.0, 0.5, -0.5]), ["negative", "none", "negative", "none"], [0, 0, 1, 1], keep=("none",)
    )
    close(out, T([0.25, -0.25, -0.25, 0.25]))
    with pytest.raises(ValueError, match="3 group ids for 4 advantages"):
        center_advantages_in_groups(T([1.0, -1.0, 0.5, -0.5]), ["a"] * 4, [0, 0, 1])


def test_center_advantages_in_groups_properties():
    # random batch of 6 groups x 4: every answer's and every group's sum is 0 afterwards, the
    # exact shared push sum_i A_i (1[a_i = b] - p_b(group_i)) is 0 for any p, and a second pass
    # changes nothing
    gen = torch.Generator().manual_seed(0)
    adv = torch.randn(24, generator=gen, dtype=torch.float64)
    answers = [("negative", "neutral", "positive")[int(i)] for i in torch.randint(0, 3, (24,), generator=gen)]
    groups = [i // 4 for i in range(24)]
    out = center_advantages_in_groups(adv, answers, groups)
    for name in set(answers):
        assert float(sum(a for a, c in zip(out, answers) if c == name)) == pytest.approx(0.0, abs=1e-9)
    for g in range(6):
        assert float(out[4 * g : 4 * g + 4].sum()) == pytest.approx(0.0, abs=1e-9)
    p = torch.rand(6, 3, generator=gen, dtype=torch.float64)
    for b, name in enumerate(("negative", "neutral", "positive")):
        push = sum(float(a) * ((c == name) - float(p[g, b])) for a, c, g in zip(out, answers, groups))
        assert push == pytest.approx(0.0, abs=1e-9)
    close(center_advantages_in_groups(out, answers, groups), out)


def test_balance_advantages_rejects_bad_input():
    with pytest.raises(ValueError, match="3 classes for 8 advantages"):
        balance_advantages(BALANCE_ADV, ["a"] * 3)
    with pytest.raises(ValueError, match="max_weight"):
        balance_advantages(BALANCE_ADV, BALANCE_GOLD, max_weight=0.5)


@pytest.mark.parametrize(
    ("scale", "eps", "first"),
    [
        ("group", 0.0, [1.5, -0.5, -0.5, -0.5]),
        ("group", 1e-4, [0.75 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001]),
        ("group", 0.5, [0.75, -0.25, -0.25, -0.25]),  # 0.75 / (0.5 + 0.5)
        ("batch", 0.0, [1.449137674618944, -0.48304589153964794, -0.48304589153964794, -0.48304589153964794]),
        ("none", 1e-4, [0.75, -0.25, -0.25, -0.25]),
    ],
)
def test_group_advantages_hand_values(scale, eps, first):
    adv = group_advantages(REWARDS, 4, scale=scale, eps=eps)
    close(adv, T(first + [0.0, 0.0, 0.0, 0.0]))


def test_group_advantages_default_eps_and_size_one():
    close(group_advantages(REWARDS, 4)[:2], T([1.4997000599880024, -0.4999000199960008]))
    close(group_advantages(REWARDS, 1, scale="batch"), torch.zeros(8))
    assert group_advantages(T([1, 0, 1, 1]), 2).dtype.is_floating_point  # int rewards accepted


def test_a_flat_group_gets_exact_zeros_even_when_its_mean_rounds():
    rewards = T([2.9, 2.9, 2.9, 1.0, 2.0, 3.0])  # the float32 mean of three 2.9 is not 2.9
    assert (rewards[:3] - rewards[:3].mean()).abs().max() > 0
    for scale in ("group", "batch", "none"):
        adv = group_advantages(rewards, 3, scale=scale)
        assert adv[:3].tolist() == [0.0, 0.0, 0.0]
    close(group_advantages(rewards, 3)[3:], T([-1, 0, 1]) / (1 + 1e-4))


def test_group_advantages_errors():
    with pytest.raises(ValueError, match=r"7.*3|3.*7"):
        group_advantages(torch.zeros(7), 3)
    with pytest.raises(ValueError, match="group, batch, none"):
        group_advantages(REWARDS, 4, scale="rank")
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        group_advantages(torch.zeros(2, 4), 4)


def test_zero_std_groups():
    assert zero_std_groups(REWARDS, 4).tolist() == [False, True]
    assert zero_std_groups(T([0.5, 0.5 + 1e-8, 0.0, 1.0]), 2).tolist() == [True, False]
    assert zero_std_groups(T([0.0, 0.1]), 2, tol=0.2).tolist() == [True]


# --- per-token terms --------------------------------------------------------------------------


def test_kl_k3():
    logp = T([math.log(0.5), -3.0])
    close(kl_k3(logp, logp.clone()), torch.zeros(2))
    # ref - logp = ln(0.25/0.5) = -ln 2: exp(-ln 2) + ln 2 - 1 = 0.5 + 0.693147 - 1
    close(kl_k3(T([math.log(0.5)]), T([math.log(0.25)])), T([0.1931471805599454]))
    # swapped: ref - logp = ln 2: 2 - ln 2 - 1
    close(kl_k3(T([math.log(0.25)]), T([math.log(0.5)])), T([0.3068528194400546]))
    assert bool((kl_k3(torch.randn(50), torch.randn(50)) >= 0).all())
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        kl_k3(torch.zeros(2), torch.zeros(3))


# Rows of T=1, old_logp = 0 so ratio = exp(logp): (ratio, A)
SURR_RATIOS = T([[1.5], [0.5], [1.5], [0.5]])
SURR_ADV = T([1.0, -1.0, -1.0, 1.0])


def test_clipped_surrogate_cases():
    loss, low, high = clipped_surrogate(SURR_RATIOS.log(), torch.zeros(4, 1), SURR_ADV)
    # 1.5,+1: min(1.5, 1.2) = 1.2 -> -1.2 (clipped high); 0.5,-1: min(-0.5, -0.8) -> +0.8 (clipped low)
    # 1.5,-1: min(-1.5, -1.2) -> +1.5 (unclipped); 0.5,+1: min(0.5, 0.8) -> -0.5 (unclipped)
    close(loss, T([[-1.2], [0.8], [1.5], [-0.5]]))
    assert low.flatten().tolist() == [False, True, False, False]
    assert high.flatten().tolist() == [True, False, False, False]


def test_clipped_surrogate_asymmetric():
    ratios, adv = T([[1.25], [0.75]]), T([1.0, -1.0])
    sym, _, sym_high = clipped_surrogate(ratios.log(), torch.zeros(2, 1), adv)
    close(sym, T([[-1.2], [0.8]]))  # 1.25 clipped to 1.2; 0.75 clipped up to 0.8
    asym, low, high = clipped_surrogate(ratios.log(), torch.zeros(2, 1), adv, eps_low=0.3, eps_high=0.28)
    close(asym, T([[-1.25], [0.75]]))  # inside [0.7, 1.28]: no clip either side
    assert sym_high.flatten().tolist() == [True, False] and not bool(low.any() or high.any())


def test_clipped_surrogate_shape_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        clipped_surrogate(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        clipped_surrogate(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2))


# --- reductions -------------------------------------------------------------------------------


def test_masked_mean():
    v, m = T([[1.0, 2.0], [3.0, float("nan")]]), T([[1, 0], [1, 0]])
    close(masked_mean(v, m), T(2.0))  # (1 + 3) / 2; the NaN is masked out
    close(masked_mean(v, m, dim=1), T([1.0, 3.0]))
    close(masked_mean(v, torch.zeros(2, 2)), T(0.0))
    close(masked_mean(v, T([[1, 1], [0, 0]]), dim=1), T([1.5, 0.0]))


# Row 0: tokens 1,2 trained; row 1: token 4 trained; row 2: nothing trained (e.g. all hint).
PER_TOKEN = T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
MASK = T([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
# grpo: (mean(1,2) + mean(4) + 0) / 3 = (1.5 + 4) / 3; dapo: (1+2+4)/3; dr_grpo (L=4): 7 / (3*4)
AGG_EXPECTED = {"grpo": 5.5 / 3, "dapo": 7.0 / 3, "dr_grpo": 7.0 / 12}


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_aggregate_loss_hand_values_and_masked_tokens_ignored(loss_type):
    out = aggregate_loss(PER_TOKEN, MASK, loss_type, max_completion_length=4)
    close(out, T(AGG_EXPECTED[loss_type]))
    huge = torch.where(MASK.bool(), PER_TOKEN, T(1e9))
    close(aggregate_loss(huge, MASK.bool(), loss_type, max_completion_length=4), T(AGG_EXPECTED[loss_type]))


def test_aggregate_loss_window_totals_and_errors():
    close(aggregate_loss(PER_TOKEN, MASK, "grpo", num_sequences=11), T(5.5 / 11))
    close(aggregate_loss(PER_TOKEN, MASK, "dapo", num_tokens=14), T(0.5))
    close(aggregate_loss(PER_TOKEN * 0, torch.zeros(3, 3), "dapo"), T(0.0))  # empty: no 0/0
    with pytest.raises(ValueError, match="max_completion_length"):
        aggregate_loss(PER_TOKEN, MASK, "dr_grpo")
    with pytest.raises(ValueError, match="grpo, dapo, dr_grpo"):
        aggregate_loss(PER_TOKEN, MASK, "seq_mean")
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(3, 2\)"):
        aggregate_loss(PER_TOKEN, MASK[:, :2])


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_aggregate_loss_minibatches_sum_to_full_batch(loss_type):
    gen = torch.Generator().manual_seed(0)
    per_token = torch.randn(6, 5, generator=gen)
    mask = (torch.rand(6, 5, generator=gen) > 0.4).float()
    mask[2] = 0  # a row with nothing trained
    full = aggregate_loss(per_token, mask, loss_type, max_completion_length=5)
    totals = dict(num_sequences=6, num_tokens=float(mask.sum()), max_completion_length=5)
    parts = [aggregate_loss(per_token[s], mask[s], loss_type, **totals) for s in (slice(0, 2), slice(2, 6))]
    close(parts[0] + parts[1], full)


# --- grpo_loss --------------------------------------------------------------------------------

LOGP = T([[-1.0, -2.0, -3.0], [-0.5, -0.5, -0.1], [-1.0, -1.0, -1.0]])
LOSS_MASK = T([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
ADV = T([1.0, -2.0, 5.0])
# On-policy (ratio 1, no clip): per-token loss = -A_i, d/dlogp_it = -A_i * w_it.
# grpo: w = m/(n_i*N): loss -(1 - 2)/3 = 1/3; grads row0 -1/6, row1 2/9, row2 0 (no tokens).
# dapo: w = m/K, K=5: loss -(1*2 - 2*3)/5 = 0.8; grads row0 -0.2, row1 0.4.
# dr_grpo (L=4): w = m/(N*L)=m/12: loss -(2 - 6)/12 = 1/3; grads row0 -1/12, row1 2/12.
GRPO_EXPECTED = {
    "grpo": (1 / 3, [[-1 / 6, -1 / 6, 0.0], [2 / 9, 2 / 9, 2 / 9], [0.0, 0.0, 0.0]]),
    "dapo": (0.8, [[-0.2, -0.2, 0.0], [0.4, 0.4, 0.4], [0.0, 0.0, 0.0]]),
    "dr_grpo": (1 / 3, [[-1 / 12, -1 / 12, 0.0], [1 / 6, 1 / 6, 1 / 6], [0.0, 0.0, 0.0]]),
}


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("detach_old", [True, False])
def test_grpo_loss_on_policy_value_and_gradient(loss_type, detach_old):
    logp = LOGP.clone().requires_grad_(True)
    old = logp.detach() if detach_old else logp  # grpo_loss must detach old_logp itself
    out = grpo_loss(logp, old, ADV, LOSS_MASK, loss_type=loss_type, max_completion_length=4)
    value, grad = GRPO_EXPECTED[loss_type]
    close(out.loss, T(value))
    close(out.policy_loss, T(value))
    out.loss.backward()
    close(logp.grad, T(grad))
    assert bool((logp.grad[~LOSS_MASK.bool()] == 0).all())  # exactly zero off the mask
    assert out.as_floats() == {
        "loss": pytest.approx(value),
        "policy_loss": pytest.approx(value),
        "kl": 0.0,
        "clip_ratio_low": 0.0,
        "clip_ratio_high": 0.0,
    }
    assert not out.policy_loss.requires_grad and out.loss.requires_grad


def test_grpo_loss_kl_term():
    logp = LOGP.clone().requires_grad_(True)
    ref = logp.detach() + math.log(0.5)  # ref - logp = -ln 2 everywhere: k3 = 0.1931471805599454
    out = grpo_loss(logp, logp.detach(), ADV, LOSS_MASK, ref_logp=ref, beta=0.1)
    k3 = 0.1931471805599454
    # grpo aggregation of a constant c: c * (rows with tokens) / N = c * 2/3
    close(out.loss, T(1 / 3 + 0.1 * k3 * 2 / 3))
    close(out.policy_loss, T(1 / 3))
    close(out.kl, T(k3))
    out.loss.backward()
    # d k3 / d logp = 1 - exp(ref - logp) = 0.5; times beta 0.1 and weight m/(n_i*N)
    close(logp.grad, T([[-1 / 6 + 0.05 / 6] * 2 + [0.0], [2 / 9 + 0.05 / 9] * 3, [0.0] * 3]))
    with pytest.raises(ValueError, match="ref_logp"):
        grpo_loss(logp, logp.detach(), ADV, LOSS_MASK, beta=0.1)
    no_kl = grpo_loss(logp, logp.detach(), ADV, LOSS_MASK, ref_logp=ref, beta=0.0)
    close(no_kl.kl, T(0.0))
    close(no_kl.loss, T(1 / 3))


def test_grpo_loss_policy_mask_keeps_a_token_out_of_the_surrogate_not_out_of_kl_or_counts():
    logp = LOGP.clone().requires_grad_(True)
    ref = logp.detach() + math.log(0.5)  # k3 = 0.1931471805599454 everywhere, d k3 / d logp = 0.5
    policy = LOSS_MASK.clone()
    policy[1, 0] = 0.0  # row 1's first token: no advantage term
    out = grpo_loss(logp, logp.detach(), ADV, LOSS_MASK, ref_logp=ref, beta=0.1, policy_mask=policy)
    k3 = 0.1931471805599454
    # grpo: rows normalised by their LOSS_MASK counts (2, 3) and N = 3; row 1 loses one of its
    # three -A = 2 terms: policy loss (-1 + 2 * 2/3) / 3 = 1/9
    close(out.policy_loss, T(1 / 9))
    close(out.loss, T(1 / 9 + 0.1 * k3 * 2 / 3))
    out.loss.backward()
    close(logp.grad, T([[-1 / 6 + 0.05 / 6] * 2 + [0.0], [0.05 / 9] + [2 / 9 + 0.05 / 9] * 2, [0.0] * 3]))
    # a held token whose ratio leaves the clip range is not counted as clipped: it has no policy gradient to clip
    moved = LOGP.clone()
    moved[1, 0] -= 1.0  # ratio 1/e at the held token of a row with A < 0: below 1 - 0.2, clipped there
    held = grpo_loss(moved, LOGP, ADV, LOSS_MASK, policy_mask=policy)
    close(held.clip_ratio_low, T(0.0))
    close(grpo_loss(moved, LOGP, ADV, LOSS_MASK).clip_ratio_low, T(1 / 5))  # counted where it is trained
    with pytest.raises(ValueError, match="within mask"):
        grpo_loss(LOGP, LOGP, ADV, LOSS_MASK, policy_mask=torch.ones_like(LOSS_MASK))
    with pytest.raises(ValueError, match="shapes must match"):
        grpo_loss(LOGP, LOGP, ADV, LOSS_MASK, policy_mask=LOSS_MASK[:, :2])


def test_grpo_loss_clip_ratios_and_errors():
    mask = T([[1.0], [1.0], [1.0], [0.0]])
    out = grpo_loss(SURR_RATIOS.log(), torch.zeros(4, 1), SURR_ADV, mask)
    # rows 0..2 trained: one clipped high (row 0), one clipped low (row 1) -> 1/3 each
    close(out.clip_ratio_high, T(1 / 3))
    close(out.clip_ratio_low, T(1 / 3))
    close(out.loss, T((-1.2 + 0.8 + 1.5) / 4))  # rows of one token; grpo divides by N = 4
    with pytest.raises(ValueError, match="grpo, dapo, dr_grpo"):
        grpo_loss(LOGP, LOGP, ADV, LOSS_MASK, loss_type="ppo")
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(3, 2\)"):
        grpo_loss(LOGP, LOGP, ADV, LOSS_MASK[:, :2])
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(2, 3\)"):
        grpo_loss(LOGP, LOGP, ADV, LOSS_MASK, ref_logp=LOGP[:2], beta=0.1)


# --- entropy ----------------------------------------------------------------------------------


def test_entropy_from_logits():
    close(entropy_from_logits(torch.zeros(2, 3, 7)), torch.full((2, 3), math.log(7)))
    peaked = entropy_from_logits(T([[0.0, 0.0, 50.0], [0.0, float("-inf"), float("-inf")]]))
    assert peaked[0] < 1e-6 and peaked[1] == 0.0
    # p = [1/4, 3/4]: -(0.25 ln 0.25 + 0.75 ln 0.75)
    close(entropy_from_logits(T([0.0, math.log(3.0)])), T(0.5623351446188083))
    logits = torch.randn(5, 4, 11, generator=torch.Generator().manual_seed(1)).to(torch.bfloat16)
    chunked = entropy_from_logits(logits, chunk_size=3)
    assert chunked.shape == (5, 4) and chunked.dtype == torch.float32
    close(chunked, entropy_from_logits(logits))
