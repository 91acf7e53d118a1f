"""SGAN Lab engine: data, models, training and run directories. Knows nothing of Streamlit or
plotly, and returns numbers, not sentences: the pages (pages/, sgan_ui/) draw and word them.
The command line (cli.py) is a view too: it prints sgan_ui/words.py's wording, as the pages do.
Status messages and errors are the engine's own words (like an exception's)."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where `python -m sgan_core` runs from
