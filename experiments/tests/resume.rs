//! The resume contract, tested as a user meets it: a run killed with SIGKILL at random
//! moments, then started again with the same command, until it completes, writes the same
//! bytes as a run that was never interrupted (`timings.csv`, wall clock, aside). Also: a
//! SIGTERM saves a checkpoint and says how to go on; a second run into the same folder is
//! refused while the first lives; a changed configuration is refused, naming the field.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

mod common;

/// A fresh, empty folder under the temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("attention-lab-resume-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn start(bin: &str, args: &[&str], out: &Path) -> Child {
    Command::new(bin)
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the experiment binary starts")
}

/// Runs to the end; returns the wall time and stderr.
fn run_through(bin: &str, args: &[&str], out: &Path) -> (Duration, String) {
    let started = Instant::now();
    let output = start(bin, args, out).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    (started.elapsed(), stderr)
}

/// Kills runs of `bin args` with SIGKILL after random fractions of `whole` (seeded), then
/// lets the last one finish; returns how many were killed and every run's stderr.
fn killed_and_resumed(
    bin: &str,
    args: &[&str],
    out: &Path,
    whole: Duration,
    seed: u64,
) -> (usize, String) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stderr = String::new();
    let mut kills = 0;
    for attempt in 0.. {
        let mut child = start(bin, args, out);
        // Lives of 2% to 20% of a whole run, so the kills land in loading,
        // in training and between cells; after eight, the run is let finish.
        let life = whole.mul_f64(rng.random_range(0.02..0.2));
        let deadline = Instant::now() + life;
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if attempt < 8 && Instant::now() >= deadline {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let output = child.wait_with_output().unwrap();
        stderr.push_str(&String::from_utf8_lossy(&output.stderr));
        if let Some(status) = finished {
            assert!(status.success(), "{stderr}");
            return (kills, stderr);
        }
    }
    unreachable!()
}

/// The kill tests time their kills against a whole run: one at a time, so the machine's
/// load is alike for both.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn assert_resumes_byte_identical(bin: &str, name: &str, task: &str, args: &[&str], seed: u64) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let whole_out = scratch(&format!("{name}-whole"));
    let (whole, _) = run_through(bin, args, &whole_out);
    // A run timed on a busy machine may outlast the same run killed later on a quieter
    // one, whose lives then end before their kills: shorter lives, from a fresh folder.
    let mut scale = 1.0;
    let (out, kills, stderr) = loop {
        let out = scratch(&format!("{name}-killed"));
        let (kills, stderr) = killed_and_resumed(bin, args, &out, whole.mul_f64(scale), seed);
        if kills >= 3 || scale < 0.2 {
            break (out, kills, stderr);
        }
        scale /= 2.0;
    };
    assert!(kills >= 3, "only {kills} kills landed:\n{stderr}");
    assert!(
        stderr.contains("resumed at step"),
        "no run resumed a training loop from a checkpoint:\n{stderr}"
    );
    let what = format!("after {kills} kills");
    common::assert_same_results(&whole_out.join(task), &out.join(task), &what);
    assert!(
        !out.join(task).join("checkpoints").exists(),
        "checkpoints left behind"
    );
    assert!(
        !out.join(task).join(".lock").exists(),
        "lock file left behind"
    );
}

/// The smoke preset of `bin` with `extra` settings and a checkpoint every `every` steps,
/// killed and resumed (see [`assert_resumes_byte_identical`]).
fn kill_smoke(bin: &str, name: &str, task: &str, extra: &[&str], every: &str, seed: u64) {
    let mut args = vec!["--preset", "smoke", "--checkpoint-every", every];
    args.extend_from_slice(extra);
    assert_resumes_byte_identical(bin, name, task, &args, seed);
}

#[test]
fn soft_vs_hard_killed_at_random_moments_resumes_to_the_same_bytes() {
    // Hard attention: sampled positions and a carried REINFORCE baseline.
    let extra = ["--set", "steps=300", "--set", "seeds=[1,2]"];
    let bin = env!("CARGO_BIN_EXE_soft-vs-hard");
    kill_smoke(bin, "soft-vs-hard", "reverse", &extra, "7", 11);
}

