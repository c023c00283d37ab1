"""Vectorised indicators: whole float64 histories in, arrays of the same length out.

Every function returns NaN for the warm-up positions and accepts anything ``numpy.asarray``
turns into a one-dimensional float array. Inputs must be finite: a NaN inside the history
spreads to the windows or the smoothing that contain it.
"""
