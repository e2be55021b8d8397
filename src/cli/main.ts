#!/usr/bin/env node
/**
 * The `scopegate` command (package.json `bin`). One process per command, on the server's own
 * config loader and store code; every command answers `--help`, and exit codes are fixed for
 * scripts: 0 ok, 1 runtime failure (Redis down, registry or webhook unreachable), 2 bad flags or
 * an invalid config, 3 not found or (explain) denied.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { auditCommand, AUDIT_HELP, notifyCommand, NOTIFY_HELP } from './ops-commands.js';
import { CliError, EXIT, processIo, type Io } from './common.js';
import { routesCommand, ROUTES_HELP } from './routes-commands.js';
import { tokenCommand, TOKEN_HELP } from './token-commands.js';

const HELP = `usage: scopegate <command> [options]

commands:
  serve                 run the gateway (as npm start; --config FILE or $SCOPEGATE_CONFIG)
  token create|list|show|revoke
                        manage tokens in the store the gateway uses
  routes check          validate a config; list shadowed and overlapping routes
  routes explain METHOD PATH [--token-id N]
                        the route, scope and verdict the gateway would give
  audit                 recent decisions and token events, filterable
  notify-expiring       announce tokens about to expire (webhook + log), once each

Run "scopegate <command> --help" for a command's options.
Exit codes: 0 ok, 1 runtime failure (e.g. Redis down), 2 usage or config error, 3 not found or denied.`;

const SERVE_HELP = `usage: scopegate serve [--config FILE]

  Runs the gateway with FILE (default $SCOPEGATE_CONFIG or config/cargo.yaml), exactly as
  npm start does; SIGHUP reloads the config, SIGTERM/SIGINT stop it. An invalid config exits 2.
  Started without npm start's Node flag and malloc settings (as this command is, unless you set
  them), it serves through one worker process that has them, restarted if it dies.`;

/** Runs one command line; resolves with the exit code (`serve` keeps running instead). */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return command === undefined ? EXIT.USAGE : EXIT.OK;
      case 'serve':
        return await serve(args, io);
      case 'token':
        return await tokenCommand(args, io);
      case 'routes':
        return await routesCommand(args, io);
      case 'audit':
        return await auditCommand(args, io);
      case 'notify-expiring':
        return await notifyCommand(args, io);
      default:
        throw new CliError(EXIT.USAGE, `unknown command "${command}"\n\n${HELP}`);
    }
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.err(`scopegate: ${e.message}`);
    return e.code;
  }
}

async function serve(args: string[], io: Io): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(SERVE_HELP);
    return EXIT.OK;
  }
  const at = args.findIndex((a) => a === '--config' || a === '-c');
  const rest = at === -1 ? args : args.filter((_, i) => i !== at && i !== at + 1);
  if (rest.length > 0 || (at !== -1 && args[at + 1] === undefined)) throw new CliError(EXIT.USAGE, `usage: scopegate serve [--config FILE]`);
  if (at !== -1) process.env.SCOPEGATE_CONFIG = args[at + 1];
  // The server's own code, as npm start runs it. This command line (the bin's shebang) cannot
  // carry the gateway's Node flag and malloc settings, so without them it serves through one
  // cluster worker that has them (src/runtime-flags.ts).
  const { runGateway } = await import('../serve.js');
  runGateway({ lackingSettings: 'supervise' });
  return -1;
}

export const COMMAND_HELP = { serve: SERVE_HELP, token: TOKEN_HELP, routes: ROUTES_HELP, audit: AUDIT_HELP, 'notify-expiring': NOTIFY_HELP };

// Run only as the program, not when imported by tests.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const code = await runCli(process.argv.slice(2));
  if (code >= 0) process.exitCode = code;
}
