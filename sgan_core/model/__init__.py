"""The model: discriminator variants (variants.py: their logits), the networks (networks.py),
the losses from logits (losses.py), the teacher's self-labels (selflabels.py, with the bar
math shared with the readers in bars.py) and the SGAN object owning the fused training step
(sgan.py)."""
