// libvips' sharpen (vips_sharpen) on 8-bit pixels, in WebAssembly: sRGB to CIE Lab with L held
// as a short (LabS, 327.67 per L* unit), L blurred with libvips' integer Gaussian, L pushed
// away from the blur through libvips' curve, then back to sRGB; alpha is kept. Each step
// repeats libvips' arithmetic (its tables, truncations and edge copies; float where it uses
// double on the way back) so that results agree with libvips to within one level. The way back
// to sRGB, the costliest part, runs four pixels at a time in SIMD with the same operations.
// Built by scripts/build-wasm.sh into assets/wasm/unsharp.wasm; the tables come from
// unsharp-lightness.ts, since there is no libm here.
#include <stdint.h>
#include <wasm_simd128.h>

extern unsigned char __heap_base;
__attribute__((export_name("heap_base"))) uint32_t heap_base(void) { return (uint32_t)&__heap_base; }

#define CUBE_ROOT_STEPS 100000
#define D65_X0 95.0470f
#define D65_Y0 100.0f
#define D65_Z0 108.8827f

static inline float cube_root(const float *table, float value) {
  const float scaled = value * CUBE_ROOT_STEPS;
  int i = (int)scaled;
  if (i < 0) i = 0;
  if (i > CUBE_ROOT_STEPS - 2) i = CUBE_ROOT_STEPS - 2;
  return table[i] + (scaled - i) * (table[i + 1] - table[i]);
}

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

// Rows then columns, edges copied outwards, each pass rounded as libvips' integer convolution.
// The vertical pass makes only the rows from first to last.
static void blur(const int16_t *plane, int16_t *across, int16_t *out, int width, int height, int first, int last,
                 const int32_t *weights, int taps, int sum, int32_t *row_buffer) {
  const int radius = taps / 2;
  const int half = sum / 2;
  // total / sum as a multiply and shift: exact for totals below 2^40 / sum, and a total here is
  // at most 32767 + 32767 · sum < 2^25.
  const uint64_t reciprocal = ((1ull << 40) + sum - 1) / sum;
  for (int y = 0; y < height; y++) {
    const int16_t *in = plane + y * width;
    for (int x = 0; x < width + 2 * radius; x++) {
      int sx = x - radius;
      sx = sx < 0 ? 0 : sx >= width ? width - 1 : sx;
      row_buffer[x] = in[sx];
    }
    int16_t *to = across + y * width;
    for (int x = 0; x < width; x++) {
      int total = half;
      for (int k = 0; k < taps; k++) total += weights[k] * row_buffer[x + k];
      to[x] = (int16_t)(((uint64_t)total * reciprocal) >> 40);
    }
  }
  for (int y = first; y < last; y++) {
    for (int x = 0; x < width; x++) row_buffer[x] = half;
    for (int k = 0; k < taps; k++) {
      int sy = y + k - radius;
      sy = sy < 0 ? 0 : sy >= height ? height - 1 : sy;
      const int16_t *in = across + sy * width;
      const int weight = weights[k];
      for (int x = 0; x < width; x++) row_buffer[x] += weight * in[x];
    }
    int16_t *to = out + y * width;
    for (int x = 0; x < width; x++) to[x] = (int16_t)(((uint64_t)row_buffer[x] * reciprocal) >> 40);
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
    const float *to_linear, const int32_t *srgb_table, const float *cube_roots) {
  const int n = width * rows;
  const int colour = channels >= 3;
  uint8_t *p = pixels;
  for (int i = 0; i < n; i++, p += channels) {
    const float r = to_linear[p[0]] * D65_Y0;
    const float g = colour ? to_linear[p[1]] * D65_Y0 : r;
    const float b = colour ? to_linear[p[2]] * D65_Y0 : r;
    const float cbx = cube_root(cube_roots, (0.4124f * r + 0.3576f * g + 0.1805f * b) / D65_X0);
    const float cby = cube_root(cube_roots, (0.2126f * r + 0.7152f * g + 0.0722f * b) / D65_Y0);
    const float cbz = cube_root(cube_roots, (0.0193f * r + 0.1192f * g + 0.9505f * b) / D65_Z0);
    float L = (116.0f * cby - 16.0f) * (float)(32767.0 / 100.0);
    L = L < 0.0f ? 0.0f : L > 32767.0f ? 32767.0f : L;
    lightness[i] = (int16_t)L;
    a_star[i] = (int16_t)(500.0f * (cbx - cby) * 256.0f);
    b_star[i] = (int16_t)(200.0f * (cby - cbz) * 256.0f);
  }

  blur(lightness, across, blurred, width, rows, first, last, weights, taps, sum, row_buffer);

  const int end = last * width;
  int i = first * width;
  p = pixels + i * channels;
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
      const v128_t grey = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(F4(0.2126f), R), wasm_f32x4_mul(F4(0.7152f), G)),
                                         wasm_f32x4_mul(F4(0.0722f), B));
      wasm_v128_store(out[0], to_srgb4(srgb_table, grey));
      for (int k = 0; k < 4; k++) p[k * channels] = out[0][k];
    }
  }
  for (; i < end; i++, p += channels) back_to_srgb(p, colour, sharpened(lightness[i], blurred[i], curve), a_star[i], b_star[i], srgb_table);
}
