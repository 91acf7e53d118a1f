"""ckpt/state.npz: everything a resume needs, restored by variable name.

Each array is stored as `<group>/<name>` (the group from SGAN.variable_groups, the name the
variable's Keras path, e.g. `d/d_conv0/kernel`, `opt_g/g_dense0_kernel_momentum`), beside
`meta` (step, elapsed time, the batch stream's state, and `"by": "name"`). A checkpoint written
before names (`d/0`, `d/1`, ...) is restored by position, as it was written; one that does not
fit the run's networks is refused with a sentence naming the first variable that does not.
"""
from __future__ import annotations

import io
import json

import numpy as np

from sgan_core.files import atomic_write_bytes


class CheckpointMismatch(ValueError):
    """The checkpoint does not hold what this run's networks need; the message says what."""


def state_bytes(groups: dict[str, dict], meta: dict) -> bytes:
    arrays = {f"{group}/{name}": np.asarray(var.numpy())
              for group, variables in groups.items() for name, var in variables.items()}
    arrays["meta"] = np.array(json.dumps({**meta, "by": "name"}))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def save(path, groups: dict[str, dict], meta: dict) -> None:
    atomic_write_bytes(path, state_bytes(groups, meta))


def load(path, groups: dict[str, dict]) -> dict:
    """Assign the checkpoint's arrays to the variables of `groups`; its meta. Raises
    CheckpointMismatch (or an error of the file's format for a damaged file) and then assigns
    nothing."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    if not isinstance(meta, dict):
        raise CheckpointMismatch("its meta is not a JSON object")
    by_name = meta.get("by") == "name"
    values = []
    for group, variables in groups.items():
        for i, (name, var) in enumerate(variables.items()):
            key = f"{group}/{name}" if by_name else f"{group}/{i}"
            if key not in arrays:
                raise CheckpointMismatch(f"it holds no {key} (written by another network or "
                                         "another version)")
            if tuple(arrays[key].shape) != tuple(var.shape):
                raise CheckpointMismatch(f"{key} has shape {arrays[key].shape}, the run's "
                                         f"network needs {tuple(var.shape)}")
            values.append((var, arrays[key]))
    for var, value in values:
        var.assign(value)
    return meta
