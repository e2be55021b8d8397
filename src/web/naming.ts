/**
 * The package-name rules of the gateway's registry, for checking patterns as they are typed: the
 * very `PackageNaming` objects the registry adapters validate with on the server (pure modules,
 * served to the browser as they are compiled).
 */
import { cargoNaming, type PackageNaming } from '../core/crate-pattern.js';
import { npmNaming } from '../registries/npm-naming.js';

const NAMINGS: Readonly<Record<string, PackageNaming>> = { cargo: cargoNaming, npm: npmNaming };

/** The naming of `registry` (the policy's adapter name); cargo's for one the page does not know. */
export function namingFor(registry: string): PackageNaming {
  return NAMINGS[registry] ?? cargoNaming;
}
