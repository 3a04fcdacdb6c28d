//! Test-only: the harness every parser's fuzz test shares (see `docs/fuzzing.md`).
//!
//! A fuzz test feeds one parser inputs from a [`proptest`] strategy, usually
//! [`mutate::input`]: random bytes, or a valid file in the parser's exact format with
//! random mutations applied (bytes flipped, inserted, deleted; the file cut short; lines
//! repeated; numbers made huge, negative or NaN; binary integers set to values that claim
//! gigabytes). [`fuzz`] runs a fixed number of cases from a fixed seed and checks, for each
//! input, the contract every parser keeps:
//!
//! - no panic (the runner catches one and reports the smallest input it shrinks to);
//! - no hang (a watchdog thread ends the process, printing the input, when one case runs
//!   longer than [`HANG_SECONDS`]);
//! - no allocation beyond the input's size times a small factor: [`alloc::peak_bytes`]
//!   measures the peak of the bytes a parse holds, with the counting allocator a test
//!   binary installs by [`install_counting_allocator!`], and [`check_peak`] compares it
//!   with the parser's bound;
//! - an error is one line naming the file (or the field): [`check_one_line`].
//!
//! The number of cases is [`cases`]: `FUZZ_CASES` from the environment, or the CI budget a
//! test gives. The seed is fixed (`FUZZ_SEED` overrides it), so a failure in CI fails the
//! same way on any machine.

pub mod alloc;
pub mod mutate;

use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};

pub use proptest;

/// The seed of every fuzz run unless `FUZZ_SEED` is set.
pub const DEFAULT_SEED: u64 = 0x5eed_a77e_0000_0001;

/// One case running longer than this is a hang: the process prints the input and exits.
pub const HANG_SECONDS: u64 = 20;

/// The number of cases to run: `FUZZ_CASES` if set, else `ci_budget`.
///
/// # Panics
///
/// If `FUZZ_CASES` is set but not a number.
pub fn cases(ci_budget: u32) -> u32 {
    match std::env::var("FUZZ_CASES") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("FUZZ_CASES={text:?} is not a number of cases")),
        Err(_) => ci_budget,
    }
}

fn seed() -> u64 {
    match std::env::var("FUZZ_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("FUZZ_SEED={text:?} is not a number")),
        Err(_) => DEFAULT_SEED,
    }
}

