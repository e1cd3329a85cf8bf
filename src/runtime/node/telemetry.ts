/**
 * onnxruntime-node's telemetry. Its native library (1.30) starts a telemetry system when it creates its process-wide
 * environment, the first time any session is made: it writes a device id and an event database under
 * `~/.cache/Microsoft/DeveloperTools/.onnxruntime/` (`deviceid`, `onnxruntime.db`) and runs Microsoft's telemetry client (with an HTTP uploader). The
 * library reads one switch, the environment variable `ORT_DISABLE_TELEMETRY`, at that moment: `1`, `true`, `yes`
 * or `on` turn it off, anything else (`0`, `false`, empty) leaves it on (found in the binary's strings, checked
 * with a temporary HOME). Nothing in the JS API sets it; `ORT_TELEMETRY_DISABLED` does nothing; a set `CI` also
 * turns it off.
 */

/** The variable onnxruntime's native library reads; `0` keeps its telemetry on (the user's opt-in). */
export const ORT_TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

/**
 * Turns onnxruntime's telemetry off for this process unless the user chose (`ORT_DISABLE_TELEMETRY` already set
 * to a non-empty value, e.g. `0` to keep it on). Called before every session ultraface creates and before it starts a worker thread
 * (workers copy the environment; in a worker `process.env` changes only that copy, which the native library does
 * not read, so the main thread must set it first). Idempotent; onnxruntime reads the variable once per process.
 */
export function disableOrtTelemetry(): void {
  if (!process.env[ORT_TELEMETRY_VARIABLE]) process.env[ORT_TELEMETRY_VARIABLE] = '1';
}
