"""Classification metrics for emotion labels (EmoSet, FI, Emotion6, DFEW-style tasks).

Predictions a model failed to give (None, empty, or a label outside the task's set) are not
dropped: dropping them would reward a model for refusing hard items. They count as wrong
and land in an extra confusion-matrix column, `INVALID`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from emoreason.data.schema import normalize_label

INVALID = "<invalid>"


def classification_metrics(
    pred_labels: Sequence[str | None], true_labels: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy (WAR), UAR, weighted and macro F1, and the confusion matrix.

    Labels compare case- and whitespace-insensitively (`normalize_label`). With C[i][j] the
    number of items of gold class i predicted as j (columns: `labels` then `INVALID`):

    - accuracy = war = sum_i C[i][i] / n  (weighted average recall: classes weighted by
      their gold frequency, R1-Omni's WAR).
    - recall_i = C[i][i] / sum_j C[i][j]; uar = mean of recall_i over the classes present
      in gold (a class with no gold item has no recall; including it as 0 or 1 would make
      UAR depend on which classes a test split happens to lack).
    - precision_i = C[i][i] / sum_k C[k][i] (0 when nothing was predicted as i);
      f1_i = 2 p r / (p + r) (0 when p + r = 0).
    - f1_weighted = sum_i support_i f1_i / n; f1_macro = mean f1_i over the gold-present
      classes (the same class set as UAR).

    Returned keys: accuracy, war, uar, f1_weighted, f1_macro, per_class_recall
    ({label: recall} for gold-present classes), confusion_matrix (list of lists, rows =
    `labels` in order, columns = `labels` + [INVALID]), confusion_rows, confusion_columns,
    n, n_invalid. Raises ValueError on empty or mismatched input, duplicate labels, or a gold
    label outside `labels`.
    """
    if len(pred_labels) != len(true_labels):
        raise ValueError(f"pred_labels and true_labels differ in length: {len(pred_labels)} != {len(true_labels)}")
    if len(true_labels) == 0:
        raise ValueError("cannot compute metrics on empty input")
    label_list = [normalize_label(lab) for lab in labels]
    if not label_list:
        raise ValueError("labels is empty: pass the task's label set")
    if len(set(label_list)) != len(label_list):
        raise ValueError(f"labels contain duplicates after normalisation: {label_list}")
    index = {lab: i for i, lab in enumerate(label_list)}
    k = len(label_list)
    invalid_col = k

    gold_idx = np.empty(len(true_labels), dtype=np.intp)
    for n_item, gold in enumerate(true_labels):
        key = normalize_label(gold) if isinstance(gold, str) else None
        if key not in index:
            raise ValueError(f"gold label {gold!r} (item {n_item}) is not in the label set {label_list}")
        gold_idx[n_item] = index[key]

    pred_idx = np.empty(len(pred_labels), dtype=np.intp)
    for n_item, pred in enumerate(pred_labels):
        key = normalize_label(pred) if isinstance(pred, str) else None
        pred_idx[n_item] = index.get(key, invalid_col) if key else invalid_col

    cm = np.zeros((k, k + 1), dtype=np.int64)
    np.add.at(cm, (gold_idx, pred_idx), 1)

    n = int(gold_idx.size)
    correct = np.diag(cm[:, :k])
    support = cm.sum(axis=1)
    predicted = cm[:, :k].sum(axis=0)
    present = support > 0

    recall = np.divide(correct, support, out=np.zeros(k), where=present)
    precision = np.divide(correct, predicted, out=np.zeros(k), where=predicted > 0)
    pr_sum = precision + recall
    f1 = np.divide(2 * precision * recall, pr_sum, out=np.zeros(k), where=pr_sum > 0)

    accuracy = float(correct.sum() / n)
    return {
        "accuracy": accuracy,
        "war": accuracy,
        "uar": float(recall[present].mean()),
        "f1_weighted": float(np.dot(support, f1) / n),
        "f1_macro": float(f1[present].mean()),
        "per_class_recall": {label_list[i]: float(recall[i]) for i in range(k) if present[i]},
        "confusion_matrix": cm.tolist(),
        "confusion_rows": list(label_list),
        "confusion_columns": [*label_list, INVALID],
        "n": n,
        "n_invalid": int(cm[:, invalid_col].sum()),
    }
