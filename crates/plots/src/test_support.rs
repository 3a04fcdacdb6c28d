//! What the unit tests of this crate share.

use std::path::Path;

/// A fresh, empty scratch folder under the system temp dir, named after the running test
/// and `name` plus a random suffix, so tests running in parallel never share one. It is
/// removed when the returned guard is dropped (when the test ends), unless
/// `PLOTS_KEEP_TEST_OUTPUT` is set (to look at the figures).
pub(crate) fn scratch(name: &str) -> tempfile::TempDir {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test").replace("::", "-");
    tempfile::Builder::new()
        .prefix(&format!("plots-{test}-{name}-"))
        .disable_cleanup(keep_output())
        .tempdir()
        .unwrap()
}

/// Whether `PLOTS_KEEP_TEST_OUTPUT` asks to keep the scratch folders.
fn keep_output() -> bool {
    std::env::var_os("PLOTS_KEEP_TEST_OUTPUT").is_some()
}

/// Asserts that `path` is a PNG of some size.
pub(crate) fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 1000, "{} is too small", path.display());
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} has no PNG signature",
        path.display()
    );
}

/// The error of reading `text` as the file `name` in `dir` with `read`, in full.
pub(crate) fn read_error<T: std::fmt::Debug>(
    dir: &Path,
    name: &str,
    text: &str,
    read: fn(&Path) -> anyhow::Result<Vec<T>>,
) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    format!("{:#}", read(&path).unwrap_err())
}

/// Width and height of a PNG, from its IHDR chunk.
pub(crate) fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

/// Asserts that no temporary file of an atomic write is left in `dir`.
pub(crate) fn no_tmp_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp."), "leftover temporary file {name}");
    }
}
