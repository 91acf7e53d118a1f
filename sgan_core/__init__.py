"""SGAN Lab's engine: a run flows data -> model -> training -> runs -> reading.

    config.py   RunConfig (the settings of a run, in groups) and the named presets
    values.py   numbers read from files that may be damaged
    files.py    files written whole or not at all, and lock files
    data/       the dataset (MNIST), which images get labels, batches, augmentation, the canvas
    model/      discriminator variants, networks, losses, self-labels, the SGAN and its step
    training/   the training loop, its hooks, checkpoints, sample grids, TensorBoard events
    runs/       the run directory (the contract every reader reads), queue, worker, Ray,
                sweeps, the demo, speed estimates, result tables
    reading/    a run's saved models read back: NumPy forward pass, predictions, committees,
                the generator's desk, how it learned

Where a new thing goes: a discriminator variant in model/variants.py (its logits) and
model/networks.py (its layers); a way to pick the labeled images in data/picks.py; a dataset
in data/ beside mnist.py, named in data/__init__.py's DATASETS. Pages are not here.

The engine knows nothing of Streamlit or plotly and returns facts (codes and numbers), not
sentences: the views (pages/, sgan_ui/, and the command line in sgan_ui/cli.py behind
`python -m sgan_core`) word them. An exception's text is the one exception.
"""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where `python -m sgan_core` runs from
