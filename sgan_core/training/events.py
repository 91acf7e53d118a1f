"""TensorBoard event files beside the run directory's own files: `tensorboard --logdir runs`
shows every run's scalar curves and its sample grids.

Written with TensorFlow's own summary writer (`tf.summary.experimental.write_raw_pb`) and the
metadata TensorBoard's scalar and image plugins read, so training needs no TensorBoard package
(`tf.summary.scalar` would: it lives in
TensorBoard). TensorBoard itself is optional: `pip install -r requirements-tensorboard.txt`.
"""
from __future__ import annotations

import tensorflow as tf
from PIL import Image
from tensorflow.core.framework import summary_pb2

from sgan_core.training.grids import png_bytes

# TensorBoard groups tags by the part before the first "/"
SCALAR_TAGS = {
    "test_acc": "accuracy/test (10,000 images)",
    "test_acc_subset": "accuracy/test (first 1,000 images)",
    "train_acc": "accuracy/labeled batch",
    "self_labeled": "self-labels/share labeled",
    "self_label_acc": "self-labels/share right",
}


def _metadata(plugin: str, data_class) -> summary_pb2.SummaryMetadata:
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
        data_class=data_class)


SCALAR = _metadata("scalars", summary_pb2.DATA_CLASS_SCALAR)
IMAGE = _metadata("images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE)


def scalar_tag(key: str) -> str:
    return SCALAR_TAGS.get(key) or (f"loss/{key[5:]}" if key.startswith("loss_") else key)


class EventFiles:
    """One writer per training process; a resumed run starts a new file (TensorBoard drops
    the steps a resume trains again). Each row or picture is one Summary written at once."""

    def __init__(self, logdir: str):
        self.writer = tf.summary.create_file_writer(logdir)

    def _write(self, step: int, values: list) -> None:
        with self.writer.as_default():
            tf.summary.experimental.write_raw_pb(
                summary_pb2.Summary(value=values).SerializeToString(), step=step)

    def scalars(self, row: dict) -> None:
        self._write(int(row["step"]), [
            summary_pb2.Summary.Value(tag=scalar_tag(key), metadata=SCALAR,
                                      tensor=tf.make_tensor_proto(float(value), tf.float32))
            for key, value in row.items() if key not in ("step", "elapsed_s")])

    def image(self, tag: str, step: int, image: Image.Image) -> None:
        """A picture, as TensorBoard's image plugin stores it: [width, height, PNG]."""
        w, h = image.size
        tensor = tf.make_tensor_proto([str(w).encode(), str(h).encode(), png_bytes(image)])
        self._write(step, [summary_pb2.Summary.Value(tag=tag, metadata=IMAGE, tensor=tensor)])

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
