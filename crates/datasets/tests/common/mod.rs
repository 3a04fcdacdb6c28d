//! Files in the real formats that several test files write: a CNN `.question` and IDX
//! files, plain or gzipped; and the tests' scratch directories.

#![allow(dead_code)] // each test file uses its own part

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

/// A question in the real CNN layout, copied verbatim.
pub const CNN: &str =
    "http://web.archive.org/web/20150731183012id_/http://edition.cnn.com/2015/04/02/example

( @entity0 ) -- @entity1 said on thursday that @entity2 would ...

@placeholder said on thursday that @entity2 would visit

@entity1

@entity0:CNN
@entity1:Obama
@entity2:Kerry
";

/// An IDX file: the magic number and dimension sizes big-endian, then `data`.
pub fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

/// `bytes` gzipped, as the Fashion-MNIST files are.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A fresh, empty directory for one test, removed when the test ends (when the returned
/// guard is dropped).
pub fn scratch_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("datasets-{name}-"))
        .tempdir()
        .unwrap()
}

/// Whitespace-separated tokens.
pub fn toks(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}
