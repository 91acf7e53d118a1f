"""How SGAN Lab is shown: the page list, run lookup and formatting for the pages, plotly figures
(charts.py) and sentences (words.py; neither imports Streamlit, so the command line prints the
same words), the Draw page's canvas, and a driver for tests and benchmarks that open the
dashboard in a real browser."""
