/**
 * What one Functions process builds once and shares between its functions: the settings and the clients made from
 * them. Each is built at first use (loading the app never throws; a bad connection is named when first needed) and
 * dropped when the app terminates, closing what it opened (the local host starts the app again with other settings).
 */
import { app } from "@azure/functions";
import { readSettings, type FlowtapSettings } from "../config";

/** Forgets a built value, closing it first when it holds a connection. */
type Drop = () => Promise<void>;

const drops: Drop[] = [];

/** A value built once per process, at the first call, and dropped (after `close`) when the app terminates. */
export function perProcess<T>(build: () => T, close?: (value: T) => Promise<void>): () => T {
  let built: { value: T } | undefined;
  drops.push(async () => {
    const dropped = built;
    built = undefined;
    if (dropped && close) await close(dropped.value);
  });
  return () => (built ??= { value: build() }).value;
}

/** The app settings of this process, read from its environment. */
export const settingsOf: () => FlowtapSettings = perProcess(() => readSettings(process.env));

app.hook.appTerminate(async () => {
  await Promise.all(drops.map((drop) => drop()));
});
