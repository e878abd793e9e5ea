"""The app: pages, map builders, session state. The only package that imports streamlit."""
