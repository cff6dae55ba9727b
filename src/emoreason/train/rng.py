"""The RNG states a checkpoint holds, one file per process (rng_rank<N>.pt), so that a resumed
run draws the same numbers as the run that was never stopped.

They are saved as tensors, ints and strings only, which `torch.load(weights_only=True)` reads
without an allow-list (`rng_state`); the numpy array in the RNG files of earlier versions is
read with an allow-list of the few array types it needs (`numpy_array_globals`), so their runs
still resume. `check_rng_state` rejects a malformed state before any generator is touched.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emoreason.train.checkpoint_errors import damaged_checkpoint, first_line


def rng_state() -> dict[str, Any]:
    """Every generator a step draws from, as tensors, ints and strings only, which
    `torch.load(weights_only=True)` reads without an allow-list: numpy's key array is stored as
    a tensor (its legacy state tuple would pickle an ndarray)."""
    numpy_state = np.random.get_state(legacy=False)
    key = numpy_state["state"]["key"]
    numpy_state["state"] = {**numpy_state["state"], "key": torch.from_numpy(key.astype(np.int64))}
    state = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _numpy_state(saved: Any) -> Any:
    """What `np.random.set_state` takes, from a saved state: the dict of `rng_state` (its key
    back to uint32) or the tuple that checkpoints written before it hold."""
    if isinstance(saved, dict):
        inner = saved["state"]
        return {**saved, "state": {**inner, "key": inner["key"].numpy().astype(np.uint32)}}
    return saved


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(_numpy_state(state["numpy"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def check_rng_state(folder: Path, name: str, state: Any) -> None:
    """Set each saved state on a scratch generator, which rejects a malformed one without
    touching the generators the run draws from."""
    try:
        random.Random().setstate(state["python"])
        np.random.RandomState().set_state(_numpy_state(state["numpy"]))
        torch.Generator().set_state(state["torch"])
        if not all(isinstance(cuda, torch.Tensor) for cuda in state.get("cuda", [])):
            raise TypeError("a CUDA state is not a tensor")
    except Exception as err:  # a malformed state surfaces as KeyError, TypeError, ValueError or RuntimeError
        raise damaged_checkpoint(folder, f"{name} does not hold RNG states ({first_line(err)})") from None


def numpy_array_globals() -> list[Any]:
    """The allow-list that reads the numpy RNG state of checkpoints written before `rng_state`
    stored it as a tensor (an ndarray of uint32), applied to rng files only, so that runs saved
    by earlier versions still resume. These types rebuild an array from a dtype and raw bytes and
    call nothing else; the items of an object array would still pass the same restricted
    unpickler, and `check_rng_state` then rejects anything but a generator state. Both module
    names numpy has used for `_reconstruct` are listed."""
    reconstruct = np.empty(0).__reduce__()[0]
    return [
        reconstruct,
        (reconstruct, "numpy.core.multiarray._reconstruct"),
        np.ndarray,
        np.dtype,
        type(np.dtype(np.uint32)),
    ]


__all__ = ["check_rng_state", "numpy_array_globals", "rng_state", "set_rng_state"]
