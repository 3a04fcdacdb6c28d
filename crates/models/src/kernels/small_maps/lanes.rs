//! The chains' vectors and tiles, and the passes built for each instruction set.

use super::LANES;
use crate::kernels::direct::Isa;

/// A vector of [`LANES`] chains: `[f32; LANES]`, which the compiler vectorizes as the
/// instruction set allows, or one AVX-512 register. Both round each link once
/// (`f32::mul_add`, `vfmadd`), so they give the same bits.
pub(super) trait Lanes: Copy {
    fn zero() -> Self;
    /// The vector `values[..LANES]`.
    fn load(values: &[f32]) -> Self;
    /// `fma(x, self[l], acc[l])` in every lane.
    fn multiply_add(self, x: f32, acc: Self) -> Self;
    fn to_array(self) -> [f32; LANES];
}

impl Lanes for [f32; LANES] {
    #[inline(always)]
    fn zero() -> Self {
        [0.0; LANES]
    }

    #[inline(always)]
    fn load(values: &[f32]) -> Self {
        values[..LANES].try_into().expect("a whole vector")
    }

    #[inline(always)]
    fn multiply_add(self, x: f32, mut acc: Self) -> Self {
        for (a, w) in acc.iter_mut().zip(self) {
            *a = x.mul_add(w, *a);
        }
        acc
    }

    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        self
    }
}

/// One AVX-512 register of [`LANES`] chains. Its methods are compiled into the passes
/// built for AVX-512 only (the `avx512` paths of [`on_isa`]), which run where
/// `Isa::detect` found it.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Zmm(std::arch::x86_64::__m512);

#[cfg(target_arch = "x86_64")]
impl Lanes for Zmm {
    #[inline(always)]
    fn zero() -> Self {
        // SAFETY: only reached from the AVX-512 passes (see the type's docs).
        Self(unsafe { std::arch::x86_64::_mm512_setzero_ps() })
    }

    #[inline(always)]
    fn load(values: &[f32]) -> Self {
        let values = &values[..LANES];
        // SAFETY: `values` holds the 16 values read; AVX-512 as above.
        Self(unsafe { std::arch::x86_64::_mm512_loadu_ps(values.as_ptr()) })
    }

    #[inline(always)]
    fn multiply_add(self, x: f32, acc: Self) -> Self {
        use std::arch::x86_64::{_mm512_fmadd_ps, _mm512_set1_ps};
        // SAFETY: AVX-512 as above.
        Self(unsafe { _mm512_fmadd_ps(_mm512_set1_ps(x), self.0, acc.0) })
    }

    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        // SAFETY: a `__m512` is 16 `f32`s.
        unsafe { std::mem::transmute::<std::arch::x86_64::__m512, [f32; LANES]>(self.0) }
    }
}

/// A tile's accumulators: `R` rows of `V` vectors.
pub(super) type Tile<T, const R: usize, const V: usize> = [[T; V]; R];

/// The `V` vectors of `values[..V · LANES]`: a row of a tile.
#[inline(always)]
pub(super) fn load_row<T: Lanes, const V: usize>(values: &[f32]) -> [T; V] {
    std::array::from_fn(|v| T::load(&values[v * LANES..]))
}

/// A row of a tile into `values[..V · LANES]`.
#[inline(always)]
pub(super) fn store_row<T: Lanes, const V: usize>(row: &[T; V], values: &mut [f32]) {
    for (lanes, vector) in values[..V * LANES].chunks_exact_mut(LANES).zip(row) {
        lanes.copy_from_slice(&vector.to_array());
    }
}

/// One link of every chain of a tile: `acc[r][v] = fma(xs[at[r]], vectors[v · LANES..],
/// acc[r][v])`. Each `x` is read where it is used, so that it stays a memory operand of its
/// broadcast; the accumulators come in and go out by value, so that they stay in
/// registers.
#[inline(always)]
pub(super) fn multiply_add<T: Lanes, const R: usize, const V: usize>(
    mut acc: Tile<T, R, V>,
    xs: &[f32],
    at: &[usize; R],
    vectors: &[f32],
) -> Tile<T, R, V> {
    let vectors: [T; V] = load_row(vectors);
    for (acc_r, &at) in acc.iter_mut().zip(at) {
        let x = xs[at];
        for (a, w) in acc_r.iter_mut().zip(vectors) {
            *a = w.multiply_add(x, *a);
        }
    }
    acc
}

/// A tile's rows (pixels or pairs) and vectors of channels: as many accumulators as the
/// instruction set's registers hold. They do not change the bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shape {
    pub rows: usize,
    pub vectors: usize,
}

impl Shape {
    /// The tiles of `isa` over `channels` channels (output channels forward and for the
    /// weight gradient, input channels for the input gradient, whose rows are always
    /// `INPUT_GRADIENT_PIXELS`): AVX-512 blocks of up to four vectors where they waste no
    /// lane (16 to 24 of its 32 registers); elsewhere one vector of 16 lanes, two AVX2
    /// registers, six rows.
    pub fn of(isa: Isa, channels: usize, pass_rows: Option<usize>) -> Self {
        let (rows, vectors) = match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if channels.is_multiple_of(4 * LANES) => (4, 4),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if channels.is_multiple_of(2 * LANES) => (6, 2),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => (8, 1),
            _ => (6, 1),
        };
        Self {
            rows: pass_rows.unwrap_or(rows),
            vectors,
        }
    }
}

/// `fn $name(isa, args…)`: the body, generic over the vectors `T` it runs in, on the
/// widest path `isa` allows, each path compiled for its instruction set (AVX-512 on
/// [`Zmm`], AVX2 and the portable path on `[f32; LANES]`).
macro_rules! on_isa {
    (
        $(#[$meta:meta])*
        fn $name:ident<$t:ident>($($arg:ident: $ty:ty),* $(,)?) $body:block
    ) => {
        $(#[$meta])*
        fn $name(isa: Isa, $($arg: $ty),*) {
            #[inline(always)]
            fn generic<$t: Lanes>($($arg: $ty),*) $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn avx512($($arg: $ty),*) {
                generic::<Zmm>($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2($($arg: $ty),*) {
                generic::<[f32; LANES]>($($arg),*)
            }

            match isa {
                // SAFETY: `Isa::detect` found the features these paths are compiled for
                // (tests only ask for paths the machine has).
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => unsafe { avx2($($arg),*) },
                Isa::Portable => generic::<[f32; LANES]>($($arg),*),
            }
        }
    };
}
pub(super) use on_isa;
