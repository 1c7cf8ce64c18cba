"""Dev-venv helper of zoo/install-pretrained-pypi.sh (never a runtime dependency).

Writes a copy of an ONNX model whose weight tensors (Constant nodes of rank >= 2) are graph
initializers instead: WeightWatcher 0.7.7 reads an ONNX model's weights from `graph.initializer`
only (and crashes on a scalar one, so those stay Constant nodes). PaddleOCR's exported models keep
every weight in a Constant node, which WeightWatcher sees as no layer at all; the copy holds the
same tensors, so both tools analyze the same weights (the whole-model parity fixture
test/fixtures/ww/pretrained/ppocr-mobile-cls.json).

Usage: python zoo/onnx_initializers.py <model.onnx> <copy.onnx>
"""
import sys

import onnx


def main():
    source, target = sys.argv[1], sys.argv[2]
    model = onnx.load(source)
    kept = []
    for node in model.graph.node:
        value = node.attribute[0] if node.op_type == 'Constant' and len(node.attribute) == 1 else None
        if value is not None and value.name == 'value' and len(node.output) == 1 and len(value.t.dims) >= 2:
            tensor = onnx.TensorProto()
            tensor.CopyFrom(value.t)
            tensor.name = node.output[0]
            model.graph.initializer.append(tensor)
        else:
            kept.append(node)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    onnx.save(model, target)
    print(f'{target}: {len(model.graph.initializer)} initializers')


if __name__ == '__main__':
    main()
