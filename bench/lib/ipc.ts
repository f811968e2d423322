/** The message protocol between the load generator (main.ts) and a benchmark server child. */

export interface IpcRequest {
  id: number;
  cmd: string;
  args?: unknown;
}

export interface IpcResponse {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface ReadyMessage {
  ready: true;
  port: number;
}

/** Process memory as a child reports it (bytes), after a forced full GC when `gc` is true. */
export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
