"""FAST: frame-wise sign segmentation (non-sign / in-sign / sign-start) of motions."""
