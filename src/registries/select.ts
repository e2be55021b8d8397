/** The registry adapters, by the name `registry:` selects them with in the config. */
import { cargoAdapter } from './cargo.js';
import { npmAdapter } from './npm.js';
import type { RegistryAdapter } from './registry.js';

export const ADAPTERS = Object.freeze({ cargo: cargoAdapter, npm: npmAdapter });

/** The value of `registry:` in the config. */
export type RegistryName = keyof typeof ADAPTERS;

export const REGISTRY_NAMES = Object.freeze(Object.keys(ADAPTERS)) as readonly RegistryName[];

export function adapterFor(name: RegistryName): RegistryAdapter {
  return ADAPTERS[name];
}
