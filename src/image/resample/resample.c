// Separable fixed-point resampler for 8-bit images of 4 channels (RGBX/RGBA) or 1 (grey), in
// WebAssembly SIMD.
// Built by scripts/build-wasm.sh into assets/wasm/resample.wasm; weights come from
// wasm-resampler.ts. Weights are 14-bit fixed point, packed in pairs (low 16 bits: tap 2p,
// high 16 bits: tap 2p+1) so that one i32x4.dot_i16x8_s does two taps. Every output sample
// uses the same even number of taps (2 * npairs); the table builder shifts windows inside the
// image and pads with zero weights, so reads stay in bounds. Sums are rounded and saturated.
#include <stdint.h>
#include <wasm_simd128.h>

#define PREC 14
#define ROUND (1 << (PREC - 1))

extern unsigned char __heap_base;
__attribute__((export_name("heap_base"))) uint32_t heap_base(void) { return (uint32_t)&__heap_base; }

static inline v128_t finish4(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
  const v128_t r = wasm_i32x4_splat(ROUND);
  a0 = wasm_i32x4_shr(wasm_i32x4_add(a0, r), PREC);
  a1 = wasm_i32x4_shr(wasm_i32x4_add(a1, r), PREC);
  a2 = wasm_i32x4_shr(wasm_i32x4_add(a2, r), PREC);
  a3 = wasm_i32x4_shr(wasm_i32x4_add(a3, r), PREC);
  return wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(a0, a1), wasm_i16x8_narrow_i32x4(a2, a3));
}

// Horizontal pass: src is h rows of sw RGBX pixels; dst is h rows of dw RGBX pixels.
// start[x] = first source pixel for output x; w[x*npairs + p] = packed weight pair.
// Two rows at a time share each output's weights; 4 output pixels per step, so the final
// narrow/store is a full vector.
static inline v128_t pair4(const uint8_t *p, v128_t weights) {
  const v128_t px = wasm_v128_load64_zero(p); // two pixels: p0c0..p0c3 p1c0..p1c3
  // -> i16 lanes (p0c0,p1c0, p0c1,p1c1, p0c2,p1c2, p0c3,p1c3)
  const v128_t il = wasm_i8x16_shuffle(px, wasm_i32x4_splat(0), 0, 16, 4, 16, 1, 16, 5, 16, 2, 16, 6, 16, 3, 16, 7, 16);
  return wasm_i32x4_dot_i16x8(il, weights);
}

static void hrows(const uint8_t *s0, const uint8_t *s1, uint8_t *d0, uint8_t *d1, int dw,
                  const int32_t *start, const int32_t *w, int npairs) {
  int x = 0;
  for (; x + 4 <= dw; x += 4) {
    v128_t a[4], b[4];
    for (int j = 0; j < 4; j++) {
      const int at = start[x + j] * 4;
      const int32_t *wp = w + (x + j) * npairs;
      v128_t sa = wasm_i32x4_splat(0), sb = sa;
      for (int k = 0; k < npairs; k++) {
        const v128_t weights = wasm_i32x4_splat(wp[k]);
        sa = wasm_i32x4_add(sa, pair4(s0 + at + 8 * k, weights));
        sb = wasm_i32x4_add(sb, pair4(s1 + at + 8 * k, weights));
      }
      a[j] = sa;
      b[j] = sb;
    }
    wasm_v128_store(d0 + x * 4, finish4(a[0], a[1], a[2], a[3]));
    wasm_v128_store(d1 + x * 4, finish4(b[0], b[1], b[2], b[3]));
  }
  for (; x < dw; x++) {
    const int32_t *wp = w + x * npairs;
    for (int r = 0; r < 2; r++) {
      const uint8_t *p = (r ? s1 : s0) + start[x] * 4;
      uint8_t *d = r ? d1 : d0;
      for (int c = 0; c < 4; c++) {
        int32_t a = ROUND;
        for (int k = 0; k < npairs; k++)
          a += (int16_t)(wp[k] & 0xffff) * p[8 * k + c] + (int16_t)(wp[k] >> 16) * p[8 * k + 4 + c];
        a >>= PREC;
        d[x * 4 + c] = a < 0 ? 0 : a > 255 ? 255 : a;
      }
    }
  }
}

__attribute__((export_name("hpass")))
void hpass(const uint8_t *src, int sw, int h, uint8_t *dst, int dw,
           const int32_t *start, const int32_t *w, int npairs) {
  const long in = (long)sw * 4, out = (long)dw * 4;
  int y = 0;
  for (; y + 2 <= h; y += 2) hrows(src + y * in, src + (y + 1) * in, dst + y * out, dst + (y + 1) * out, dw, start, w, npairs);
  // an odd last row is worked twice, into the same place
  if (y < h) hrows(src + y * in, src + y * in, dst + y * out, dst + y * out, dw, start, w, npairs);
}

