/**
 * Real Ollama traffic through the gateway of a running stack, for the live tests that used to set the stand-in
 * exporter's invented request rate: what the rules see is what the gateway measured from these requests.
 */
export interface Traffic {
  /** Requests answered so far (any status). */
  sent(): number;
  /** Stops sending (the request in flight is aborted) and waits until the loop has ended. */
  stop(): Promise<void>;
}

/** One generation request; resolves with the status (0 when the connection failed). */
export async function generate(gatewayUrl: string, options: { model?: string; prompt?: string; stream?: boolean; signal?: AbortSignal } = {}): Promise<number> {
  try {
    const res = await fetch(`${gatewayUrl}/api/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: options.model ?? 'phi3:mini', prompt: options.prompt ?? 'keep busy', stream: options.stream ?? false }),
      signal: options.signal,
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** A request every intervalMs, one after the other (streamed and not, alternately), until stop() (which aborts the one in flight). */
export function keepBusy(gatewayUrl: string, intervalMs = 300): Traffic {
  let sent = 0;
  const stopped = new AbortController();
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      await generate(gatewayUrl, { stream: sent % 2 === 1, signal: stopped.signal });
      sent++;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return { sent: () => sent, stop: async () => { stopped.abort(); await loop; } };
}
