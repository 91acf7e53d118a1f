"""Training: the loop (trainer.py), the hooks that write the run directory as it trains
(hooks.py), checkpoints restored by variable name (checkpoints.py), sample grids (grids.py)
and TensorBoard event files (events.py)."""
