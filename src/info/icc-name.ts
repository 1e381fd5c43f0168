import { parse } from 'icc';

/** The description an embedded ICC profile gives itself ("sRGB IEC61966-2.1", "Adobe RGB (1998)"). */
export function iccName(profile: Buffer | undefined): string | undefined {
  if (!profile || profile.length === 0) return undefined;
  try {
    const description = parse(profile).description?.replace(/\0/g, '').trim();
    return description || undefined;
  } catch {
    return undefined;
  }
}
