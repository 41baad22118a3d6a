"""Pharmacovigilance signal detection: from adverse-event reports to ranked, explained drug-event signals.

Layers, each usable on its own:
  ingest        faers.py (FAERS quarterly ASCII), reports.py (case-level CSV, pre-aggregated counts)
  counting      counts.py (N, marginals, expected E — optionally stratified, as openEBGM's processRaw)
  statistics    disproportionality.py (PRR + Yates chi-square, ROR + CI, BCPNN IC + gamma interval),
                mgps.py / squashing.py / posterior.py (DuMouchel's GPS, openEBGM-compatible)
  decision      priority.py (alert levels, priority score with its components), trend.py (periods, bursts)
  pipeline      scoring.py (one call from a case table to the scored pair table)
  platform      schemas.py, service.py, routes.py, cli.py
"""
