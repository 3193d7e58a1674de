// "1 case", "2 cases": a count with its noun, for the lines and messages the commands print.
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
