/** A whole (small) object in memory: a playlist to sign or to list segments from. */
import type { ObjectStore } from "./types.js";

export async function readObject(store: ObjectStore, key: string): Promise<Buffer> {
  const read = await store.read(key);
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
