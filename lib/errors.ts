/**
 * Typed errors shared by every layer. Each carries enough context (file, tensor, layer) to be
 * printed as one line that tells the user what is wrong and, where it helps, what to do.
 */

export interface ErrorContext {
  /** URI or path of the file the problem is in. */
  file?: string;
  /** Tensor name inside the file. */
  tensor?: string;
  /** Layer name (as reported in results). */
  layer?: string;
}

export class WeightlensError extends Error {
  readonly code: string;
  readonly context: ErrorContext;
  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }

  /** One line for the terminal or a database row: "<file>: <tensor>: message". */
  toLine(): string {
    const where = [this.context.file, this.context.tensor ?? this.context.layer].filter(Boolean).join(': ');
    return where ? `${where}: ${this.message}` : this.message;
  }
}

/** The input itself is wrong (corrupt file, bad shape, unsupported dtype...). Never retried. */
export class BadInputError extends WeightlensError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('BadInput', message, context, options);
  }
}

/** A format or feature we do not support (yet). Never retried. */
export class UnsupportedError extends WeightlensError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('Unsupported', message, context, options);
  }
}

/** Misconfiguration of the environment (port taken, binary missing, credentials). */
export class ConfigError extends WeightlensError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Config', message, {}, options);
  }
}

/** A transient failure (network, throttling) that may succeed when retried. */
export class TransientError extends WeightlensError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('Transient', message, context, options);
  }
}

/**
 * Error codes that are data, not outages: never retried, and a stored failure with one of these
 * codes is final (reruns reuse it instead of recomputing).
 */
export const FINAL_ERROR_CODES = ['BadInput', 'Unsupported'] as const;

export function isBadInput(err: unknown): boolean {
  return err instanceof BadInputError || err instanceof UnsupportedError;
}

/**
 * What a stored failure records beside its text, decided when it is written from the typed error
 * (never read back from the text): its kind (the error code, or the failure type Temporal carried)
 * and whether it is final — data rather than an outage, so a rerun reuses it instead of retrying.
 */
export interface FailureKind {
  kind: string;
  final: boolean;
}

/** Whether a failure of this kind (an error code or Temporal failure type) is final. */
export function isFinalErrorKind(kind: string | null | undefined): boolean {
  return (FINAL_ERROR_CODES as readonly (string | null | undefined)[]).includes(kind);
}

/** The kind of a thrown value: a typed error's code, another error's name. */
export function failureKindOf(err: unknown): FailureKind {
  if (err instanceof WeightlensError) return { kind: err.code, final: isFinalErrorKind(err.code) };
  return { kind: err instanceof Error ? err.name : 'Error', final: false };
}

/** Render any thrown value as one line without a stack trace. */
export function errorLine(err: unknown): string {
  if (err instanceof WeightlensError) return err.toLine();
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
