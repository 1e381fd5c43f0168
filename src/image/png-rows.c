// Undoes PNG row filters in place, in WebAssembly (SIMD across the channels of 3- and 4-byte
// pixels), and counts byte values (png-levels.ts) or packs the rows for the resampler
// (png-pixels.ts); and filters rows for the PNG writer (png-write.ts). Built by
// scripts/build-wasm.sh into assets/wasm/png-rows.wasm; the callers inflate the rows into this
// module's memory first.
//
// rows: `height` rows of 1 filter byte + `row_bytes` bytes; `bpp`: bytes per complete pixel
// (at least 1). counts: 256 uint32 per byte position within a pixel; only positions whose bit
// is set in `mask` are counted, and only the first `count_bytes` bytes of each row.
#include <stdint.h>
#include <wasm_simd128.h>

extern unsigned char __heap_base;
__attribute__((export_name("heap_base"))) uint32_t heap_base(void) { return (uint32_t)&__heap_base; }

static inline int absi(int v) { return v < 0 ? -v : v; }

static inline uint8_t paeth(int a, int b, int c) {
  int pa = absi(b - c), pb = absi(a - c), pc = absi(a + b - c - c);
  return (uint8_t)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// One pixel of 3 or 4 bytes, widened to 16-bit lanes (8 bytes are read; lanes past bpp are ignored).
static inline v128_t load_pixel(const uint8_t *p) { return wasm_u16x8_load8x8(p); }

static inline void store_pixel(uint8_t *p, v128_t v, int bpp) {
  p[0] = (uint8_t)wasm_i16x8_extract_lane(v, 0);
  p[1] = (uint8_t)wasm_i16x8_extract_lane(v, 1);
  p[2] = (uint8_t)wasm_i16x8_extract_lane(v, 2);
  if (bpp == 4) p[3] = (uint8_t)wasm_i16x8_extract_lane(v, 3);
}

// Sub, Average and Paeth for 3 or 4 bytes per pixel: the channels of one pixel in the lanes of
// one vector, the pixel to the left carried in a register.
static void unfilter_pixels(uint8_t *row, const uint8_t *prev, int row_bytes, int bpp, int filter) {
  const v128_t byte = wasm_i16x8_splat(255);
  v128_t a = wasm_i16x8_splat(0), c = wasm_i16x8_splat(0);
  int i = 0;
  for (; i + 4 <= row_bytes; i += bpp) {
    v128_t x = load_pixel(row + i), b = load_pixel(prev + i), predicted;
    if (filter == 1) {
      predicted = a;
    } else if (filter == 3) {
      predicted = wasm_u16x8_shr(wasm_i16x8_add(a, b), 1);
    } else {
      v128_t pa = wasm_i16x8_abs(wasm_i16x8_sub(b, c));
      v128_t pb = wasm_i16x8_abs(wasm_i16x8_sub(a, c));
      v128_t pc = wasm_i16x8_abs(wasm_i16x8_sub(wasm_i16x8_add(a, b), wasm_i16x8_add(c, c)));
      v128_t use_a = wasm_v128_and(wasm_i16x8_le(pa, pb), wasm_i16x8_le(pa, pc));
      predicted = wasm_v128_bitselect(a, wasm_v128_bitselect(b, c, wasm_i16x8_le(pb, pc)), use_a);
      c = b;
    }
    a = wasm_v128_and(wasm_i16x8_add(x, predicted), byte);
    store_pixel(row + i, a, bpp);
  }
  for (; i < row_bytes; i++) {
    int left = i >= bpp ? row[i - bpp] : 0, up = prev[i], upleft = i >= bpp ? prev[i - bpp] : 0;
    row[i] += filter == 1 ? left : filter == 3 ? (left + up) >> 1 : paeth(left, up, upleft);
  }
}

// Sub, Average and Paeth for 1 byte per pixel (grey, palette, sub-byte depths): the byte to the
// left and the one above it carried in registers, so no byte waits for its own store.
static void unfilter_bytes(uint8_t *row, const uint8_t *prev, int row_bytes, int filter) {
  int a = 0, c = 0;
  if (filter == 1) {
    for (int i = 0; i < row_bytes; i++) row[i] = (uint8_t)(a = (row[i] + a) & 255);
  } else if (filter == 3) {
    for (int i = 0; i < row_bytes; i++) row[i] = (uint8_t)(a = (row[i] + ((a + prev[i]) >> 1)) & 255);
  } else {
    for (int i = 0; i < row_bytes; i++) {
      int b = prev[i];
      int pa = absi(b - c), pb = absi(a - c), pc = absi(a + b - c - c);
      int predicted = pb <= pc ? b : c;
      predicted = pa <= pb && pa <= pc ? a : predicted;
      row[i] = (uint8_t)(a = (row[i] + predicted) & 255);
      c = b;
    }
  }
}

static int unfilter(uint8_t *row, const uint8_t *prev, int row_bytes, int bpp, int filter) {
  if (filter == 0) return 0;
  if (filter == 2) {
    for (int i = 0; i < row_bytes; i++) row[i] += prev[i];
    return 0;
  }
  if (filter > 4) return -1;
  if (bpp == 1) {
    unfilter_bytes(row, prev, row_bytes, filter);
  } else if (bpp == 3 || bpp == 4) {
    unfilter_pixels(row, prev, row_bytes, bpp, filter);
  } else {
    for (int i = 0; i < row_bytes; i++) {
      int left = i >= bpp ? row[i - bpp] : 0, up = prev[i], upleft = i >= bpp ? prev[i - bpp] : 0;
      row[i] += filter == 1 ? left : filter == 3 ? (left + up) >> 1 : paeth(left, up, upleft);
    }
  }
  return 0;
}

static void count(const uint8_t *row, int count_bytes, int bpp, uint32_t *counts, int mask) {
  if (bpp == 1) {
    for (int i = 0; i < count_bytes; i++) counts[row[i]]++;
    return;
  }
  for (int k = 0; k < bpp; k++) {
    if (!(mask & (1 << k))) continue;
    uint32_t *c = counts + (k << 8);
    for (int i = k; i < count_bytes; i += bpp) c[row[i]]++;
  }
}

// Returns 0, or the 1-based number of the first row with an unknown filter type.
__attribute__((export_name("unfilter_count")))
int unfilter_count(uint8_t *rows, int height, int row_bytes, int bpp, uint32_t *counts, int mask, int count_bytes,
                   uint8_t *zero_row) {
  const uint8_t *prev = zero_row;
  for (int y = 0; y < height; y++) {
    uint8_t *row = rows + (long)y * (row_bytes + 1);
    if (unfilter(row + 1, prev, row_bytes, bpp, row[0]) != 0) return y + 1;
    count(row + 1, count_bytes, bpp, counts, mask);
    prev = row + 1;
  }
  return 0;
}

// Unfilters the rows as unfilter_count does, and packs them without their filter bytes into
// `out`: with `rgbx`, 3-byte pixels become 4 (the fourth 255), as the resampler takes them;
// otherwise rows are copied as they are. Reads up to 4 bytes past the last row (the caller pads).
// Returns 0, or the 1-based number of the first row with an unknown filter type.
__attribute__((export_name("unfilter_pack")))
int unfilter_pack(uint8_t *rows, int height, int row_bytes, int bpp, uint8_t *zero_row, uint8_t *out, int rgbx) {
  const uint8_t *prev = zero_row;
  const v128_t opaque = wasm_i8x16_splat((int8_t)255);
  for (int y = 0; y < height; y++) {
    uint8_t *row = rows + (long)y * (row_bytes + 1);
    if (unfilter(row + 1, prev, row_bytes, bpp, row[0]) != 0) return y + 1;
    const uint8_t *s = row + 1;
    if (rgbx) {
      uint8_t *d = out + (long)y * (row_bytes / 3) * 4;
      int i = 0, o = 0;
      for (; i + 12 <= row_bytes; i += 12, o += 16) {
        v128_t v = wasm_v128_load(s + i);
        wasm_v128_store(d + o, wasm_i8x16_shuffle(v, opaque, 0, 1, 2, 16, 3, 4, 5, 16, 6, 7, 8, 16, 9, 10, 11, 16));
      }
      for (; i < row_bytes; i += 3, o += 4) {
        d[o] = s[i];
        d[o + 1] = s[i + 1];
        d[o + 2] = s[i + 2];
        d[o + 3] = 255;
      }
    } else {
      uint8_t *d = out + (long)y * row_bytes;
      for (int i = 0; i < row_bytes; i++) d[i] = s[i];
    }
    prev = row + 1;
  }
  return 0;
}

// The cost of a filtered row, libpng's heuristic: the sum of its bytes taken as signed values.
static uint32_t row_cost(const uint8_t *row, int n) {
  v128_t sums = wasm_i32x4_splat(0);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    // |-128| stays 0x80, which is 128 read unsigned.
    v128_t magnitude = wasm_i8x16_abs(wasm_v128_load(row + i));
    sums = wasm_i32x4_add(sums, wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(magnitude)));
  }
  uint32_t sum = (uint32_t)(wasm_i32x4_extract_lane(sums, 0) + wasm_i32x4_extract_lane(sums, 1) + wasm_i32x4_extract_lane(sums, 2) + wasm_i32x4_extract_lane(sums, 3));
  for (; i < n; i++) {
    int8_t v = (int8_t)row[i];
    sum += (uint32_t)(v < 0 ? -v : v);
  }
  return sum;
}

