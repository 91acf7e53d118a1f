"""SGAN Lab's Streamlit helpers: run lookup and formatting for the pages, the Draw page's canvas,
and a driver for tests and benchmarks that open the dashboard in a real browser."""
