//! `--set KEY=VALUE`: overriding any configuration field by its path, and the list of
//! fields `--help` prints, both read off the configuration itself (its serde form and its
//! JSON schema, whose descriptions are the fields' doc comments), so no field can be
//! missing from either.

use anyhow::{Context, anyhow, bail};
use serde_json::Value;

/// The dotted paths of every leaf of a configuration value, in field order (`base.steps`,
/// `scores`...). Lists are leaves: `--set` replaces them whole.
pub fn leaf_paths(value: &Value) -> Vec<String> {
    fn walk(value: &Value, prefix: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                for (name, field) in fields {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    walk(field, &path, out);
                }
            }
            _ => out.push(prefix.to_string()),
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// `value` with every top-level field it leaves out (one skipped in serialization at its
/// default, as the reader's `curve_every` is at 0) written in at the default the JSON
/// `schema` gives it, so that `--set` and `--help` know every field.
pub fn with_omitted_defaults(mut value: Value, schema: &Value) -> Value {
    if let (Value::Object(fields), Some(Value::Object(properties))) =
        (&mut value, schema.get("properties"))
    {
        for (name, property) in properties {
            if let Some(default) = property.get("default")
                && !fields.contains_key(name)
            {
                fields.insert(name.clone(), default.clone());
            }
        }
    }
    value
}

/// Resolves `key` to a field path: the path itself, or a field name that ends exactly one
/// path (`steps` for `base.steps`).
pub fn resolve_key(key: &str, paths: &[String]) -> anyhow::Result<String> {
    if paths.iter().any(|p| p == key) {
        return Ok(key.to_string());
    }
    let suffix = format!(".{key}");
    let matches: Vec<&String> = paths.iter().filter(|p| p.ends_with(&suffix)).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!(
            "--set: unknown configuration field '{}'; valid fields: {}",
            key.escape_debug(),
            paths.join(", ")
        ),
        many => bail!(
            "--set: '{}' is ambiguous: {}",
            key.escape_debug(),
            many.iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Applies one `KEY=VALUE` to a configuration value. VALUE is JSON (`500`, `[1,2]`,
/// `true`, `"x"`); anything that is not valid JSON is taken as a string, so `cell=lstm`
/// works without quotes.
///
/// Errors are one line: a control character in the key or value is written escaped, and a
/// value holding one (in a string or a field name) is refused, as in a configuration file
/// (see [`control_character_at`]).
pub fn apply(config: &mut Value, assignment: &str) -> anyhow::Result<()> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| anyhow!("--set '{}': expected KEY=VALUE", assignment.escape_debug()))?;
    let path = resolve_key(key.trim(), &leaf_paths(config))?;
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    if let Some(at) = control_character_at(&value, &path) {
        bail!("--set '{path}': {at} holds a control character");
    }
    let mut slot = &mut *config;
    for name in path.split('.') {
        slot = slot
            .get_mut(name)
            .with_context(|| format!("--set: no field '{}'", path.escape_debug()))?;
    }
    *slot = value;
    Ok(())
}

/// Where `value` (the field at `path`) holds a control character (a line break, a NUL...)
/// in a string or a field name, as a description (`field 'base.cell'`, `a field name
/// in 'base'`), or `None`. No configuration holds one, and a control character would
/// break the one-line error that a serde error quoting the name or string makes of it.
pub fn control_character_at(value: &Value, path: &str) -> Option<String> {
    let field = |path: &str| {
        if path.is_empty() {
            "the configuration".to_string()
        } else {
            format!("field '{path}'")
        }
    };
    match value {
        Value::String(text) if text.contains(char::is_control) => Some(field(path)),
        Value::Array(items) => items
            .iter()
            .find_map(|item| control_character_at(item, path)),
        Value::Object(fields) => fields.iter().find_map(|(name, field_value)| {
            if name.contains(char::is_control) {
                return Some(format!("a field name in {}", field(path)));
            }
            let inner = if path.is_empty() {
                name.escape_debug().to_string()
            } else {
                format!("{path}.{}", name.escape_debug())
            };
            control_character_at(field_value, &inner)
        }),
        _ => None,
    }
}

/// The `--help` listing of every field: its path, its value in `defaults`, and its doc
/// comment from `schema` (a JSON schema of the configuration type).
pub fn field_help(schema: &Value, defaults: &Value) -> String {
    let mut out = String::new();
    for path in leaf_paths(defaults) {
        let mut value = defaults;
        for name in path.split('.') {
            value = &value[name];
        }
        out += &format!("  {path} = {value}\n");
        if let Some(doc) = field_description(schema, &path) {
            for line in doc.lines() {
                out += &format!("      {line}\n");
            }
        }
    }
    out
}

/// The description of the field at `path` in a JSON schema, following `$ref`s into
/// `$defs`.
fn field_description(schema: &Value, path: &str) -> Option<String> {
    let resolve = |node: &Value| -> Value {
        let reference = node
            .get("$ref")
            .or_else(|| node.get("allOf")?.get(0)?.get("$ref"))
            .and_then(Value::as_str);
        match reference.and_then(|r| r.rsplit('/').next()) {
            Some(name) => schema["$defs"][name].clone(),
            None => node.clone(),
        }
    };
    let mut node = schema.clone();
    let mut description = None;
    for name in path.split('.') {
        let field = resolve(&node).get("properties")?.get(name)?.clone();
        description = field
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string);
        node = field;
    }
    description
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_by_path_by_unique_name_and_as_a_bare_string() {
        let mut config = json!({"base": {"steps": 5, "cell": "gru"}, "scores": ["dot"]});
        apply(&mut config, "base.steps=7").unwrap();
        apply(&mut config, "cell=lstm").unwrap();
        apply(&mut config, r#"scores=["additive","dot"]"#).unwrap();
        assert_eq!(
            config,
            json!({"base": {"steps": 7, "cell": "lstm"}, "scores": ["additive", "dot"]})
        );
    }

    #[test]
    fn fields_left_out_at_their_default_can_be_set() {
        use crate::experiment::Preset;
        use crate::reader::{Config, ReaderTask};
        let quick = Config::preset(Preset::Quick, &ReaderTask::Synthetic);
        let value = serde_json::to_value(&quick).unwrap();
        assert!(value.get("select_every").is_none(), "left out at 0");
        let schema = schemars::schema_for!(Config);
        let mut value = with_omitted_defaults(value, schema.as_value());
        assert_eq!(value["curve_every"], json!(0));
        apply(&mut value, "select_every=50").unwrap();
        let config: Config = serde_json::from_value(value).unwrap();
        assert_eq!((config.select_every, config.curve_every), (50, 0));
    }

    #[test]
    fn unknown_and_ambiguous_keys_are_errors_that_list_the_fields() {
        let mut config = json!({"a": {"steps": 1}, "b": {"steps": 2}, "seed": 3});
        let unknown = apply(&mut config, "stepz=1").unwrap_err().to_string();
        assert!(
            unknown.contains("unknown configuration field 'stepz'"),
            "{unknown}"
        );
        assert!(unknown.contains("a.steps, b.steps, seed"), "{unknown}");
        let ambiguous = apply(&mut config, "steps=1").unwrap_err().to_string();
        assert!(
            ambiguous.contains("ambiguous: a.steps, b.steps"),
            "{ambiguous}"
        );
        let malformed = apply(&mut config, "seed").unwrap_err().to_string();
        assert!(malformed.contains("expected KEY=VALUE"), "{malformed}");
    }

    /// Found by fuzzing (`tests/fuzz_config.rs`): a line break in a key, or in a field name
    /// or string of the value, made a two-line error (serde quotes an unknown field or
    /// variant as it is).
    #[test]
    fn control_characters_give_one_line_errors_naming_the_key() {
        let mut config = json!({"base": {"cell": "gru"}, "seeds": [3]});
        for (assignment, expected) in [
            ("ce\nll=lstm", "unknown configuration field 'ce\\nll'"),
            ("seeds\n", "--set 'seeds\\n': expected KEY=VALUE"),
            (
                "cell=l\u{0}stm",
                "--set 'base.cell': field 'base.cell' holds a control character",
            ),
            (
                r#"seeds=[{"\nx": 1}]"#,
                "--set 'seeds': a field name in field 'seeds' holds a control character",
            ),
        ] {
            let message = format!("{:#}", apply(&mut config, assignment).unwrap_err());
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn help_lists_every_leaf_with_its_default_and_description() {
        let schema = json!({
            "properties": {
                "base": {"$ref": "#/$defs/Base", "description": "Shared."},
                "seed": {"description": "The seed."}
            },
            "$defs": {"Base": {"properties": {"steps": {"description": "Steps."}}}}
        });
        let help = field_help(&schema, &json!({"base": {"steps": 5}, "seed": 3}));
        assert_eq!(
            help,
            "  base.steps = 5\n      Steps.\n  seed = 3\n      The seed.\n"
        );
    }
}
