"""Convolution: conv2d and its two adjoints (the gradient in the input, the transposed
convolution, and the gradient in the weight), unfold/fold (im2col / col2im)."""

from __future__ import annotations