// Horizontal pass on one channel (grey): the same tables, src h rows of sw bytes, dst h rows of
// dw. Eight taps per dot product; the last group of pairs is masked, and the up to 7 bytes read
// past a window (or past the last row) land in the padding the caller leaves after each buffer.
// Four outputs at a time share the sums' final reduction and their store.
static inline v128_t taps1(const uint8_t *p, const int32_t *wp, int quads, int rest, v128_t mask) {
  v128_t a = wasm_i32x4_splat(0);
  int q = 0;
  for (; q < quads; q++)
    a = wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(wasm_u16x8_load8x8(p + 8 * q), wasm_v128_load(wp + 4 * q)));
  if (rest)
    a = wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(wasm_u16x8_load8x8(p + 8 * q), wasm_v128_and(wasm_v128_load(wp + 4 * q), mask)));
  return a;
}

__attribute__((export_name("hpass1")))
void hpass1(const uint8_t *src, int sw, int h, uint8_t *dst, int dw,
            const int32_t *start, const int32_t *w, int npairs) {
  const int quads = npairs >> 2, rest = npairs & 3;
  const v128_t mask = wasm_i32x4_make(rest > 0 ? -1 : 0, rest > 1 ? -1 : 0, rest > 2 ? -1 : 0, 0);
  const v128_t round = wasm_i32x4_splat(ROUND);
  for (int y = 0; y < h; y++) {
    const uint8_t *s = src + (long)y * sw;
    uint8_t *d = dst + (long)y * dw;
    int x = 0;
    for (; x + 4 <= dw; x += 4) {
      const v128_t a0 = taps1(s + start[x], w + x * npairs, quads, rest, mask);
      const v128_t a1 = taps1(s + start[x + 1], w + (x + 1) * npairs, quads, rest, mask);
      const v128_t a2 = taps1(s + start[x + 2], w + (x + 2) * npairs, quads, rest, mask);
      const v128_t a3 = taps1(s + start[x + 3], w + (x + 3) * npairs, quads, rest, mask);
      // lane j of the result: the sum of a_j's four lanes
      const v128_t s01 = wasm_i32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
      const v128_t s23 = wasm_i32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
      v128_t v = wasm_i32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
      v = wasm_i32x4_shr(wasm_i32x4_add(v, round), PREC);
      v = wasm_i16x8_narrow_i32x4(v, v);
      v = wasm_u8x16_narrow_i16x8(v, v);
      wasm_v128_store32_lane(d + x, v, 0);
    }
    for (; x < dw; x++) {
      v128_t a = taps1(s + start[x], w + x * npairs, quads, rest, mask);
      a = wasm_i32x4_add(a, wasm_i32x4_shuffle(a, a, 2, 3, 0, 1));
      a = wasm_i32x4_add(a, wasm_i32x4_shuffle(a, a, 1, 0, 3, 2));
      int32_t v = (wasm_i32x4_extract_lane(a, 0) + ROUND) >> PREC;
      d[x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

// Vertical pass: rows of `rowbytes` bytes; output row y = sum over taps of w * src row (start[y]+t).
__attribute__((export_name("vpass")))
void vpass(const uint8_t *src, int rowbytes, uint8_t *dst, int dh,
           const int32_t *start, const int32_t *w, int npairs) {
  for (int y = 0; y < dh; y++) {
    const uint8_t *s0 = src + (long)start[y] * rowbytes;
    const int32_t *wp = w + y * npairs;
    uint8_t *d = dst + (long)y * rowbytes;
    int i = 0;
    for (; i + 16 <= rowbytes; i += 16) {
      v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (int k = 0; k < npairs; k++) {
        const uint8_t *ra = s0 + (long)(2 * k) * rowbytes + i;
        v128_t va = wasm_v128_load(ra);
        v128_t vb = wasm_v128_load(ra + rowbytes);
        v128_t wv = wasm_i32x4_splat(wp[k]);
        v128_t lo = wasm_i8x16_shuffle(va, vb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        v128_t hi = wasm_i8x16_shuffle(va, vb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(lo), wv));
        a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(lo), wv));
        a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(hi), wv));
        a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(hi), wv));
      }
      wasm_v128_store(d + i, finish4(a0, a1, a2, a3));
    }
    for (; i < rowbytes; i++) {
      int32_t a = ROUND;
      for (int k = 0; k < npairs; k++) {
        const uint8_t *ra = s0 + (long)(2 * k) * rowbytes + i;
        a += (int16_t)(wp[k] & 0xffff) * ra[0] + (int16_t)(wp[k] >> 16) * ra[rowbytes];
      }
      a >>= PREC;
      d[i] = a < 0 ? 0 : a > 255 ? 255 : a;
    }
  }
}

// freestanding: the compiler may emit memset calls
void *memset(void *d, int c, unsigned long n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
