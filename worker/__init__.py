"""Inference workers: frames stream → faces → emotions → PostgreSQL."""