/// Runs `check` on [`cases`]`(ci_budget)` inputs drawn from `strategy` with a fixed seed,
/// prints `fuzz NAME: N inputs in S s` to stderr (the count CI logs), and returns the
/// number of inputs tried.
///
/// # Panics
///
/// When `check` fails or panics on an input: the message holds the smallest failing input
/// proptest shrinks it to, and the seed to run it again.
pub fn fuzz<S>(
    name: &str,
    ci_budget: u32,
    strategy: S,
    check: impl Fn(&S::Value) -> Result<(), String>,
) -> u64
where
    S: Strategy,
    S::Value: Debug + Clone + Send + 'static,
{
    let cases = cases(ci_budget);
    let seed = seed();
    let config = Config {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 4096,
        max_shrink_time: 60_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let watchdog = Watchdog::start(name);
    let tried = AtomicU64::new(0);
    let started = Instant::now();
    let result = runner.run(&strategy, |input| {
        tried.fetch_add(1, Ordering::Relaxed);
        let _running = watchdog.begin(&input);
        check(&input).map_err(TestCaseError::fail)
    });
    watchdog.stop();
    let tried = tried.into_inner();
    let seconds = started.elapsed().as_secs_f64();
    if let Err(failure) = result {
        panic!("fuzz {name}: failed after {tried} inputs (FUZZ_SEED={seed}): {failure}");
    }
    // Straight to the process's stderr, past the test harness's capture, so the CI log
    // shows the count of every run.
    let _ = writeln!(
        std::io::stderr(),
        "fuzz {name}: {tried} inputs in {seconds:.1} s (FUZZ_SEED={seed})"
    );
    tried
}

/// Checks that an error message is one line (no line break) and contains `needle` (the
/// file name, or the field).
pub fn check_one_line(message: &str, needle: &str) -> Result<(), String> {
    if message.contains(['\n', '\r']) {
        return Err(format!("the error is not one line: {message:?}"));
    }
    if !message.contains(needle) {
        return Err(format!("the error does not name {needle:?}: {message:?}"));
    }
    Ok(())
}

/// Checks a parse's peak allocation against its bound: `factor` bytes per input byte plus
/// `constant` bytes.
pub fn check_peak(
    peak: usize,
    input_bytes: usize,
    factor: usize,
    constant: usize,
) -> Result<(), String> {
    let bound = factor * input_bytes + constant;
    if peak > bound {
        return Err(format!(
            "the parse allocated {peak} bytes at its peak for {input_bytes} bytes of input \
             (bound {factor} × {input_bytes} + {constant} = {bound})"
        ));
    }
    Ok(())
}

/// A fresh directory for one test's input files, removed when dropped.
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// Creates `attention-lab-fuzz-<pid>-<name>` afresh (`name` unique within the test
    /// binary), in memory-backed `/dev/shm` where there is one (a fuzz run writes every
    /// input to a file: on a disk, the system calls take most of its time), else in the
    /// temporary directory.
    pub fn new(name: &str) -> Scratch {
        let shm = Path::new("/dev/shm");
        let root = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = root.join(format!("attention-lab-fuzz-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        Scratch { dir }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `bytes` to `name` inside the directory (replacing it) and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Ends the process, printing the input, when one case runs longer than [`HANG_SECONDS`]
/// (a hung parse cannot be interrupted from inside the process).
struct Watchdog {
    shared: Arc<WatchdogState>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct WatchdogState {
    /// Case number (odd while a case runs).
    case: AtomicU64,
    input: Mutex<Option<Box<dyn Debug + Send>>>,
    done: AtomicBool,
}

impl Watchdog {
    fn start(name: &str) -> Watchdog {
        let shared = Arc::new(WatchdogState {
            case: AtomicU64::new(0),
            input: Mutex::new(None),
            done: AtomicBool::new(false),
        });
        let state = Arc::clone(&shared);
        let name = name.to_string();
        let thread = std::thread::spawn(move || {
            let mut seen = (0, Instant::now());
            while !state.done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let case = state.case.load(Ordering::Relaxed);
                if case != seen.0 {
                    seen = (case, Instant::now());
                } else if case % 2 == 1 && seen.1.elapsed() > Duration::from_secs(HANG_SECONDS) {
                    let input = match state.input.lock() {
                        Ok(input) => format!("{:?}", input.as_ref()),
                        Err(_) => "(unavailable)".to_string(),
                    };
                    // Past the test harness's capture: the process ends here.
                    let _ = writeln!(
                        std::io::stderr(),
                        "fuzz {name}: one input ran over {HANG_SECONDS} s (a hang); the input: \
                         {input}"
                    );
                    std::process::exit(101);
                }
            }
        });
        Watchdog {
            shared,
            thread: Some(thread),
        }
    }

    /// Keeps a copy of the input (formatted only if it hangs) and starts the clock, until
    /// the returned guard is dropped (also when the case panics).
    fn begin<T: Debug + Clone + Send + 'static>(&self, input: &T) -> CaseRunning<'_> {
        if let Ok(mut slot) = self.shared.input.lock() {
            *slot = Some(Box::new(input.clone()));
        }
        self.shared.case.fetch_add(1, Ordering::Relaxed);
        CaseRunning(&self.shared)
    }

    fn stop(mut self) {
        self.shared.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A case is running while this lives: dropping it makes the case number even again.
struct CaseRunning<'a>(&'a WatchdogState);

impl Drop for CaseRunning<'_> {
    fn drop(&mut self) {
        self.0.case.fetch_add(1, Ordering::Relaxed);
    }
}
