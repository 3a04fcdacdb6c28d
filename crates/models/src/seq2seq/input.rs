//! Id and mask tensors built from plain row-major slices.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// Builds an id tensor `[rows, cols]` from row-major ids.
pub fn ids_tensor(ids: &[u32], rows: usize, cols: usize, device: &Device) -> Tensor<2, Int> {
    let data: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
    Tensor::from_data(TensorData::new(data, [rows, cols]), device)
}

/// Builds a mask tensor `[rows, cols]` from row-major flags.
pub fn mask_tensor(mask: &[bool], rows: usize, cols: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::from_data(TensorData::new(mask.to_vec(), [rows, cols]), device)
}
