"""Regulatory, medical and clinical-research expert assistants over the platform's tools."""
