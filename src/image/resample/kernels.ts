/** Resampling kernels as functions of distance in source pixels, with their support radius. */
export interface Kernel {
  support: number;
  weight(x: number): number;
}

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

const lanczos = (a: number): Kernel => ({ support: a, weight: (x) => (Math.abs(x) < a ? sinc(x) * sinc(x / a) : 0) });

/** Keys' cubic convolution with a = −0.5, as Pillow's BICUBIC. */
const cubic: Kernel = {
  support: 2,
  weight(x) {
    const a = -0.5;
    const t = Math.abs(x);
    if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
    return 0;
  },
};

/** Mitchell–Netravali with B = C = 1/3. */
const mitchell: Kernel = {
  support: 2,
  weight(x) {
    const t = Math.abs(x);
    if (t < 1) return (7 * t * t * t - 12 * t * t + 16 / 3) / 6;
    if (t < 2) return ((-7 / 3) * t * t * t + 12 * t * t - 20 * t + 32 / 3) / 6;
    return 0;
  },
};

const linear: Kernel = { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) };

export const KERNELS = { linear, cubic, mitchell, lanczos2: lanczos(2), lanczos3: lanczos(3) } as const;
export type KernelName = keyof typeof KERNELS;
