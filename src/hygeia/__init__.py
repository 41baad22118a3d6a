"""Hygeia: trustworthy medical and drug-safety AI."""

__version__ = "0.1.0"
