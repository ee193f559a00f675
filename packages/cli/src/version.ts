/** The CLI's version, printed by `tessera --version` (or -V) before any command is loaded. */
export const CLI_VERSION = '0.1.0';
