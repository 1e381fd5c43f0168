// Undoes PNG row filters in place, in WebAssembly (SIMD across the channels of 3- and 4-byte
// pixels), and counts byte values (png-levels.ts) or packs the rows for the resampler
// (png-pixels.ts). Built by scripts/build-wasm.sh into assets/wasm/png-rows.wasm; the callers
// inflate the rows into this module's memory first.
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
