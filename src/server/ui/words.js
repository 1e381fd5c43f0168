// The page's words: every error code the server answers with, said plainly with what to do
// next, and the numbers people read (sizes, durations, savings). No DOM here, so the tests can
// import it and check that every code of the server is explained.

/** For each error code: what happened, and what the person can do about it. */
export const PLAIN_ERRORS = {
  BAD_PIPELINE: { title: 'The steps have a mistake.', advice: 'Fix the setting marked in the steps, then run again.' },
  BAD_USAGE: { title: 'The request was not understood.', advice: 'Reload the page and try again.' },
  NOT_AN_IMAGE: { title: 'This file is not an image.', advice: 'Choose a JPEG, PNG, WebP, AVIF, TIFF or GIF file.' },
  UNSUPPORTED_FORMAT: { title: 'This kind of image is not supported.', advice: 'Save it as JPEG, PNG, WebP, AVIF, TIFF or GIF and try again.' },
  CORRUPT_IMAGE: { title: 'This image is damaged or cut short, so it could not be read.', advice: 'Try another copy of the file.' },
  EMPTY_FILE: { title: 'This file is empty.', advice: 'Choose the file again; it may not have finished saving.' },
  FILE_TOO_LARGE: { title: 'This file is larger than the server accepts.', advice: 'Make it smaller, or ask whoever runs the server to raise the limit.' },
  TOO_MANY_FILES: { title: 'Too many files at once for this server.', advice: 'Send fewer photos per run.' },
  TOO_MANY_PIXELS: { title: 'This image has more pixels than the server accepts.', advice: 'Use a smaller image, or ask whoever runs the server to raise the limit.' },
  OUTPUT_TOO_LARGE: { title: 'The result would be larger than the server allows.', advice: 'Choose a smaller size or less padding.' },
  TOO_MUCH_WORK: { title: 'These steps would take this server too long on this image.', advice: 'Use a smaller image, a smaller window or radius, or fewer steps.' },
  RESULT_TOO_LARGE: { title: 'The result would be larger than the server sends.', advice: 'Choose a smaller size or a more compact format such as JPEG or WebP.' },
  STORAGE_FULL: { title: 'The server has no room left for more results right now.', advice: 'Download or delete earlier runs, or wait until they expire, then run again.' },
  BAD_REGION: { title: 'The crop goes outside this image.', advice: 'Make the crop smaller or move it inside the picture.' },
  NOT_TILEABLE: { title: 'These steps cannot run in tiles.', advice: 'Clear the tile size, or change the step named here.' },
  TIMEOUT: { title: 'This took too long and was stopped.', advice: 'Try a smaller image or fewer steps.' },
  CANCELLED: { title: 'This was stopped before it finished.', advice: 'Run it again if you still need it.' },
  UNAUTHORIZED: { title: 'This server needs a valid token.', advice: 'Enter the token you were given.' },
  FORBIDDEN: { title: 'The server refused this.', advice: 'The link may be wrong or not allowed; ask whoever runs the server.' },
  NOT_FOUND: { title: 'Not found: the results may have expired.', advice: 'Run the photos again.' },
  QUEUE_FULL: { title: 'The server is busy right now.', advice: 'Wait a moment and try again.' },
  BAD_ORIGIN: { title: 'The server could not fetch the source image.', advice: 'Try again later.' },
  REDIS_UNAVAILABLE: { title: 'The server cannot reach its workers right now.', advice: 'Wait a moment and try again; if it keeps happening, tell whoever runs it.' },
  STORE_UNAVAILABLE: { title: 'The server cannot reach its image store right now.', advice: 'Wait a moment and try again; if it keeps happening, tell whoever runs it.' },
  INTERNAL: { title: 'Something went wrong on the server.', advice: 'Try again; if it keeps happening, tell whoever runs it.' },
};

/** One line a person can act on, for an error code (unknown codes get a general line). */
export function explainError(code) {
  const plain = PLAIN_ERRORS[code] ?? { title: 'Something went wrong.', advice: 'Try again.' };
  return `${plain.title} ${plain.advice}`;
}

/** The validator's "expected …, got …" in the words of a form. */
export function plainProblem(message) {
  const expected = /^expected (.+), got (.+)$/s.exec(message);
  if (expected) return `Use ${expected[1]}; this is ${expected[2]}.`;
  if (message === 'required') return 'This needs a value.';
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** Sizes in units of 1024, as file managers on most desktops show them. */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '')} MB`;
}

export function formatSeconds(ms) {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** "about 12 s left", rounded so it does not flicker. */
export function formatRemaining(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 3000) return 'a few seconds left';
  const s = ms / 1000;
  if (s < 60) return `about ${Math.ceil(s / 5) * 5} s left`;
  return `about ${Math.ceil(s / 60)} min left`;
}

/** "−68%" when smaller, "+12%" when larger. */
export function formatChange(before, after) {
  if (!before) return '';
  const exact = ((after - before) / before) * 100;
  // A file that shrank to almost nothing did not vanish: −99.6%, not −100%.
  const change = Math.abs(exact) >= 99.5 && after > 0 && exact < 0 ? Math.round(exact * 10) / 10 : Math.round(exact);
  return change <= 0 ? `−${-change}%` : `+${change}%`;
}
