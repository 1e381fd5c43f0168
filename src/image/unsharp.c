// libvips' sharpen (vips_sharpen) on 8-bit pixels, in WebAssembly: sRGB to CIE Lab with L held
// as a short (LabS, 327.67 per L* unit), L blurred with libvips' integer Gaussian, L pushed
// away from the blur through libvips' curve, then back to sRGB; alpha is kept. Each step
// repeats libvips' arithmetic (its tables, truncations and edge copies; float where it uses
// double on the way back) so that results agree with libvips to within one level. One step
// differs: libvips reads Lab's cube root from a table, here it is computed to float precision.
// The ways there and back run four pixels at a time in SIMD. Built by scripts/build-wasm.sh into
// assets/wasm/unsharp.wasm; the tables come from unsharp-lightness.ts, since there is no libm here.
#include <stdint.h>
#include <wasm_simd128.h>

extern unsigned char __heap_base;
__attribute__((export_name("heap_base"))) uint32_t heap_base(void) { return (uint32_t)&__heap_base; }

#define D65_X0 95.0470f
#define D65_Y0 100.0f
#define D65_Z0 108.8827f

static inline int to_srgb(const int32_t *table, float linear) {
  float scaled = linear * 255.0f;
  if (!(scaled > 0.0f)) scaled = 0.0f;
  if (scaled > 255.0f) scaled = 255.0f;
  const int i = (int)scaled;
  const float v = table[i] + (table[i + 1] - table[i]) * (scaled - i);
  return (int)(v + 0.5f);
}

static inline float from_cube_root(float f) {
  return f < 0.2069f ? (f - 0.13793f) * (1.0f / 7.787f) : f * f * f;
}

static inline int sharpened(int before, int blurred, const int32_t *curve) {
  const int after = before + curve[before - blurred + 32768];
  return after < 0 ? 0 : after > 32767 ? 32767 : after;
}

// LabS lightness (after sharpening) and a*, b* as stored, to linear sRGB.
static inline void lab_to_linear(int after, int a_star, int b_star, float *R, float *G, float *B) {
  const float L = after * (float)(100.0 / 32767.0);
  float Y, cby;
  if (L < 8.0f) {
    Y = L * (1.0f / 903.3f);
    cby = 7.787f * Y + 16.0f / 116.0f;
  } else {
    cby = (L + 16.0f) * (1.0f / 116.0f);
    Y = cby * cby * cby;
  }
  const float X = (D65_X0 / D65_Y0) * from_cube_root(a_star * (1.0f / 128000.0f) + cby);
  const float Z = (D65_Z0 / D65_Y0) * from_cube_root(cby - b_star * (1.0f / 51200.0f));
  *R = 3.240625f * X - 1.537208f * Y - 0.498629f * Z;
  *G = -0.968931f * X + 1.875756f * Y + 0.041518f * Z;
  *B = 0.055710f * X - 0.204021f * Y + 1.056996f * Z;
}

static inline void back_to_srgb(uint8_t *p, int colour, int after, int a_star, int b_star, const int32_t *srgb_table) {
  float R, G, B;
  lab_to_linear(after, a_star, b_star, &R, &G, &B);
  if (colour) {
    p[0] = to_srgb(srgb_table, R);
    p[1] = to_srgb(srgb_table, G);
    p[2] = to_srgb(srgb_table, B);
  } else {
    p[0] = to_srgb(srgb_table, 0.2126f * R + 0.7152f * G + 0.0722f * B);
  }
}

#define F4(x) wasm_f32x4_splat(x)

static inline v128_t from_cube_root4(v128_t f) {
  const v128_t low = wasm_f32x4_mul(wasm_f32x4_sub(f, F4(0.13793f)), F4(1.0f / 7.787f));
  const v128_t high = wasm_f32x4_mul(wasm_f32x4_mul(f, f), f);
  return wasm_v128_bitselect(low, high, wasm_f32x4_lt(f, F4(0.2069f)));
}

