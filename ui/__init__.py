"""Streamlit-only helpers: cached resources and widgets shared by the pages."""
