// Keeps the stand-in's workspace (channels, messages, views) in a JSON file, so the playground shows the same
// channel history after a restart as the deploys it keeps in Redis. Written on change, debounced, through a
// temporary file and a rename so a crash never leaves half a file; read once at start.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Store, StoreSnapshot } from './store.js';

export function loadSnapshot(file: string): StoreSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StoreSnapshot;
  } catch {
    return undefined; // an unreadable file starts an empty workspace rather than no playground
  }
}

export interface Persister {
  /** Writes what changed since the last write now (on close). */
  flush(): Promise<void>;
}

export function persistOnChange(store: Store, file: string, debounceMs = 250): Persister {
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const write = () => {
    timer = undefined;
    const text = JSON.stringify(store.snapshot());
    // One write at a time, in order: the last snapshot is the one left on disk.
    writing = writing.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
    }).catch(() => undefined);
    return writing;
  };
  store.events.on('change', () => {
    timer ??= setTimeout(() => void write(), debounceMs);
  });
  return {
    async flush() {
      if (timer) {
        clearTimeout(timer);
        await write();
      }
      await writing;
    },
  };
}
