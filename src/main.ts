/**
 * `npm start` (`node dist/src/main.js`): the gateway itself (`src/serve.ts`). Started without the
 * runtime settings `npm start` gives it, it warns and serves anyway: the command line is the
 * operator's to choose.
 */
import { runGateway } from './serve.js';

runGateway({ lackingSettings: 'warn' });
