"""Adding ONNX nodes and constants to a graph that skl2onnx is building.

:class:`OnnxBuilder` wraps skl2onnx's ``scope`` (unique names) and
``container`` (nodes, initializers) so the graph code reads as a sequence of
operator calls, each returning the name of its output.
"""

import numpy as np

__all__ = ["OnnxBuilder", "MIN_OPSET"]

# ReduceSum and Unsqueeze take their axes as an input from opset 13 on, Shape its start and end from 15.
MIN_OPSET = 15


class OnnxBuilder:
    """Nodes and constants of one converter call.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
    container : skl2onnx.common._container.ModelComponentContainer
    """

    def __init__(self, scope, container):
        from onnx import TensorProto

        self._scope, self._container = scope, container
        self._types = {
            np.dtype(np.float32): TensorProto.FLOAT,
            np.dtype(np.float64): TensorProto.DOUBLE,
            np.dtype(np.int64): TensorProto.INT64,
            np.dtype(bool): TensorProto.BOOL,
        }
        self.string_type = TensorProto.STRING

    def onnx_type(self, dtype):
        """The ONNX element type of a numpy dtype (float32, float64, int64 or bool)."""
        return self._types[np.dtype(dtype)]

    def constant(self, value, dtype, name="constant"):
        """An initializer holding ``value`` as ``dtype`` (``str`` for a string tensor); returns its name."""
        unique = self._scope.get_unique_variable_name(name)
        if dtype is str:
            array = np.asarray(value, dtype=str)
            content = [item.encode("utf-8") for item in array.ravel().tolist()]
            self._container.add_initializer(unique, self.string_type, list(array.shape), content)
            return unique
        array = np.ascontiguousarray(value, dtype=dtype)
        self._container.add_initializer(unique, self.onnx_type(dtype), list(array.shape), array.ravel().tolist())
        return unique

    def op(self, op_type, *inputs, output=None, **attributes):
        """Add one node of the default domain; returns the name of its (single) output."""
        output = output or self._scope.get_unique_variable_name(op_type.lower())
        name = self._scope.get_unique_operator_name(op_type)
        self._container.add_node(op_type, list(inputs), [output], name=name, **attributes)
        return output

    def cast(self, name, dtype, output=None):
        """``name`` converted to ``dtype``."""
        return self.op("Cast", name, output=output, to=self.onnx_type(dtype))

    def column(self, x, index):
        """Column ``index`` of a 2-D tensor, as shape (n, 1)."""
        return self.op("Gather", x, self.constant([index], np.int64, "column"), axis=1)

    def clip(self, x, low, high, dtype):
        """``x`` held within ``[low, high]`` (arrays broadcast against it); NaN, and NaN limits, leave it as it is."""
        low, high = self.constant(low, dtype, "low"), self.constant(high, dtype, "high")
        x = self.op("Where", self.op("Less", x, low), low, x)
        return self.op("Where", self.op("Greater", x, high), high, x)