#[test]
fn glimpses_killed_at_random_moments_resumes_to_the_same_bytes() {
    // RAM: host-sampled locations, canvases placed per step.
    let extra = ["--task", "shapes", "--set", "steps=150"];
    let bin = env!("CARGO_BIN_EXE_glimpses");
    kill_smoke(bin, "glimpses", "shapes", &extra, "5", 12);
}

#[test]
fn captioning_killed_at_random_moments_resumes_to_the_same_bytes() {
    // Two training loops: the encoder's pretraining while loading, then each captioner.
    let bin = env!("CARGO_BIN_EXE_captioning");
    kill_smoke(bin, "captioning", "shapes", &["--task", "shapes"], "3", 13);
}

#[test]
fn text_to_image_killed_at_random_moments_resumes_to_the_same_bytes() {
    // The GAN loop: two players, two optimizers, noise every step; DAMSMs while loading.
    let extra = ["--task", "shapes", "--set", "steps=40"];
    let bin = env!("CARGO_BIN_EXE_text-to-image");
    kill_smoke(bin, "text-to-image", "shapes", &extra, "3", 14);
}

#[test]
fn reader_selecting_by_validation_killed_at_random_moments_resumes_to_the_same_bytes() {
    // Model selection: the best reader so far and every check are in each checkpoint.
    let extra = [
        "--set",
        "steps=200",
        "--set",
        "select_every=10",
        "--set",
        r#"readers=["attentive","uniform"]"#,
    ];
    let bin = env!("CARGO_BIN_EXE_reader");
    kill_smoke(bin, "reader", "synthetic", &extra, "7", 15);
}

#[test]
fn sigterm_saves_a_checkpoint_and_says_how_to_continue() {
    let bin = env!("CARGO_BIN_EXE_soft-vs-hard");
    let args = [
        "--preset",
        "smoke",
        "--set",
        "steps=3000",
        "--checkpoint-every",
        "0",
    ];
    let out = scratch("sigterm");
    let child = start(bin, &args, &out);
    // Waits until training is under way (the progress line names the cell), then asks.
    std::thread::sleep(Duration::from_millis(700));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    let last = stderr.trim().lines().last().unwrap_or_default();
    assert!(last.contains("stopped by a signal at"), "{stderr}");
    assert!(last.contains("run the same command again"), "{stderr}");
    let checkpoints = out.join("reverse").join("checkpoints");
    assert!(checkpoints.join("run.json").exists());
    // --resume refuses a folder with nothing to continue.
    let output = start(bin, &["--preset", "smoke", "--resume"], &scratch("nothing"))
        .wait_with_output()
        .unwrap();
    let stderr_nothing = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr_nothing.contains("holds no unfinished run"),
        "{stderr_nothing}"
    );
    // A changed configuration is refused, naming the field.
    let changed = ["--preset", "smoke", "--set", "steps=2000"];
    let output = start(bin, &changed, &out).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("base.steps: 3000 then, 2000 now"),
        "{stderr}"
    );
    assert!(stderr.contains("--fresh"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_second_run_into_the_same_folder_is_refused_while_the_first_lives() {
    let bin = env!("CARGO_BIN_EXE_soft-vs-hard");
    let args = ["--preset", "smoke", "--set", "steps=100000"];
    let out = scratch("lock");
    let mut first = start(bin, &args, &out);
    let lock = out.join("reverse").join(".lock");
    let waited = Instant::now();
    while !lock.exists() && waited.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = start(bin, &args, &out).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("another run is writing into"), "{stderr}");
    assert!(stderr.contains(&first.id().to_string()), "{stderr}");
    // A killed holder leaves the file but not the lock: the next run goes ahead.
    first.kill().unwrap();
    first.wait().unwrap();
    let quick = ["--preset", "smoke", "--fresh"];
    let (_, stderr) = run_through(bin, &quick, &out);
    assert!(!stderr.contains("another run"), "{stderr}");
}