// lab_to_linear on four pixels.
static inline void lab_to_linear4(v128_t after, v128_t a_star, v128_t b_star, v128_t *R, v128_t *G, v128_t *B) {
  const v128_t L = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(after), F4((float)(100.0 / 32767.0)));
  const v128_t dark = wasm_f32x4_lt(L, F4(8.0f));
  const v128_t y_dark = wasm_f32x4_mul(L, F4(1.0f / 903.3f));
  const v128_t cby_dark = wasm_f32x4_add(wasm_f32x4_mul(F4(7.787f), y_dark), F4(16.0f / 116.0f));
  const v128_t cby_light = wasm_f32x4_mul(wasm_f32x4_add(L, F4(16.0f)), F4(1.0f / 116.0f));
  const v128_t y_light = wasm_f32x4_mul(wasm_f32x4_mul(cby_light, cby_light), cby_light);
  const v128_t Y = wasm_v128_bitselect(y_dark, y_light, dark);
  const v128_t cby = wasm_v128_bitselect(cby_dark, cby_light, dark);
  const v128_t X = wasm_f32x4_mul(F4(D65_X0 / D65_Y0),
                                  from_cube_root4(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(a_star), F4(1.0f / 128000.0f)), cby)));
  const v128_t Z = wasm_f32x4_mul(F4(D65_Z0 / D65_Y0),
                                  from_cube_root4(wasm_f32x4_sub(cby, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(b_star), F4(1.0f / 51200.0f)))));
  *R = wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_mul(F4(3.240625f), X), wasm_f32x4_mul(F4(1.537208f), Y)), wasm_f32x4_mul(F4(0.498629f), Z));
  *G = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(F4(-0.968931f), X), wasm_f32x4_mul(F4(1.875756f), Y)), wasm_f32x4_mul(F4(0.041518f), Z));
  *B = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(F4(0.055710f), X), wasm_f32x4_mul(F4(0.204021f), Y)), wasm_f32x4_mul(F4(1.056996f), Z));
}

// to_srgb on four values: the arithmetic in lanes, the table read one lane at a time.
static inline v128_t to_srgb4(const int32_t *table, v128_t linear) {
  v128_t scaled = wasm_f32x4_mul(linear, F4(255.0f));
  scaled = wasm_v128_bitselect(scaled, F4(0.0f), wasm_f32x4_gt(scaled, F4(0.0f)));
  scaled = wasm_v128_bitselect(F4(255.0f), scaled, wasm_f32x4_gt(scaled, F4(255.0f)));
  const v128_t index = wasm_i32x4_trunc_sat_f32x4(scaled);
  int32_t at[4];
  wasm_v128_store(at, index);
  const v128_t base = wasm_f32x4_make((float)table[at[0]], (float)table[at[1]], (float)table[at[2]], (float)table[at[3]]);
  const v128_t step = wasm_f32x4_make((float)(table[at[0] + 1] - table[at[0]]), (float)(table[at[1] + 1] - table[at[1]]),
                                      (float)(table[at[2] + 1] - table[at[2]]), (float)(table[at[3] + 1] - table[at[3]]));
  const v128_t v = wasm_f32x4_add(base, wasm_f32x4_mul(step, wasm_f32x4_sub(scaled, wasm_f32x4_convert_i32x4(index))));
  return wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_add(v, F4(0.5f)));
}

// The cube root of four values to float precision: a first guess from the bits of each float
// (the bits divided by three, plus two thirds of the exponent's bias, Kahan's 709921077), then
// three of Newton's steps, each of which squares the error (3 % → 1e-3 → 1e-6 → float's own).
static inline v128_t cube_root4(v128_t x) {
  v128_t y = wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(x), F4(1.0f / 3.0f))),
                            wasm_i32x4_splat(709921077));
  for (int step = 0; step < 3; step++) {
    y = wasm_f32x4_mul(wasm_f32x4_add(wasm_f32x4_add(y, y), wasm_f32x4_div(x, wasm_f32x4_mul(y, y))), F4(1.0f / 3.0f));
  }
  return y;
}

// Lab's f(t) on four values: linear below 0.008856, the cube root above (libvips reads the same
// function from a table, between entries 1/100000 apart).
static inline v128_t lab_f4(v128_t t) {
  const v128_t low = wasm_f32x4_add(wasm_f32x4_mul(F4(7.787f), t), F4(16.0f / 116.0f));
  return wasm_v128_bitselect(low, cube_root4(t), wasm_f32x4_lt(t, F4(0.008856f)));
}

static inline v128_t mix3(v128_t r, v128_t g, v128_t b, float kr, float kg, float kb) {
  return wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(F4(kr), r), wasm_f32x4_mul(F4(kg), g)), wasm_f32x4_mul(F4(kb), b));
}

