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
/// caller's (after any `--set` overrides). A control character in a string or a field name
/// is refused here, naming the file and the field (no configuration holds one, and the
/// type check's error would quote it, breaking the one-line error).
pub fn read_config_value(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let config = match value.get("config") {
        Some(inner) if value.get("run").is_some() => inner.clone(),
        _ => value,
    };
    if let Some(at) = crate::overrides::control_character_at(&config, "") {
        anyhow::bail!("{}: {at} holds a control character", path.display());
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    /// Found by fuzzing (`tests/fuzz_config.rs`): a field name with a line break gave a
    /// two-line "unknown field" error from the type check; it is refused on reading, in one
    /// line naming the file.
    #[test]
    fn a_control_character_is_refused_naming_the_file_and_the_field() {
        let dir = std::env::temp_dir().join(format!("config-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.json");
        std::fs::write(&path, r#"{"base": {"steps": 5, "\ncell": "gru"}}"#).unwrap();
        let message = format!("{:#}", super::read_config_value(&path).unwrap_err());
        assert!(
            message.contains("bad.json: a field name in field 'base' holds a control character"),
            "{message}"
        );
        std::fs::write(&path, r#"{"config": {"task": "re\u0000verse"}, "run": {}}"#).unwrap();
        let message = format!("{:#}", super::read_config_value(&path).unwrap_err());
        assert!(
            message.contains("bad.json: field 'task' holds a control character"),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
