/** The ONNX protobuf schema (onnx-proto, protobufjs-generated), and small helpers around its quirks. */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;

export type { onnx as OnnxTypes } from 'onnx-proto';

export const TensorDataType = onnx.TensorProto.DataType;
export const AttributeType = onnx.AttributeProto.AttributeType;

/**
 * protobufjs decodes int64 fields as `Long` objects (or numbers); both become numbers here. Typed `unknown`
 * because onnx-proto's declarations name `Long` from a types package it does not install.
 */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  return (value as { toNumber(): number }).toNumber();
}
