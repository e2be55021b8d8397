/**
 * What the gateway tells the token page about itself, as JSON in the page's
 * `<script type="application/json" id="policy">` block (rendered per request by
 * `src/http/web.ts`, so a reloaded config shows at once). Types only: shared by the server that
 * writes it and the browser code that reads it.
 */
export interface TokenPagePolicy {
  /** The gateway's clock when the page was rendered (epoch ms); expiry presets and badges count from it. */
  readonly now: number;
  /** The URL clients reach the gateway at, no trailing slash. */
  readonly publicUrl: string;
  /**
   * The path of `publicUrl` (`''`, or a prefix such as `/reg` that a proxy in front strips): the
   * page's own links and its token API calls start with it, as everything the gateway hands out does.
   */
  readonly basePath: string;
  /** The registry adapter (`cargo`): which client setup the page shows with a new token. */
  readonly registry: string;
  /** The registry's name in that setup (`tokens.registry_name`). */
  readonly registryName: string;
  /** cargo's index URL for the config (`sparse+<public_url>/index/`); null when the adapter has none. */
  readonly indexUrl: string | null;
  /**
   * Who makes tokens: `self`, each user with their registry credential (`upstream.auth: per-token`);
   * `operator` (`static`): the page cannot create tokens, and only an unscoped scopegate token signs in.
   */
  readonly issuedBy: 'self' | 'operator';
  /** Every token starts with this (`tokens.prefix`). */
  readonly tokenPrefix: string;
  /** The operator's expiry policy (`tokens.*`), in milliseconds. */
  readonly expiry: {
    readonly defaultMs: number;
    /** null: no maximum. */
    readonly maxMs: number | null;
    /** Whether "No expiration" may be offered. */
    readonly allowNever: boolean;
  };
}
