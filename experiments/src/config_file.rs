//! Configuration files: `config.json` as a run records it, and JSON configurations read
//! back (a bare configuration, or a `config.json`, so a result can be re-run from it).

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// Writes `dir/config.json`: the configuration exactly as run, plus the git revision and
/// backend (so a result can be traced to the code that made it).
pub fn write_config<C: Serialize>(dir: &Path, config: &C) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Record<'a, C> {
        config: &'a C,
        run: harness::RunInfo,
    }
    let record = Record {
        config,
        run: harness::RunInfo::collect(),
    };
    let json = serde_json::to_string_pretty(&record)? + "\n";
    plots::write_atomic(&dir.join("config.json"), json.as_bytes())
}

/// Reads a JSON configuration as a value: either the bare configuration or a `config.json`
/// written by a run (its `config` field). Checking it against a configuration type is the
/// caller's (after any `--set` overrides).
pub fn read_config_value(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    Ok(match value.get("config") {
        Some(inner) if value.get("run").is_some() => inner.clone(),
        _ => value,
    })
}
