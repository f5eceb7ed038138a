// The exit codes of `flotilla`, as docs/cli.md lists them, in a module of their own so that any
// command module can use them without importing the program (which imports the commands).
// `flotilla health` and `flotilla diff` keep their own (see their --help and docs/cli.md).

/** Invalid input, a refused request or a failed check. */
export const EXIT_FAILED = 1;
/** Bad usage: an unknown command or option, a missing value, a format `-o` does not know. */
export const EXIT_USAGE = 2;
/** The cluster could not be reached. */
export const EXIT_UNREACHABLE = 3;