// Paeth on 8 bytes at a time: each byte's prediction depends only on the unfiltered row and
// the row above, so the bytes of a row are independent.
static void paeth_row(const uint8_t *cur, const uint8_t *prev, uint8_t *out, int n, int bpp) {
  int i = 0;
  for (; i < bpp; i++) out[i] = (uint8_t)(cur[i] - prev[i]);
  const v128_t low_byte = wasm_i16x8_splat(255);
  for (; i + 8 <= n; i += 8) {
    v128_t a = wasm_u16x8_load8x8(cur + i - bpp), b = wasm_u16x8_load8x8(prev + i), c = wasm_u16x8_load8x8(prev + i - bpp);
    v128_t pa = wasm_i16x8_abs(wasm_i16x8_sub(b, c));
    v128_t pb = wasm_i16x8_abs(wasm_i16x8_sub(a, c));
    v128_t pc = wasm_i16x8_abs(wasm_i16x8_sub(wasm_i16x8_add(a, b), wasm_i16x8_add(c, c)));
    v128_t use_a = wasm_v128_and(wasm_i16x8_le(pa, pb), wasm_i16x8_le(pa, pc));
    v128_t predicted = wasm_v128_bitselect(a, wasm_v128_bitselect(b, c, wasm_i16x8_le(pb, pc)), use_a);
    v128_t filtered = wasm_v128_and(wasm_i16x8_sub(wasm_u16x8_load8x8(cur + i), predicted), low_byte);
    wasm_v128_store64_lane(out + i, wasm_u8x16_narrow_i16x8(filtered, filtered), 0);
  }
  for (; i < n; i++) out[i] = (uint8_t)(cur[i] - paeth(cur[i - bpp], prev[i], prev[i - bpp]));
}

