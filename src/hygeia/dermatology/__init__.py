"""Dermatoscopic lesion triage (HAM10000 classes): decision support for research, not a diagnosis.

Serving uses ONNX Runtime and numpy only; torch is imported by the training modules alone
(`training`, `export`, `network`, `augment`).
"""
