/**
 * Minimal typed event emitter (the product's one event mechanism). Unlike node:events, a throwing listener is
 * caught and logged so it cannot break the connection that emitted.
 * Listener arrays are replaced (not mutated) on on/off, so emit iterates a
 * stable snapshot without copying on the hot path.
 */

import type { Logger } from "./logger.js";

type Listener<Args extends unknown[]> = (...args: Args) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private listeners: { [K in keyof Events]?: Listener<Events[K]>[] } = {};

  constructor(protected readonly emitterLogger?: Pick<Logger, "warn">) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    this.listeners[event] = [...(this.listeners[event] ?? []), listener];
    return this;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.listeners[event];
    if (list) {
      const i = list.lastIndexOf(listener);
      if (i >= 0) this.listeners[event] = [...list.slice(0, i), ...list.slice(i + 1)];
    }
    return this;
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const wrapper: Listener<Events[K]> = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners[event]?.length ?? 0;
  }

  /** Calls every listener; returns whether there was any. Listener errors are logged, never thrown. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const list = this.listeners[event];
    if (!list || list.length === 0) return false;
    for (const listener of list) {
      try {
        listener(...args);
      } catch (err) {
        this.emitterLogger?.warn(`listener for "${String(event)}" threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
    }
    return true;
  }
}