// Four values, truncated, as shorts: the first `count` of them.
__attribute__((always_inline)) static inline void store_shorts(int16_t *to, v128_t values, int count) {
  const v128_t whole = wasm_i32x4_trunc_sat_f32x4(values);
  const v128_t shorts = wasm_i16x8_narrow_i32x4(whole, whole);
  if (count == 4) {
    wasm_v128_store64_lane(to, shorts, 0);
    return;
  }
  to[0] = (int16_t)wasm_i32x4_extract_lane(whole, 0);
  if (count > 1) to[1] = (int16_t)wasm_i32x4_extract_lane(whole, 1);
  if (count > 2) to[2] = (int16_t)wasm_i32x4_extract_lane(whole, 2);
}

// Four pixels from `first` (the last repeated where fewer are left) to LabS lightness and a*, b*
// as libvips stores them, written for the `count` pixels there are.
__attribute__((always_inline)) static inline void to_lab4(const uint8_t *pixels, int channels, int first, int count, const float *to_linear,
                    int16_t *lightness, int16_t *a_star, int16_t *b_star) {
  const int colour = channels >= 3;
  float lin[3][4];
  for (int k = 0; k < 4; k++) {
    const uint8_t *q = pixels + (first + (k < count ? k : count - 1)) * channels;
    lin[0][k] = to_linear[q[0]];
    lin[1][k] = colour ? to_linear[q[1]] : lin[0][k];
    lin[2][k] = colour ? to_linear[q[2]] : lin[0][k];
  }
  const v128_t r = wasm_f32x4_mul(wasm_v128_load(lin[0]), F4(D65_Y0));
  const v128_t g = wasm_f32x4_mul(wasm_v128_load(lin[1]), F4(D65_Y0));
  const v128_t b = wasm_f32x4_mul(wasm_v128_load(lin[2]), F4(D65_Y0));
  const v128_t cbx = lab_f4(wasm_f32x4_div(mix3(r, g, b, 0.4124f, 0.3576f, 0.1805f), F4(D65_X0)));
  const v128_t cby = lab_f4(wasm_f32x4_div(mix3(r, g, b, 0.2126f, 0.7152f, 0.0722f), F4(D65_Y0)));
  const v128_t cbz = lab_f4(wasm_f32x4_div(mix3(r, g, b, 0.0193f, 0.1192f, 0.9505f), F4(D65_Z0)));
  const v128_t L = wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_mul(F4(116.0f), cby), F4(16.0f)), F4((float)(32767.0 / 100.0)));
  store_shorts(lightness + first, wasm_f32x4_min(wasm_f32x4_max(L, F4(0.0f)), F4(32767.0f)), count);
  store_shorts(a_star + first, wasm_f32x4_mul(wasm_f32x4_mul(F4(500.0f), wasm_f32x4_sub(cbx, cby)), F4(256.0f)), count);
  store_shorts(b_star + first, wasm_f32x4_mul(wasm_f32x4_mul(F4(200.0f), wasm_f32x4_sub(cby, cbz)), F4(256.0f)), count);
}

// Grey: a level's L, a* and b* depend on the level alone, and a* and b* take only a few values
// (four, with this arithmetic), so each level is converted once, and the way back is a table per
// (a*, b*) pair from sharpened L to grey level. Both are made once per instance by the same
// four-pixel arithmetic as for colour, so they hold the same results.
#define GREY_PAIRS 8
#define LIGHTNESS_LEVELS 32768
// 0: not made yet; 1: made; -1: more pairs than there is room for, so each pixel is converted.
static int grey_tables = 0;
static int16_t level_lightness[256];
static uint8_t level_pair[256];
static uint8_t grey_back[GREY_PAIRS][LIGHTNESS_LEVELS];

