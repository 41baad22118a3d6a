"""Web console: Jinja2 pages and htmx fragments over the same domain services the API uses.

Nothing here imports a domain at module import time: each page imports its domain lazily, so a
missing or half-built domain shows a banner with the reason instead of breaking the whole console.
"""
