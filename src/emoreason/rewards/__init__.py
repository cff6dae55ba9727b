"""Rewards for RL on reasoning formats: pure components, a weighted composite, trainer adapters.

`components` holds one pure function per signal; `composite` sums named components with
weights (C2F: format + polarity + score; EMO-R3: 0.8 accuracy + 0.1 (coherence + consistency)
+ 0.1 format) and keeps a registry for new ones; `build_reward` is the one factory (a format's
default weights, replaced or extended); `adapters` exposes the composite as TRL reward
functions and as a verl/EasyR1 `compute_score`.
"""

from emoreason.rewards.adapters import (
    TRLRewardFunction,
    completion_text,
    compute_score,
    gold_from_ground_truth,
    task_for_source,
    trl_reward_function,
    trl_reward_functions,
)
from emoreason.rewards.components import (
    SCORE_KINDS,
    accuracy_reward,
    coherence_reward,
    consistency_reward,
    cue_coverage_reward,
    extract_label,
    format_reward,
    negation_coverage_reward,
    negation_reward,
    polarity_reward,
    score_reward,
    valence_reward,
    yes_no,
)
from emoreason.rewards.composite import (
    C2F_WEIGHTS,
    COMPONENTS,
    EMOR3_WEIGHTS,
    R1_WEIGHTS,
    CompositeReward,
    Gold,
    ReflectionAnswers,
    RewardBreakdown,
    RewardComponent,
    build_reward,
    component_names,
    default_format,
    register_component,
    reward_weights,
)

__all__ = [
    "C2F_WEIGHTS",
    "COMPONENTS",
    "EMOR3_WEIGHTS",
    "R1_WEIGHTS",
    "SCORE_KINDS",
    "CompositeReward",
    "Gold",
    "ReflectionAnswers",
    "RewardBreakdown",
    "RewardComponent",
    "TRLRewardFunction",
    "accuracy_reward",
    "build_reward",
    "coherence_reward",
    "completion_text",
    "component_names",
    "compute_score",
    "consistency_reward",
    "cue_coverage_reward",
    "default_format",
    "extract_label",
    "format_reward",
    "gold_from_ground_truth",
    "negation_coverage_reward",
    "negation_reward",
    "polarity_reward",
    "register_component",
    "reward_weights",
    "score_reward",
    "valence_reward",
    "task_for_source",
    "trl_reward_function",
    "trl_reward_functions",
    "yes_no",
]
