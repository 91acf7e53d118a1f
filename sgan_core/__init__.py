"""SGAN Lab engine: data, models, training and run directories. Knows nothing of Streamlit or
of how things are shown: the pages (pages/, sgan_ui/) and the command line draw and word it."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where `python -m sgan_core` runs from
