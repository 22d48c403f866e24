"""Deployment: export fitted skkan estimators to ONNX.

:func:`to_onnx` writes one estimator as an ONNX model; :func:`register_skl2onnx`
teaches skl2onnx the skkan estimators, so that ``skl2onnx.to_onnx`` converts
whole pipelines holding them. Both need the ``onnx`` extra
(``pip install 'skkan[onnx]'``: onnx, onnxruntime, skl2onnx), imported only
when called.
"""

from ._converters import register_skl2onnx, to_onnx

__all__ = ["register_skl2onnx", "to_onnx"]
