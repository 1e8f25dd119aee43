"""Loaders: one module per input format, each returning validated Tool models."""
