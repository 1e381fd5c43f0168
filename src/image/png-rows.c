// Undoes PNG row filters in place and counts byte values, in WebAssembly (SIMD for the Paeth
// filter of 3- and 4-byte pixels). Built by scripts/build-wasm.sh into assets/wasm/png-rows.wasm;
// driven by png-levels.ts, which inflates the rows into this module's memory first.
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

// Paeth for 3 or 4 bytes per pixel: the channels of one pixel in the lanes of one vector.
static void paeth_simd(uint8_t *row, const uint8_t *prev, int row_bytes, int bpp) {
  v128_t a = wasm_i32x4_splat(0), c = wasm_i32x4_splat(0);
  int i = 0;
  for (; i + 4 <= row_bytes; i += bpp) {
    v128_t b = wasm_u16x8_load8x8(prev + i);    // 8 bytes widened: lanes past bpp are ignored
    v128_t x = wasm_u16x8_load8x8(row + i);
    v128_t pa = wasm_i16x8_abs(wasm_i16x8_sub(b, c));
    v128_t pb = wasm_i16x8_abs(wasm_i16x8_sub(a, c));
    v128_t pc = wasm_i16x8_abs(wasm_i16x8_sub(wasm_i16x8_add(a, b), wasm_i16x8_add(c, c)));
    v128_t use_a = wasm_v128_and(wasm_i16x8_le(pa, pb), wasm_i16x8_le(pa, pc));
    v128_t use_b = wasm_i16x8_le(pb, pc);
    v128_t pred = wasm_v128_bitselect(a, wasm_v128_bitselect(b, c, use_b), use_a);
    a = wasm_v128_and(wasm_i16x8_add(x, pred), wasm_i16x8_splat(255));
    c = b;
    row[i] = (uint8_t)wasm_i16x8_extract_lane(a, 0);
    row[i + 1] = (uint8_t)wasm_i16x8_extract_lane(a, 1);
    row[i + 2] = (uint8_t)wasm_i16x8_extract_lane(a, 2);
    if (bpp == 4) row[i + 3] = (uint8_t)wasm_i16x8_extract_lane(a, 3);
  }
  for (; i < row_bytes; i++) {
    int left = i >= bpp ? row[i - bpp] : 0, upleft = i >= bpp ? prev[i - bpp] : 0;
    row[i] += paeth(left, prev[i], upleft);
  }
}

static int unfilter(uint8_t *row, const uint8_t *prev, int row_bytes, int bpp, int filter) {
  switch (filter) {
    case 0:
      return 0;
    case 1:
      for (int i = bpp; i < row_bytes; i++) row[i] += row[i - bpp];
      return 0;
    case 2:
      for (int i = 0; i < row_bytes; i++) row[i] += prev[i];
      return 0;
    case 3:
      for (int i = 0; i < bpp && i < row_bytes; i++) row[i] += prev[i] >> 1;
      for (int i = bpp; i < row_bytes; i++) row[i] += (row[i - bpp] + prev[i]) >> 1;
      return 0;
    case 4:
      if (bpp == 3 || bpp == 4) {
        paeth_simd(row, prev, row_bytes, bpp);
      } else {
        for (int i = 0; i < bpp && i < row_bytes; i++) row[i] += prev[i];
        for (int i = bpp; i < row_bytes; i++) row[i] += paeth(row[i - bpp], prev[i], prev[i - bpp]);
      }
      return 0;
    default:
      return -1;
  }
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