static void make_grey_tables(const float *to_linear, const int32_t *srgb_table) {
  static uint8_t levels[256];
  static int16_t level_a[256], level_b[256];
  for (int v = 0; v < 256; v++) levels[v] = (uint8_t)v;
  for (int v = 0; v < 256; v += 4) to_lab4(levels, 1, v, 4, to_linear, level_lightness, level_a, level_b);
  int16_t pair_a[GREY_PAIRS], pair_b[GREY_PAIRS];
  int pairs = 0;
  for (int v = 0; v < 256; v++) {
    int j = 0;
    while (j < pairs && (pair_a[j] != level_a[v] || pair_b[j] != level_b[v])) j++;
    if (j == pairs) {
      if (pairs == GREY_PAIRS) {
        grey_tables = -1;
        return;
      }
      pair_a[j] = level_a[v];
      pair_b[j] = level_b[v];
      pairs++;
    }
    level_pair[v] = (uint8_t)j;
  }
  for (int j = 0; j < pairs; j++) {
    for (int after = 0; after < LIGHTNESS_LEVELS; after += 4) {
      v128_t R, G, B;
      lab_to_linear4(wasm_i32x4_make(after, after + 1, after + 2, after + 3), wasm_i32x4_splat(pair_a[j]), wasm_i32x4_splat(pair_b[j]), &R, &G, &B);
      int32_t out[4];
      wasm_v128_store(out, to_srgb4(srgb_table, mix3(R, G, B, 0.2126f, 0.7152f, 0.0722f)));
      for (int k = 0; k < 4; k++) grey_back[j][after + k] = (uint8_t)out[k];
    }
  }
  grey_tables = 1;
}

// total / sum, rounded down, as a multiply and shift, for totals below 2^25 (a total here is at
// most 32767 · sum + sum / 2, and sum is 490 at σ 10, sharpen's largest): with shift = 25 +
// ⌈log2 sum⌉ and factor = ⌈2^shift / sum⌉ ≤ 2^26, factor · sum exceeds 2^shift by less than sum,
// so total · factor / 2^shift exceeds total / sum by less than 1 / sum and the quotient is exact.
typedef struct {
  uint32_t factor;
  int shift;
} divisor;

static divisor divide_by(int sum) {
  int bits = 0;
  while ((1 << bits) < sum) bits++;
  const int shift = 25 + bits;
  return (divisor){ (uint32_t)(((1ull << shift) + sum - 1) / sum), shift };
}

static inline int16_t divide(int total, divisor d) {
  return (int16_t)(((uint64_t)(uint32_t)total * d.factor) >> d.shift);
}

// divide on four totals, as shorts in the low half.
static inline v128_t divide4(v128_t totals, divisor d) {
  const v128_t factor = wasm_i32x4_splat((int32_t)d.factor);
  const v128_t low = wasm_u64x2_shr(wasm_u64x2_extmul_low_u32x4(totals, factor), d.shift);
  const v128_t high = wasm_u64x2_shr(wasm_u64x2_extmul_high_u32x4(totals, factor), d.shift);
  const v128_t quotients = wasm_i32x4_shuffle(low, high, 0, 2, 4, 6);
  return wasm_i16x8_narrow_i32x4(quotients, quotients);
}

// Rows then columns, edges copied outwards, each pass rounded as libvips' integer convolution;
// four pixels at a time. The vertical pass makes only the rows from first to last.
static void blur(const int16_t *plane, int16_t *across, int16_t *out, int width, int height, int first, int last,
                 const int32_t *weights, int taps, int sum, int32_t *row_buffer) {
  const int radius = taps / 2;
  const int half = sum / 2;
  const divisor d = divide_by(sum);
  for (int y = 0; y < height; y++) {
    const int16_t *in = plane + y * width;
    for (int x = 0; x < width + 2 * radius; x++) {
      int sx = x - radius;
      sx = sx < 0 ? 0 : sx >= width ? width - 1 : sx;
      row_buffer[x] = in[sx];
    }
    int16_t *to = across + y * width;
    int x = 0;
    for (; x + 4 <= width; x += 4) {
      v128_t total = wasm_i32x4_splat(half);
      for (int k = 0; k < taps; k++) total = wasm_i32x4_add(total, wasm_i32x4_mul(wasm_i32x4_splat(weights[k]), wasm_v128_load(row_buffer + x + k)));
      wasm_v128_store64_lane(to + x, divide4(total, d), 0);
    }
    for (; x < width; x++) {
      int total = half;
      for (int k = 0; k < taps; k++) total += weights[k] * row_buffer[x + k];
      to[x] = divide(total, d);
    }
  }
  for (int y = first; y < last; y++) {
    int16_t *to = out + y * width;
    int x = 0;
    for (; x + 4 <= width; x += 4) {
      v128_t total = wasm_i32x4_splat(half);
      for (int k = 0; k < taps; k++) {
        int sy = y + k - radius;
        sy = sy < 0 ? 0 : sy >= height ? height - 1 : sy;
        total = wasm_i32x4_add(total, wasm_i32x4_mul(wasm_i32x4_splat(weights[k]), wasm_i32x4_load16x4(across + sy * width + x)));
      }
      wasm_v128_store64_lane(to + x, divide4(total, d), 0);
    }
    for (; x < width; x++) {
      int total = half;
      for (int k = 0; k < taps; k++) {
        int sy = y + k - radius;
        sy = sy < 0 ? 0 : sy >= height ? height - 1 : sy;
        total += weights[k] * across[sy * width + x];
      }
      to[x] = divide(total, d);
    }
  }
}

