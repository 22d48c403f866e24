"""Adding ONNX nodes and constants to a graph that skl2onnx is building.

:class:`OnnxBuilder` wraps skl2onnx's ``scope`` (unique names) and
``container`` (nodes, initializers) so the graph code reads as a sequence of
operator calls, each returning the name of its output.
"""

import numpy as np

__all__ = ["OnnxBuilder", "MIN_OPSET", "ROW_BLOCK"]

#: Rows per block of :meth:`OnnxBuilder.by_row_blocks`: small enough for a
#: block's temporaries (a few hundred numbers per row) to stay in cache, large
#: enough for the per-block cost of onnxruntime's Scan to vanish.
ROW_BLOCK = 512

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

    def _add_initializer(self, name, onnx_type, shape, content):
        self._container.add_initializer(name, onnx_type, shape, content)

    def _add_node(self, op_type, inputs, output, name, attributes):
        self._container.add_node(op_type, inputs, [output], name=name, **attributes)

    def constant(self, value, dtype, name="constant"):
        """An initializer holding ``value`` as ``dtype`` (``str`` for a string tensor); returns its name."""
        unique = self._scope.get_unique_variable_name(name)
        if dtype is str:
            array = np.asarray(value, dtype=str)
            content = [item.encode("utf-8") for item in array.ravel().tolist()]
            self._add_initializer(unique, self.string_type, list(array.shape), content)
            return unique
        array = np.ascontiguousarray(value, dtype=dtype)
        self._add_initializer(unique, self.onnx_type(dtype), list(array.shape), array.ravel().tolist())
        return unique

    def op(self, op_type, *inputs, output=None, **attributes):
        """Add one node of the default domain; returns the name of its (single) output."""
        output = output or self._scope.get_unique_variable_name(op_type.lower())
        name = self._scope.get_unique_operator_name(op_type)
        self._add_node(op_type, list(inputs), output, name, attributes)
        return output

    def by_row_blocks(self, x, n_columns, dtype, body, n_outputs, output_dtype, block_rows=None):
        """``body`` applied to the rows of ``x`` (n, n_columns) in blocks of at most ``block_rows`` rows.

        ``body(b, x_block)`` receives a builder writing into a Scan's body
        and the name of a (rows, n_columns) block of ``dtype``; it returns
        the name of its (rows, n_outputs) result of ``output_dtype``. The
        rows are padded (with zeros) to equal blocks, as few as the rows
        allow, and the padding is cut off the result: every block's
        temporaries then stay in the processor's cache, which a whole batch
        of a hundred thousand rows does not.
        """
        from onnx import helper

        one = self.constant([1], np.int64, "one")
        rows = self.op("Shape", x, start=0, end=1)
        most = self.constant([block_rows or ROW_BLOCK], np.int64, "block_rows")
        # blocks = max(ceil(n / block_rows), 1); size = ceil(n / blocks); pad = blocks * size - n
        blocks = self.op("Max", self.op("Div", self.op("Add", rows, self.op("Sub", most, one)), most), one)
        size = self.op("Div", self.op("Add", rows, self.op("Sub", blocks, one)), blocks)
        pad = self.op("Sub", self.op("Mul", blocks, size), rows)
        pads = self.op(
            "Concat", self.constant([0, 0], np.int64, "pads"), pad, self.constant([0], np.int64, "pads"), axis=0
        )
        padded = self.op("Pad", x, pads)
        shape = self.op("Concat", blocks, size, self.constant([n_columns], np.int64, "columns"), axis=0)
        stacked = self.op("Reshape", padded, shape, allowzero=1)  # 0 rows: a (1, 0, n_columns) block
        inner = _BodyBuilder(self._scope, self._types)
        block = self._scope.get_unique_variable_name("block")
        result = body(inner, block)
        graph = helper.make_graph(
            inner.nodes,
            self._scope.get_unique_operator_name("rows_body"),
            [helper.make_tensor_value_info(block, self.onnx_type(dtype), [None, n_columns])],
            [helper.make_tensor_value_info(result, self.onnx_type(output_dtype), [None, n_outputs])],
            inner.initializers,
        )
        scanned = self.op("Scan", stacked, body=graph, num_scan_inputs=1)
        flat = self.op("Reshape", scanned, self.constant([-1, n_outputs], np.int64, "shape"))
        return self.op("Slice", flat, self.constant([0], np.int64, "start"), rows, self.constant([0], np.int64, "axes"))

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


class _BodyBuilder(OnnxBuilder):
    """An :class:`OnnxBuilder` collecting the nodes and initializers of a subgraph (a Scan's body)."""

    def __init__(self, scope, types):
        from onnx import TensorProto

        self._scope, self._types = scope, types
        self.string_type = TensorProto.STRING
        self.nodes, self.initializers = [], []

    def _add_initializer(self, name, onnx_type, shape, content):
        from onnx import helper

        self.initializers.append(helper.make_tensor(name, onnx_type, shape, content))

    def _add_node(self, op_type, inputs, output, name, attributes):
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, inputs, [output], name=name, **attributes))
