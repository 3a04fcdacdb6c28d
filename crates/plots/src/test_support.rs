//! What the unit tests of this crate share.

use std::path::PathBuf;

/// A fresh, empty scratch folder under the system temp dir, named after the process, the
/// running test and `name`: tests run in parallel in one process, each on a thread named
/// after the test, so two tests asking for the same `name` get different folders.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test").replace("::", "-");
    let d = std::env::temp_dir().join(format!("plots-{}-{test}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