// A strip of `rows` rows of width × channels (1–4) pixels, the rows from `first` to `last`
// (exclusive) of which are sharpened in place; the rows around them are their neighbourhood,
// and the strip's edges are taken as the image's (its pixels copied outwards). lightness,
// a_star, b_star, across and blurred: width × rows shorts each; row_buffer: width + taps ints.
__attribute__((export_name("unsharp"))) void unsharp(
    uint8_t *pixels, int width, int rows, int channels, int first, int last,
    int16_t *lightness, int16_t *a_star, int16_t *b_star, int16_t *across, int16_t *blurred, int32_t *row_buffer,
    const int32_t *weights, int taps, int sum, const int32_t *curve,
    const float *to_linear, const int32_t *srgb_table) {
  const int n = width * rows;
  const int colour = channels >= 3;
  if (!colour && grey_tables == 0) make_grey_tables(to_linear, srgb_table);
  const int grey = !colour && grey_tables == 1;
  int i = 0;
  if (grey) {
    // a_star holds each pixel's (a*, b*) pair instead.
    for (; i < n; i++) {
      const uint8_t v = pixels[i * channels];
      lightness[i] = level_lightness[v];
      a_star[i] = level_pair[v];
    }
  } else {
    for (; i + 4 <= n; i += 4) to_lab4(pixels, channels, i, 4, to_linear, lightness, a_star, b_star);
    if (i < n) to_lab4(pixels, channels, i, n - i, to_linear, lightness, a_star, b_star);
  }

  blur(lightness, across, blurred, width, rows, first, last, weights, taps, sum, row_buffer);

  const int end = last * width;
  i = first * width;
  uint8_t *p = pixels + i * channels;
  if (grey) {
    for (; i < end; i++, p += channels) p[0] = grey_back[a_star[i]][sharpened(lightness[i], blurred[i], curve)];
    return;
  }
  // Four pixels at a time: the same float operations in the same order as back_to_srgb, so the
  // same results; only the table reads are one lane at a time.
  for (; i + 4 <= end; i += 4, p += 4 * channels) {
    int32_t after[4];
    for (int k = 0; k < 4; k++) after[k] = sharpened(lightness[i + k], blurred[i + k], curve);
    int32_t a[4] = { a_star[i], a_star[i + 1], a_star[i + 2], a_star[i + 3] };
    int32_t b[4] = { b_star[i], b_star[i + 1], b_star[i + 2], b_star[i + 3] };
    v128_t R, G, B;
    lab_to_linear4(wasm_v128_load(after), wasm_v128_load(a), wasm_v128_load(b), &R, &G, &B);
    int32_t out[3][4];
    if (colour) {
      wasm_v128_store(out[0], to_srgb4(srgb_table, R));
      wasm_v128_store(out[1], to_srgb4(srgb_table, G));
      wasm_v128_store(out[2], to_srgb4(srgb_table, B));
      for (int k = 0; k < 4; k++) {
        p[k * channels] = out[0][k];
        p[k * channels + 1] = out[1][k];
        p[k * channels + 2] = out[2][k];
      }
    } else {
      wasm_v128_store(out[0], to_srgb4(srgb_table, mix3(R, G, B, 0.2126f, 0.7152f, 0.0722f)));
      for (int k = 0; k < 4; k++) p[k * channels] = out[0][k];
    }
  }
  for (; i < end; i++, p += channels) back_to_srgb(p, colour, sharpened(lightness[i], blurred[i], curve), a_star[i], b_star[i], srgb_table);
}
