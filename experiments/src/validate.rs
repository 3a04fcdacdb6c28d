//! Checks of configuration values shared by every experiment; each error names the field.

use anyhow::bail;

/// Fails with "config field 'NAME' must be at least 1" for the first zero among `fields`.
pub fn require_positive(fields: &[(&str, usize)]) -> anyhow::Result<()> {
    match fields.iter().find(|(_, value)| *value == 0) {
        Some((field, _)) => bail!("config field '{field}' must be at least 1"),
        None => Ok(()),
    }
}

/// Fails with "config field 'NAME' must be a positive number" unless `value` is finite and
/// above zero.
pub fn require_finite_positive(field: &str, value: f64) -> anyhow::Result<()> {
    if !(value > 0.0 && value.is_finite()) {
        bail!("config field '{field}' must be a positive number");
    }
    Ok(())
}

/// Fails with "config field 'NAME' lists VALUE twice" for the first repeated entry: a
/// repeated seed, length or variant would run twice and count twice in every mean.
pub fn require_distinct<T: PartialEq + std::fmt::Debug>(
    field: &str,
    values: &[T],
) -> anyhow::Result<()> {
    for (i, value) in values.iter().enumerate() {
        if values[..i].contains(value) {
            bail!("config field '{field}' lists {value:?} twice");
        }
    }
    Ok(())
}

/// Fails unless `seeds` lists at least one seed, none twice.
pub fn require_seeds(seeds: &[u64]) -> anyhow::Result<()> {
    if seeds.is_empty() {
        bail!("config field 'seeds' must list at least one seed");
    }
    require_distinct("seeds", seeds)
}

/// Fails with "config field 'NAME' must be a non-negative number" unless `value` is finite
/// and at least zero.
pub fn require_non_negative(field: &str, value: f64) -> anyhow::Result<()> {
    if !(value >= 0.0 && value.is_finite()) {
        bail!("config field '{field}' must be a non-negative number");
    }
    Ok(())
}
