//! Experiment plumbing shared by every binary: the one function that picks the backend and
//! device ([`device`]), progress reporting for long runs ([`Progress`]), and the facts a
//! `config.json` records about a run ([`RunInfo`]).
//!
//! This is the only crate that turns a Burn backend on. The backend is chosen at build time
//! by a cargo feature (`flex`, the default; `ndarray`; `wgpu`; `cuda`) so the experiment
//! code never changes with it.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use burn::tensor::Device;

#[cfg(not(any(
    feature = "flex",
    feature = "ndarray",
    feature = "wgpu",
    feature = "cuda"
)))]
compile_error!("enable one backend feature: flex (default), ndarray, wgpu or cuda");

/// Name of the backend this build uses (the first enabled of cuda, wgpu, ndarray, flex).
pub fn backend_name() -> &'static str {
    if cfg!(feature = "cuda") {
        "cuda"
    } else if cfg!(feature = "wgpu") {
        "wgpu"
    } else if cfg!(feature = "ndarray") {
        "ndarray"
    } else {
        "flex"
    }
}

/// Runs `work` on a pool of `threads` threads, the threads the CPU backends' parallel
/// kernels (matrix products, large elementwise ops) may use, as `torch.set_num_threads`
/// sets PyTorch's, and returns its result.
///
/// Two things make a second thread pay on small models, both measured on the reference
/// training step (`bench-seq2seq --model additive`, 2 threads on 2 cores):
/// - `work` runs on one of the pool's threads. A thread outside the pool that starts a
///   parallel kernel hands all of it to the pool and sleeps until it is done: every
///   parallel product paid two wake-ups and the caller never computed (the step took
///   ~25% longer with 2 threads than with 1).
/// - The other threads wait for work by spinning, not sleeping, while `work` runs (as
///   OpenMP's active wait policy does for PyTorch): a product of a few hundred microseconds
///   cannot wait for a sleeping thread to be woken, so a sleeping helper came too late to
///   take its half. The price is that the other cores stay busy until `work` returns, so
///   they spin only on the CPU backends (flex, ndarray): on wgpu and cuda the computing is
///   elsewhere, and on Mesa's software Vulkan the spinning would take the cores it renders
///   with.
pub fn in_thread_pool<R: Send>(
    threads: usize,
    work: impl FnOnce() -> R + Send,
) -> anyhow::Result<R> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    anyhow::ensure!(threads >= 1, "--threads must be at least 1");
    keep_freed_memory();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start {threads} worker threads: {e}"))?;
    /// Tells the spinners to stop when `work` returns or panics.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    Ok(pool.install(move || {
        let _stop = StopOnDrop(stop.clone());
        // Spawned from inside the pool, the spinners land on this thread's queue and the
        // other threads take them, so `work` stays here.
        let spinners = match backend_name() {
            "flex" | "ndarray" => threads - 1,
            _ => 0,
        };
        for _ in 0..spinners {
            let stop = stop.clone();
            rayon::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Runs one pending job (half of a product, say) if there is one.
                    if rayon::yield_now() != Some(rayon::Yield::Executed) {
                        std::hint::spin_loop();
                    }
                }
            });
        }
        work()
    }))
}

/// The device every experiment runs on, seeded, with autodiff on.
///
/// Seeding happens on the base device before `.autodiff()`, as Burn requires, so parameter
/// initialization is reproducible for a given seed, backend and build.
///
/// With the `wgpu` feature and no usable adapter, cubecl panics deep inside its runtime;
/// this function probes the device first and turns that into an error that says what to
/// install.
pub fn device(seed: u64) -> anyhow::Result<Device> {
    keep_freed_memory();
    let base = base_device()?;
    base.seed(seed);
    Ok(base.autodiff())
}

/// Tells glibc's allocator to keep freed memory for reuse instead of returning it to the
/// kernel. A training step allocates and frees thousands of tensors of a few hundred KiB;
/// memory handed back to the kernel is paid for again in page faults and zeroing when it
/// is next touched. Four settings, the first three measured on AttnGAN's training step
/// (`bench-attngan`, glibc 2.36, minor page faults over 5 and 20 steps), the last on the
/// glimpses experiment's CNN:
///
/// - **One arena** (`M_ARENA_MAX`). By default every thread that allocates gets an arena of
///   its own, a heap that glibc shrinks and unmaps as its blocks are freed: with the pool's
///   threads allocating, 7,500 faults a step (30 MB touched afresh), 8% of the step in the
///   kernel's page faults. With one arena the count stays at the first touch of the peak
///   footprint, whatever the number of steps (50,000 over 5 steps and over 20), and the
///   step ran 3% faster at two threads. Its price is the one lock: where two threads
///   allocate many small tensors at once (the seq2seq reference step at two threads) a
///   step ran 2.6% slower; at one thread there is no such cost (docs/performance.md). It
///   must be set before the threads start: [`in_thread_pool`] calls this first.
/// - **A high mmap threshold** (`M_MMAP_THRESHOLD`): blocks below it come from the heap,
///   above it from a fresh `mmap` each time. 32 MiB, the largest glibc accepts on 64-bit
///   machines (it refuses more and keeps its default).
/// - **A high trim threshold** (`M_TRIM_THRESHOLD`): the heap's free top is returned to the
///   kernel only past 1 GiB.
/// - **No mmap at all** (`M_MMAP_MAX` 0), for the blocks past the mmap threshold: the glimpses
///   CNN's activations on 100 × 100 canvases at batch 512 are larger, and each was mapped
///   and unmapped afresh: 807,000 faults over 40 steps at one thread, against 55,000
///   with every block from the heap, and the step 15% faster, at the same peak memory.
///
/// The peak resident memory does not change (the same blocks are reused), nor does any
/// number: only where blocks lie moves. Idempotent.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_MMAP_MAX, 0);
    }
}

