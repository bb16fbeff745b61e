/** Option values of the client commands, checked as commander parses them. */
import { InvalidArgumentError } from 'commander';

export function deviceIdValue(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 0xffff_ffff) throw new InvalidArgumentError('a device ID is a whole number from 1');
  return Number(text);
}

export function countValue(max: number) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
    return Number(text);
  };
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
