// Where the managed set (the modules uploaded through the admin API) is kept: one seam, two
// places. By default the managed TOML file beside the config; with [cluster] redis_url, Redis
// (src/cluster/store.ts), which every replica applies to its own managed file.

import type { Config } from "../config/load.js";
import { ConfigError } from "../config/load.js";
import type { ModuleTable } from "../config/wasimancer.js";
import { readManagedTables, readManagedText, renderManaged, restoreManaged, writeAtomic } from "./managed.js";

/** What a read saw, to write against (and to undo to). */
export interface Snapshot {
  tables: ModuleTable[];
  /** Opaque to callers: what the store needs to refuse a write over a change made since, or to undo. */
  mark: unknown;
}

export interface ManagedStore {
  /** The managed tables as stored now; ConfigError when the stored set cannot be read. */
  read(config: Config): Promise<Snapshot>;
  /**
   * Makes `tables` the managed set, if nothing changed since `from` was read; the stored .wasm
   * files the tables name are in the managed directory. Afterwards this process's managed file holds
   * them; the caller reloads.
   */
  write(config: Config, tables: ModuleTable[], from: Snapshot): Promise<void>;
  /** Puts back the set `to` was read from, after a reload did not take a change. */
  undo(config: Config, to: Snapshot): Promise<void>;
  /** Whether changes can be made now (a cluster store needs Redis), and why not. */
  unavailable(): string | undefined;
}

/** The managed TOML file beside the config, written atomically. */
export const fileStore: ManagedStore = {
  async read(config) {
    const text = readManagedText(config.managed.file);
    return { tables: readManagedTables(config, text), mark: text };
  },
  async write(config, tables) {
    let text: string;
    try {
      text = renderManaged(tables);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
    await writeAtomic(config.managed.file, text);
  },
  async undo(config, to) {
    await restoreManaged(config.managed.file, to.mark as string | undefined);
  },
  unavailable: () => undefined,
};
