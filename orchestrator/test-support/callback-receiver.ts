/** A callback receiver on loopback for tests: every event parsed, handed to `onEvent` as it arrives, answered 200. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface CallbackReceiver {
  url: string;
  events: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startCallbackReceiver(onEvent: (event: Record<string, unknown>) => void = () => {}): Promise<CallbackReceiver> {
  const events: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const event = JSON.parse(body) as Record<string, unknown>;
      events.push(event);
      onEvent(event);
      res.end('{"code":0}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`,
    events,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
