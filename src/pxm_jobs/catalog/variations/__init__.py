"""Variations, their options and modifiers, and the variations a base product names."""

from pxm_jobs.catalog.variations.matrix_inputs import variation_matrix_inputs

__all__ = ["variation_matrix_inputs"]
