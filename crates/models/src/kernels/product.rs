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
