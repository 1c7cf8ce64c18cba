/**
 * Walks an ONNX ModelProto's graph (and the subgraphs of If/Loop/Scan nodes) with the protobuf
 * scanner, collecting every TensorProto that holds values — `graph.initializer`, `Constant` nodes'
 * `value` attribute, tensor attributes of any node — and a summary of each node (op, inputs,
 * `group`) from which layer hints are derived. Field numbers from onnx/onnx.proto:
 * ModelProto 7 graph; GraphProto 1 node, 5 initializer; NodeProto 1 input, 2 output, 3 name,
 * 4 op_type, 5 attribute; AttributeProto 1 name, 3 i, 5 t, 6 g, 10 tensors, 11 graphs.
 */
import { BadInputError, type ErrorContext } from '../../errors.ts';
import { type ProtoSource, readString, scanFields, varintToSafeInteger } from '../protobuf.ts';
import { type ParsedTensorProto, parseTensorProto } from './tensor-proto.ts';

/** Nesting of subgraphs we follow; real models nest 2-3 deep, a deeper file is hostile. */
const MAX_GRAPH_DEPTH = 32;

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** The `group` attribute of Conv-like nodes (1 when absent). */
  group: number;
  /** Graph path of the node (as `FoundTensor.scope`). */
  scope: string;
}

export interface FoundTensor {
  proto: ParsedTensorProto;
  /** Graph path the tensor was found in ('' = main graph; e.g. 'If_0/then_branch'). */
  scope: string;
  /** Name the graph uses for it (initializer name, or the Constant node's output). */
  graphName: string;
}

export interface ScannedModel {
  tensors: FoundTensor[];
  nodes: OnnxNode[];
}

/** Scan the ModelProto occupying the whole of `source`. */
export async function scanOnnxModel(source: ProtoSource, file: string): Promise<ScannedModel> {
  const model: ScannedModel = { tensors: [], nodes: [] };
  let graphs = 0;
  for await (const field of scanFields(source, 0, source.size, { file })) {
    if (field.number !== 7) continue;
    if (++graphs > 1) throw new BadInputError('malformed ONNX: more than one main graph', { file });
    const span = { start: field.offset, end: field.offset + field.length };
    await scanGraph({ source, model, context: { file } }, span, '', 0);
  }
  if (graphs === 0) throw new BadInputError('not an ONNX model: no graph', { file });
  return model;
}

/** What stays the same while one model is scanned. */
interface ModelScan {
  source: ProtoSource;
  model: ScannedModel;
  context: ErrorContext;
}

/** A message's bytes [start, end) in the source. */
interface Span {
  start: number;
  end: number;
}

async function scanGraph(scan: ModelScan, { start, end }: Span, scope: string, depth: number): Promise<void> {
  const { source, model, context } = scan;
  if (depth > MAX_GRAPH_DEPTH)
    throw new BadInputError(`subgraphs nested deeper than ${MAX_GRAPH_DEPTH}`, context);
  for await (const field of scanFields(source, start, end, context)) {
    if (field.number === 5) {
      const proto = await parseTensorProto(source, field.offset, field.offset + field.length, context);
      model.tensors.push({ proto, scope, graphName: proto.name });
    } else if (field.number === 1) {
      await scanNode(scan, { start: field.offset, end: field.offset + field.length }, scope, depth);
    }
  }
}

async function scanNode(scan: ModelScan, { start, end }: Span, scope: string, depth: number): Promise<void> {
  const { source, model, context } = scan;
  const node: OnnxNode = { opType: '', name: '', inputs: [], outputs: [], group: 1, scope };
  const attributes: Span[] = [];
  for await (const field of scanFields(source, start, end, context)) {
    switch (field.number) {
      case 1:
        node.inputs.push(await readString(source, field, context));
        break;
      case 2:
        node.outputs.push(await readString(source, field, context));
        break;
      case 3:
        node.name = await readString(source, field, context);
        break;
      case 4:
        node.opType = await readString(source, field, context);
        break;
      case 5:
        attributes.push({ start: field.offset, end: field.offset + field.length });
        break;
      default:
        break;
    }
  }
  // Attributes after the node's names are known: they name Constant outputs and subgraph scopes.
  const nodeLabel = node.name || `${node.opType}:${node.outputs[0] ?? model.nodes.length}`;
  for (const attribute of attributes) {
    await scanAttribute(scan, attribute, { node, label: nodeLabel, scope }, depth);
  }
  model.nodes.push(node);
}

async function scanAttribute(
  scan: ModelScan,
  { start, end }: Span,
  owner: { node: OnnxNode; label: string; scope: string },
  depth: number,
): Promise<void> {
  const { source, model, context } = scan;
  const { node, label: nodeLabel, scope } = owner;
  let name = '';
  let intValue: number | undefined;
  const tensors: Span[] = [];
  const graphs: Span[] = [];
  for await (const field of scanFields(source, start, end, context)) {
    if (field.number === 1) name = await readString(source, field, context);
    else if (field.number === 3) intValue = varintToSafeInteger(field.varint, context, 'attribute value');
    else if (field.number === 5 || field.number === 10) {
      tensors.push({ start: field.offset, end: field.offset + field.length });
    } else if (field.number === 6 || field.number === 11) {
      graphs.push({ start: field.offset, end: field.offset + field.length });
    }
  }
  if (name === 'group' && intValue !== undefined) node.group = intValue;
  for (let i = 0; i < tensors.length; i++) {
    const range = tensors[i]!;
    const proto = await parseTensorProto(source, range.start, range.end, context);
    // A Constant's value is known to the graph by the node's output name.
    const isConstantValue = node.opType === 'Constant' && name === 'value';
    const graphName = isConstantValue
      ? (node.outputs[0] ?? proto.name)
      : proto.name || `${nodeLabel}/${name}/${i}`;
    model.tensors.push({ proto, scope, graphName });
  }
  for (let i = 0; i < graphs.length; i++) {
    const range = graphs[i]!;
    const suffix = graphs.length > 1 ? `${name}/${i}` : name;
    const childScope = scope ? `${scope}/${nodeLabel}/${suffix}` : `${nodeLabel}/${suffix}`;
    await scanGraph(scan, range, childScope, depth + 1);
  }
}
