#!/usr/bin/env node
/** Entry point of the `agora` command. */
import { createProgram } from './cli.js';

await createProgram().parseAsync(process.argv);
