"""Detector kernels on one window of pixels: background ring thresholds (CFAR), water masks, objects."""
