"""Data: the dataset's images and labels, which of them get labels (picks.py), the training
batches (batches.py) with their augmentation (augment.py), and a drawing made MNIST-like
(canvas.py). No TensorFlow here.

A dataset is a loader returning `mnist.Mnist` arrays, named in DATASETS; a run's config.json
says which one it used (`dataset`).
"""
from sgan_core.data.mnist import load_mnist

DATASETS = {"mnist": load_mnist}
