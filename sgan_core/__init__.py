"""SGAN Lab engine: data, models, training and run directories. Knows nothing of Streamlit."""
