// commander's argument parser for an option given more than once (`--definitions a --definitions b`).

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
