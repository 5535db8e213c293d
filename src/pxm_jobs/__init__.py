"""pxm-jobs: PXM-style bulk jobs (imports, exports, hierarchy copies) for product catalogs."""

__version__ = "0.1.0"
