import { endianness } from 'node:os';

/** Whether this machine stores a 32-bit word's lowest byte first, as code reading pixels four bytes at a time assumes. */
export const LITTLE_ENDIAN = endianness() === 'LE';
