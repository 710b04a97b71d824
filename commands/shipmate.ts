// /shipmate [command]: every Shipmate command, what it does and who may use it; with a command name, that command's help.
import type { Deps } from '../src/deps.js';
import { UserInputError } from '../src/core/errors.js';
import { allCommandsHelp, commandHelp, commandNamed } from './help.js';
import { commandListener } from './respond.js';

export function createShipmateCommand(deps: Deps) {
  return commandListener('/shipmate', deps, async ({ command }) => {
    const word = command.text.trim();
    if (!word) return { reply: allCommandsHelp(deps.config) };
    const name = commandNamed(word);
    if (!name) throw new UserInputError(`Shipmate has no command \`${word.slice(0, 40)}\`.`, allCommandsHelp(deps.config));
    return { reply: commandHelp(name, deps.config) };
  });
}
