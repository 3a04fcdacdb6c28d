//! A transpose of a block of `f32`s between two strided layouts, by 8 × 8 blocks in AVX2
//! registers where the CPU has them: the copies between images and channels-last grids
//! ([`super::Grid`]) and the packing of the weights' taps.
//!
//! Written one value at a time, every store lands a row's stride from the last, a cache line
//! apart or more. The AVX2 path moves blocks of 8 rows × 8 columns: eight loads along the
//! rows, the classic eight-register transpose (unpack, shuffle, swap of 128-bit halves),
//! eight stores along the columns. The values past the last whole block, and machines
//! without AVX2, go one at a time. Only values move, so every path gives the same bits.

use std::ops::Range;

use crate::kernels::direct::Isa;

/// Side of the blocks the AVX2 path transposes.
const BLOCK: usize = 8;

/// `to[c · to_stride + r] = from[r · from_stride + c]` for `r < rows`, `c < columns`.
///
/// # Panics
/// If either slice is too short for the last value.
pub(super) fn transpose(
    isa: Isa,
    from: &[f32],
    from_stride: usize,
    [rows, columns]: [usize; 2],
    to: &mut [f32],
    to_stride: usize,
) {
    if rows == 0 || columns == 0 {
        return;
    }
    assert!(
        (rows - 1) * from_stride + columns <= from.len()
            && (columns - 1) * to_stride + rows <= to.len(),
        "transpose: {rows} × {columns} values do not fit the slices"
    );
    let (whole_rows, whole_columns) = (rows - rows % BLOCK, columns - columns % BLOCK);
    let blocked = match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 | Isa::Avx2 => {
            // SAFETY: AVX2 was detected (every `Isa` but `Portable`); every block's last
            // value read is at most `(rows - 1) · from_stride + columns - 1` and its last
            // written at most `(columns - 1) · to_stride + rows - 1`, both in the slices
            // (asserted above).
            unsafe {
                transpose_blocks_avx2(
                    from.as_ptr(),
                    from_stride,
                    [whole_rows, whole_columns],
                    to.as_mut_ptr(),
                    to_stride,
                )
            };
            [whole_rows, whole_columns]
        }
        Isa::Portable => [0, 0],
    };
    // What the blocks left: the rows past the last whole block, then the columns past it.
    let one_at_a_time = |to: &mut [f32], rows: Range<usize>, columns: Range<usize>| {
        for r in rows {
            for c in columns.clone() {
                to[c * to_stride + r] = from[r * from_stride + c];
            }
        }
    };
    one_at_a_time(to, blocked[0]..rows, 0..columns);
    one_at_a_time(to, 0..blocked[0], blocked[1]..columns);
}

/// The whole 8 × 8 blocks of [`transpose`], `[rows, columns]` multiples of 8.
///
/// # Safety
/// The CPU has AVX2; `from` and `to` hold every value of the blocks at those strides.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_blocks_avx2(
    from: *const f32,
    from_stride: usize,
    [rows, columns]: [usize; 2],
    to: *mut f32,
    to_stride: usize,
) {
    for r in (0..rows).step_by(BLOCK) {
        for c in (0..columns).step_by(BLOCK) {
            // SAFETY: the caller's.
            unsafe {
                transpose_block_avx2(
                    from.add(r * from_stride + c),
                    from_stride,
                    to.add(c * to_stride + r),
                    to_stride,
                )
            }
        }
    }
}

/// One 8 × 8 block: `to[c · to_stride + r] = from[r · from_stride + c]` for `r, c < 8`.
///
/// # Safety
/// The CPU has AVX2; `from` and `to` hold the block's 64 values at those strides.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn transpose_block_avx2(
    from: *const f32,
    from_stride: usize,
    to: *mut f32,
    to_stride: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's.
    unsafe {
        let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(from.add(i * from_stride)));
        // Pairs of rows interleaved: t[2k] holds columns 0, 1 | 4, 5 of rows 2k, 2k + 1,
        // t[2k + 1] columns 2, 3 | 6, 7.
        let t: [__m256; 8] = std::array::from_fn(|i| {
            let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
            if i % 2 == 0 {
                _mm256_unpacklo_ps(a, b)
            } else {
                _mm256_unpackhi_ps(a, b)
            }
        });
        // Quads of rows: u[4h + j] holds column j | j + 4 of rows 4h..4h + 4.
        let u: [__m256; 8] = std::array::from_fn(|i| {
            let (h, j) = (i / 4, i % 4);
            let (a, b) = (t[4 * h + j / 2], t[4 * h + j / 2 + 2]);
            if j % 2 == 0 {
                _mm256_shuffle_ps::<0x44>(a, b)
            } else {
                _mm256_shuffle_ps::<0xEE>(a, b)
            }
        });
        // Columns: the low halves of rows 0-3 and 4-7 give columns 0-3, the high ones 4-7.
        for j in 0..4 {
            let low = _mm256_permute2f128_ps::<0x20>(u[j], u[4 + j]);
            let high = _mm256_permute2f128_ps::<0x31>(u[j], u[4 + j]);
            _mm256_storeu_ps(to.add(j * to_stride), low);
            _mm256_storeu_ps(to.add((j + 4) * to_stride), high);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::direct::tests::paths;

    /// Every value where the definition puts it, on every path, for shapes with and without
    /// whole blocks, and nothing else written.
    #[test]
    fn transpose_moves_every_value_to_its_place() {
        for isa in paths() {
            for [rows, columns] in [
                [1, 1],
                [3, 48],
                [8, 8],
                [16, 24],
                [13, 19],
                [64, 3],
                [9, 17],
            ] {
                let (from_stride, to_stride) = (columns + 5, rows + 3);
                let from: Vec<f32> = (0..rows * from_stride).map(|i| i as f32).collect();
                let mut to = vec![-1.0; columns * to_stride];
                transpose(isa, &from, from_stride, [rows, columns], &mut to, to_stride);
                for c in 0..columns {
                    for r in 0..to_stride {
                        let want = if r < rows {
                            (r * from_stride + c) as f32
                        } else {
                            -1.0
                        };
                        assert_eq!(
                            to[c * to_stride + r],
                            want,
                            "{isa:?} {rows}×{columns} ({r}, {c})"
                        );
                    }
                }
            }
        }
    }
}