static void filter_row(int filter, const uint8_t *cur, const uint8_t *prev, uint8_t *out, int n, int bpp) {
  int i = 0;
  switch (filter) {
    case 0:
      for (; i < n; i++) out[i] = cur[i];
      break;
    case 1:
      for (; i < bpp; i++) out[i] = cur[i];
      for (; i < n; i++) out[i] = (uint8_t)(cur[i] - cur[i - bpp]);
      break;
    case 2:
      for (; i < n; i++) out[i] = (uint8_t)(cur[i] - prev[i]);
      break;
    case 3:
      for (; i < bpp; i++) out[i] = (uint8_t)(cur[i] - (prev[i] >> 1));
      for (; i < n; i++) out[i] = (uint8_t)(cur[i] - ((cur[i - bpp] + prev[i]) >> 1));
      break;
    default:
      paeth_row(cur, prev, out, n, bpp);
  }
}

// Rows for a PNG's image data: `height` rows of `width` pixels of `in_bpp` bytes, of which the
// first `bpp` are kept (RGBX loses its padding), each written to `out` as a filter byte and the
// row under the filter of the five whose bytes cost least (row_cost). `work` holds 4 rows of
// width * bpp bytes, the first of them zeros (the row above the first).
__attribute__((export_name("filter_rows")))
void filter_rows(const uint8_t *pixels, int width, int height, int in_bpp, int bpp, uint8_t *work, uint8_t *out) {
  const int n = width * bpp;
  uint8_t *prev = work, *cur = work + n, *best = work + 2 * n, *trial = work + 3 * n;
  for (int y = 0; y < height; y++) {
    const uint8_t *src = pixels + (long)y * width * in_bpp;
    if (in_bpp == bpp) {
      for (int i = 0; i < n; i++) cur[i] = src[i];
    } else {
      for (int x = 0; x < width; x++)
        for (int k = 0; k < bpp; k++) cur[x * bpp + k] = src[x * in_bpp + k];
    }
    int chosen = 0;
    uint32_t least = 0xffffffffu;
    for (int filter = 0; filter < 5; filter++) {
      filter_row(filter, cur, prev, trial, n, bpp);
      uint32_t cost = row_cost(trial, n);
      if (cost < least) {
        least = cost;
        chosen = filter;
        uint8_t *t = best;
        best = trial;
        trial = t;
      }
    }
    uint8_t *row = out + (long)y * (n + 1);
    row[0] = (uint8_t)chosen;
    for (int i = 0; i < n; i++) row[i + 1] = best[i];
    uint8_t *t = prev;
    prev = cur;
    cur = t;
  }
}
