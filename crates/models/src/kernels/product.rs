//! The one matrix product of the kernels: gemm on strided `f32` views, into a new row-major
//! output.

/// A strided 2-D view of `f32` storage, as gemm takes it: values from the view's first
/// element, row stride, column stride.
#[derive(Clone, Copy)]
pub struct MatrixView<'a> {
    pub values: &'a [f32],
    pub row_stride: isize,
    pub col_stride: isize,
}

impl<'a> MatrixView<'a> {
    /// A contiguous row-major matrix of `cols` columns.
    pub fn rows(values: &'a [f32], cols: usize) -> Self {
        Self {
            values,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    /// The transposed matrix: the same storage with the strides swapped.
    pub fn t(self) -> Self {
        Self {
            values: self.values,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }
}

/// `lhs [m, k] · rhs [k, n]` into a new row-major `[m, n]`.
///
/// The same gemm call as flex's 2-D `float_matmul`, so the same bits, which do not depend
/// on the thread count: gemm splits the output between threads, never a sum, and each
/// output element is summed in the same order. The output is allocated once,
/// uninitialized, where flex zero-fills a byte vector and copies it into an aligned buffer.
///
/// The views must hold every element their shape and strides reach.
pub fn product(
    lhs: MatrixView,
    rhs: MatrixView,
    [m, k, n]: [usize; 3],
    parallelism: gemm::Parallelism,
) -> Vec<f32> {
    let mut out = Vec::<f32>::with_capacity(m * n);
    // SAFETY: `out` has room for the `m * n` elements gemm writes (see `gemm_into`), after
    // which all of them are initialized.
    unsafe {
        gemm_into(out.as_mut_ptr(), lhs, rhs, [m, k, n], parallelism);
        out.set_len(m * n);
    }
    out
}

/// [`product`] into `out`, row-major `[m, n]`, overwriting what it held.
///
/// # Panics
///
/// If `out` does not hold exactly `m * n` values.
pub fn product_into(
    lhs: MatrixView,
    rhs: MatrixView,
    [m, k, n]: [usize; 3],
    parallelism: gemm::Parallelism,
    out: &mut [f32],
) {
    assert_eq!(out.len(), m * n, "product_into: output of the wrong size");
    // SAFETY: `out` is a live slice of `m * n` values.
    unsafe { gemm_into(out.as_mut_ptr(), lhs, rhs, [m, k, n], parallelism) }
}

/// The gemm call of [`product`] and [`product_into`].
///
/// # Safety
///
/// `dst` must be valid for writes of `m * n` values. With `read_dst` false gemm writes every
/// element of the row-major output without reading it (zeros when k is 0), and reads `lhs`
/// and `rhs` only within the given shapes and strides, which the callers take from live
/// tensors or from slices of the shapes they multiply.
unsafe fn gemm_into(
    dst: *mut f32,
    lhs: MatrixView,
    rhs: MatrixView,
    [m, k, n]: [usize; 3],
    parallelism: gemm::Parallelism,
) {
    // SAFETY: see the function's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            n as isize,
            false,
            lhs.values.as_ptr(),
            lhs.col_stride,
            lhs.row_stride,
            rhs.values.as_ptr(),
            rhs.col_stride,
            rhs.row_stride,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// gemm's f32 FMA microkernel (`gemm_f32::microkernel::fma::f32::x2x6`): 16 rows (two
/// 8-lane vectors) by 6 columns. Its block lengths depend on them.
const FMA_KERNEL: [usize; 2] = [16, 6];

/// How [`product`] sums its inner dimension on this machine, where gemm runs its FMA
/// microkernel: the length of the blocks `k` is cut into. Each output value is summed as
/// one chain of fused multiply-adds per block, from zero, over the block's terms in
/// ascending order; the first block's chain is written to the output and each later one
/// added to it (one rounding each). The last block takes what is left.
///
/// `None` where gemm takes another path, whose sums are not these: no FMA (its portable
/// kernel multiplies and adds apart), or a product small or thin enough for its
/// horizontal, matrix-vector or rank-2 kernels. The rule is gemm-common 0.19's
/// (`gemm_basic_generic`): gemm computes a row-major output transposed, so its `m` is our
/// `n`; outputs of at most 64 × 64 take blocks of 512, larger ones blocks sized from the L1
/// data cache (`cache::kernel_params`, at least 512, then evened out over `k`).
pub fn inner_block([m, k, n]: [usize; 3]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        let fma = std::arch::is_x86_feature_detected!("fma");
        if !fma || m <= 1 || n <= 1 || k <= 2 || m * n <= 16 * 16 {
            return None;
        }
        let (gemm_m, gemm_n) = (n, m);
        Some(if gemm_m <= 64 && gemm_n <= 64 {
            k.min(512)
        } else {
            let [mr, nr] = FMA_KERNEL;
            gemm_common::cache::kernel_params(gemm_m, gemm_n, k, mr, nr, size_of::<f32>()).kc
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (m, k, n);
        None
    }
}