#[cfg(feature = "cuda")]
fn base_device() -> anyhow::Result<Device> {
    probe(
        Device::cuda(0),
        "no CUDA device could be opened (is the NVIDIA driver installed?)",
    )
}

#[cfg(all(feature = "wgpu", not(feature = "cuda")))]
fn base_device() -> anyhow::Result<Device> {
    probe(
        Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        "no wgpu adapter found: install a GPU driver, or Mesa's software Vulkan \
         (Debian: apt-get install mesa-vulkan-drivers) to run on the CPU",
    )
}

#[cfg(all(feature = "ndarray", not(any(feature = "wgpu", feature = "cuda"))))]
#[allow(deprecated)] // burn-ndarray is deprecated upstream; kept as an option, see README
fn base_device() -> anyhow::Result<Device> {
    Ok(Device::ndarray())
}

#[cfg(all(
    feature = "flex",
    not(any(feature = "ndarray", feature = "wgpu", feature = "cuda"))
))]
fn base_device() -> anyhow::Result<Device> {
    Ok(Device::flex())
}

/// Runs one tiny operation on a GPU device, turning a runtime panic into an error.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn probe(device: Device, hint: &str) -> anyhow::Result<Device> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe_device = device.clone();
    let ok = std::panic::catch_unwind(move || {
        let t = burn::tensor::Tensor::<1>::ones([2], &probe_device);
        t.sum().into_scalar::<f32>()
    });
    std::panic::set_hook(previous);
    match ok {
        Ok(_) => Ok(device),
        Err(_) => anyhow::bail!("{} backend: {hint}", backend_name()),
    }
}

/// Facts about a run that `config.json` records next to the configuration.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunInfo {
    /// `git rev-parse HEAD` of the working tree, with `-dirty` if it has changes outside
    /// `results/` (committed outputs say nothing about the code that made them); "unknown"
    /// outside a git checkout.
    pub git_revision: String,
    /// The backend feature of this build.
    pub backend: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl RunInfo {
    /// The facts for this process, collected at the first call and the same ever after:
    /// a run that takes hours records the checkout as it was when the run started (and
    /// checks its checkpoints against that), not as it is when a later file is written.
    pub fn collect() -> RunInfo {
        static INFO: std::sync::OnceLock<RunInfo> = std::sync::OnceLock::new();
        INFO.get_or_init(|| RunInfo {
            git_revision: git_revision(),
            backend: backend_name(),
            version: env!("CARGO_PKG_VERSION"),
        })
        .clone()
    }
}

fn git_revision() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "HEAD"]) {
        None => "unknown".to_string(),
        Some(rev) => {
            let dirty = run(&[
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ":/",
                ":(top,exclude)results",
            ])
            .is_some_and(|s| !s.is_empty());
            if dirty { format!("{rev}-dirty") } else { rev }
        }
    }
}

/// Progress of a long loop on stderr: step, loss, rate and ETA.
///
/// On a terminal the line is redrawn in place; otherwise (CI logs, `tee`) a line is printed
/// at most every `every` of wall time, so logs stay short but show the run is alive.
pub struct Progress {
    label: String,
    total: usize,
    start: Instant,
    last_print: Option<Instant>,
    every: Duration,
    terminal: bool,
}

impl Progress {
    /// A reporter for `total` steps.
    pub fn new(label: impl Into<String>, total: usize) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            label: label.into(),
            total,
            start: Instant::now(),
            last_print: None,
            every: Duration::from_secs(if terminal { 0 } else { 10 }),
            terminal,
        }
    }

    /// Reports that `step` (1-based) steps are done, with the latest loss.
    pub fn update(&mut self, step: usize, loss: f64) {
        let now = Instant::now();
        let due = self.last_print.is_none_or(|t| now - t >= self.every);
        if !(due || step == self.total) {
            return;
        }
        self.last_print = Some(now);
        let elapsed = self.start.elapsed().as_secs_f64();
        let rate = step as f64 / elapsed.max(1e-9);
        let eta = (self.total - step.min(self.total)) as f64 / rate.max(1e-9);
        let line = format!(
            "{}: step {step}/{} loss {loss:.4} {rate:.1} step/s elapsed {} ETA {}",
            self.label,
            self.total,
            format_duration(elapsed),
            format_duration(eta)
        );
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
            if step == self.total {
                eprintln!();
            }
        } else {
            eprintln!("{line}");
        }
    }

    /// Seconds since the reporter was created.
    pub fn elapsed_secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

/// `75` -> `1m15s`.
pub fn format_duration(secs: f64) -> String {
    let secs = secs.round() as u64;
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_pool_thread_and_its_parallel_jobs_finish() {
        let (index, threads, sum) = in_thread_pool(2, || {
            use rayon::prelude::*;
            let sum: u64 = (0..100_000u64).into_par_iter().sum();
            (
                rayon::current_thread_index(),
                rayon::current_num_threads(),
                sum,
            )
        })
        .unwrap();
        assert!(index.is_some(), "work ran outside the pool");
        assert_eq!(threads, 2);
        assert_eq!(sum, 100_000 * 99_999 / 2);
        // A second pool after the first one's spinners were told to stop.
        assert_eq!(in_thread_pool(1, || 7).unwrap(), 7);
        assert!(in_thread_pool(0, || ()).is_err());
    }

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(format_duration(5.2), "5s");
        assert_eq!(format_duration(75.0), "1m15s");
        assert_eq!(format_duration(3725.0), "1h02m");
    }
}
