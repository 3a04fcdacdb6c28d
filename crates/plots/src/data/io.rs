//! Reading and writing the rows of any format: the csv crate splits and joins the
//! fields (quoting off: no field holds a comma), serde maps them to and from the row
//! structs, and every error is mapped here, once, to the file, line and field.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use csv::{QuoteStyle, StringRecord, Terminator};
use serde::de::value::Error as FieldError;
use serde::de::{
    DeserializeOwned, DeserializeSeed, Error as _, IntoDeserializer, MapAccess, Visitor,
};
use serde::{Deserializer, Serialize, forward_to_deserialize_any};

use crate::write_atomic;

/// Reads the rows of a CSV file whose header must be `expected_header` (spaces around
/// the names aside).
///
/// Blank lines are skipped; a UTF-8 BOM and `\r\n` line endings are tolerated. Every
/// error names the file and the 1-based line, and for a bad value the field too, e.g.
/// `results/x/metrics.csv:7: field 'value': invalid float literal "abc"`.
pub(crate) fn read_rows<T: DeserializeOwned>(
    path: &Path,
    expected_header: &str,
) -> anyhow::Result<Vec<T>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let names: Vec<&str> = expected_header.split(',').collect();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .quoting(false)
        .from_reader(text);
    let mut record = StringRecord::new();
    // The csv crate's line count leaves out blank lines, and a record's position is where
    // its reading began, before the blank lines it skipped; so lines are counted here, up
    // to the first byte of the record that is not a line break.
    let (mut counted_to, mut line) = (0, 1);
    let mut header_seen = false;
    let mut rows = Vec::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => bail!("{}: {e}", path.display()),
        }
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        let read_from = record.position().map_or(counted_to, |p| p.byte() as usize);
        let start = text[read_from..]
            .iter()
            .position(|&b| b != b'\n' && b != b'\r')
            .map_or(text.len(), |skipped| read_from + skipped);
        line += text[counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted_to = start;
        let at = format!("{}:{line}", path.display());
        if !header_seen {
            if !record.iter().map(str::trim).eq(names.iter().copied()) {
                bail!(
                    "{at}: wrong header: expected \"{expected_header}\", found \"{}\"",
                    join(&record)
                );
            }
            header_seen = true;
            continue;
        }
        if record.len() != names.len() {
            let missing = names
                .get(record.len())
                .map(|name| format!("; field '{name}' is missing"))
                .unwrap_or_default();
            bail!(
                "{at}: expected {} comma-separated fields ({expected_header}), found {}{missing}: \"{}\"",
                names.len(),
                record.len(),
                join(&record)
            );
        }
        let row = T::deserialize(RecordDeserializer {
            names: &names,
            record: &record,
        })
        .map_err(|e| anyhow!("{at}: {e}"))?;
        rows.push(row);
    }
    if !header_seen {
        bail!(
            "{}: empty file (expected header \"{expected_header}\")",
            path.display()
        );
    }
    Ok(rows)
}

/// Writes `header` and one line per row to `path` atomically (temporary file, then
/// rename); nothing is written when a row is refused (e.g. a text field with a comma).
pub(crate) fn write_rows<T: Serialize>(
    path: &Path,
    header: &str,
    rows: &[T],
) -> anyhow::Result<()> {
    let bytes =
        csv_bytes(Some(header), rows).with_context(|| format!("writing {}", path.display()))?;
    write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))
}

/// The bytes of a CSV file: the header (if any), then one `\n`-terminated line per row.
fn csv_bytes<T: Serialize>(header: Option<&str>, rows: &[T]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .quote_style(QuoteStyle::Never)
        .terminator(Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    if let Some(header) = header {
        writer.write_record(header.split(','))?;
    }
    for (i, row) in rows.iter().enumerate() {
        writer.serialize(row).map_err(|e| match e.kind() {
            csv::ErrorKind::Serialize(message) => anyhow!("row {}: {message}", i + 1),
            _ => anyhow!("row {}: {e}", i + 1),
        })?;
    }
    writer.into_inner().map_err(|e| anyhow!("{}", e.error()))
}

/// One row as the writers write it, without the line break.
#[cfg(test)]
pub(crate) fn csv_line<T: Serialize>(row: &T) -> anyhow::Result<String> {
    let mut line = String::from_utf8(csv_bytes(None, std::slice::from_ref(row))?)?;
    line.pop();
    Ok(line)
}

fn join(record: &StringRecord) -> String {
    record.iter().collect::<Vec<_>>().join(",")
}

/// Hands the fields of one record to a row struct by header name, and names the field
/// and its text in any error, also in one raised by a field's serde helper (the csv
/// crate's own deserializer reports those without the field). Numbers are parsed with
/// surrounding spaces trimmed.
struct RecordDeserializer<'a> {
    names: &'a [&'a str],
    record: &'a StringRecord,
}

impl<'de> Deserializer<'de> for RecordDeserializer<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_map(RecordFields {
            names: self.names,
            record: self.record,
            next: 0,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The (header name, field) pairs of one record.
struct RecordFields<'a> {
    names: &'a [&'a str],
    record: &'a StringRecord,
    next: usize,
}

impl<'de> MapAccess<'de> for RecordFields<'de> {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FieldError> {
        match self.names.get(self.next) {
            Some(&name) if self.next < self.record.len() => {
                seed.deserialize(name.into_deserializer()).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, FieldError> {
        let name = self.names[self.next];
        let raw = &self.record[self.next];
        self.next += 1;
        seed.deserialize(FieldDeserializer(raw))
            .map_err(|e| FieldError::custom(format!("field '{name}': {e} {raw:?}")))
    }
}

/// One field's text: numbers are parsed from it, anything else gets it as a string.
struct FieldDeserializer<'de>(&'de str);

macro_rules! parse_number {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
            visitor.$visit(self.0.trim().parse::<$ty>().map_err(FieldError::custom)?)
        }
    )*};
}

impl<'de> Deserializer<'de> for FieldDeserializer<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_str(self.0)
    }

    parse_number! {
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
    }

    forward_to_deserialize_any! {
        bool i128 u128 char str string bytes byte_buf option unit unit_struct newtype_struct
        seq tuple tuple_struct map struct enum identifier ignored_any
    }
}
