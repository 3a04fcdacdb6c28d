//! The Karpathy split reader on a small folder of images written here in every pixel layout
//! the decoder must handle, with malformed JSON files and bad images.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use datasets::DataError;
use datasets::images::RgbImage;
use datasets::images::decode::{decode_rgb, load_square};
use datasets::images::karpathy::{
    KarpathyOptions, KarpathySet, Split, read_karpathy, read_karpathy_entries,
};
use image::{DynamicImage, ImageBuffer, Luma, LumaA, Rgb, Rgba};
use serde_json::json;

mod common;
use common::scratch_dir;

/// One PNG chunk: length, type, data, CRC-32 of type and data.
fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    out.extend(crc.sum().to_be_bytes());
}

/// A PNG written byte by byte (the `image` crate cannot write palette or 1-bit images):
/// `rows` are packed scanlines, stored unfiltered; `extra` chunks (PLTE, tRNS) go before IDAT.
fn raw_png(
    width: u32,
    depth: u8,
    colour: u8,
    rows: &[Vec<u8>],
    extra: &[(&[u8; 4], Vec<u8>)],
) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend((rows.len() as u32).to_be_bytes());
    ihdr.extend([depth, colour, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    for (kind, data) in extra {
        png_chunk(&mut out, kind, data);
    }
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    for row in rows {
        zlib.write_all(&[0]).unwrap(); // filter type 0: none
        zlib.write_all(row).unwrap();
    }
    png_chunk(&mut out, b"IDAT", &zlib.finish().unwrap());
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// Asserts that every pixel of `img` is `rgb`, exactly, and that it is `size × size`.
fn assert_uniform(img: &RgbImage, size: usize, rgb: [f32; 3], what: &str) {
    assert_eq!((img.height, img.width), (size, size), "{what}: size");
    for (ch, &want) in rgb.iter().enumerate() {
        for y in 0..size {
            for x in 0..size {
                assert_eq!(img.at(ch, y, x), want, "{what}: ch {ch} at ({y}, {x})");
            }
        }
    }
}

fn v8(v: u8) -> f32 {
    f32::from(v) / 255.0
}

/// Straight-alpha compositing as the decoder documents it.
fn over(c: f64, alpha: f64, bg: f64) -> f32 {
    (alpha * c + (1.0 - alpha) * bg) as f32
}

/// 37 wide, 53 tall: 8 red rows, 37 blue rows, 8 green rows (`transpose`: the same sideways).
fn banded(transpose: bool) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    let band = |i: u32| match i {
        0..8 => Rgb([255, 0, 0]),
        8..45 => Rgb([0, 0, 255]),
        _ => Rgb([0, 255, 0]),
    };
    let (w, h) = if transpose { (53, 37) } else { (37, 53) };
    ImageBuffer::from_fn(w, h, |x, y| band(if transpose { x } else { y }))
}

fn sentence(tokens: &[&str]) -> serde_json::Value {
    json!({"tokens": tokens, "raw": tokens.join(" "), "imgid": 0, "sentid": 7})
}

fn entry(filename: &str, split: &str, caption: &[&str]) -> serde_json::Value {
    json!({"filename": filename, "split": split, "imgid": 3, "sentids": [7],
           "sentences": [sentence(caption)], "unknown": {"nested": [1, 2, null]}})
}

/// An image of one colour, in the layout its pixel type gives.
fn uniform<P>(width: u32, height: u32, pixel: P) -> DynamicImage
where
    P: image::Pixel,
    DynamicImage: From<ImageBuffer<P, Vec<P::Subpixel>>>,
{
    ImageBuffer::from_pixel(width, height, pixel).into()
}

/// The test folder: one image per layout, named in a Karpathy JSON.
fn write_fixture(dir: &Path) -> PathBuf {
    let images = dir.join("images");
    fs::create_dir_all(images.join("val2014")).unwrap();
    let layouts = [
        ("grey_l8.png", uniform(8, 8, Luma([100u8]))),
        ("grey_alpha.png", uniform(5, 3, LumaA([200u8, 51]))),
        ("rgb.png", uniform(6, 4, Rgb([10u8, 20, 30]))),
        ("rgba_half.png", uniform(1, 1, Rgba([255u8, 0, 0, 128]))),
        ("grey16.png", uniform(3, 3, Luma([0x8000u16]))),
        (
            "rgba16.png",
            uniform(2, 5, Rgba([65535u16, 0, 1000, 32768])),
        ),
        ("photo.jpg", uniform(16, 12, Rgb([60u8, 120, 180]))),
        ("grey_photo.jpg", uniform(9, 11, Luma([77u8]))),
        ("odd_37x53.png", banded(false).into()),
    ];
    for (name, img) in layouts {
        img.save(images.join(name)).unwrap();
    }
    // 8-bit palette, every pixel index 0.
    let plte = (b"PLTE", vec![10, 200, 30, 255, 0, 0]);
    let palette = raw_png(4, 8, 3, &[vec![0; 4], vec![0; 4]], &[plte]);
    fs::write(images.join("palette.png"), palette).unwrap();
    // 4-bit palette, every pixel index 1, which tRNS makes fully transparent.
    let chunks = [(b"PLTE", vec![0, 0, 0, 9, 9, 9]), (b"tRNS", vec![255, 0])];
    let palette4 = raw_png(4, 4, 3, &[vec![0x11; 2], vec![0x11; 2]], &chunks);
    fs::write(images.join("palette_4bit_transparent.png"), palette4).unwrap();
    let grey1 = raw_png(8, 1, 0, &[vec![0xFF], vec![0xFF], vec![0xFF]], &[]);
    fs::write(images.join("grey_1bit.png"), grey1).unwrap();
    // COCO-style: under `filepath`, and a PNG although named .jpg.
    let coco = images.join("val2014").join("COCO_val2014_000000000042.jpg");
    uniform(7, 7, Rgb([1u8, 2, 3]))
        .save_with_format(&coco, image::ImageFormat::Png)
        .unwrap();

    let mut raw_only = entry("grey_1bit.png", "val", &[]);
    raw_only["sentences"] = json!([{"raw": "A Man's hat, red.", "sentid": 1}]);
    let mut coco_entry = entry(
        "COCO_val2014_000000000042.jpg",
        "test",
        &["a", "tiny", "square"],
    );
    coco_entry["filepath"] = json!("val2014");
    coco_entry["cocoid"] = json!(42);
    let file = json!({
        "images": [
            entry("grey_l8.png", "train", &["A", "Grey", "SQUARE"]),
            entry("grey_alpha.png", "val", &["grey", "alpha"]),
            entry("rgb.png", "test", &["rgb"]),
            entry("rgba_half.png", "train", &["half", "red"]),
            entry("palette.png", "restval", &["palette"]),
            entry("palette_4bit_transparent.png", "train", &["clear"]),
            raw_only,
            entry("grey16.png", "test", &["sixteen"]),
            entry("rgba16.png", "train", &["deep"]),
            entry("photo.jpg", "train", &["a", "photo"]),
            entry("grey_photo.jpg", "val", &["grey", "photo"]),
            entry("odd_37x53.png", "train", &["bands"]),
            coco_entry,
        ],
        "dataset": "flickr8k",
        "licence": "made up for this test",
    });
    let path = dir.join("dataset_flickr8k.json");
    fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    path
}

fn names(set: &KarpathySet, split: Split) -> Vec<&str> {
    set.split(split)
        .iter()
        .map(|c| c.filename.as_str())
        .collect()
}

#[test]
fn reads_every_layout_with_splits_and_captions() {
    let tmp = scratch_dir("layouts");
    let dir = tmp.path();
    let json = write_fixture(dir);
    let images = dir.join("images");
    let options = KarpathyOptions {
        size: 4,
        ..KarpathyOptions::default()
    };
    let set = read_karpathy(&json, &images, &options).unwrap();
    assert_eq!(set.dataset.as_deref(), Some("flickr8k"));
    assert!(set.skipped.is_empty());
    let train = [
        "grey_l8.png",
        "rgba_half.png",
        "palette.png",
        "palette_4bit_transparent.png",
        "rgba16.png",
        "photo.jpg",
        "odd_37x53.png",
    ];
    assert_eq!(names(&set, Split::Train), train);
    assert_eq!(
        names(&set, Split::Val),
        ["grey_alpha.png", "grey_1bit.png", "grey_photo.jpg"]
    );
    assert_eq!(
        names(&set, Split::Test),
        ["rgb.png", "grey16.png", "COCO_val2014_000000000042.jpg"]
    );
    let restval: Vec<bool> = set.train.iter().map(|c| c.restval).collect();
    assert_eq!(restval, [false, false, true, false, false, false, false]);
    assert_eq!(set.train[0].entry, 0);
    assert_eq!(set.test[2].entry, 12);
    assert_eq!(
        set.test[2].path,
        images.join("val2014/COCO_val2014_000000000042.jpg")
    );

    // Captions: lower-cased tokens; `raw` tokenized when `tokens` is absent.
    assert_eq!(set.train[0].captions, [["a", "grey", "square"]]);
    assert_eq!(
        set.val[1].captions,
        [["a", "man's", "hat", ",", "red", "."]]
    );

    let get = |split: Split, name: &str| {
        let found = set.split(split).iter().find(|c| c.filename == name);
        &found.unwrap_or_else(|| panic!("{name} missing")).image
    };
    assert_uniform(get(Split::Train, "grey_l8.png"), 4, [v8(100); 3], "L8");
    let a = 51.0 / 255.0;
    let grey_alpha = over(200.0 / 255.0, a, 1.0);
    assert_uniform(get(Split::Val, "grey_alpha.png"), 4, [grey_alpha; 3], "La8");
    assert_uniform(
        get(Split::Test, "rgb.png"),
        4,
        [v8(10), v8(20), v8(30)],
        "Rgb8",
    );
    // Half-transparent red over white: (1, 127/255, 127/255).
    assert_uniform(
        get(Split::Train, "rgba_half.png"),
        4,
        [1.0, v8(127), v8(127)],
        "Rgba8",
    );
    assert_uniform(
        get(Split::Train, "palette.png"),
        4,
        [v8(10), v8(200), v8(30)],
        "palette",
    );
    assert_uniform(
        get(Split::Train, "palette_4bit_transparent.png"),
        4,
        [1.0; 3],
        "tRNS",
    );
    assert_uniform(get(Split::Val, "grey_1bit.png"), 4, [1.0; 3], "1-bit");
    assert_uniform(
        get(Split::Test, "grey16.png"),
        4,
        [32768.0 / 65535.0; 3],
        "L16",
    );
    let a16 = 32768.0 / 65535.0;
    let rgba16 = [
        over(1.0, a16, 1.0),
        over(0.0, a16, 1.0),
        over(1000.0 / 65535.0, a16, 1.0),
    ];
    assert_uniform(get(Split::Train, "rgba16.png"), 4, rgba16, "Rgba16");
    assert_uniform(
        get(Split::Test, "COCO_val2014_000000000042.jpg"),
        4,
        [v8(1), v8(2), v8(3)],
        "PNG named .jpg",
    );
    // JPEG: a uniform grey block survives exactly; colour passes through YCbCr, within 2/255.
    assert_uniform(
        get(Split::Val, "grey_photo.jpg"),
        4,
        [v8(77); 3],
        "grey JPEG",
    );
    let photo = get(Split::Train, "photo.jpg");
    for (ch, want) in [60, 120, 180].into_iter().enumerate() {
        for y in 0..4 {
            for x in 0..4 {
                assert!(
                    (photo.at(ch, y, x) - v8(want)).abs() <= 2.0 / 255.0,
                    "JPEG ch {ch}"
                );
            }
        }
    }
    let odd = get(Split::Train, "odd_37x53.png");
    assert_eq!((odd.height, odd.width, odd.data.len()), (4, 4, 48));
    assert!(odd.data.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn resizing_keeps_the_centre_square_with_bilinear_weights() {
    let tmp = scratch_dir("resize");
    let dir = tmp.path();
    // At the shorter side's own size the resize is the identity and the crop drops 8 rows
    // (or columns) at each end: only the blue band is left, exactly.
    for transpose in [false, true] {
        let path = dir.join(format!("banded-{transpose}.png"));
        banded(transpose).save(&path).unwrap();
        let img = load_square(&path, 37, [1.0; 3]).unwrap();
        assert_uniform(&img, 37, [0.0, 0.0, 1.0], "centre crop");
    }
    // 8 wide × 4 tall, left half black, right half white, to 2 × 2: scaled to 4 × 2, the
    // middle two columns kept. Pillow's halving weights 1/8, 3/8, 3/8, 1/8 give 1/8 and 7/8.
    let path = dir.join("halves.png");
    ImageBuffer::from_fn(8, 4, |x, _| Luma([if x < 4 { 0u8 } else { 255 }]))
        .save(&path)
        .unwrap();
    let img = load_square(&path, 2, [1.0; 3]).unwrap();
    for ch in 0..3 {
        for y in 0..2 {
            assert_eq!([img.at(ch, y, 0), img.at(ch, y, 1)], [0.125, 0.875]);
        }
    }
    // A transparent pixel becomes the background colour; the stored colour does not show.
    let path = dir.join("clear.png");
    ImageBuffer::from_pixel(3, 2, Rgba([255u8, 255, 255, 0]))
        .save(&path)
        .unwrap();
    let img = decode_rgb(&path, [0.25, 0.5, 0.75]).unwrap();
    assert_eq!((img.height, img.width), (2, 3));
    assert!(
        (0..6).all(|i| img.data[i] == 0.25 && img.data[6 + i] == 0.5 && img.data[12 + i] == 0.75)
    );
}

#[test]
fn max_per_split_and_skip_bad() {
    let tmp = scratch_dir("skip");
    let dir = tmp.path();
    let json = write_fixture(dir);
    let images = dir.join("images");
    let small = KarpathyOptions {
        size: 2,
        max_per_split: Some(2),
        ..KarpathyOptions::default()
    };
    let set = read_karpathy(&json, &images, &small).unwrap();
    assert_eq!(names(&set, Split::Train), ["grey_l8.png", "rgba_half.png"]);
    assert_eq!(names(&set, Split::Val), ["grey_alpha.png", "grey_1bit.png"]);
    assert_eq!(set.test.len(), 2);

    // Three bad images: missing, not an image, a truncated PNG.
    fs::remove_file(images.join("rgba_half.png")).unwrap();
    fs::write(images.join("palette.png"), b"this is not an image").unwrap();
    let png = fs::read(images.join("rgb.png")).unwrap();
    fs::write(images.join("rgb.png"), &png[..png.len() / 2]).unwrap();
    let strict = read_karpathy(&json, &images, &small).unwrap_err();
    match &strict {
        DataError::Record { path, index, msg } => {
            // The first bad entry in file order: the truncated PNG.
            assert_eq!((path, *index), (&images.join("rgb.png"), 2));
            assert!(
                msg.contains("`rgb.png`") && msg.contains("dataset_flickr8k.json"),
                "{msg}"
            );
        }
        other => panic!("expected a record error, got {other:?}"),
    }
    let skipping = KarpathyOptions {
        skip_bad: true,
        ..small
    };
    let set = read_karpathy(&json, &images, &skipping).unwrap();
    let skipped: Vec<&Path> = set.skipped.iter().map(|(p, _)| p.as_path()).collect();
    let bad = ["rgb.png", "rgba_half.png", "palette.png"].map(|n| images.join(n));
    assert_eq!(skipped, bad.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    for ((_, msg), name) in set
        .skipped
        .iter()
        .zip(["rgb.png", "rgba_half.png", "palette.png"])
    {
        assert!(
            msg.contains(&format!("entry `{name}` of")) && msg.contains("dataset_flickr8k.json"),
            "{msg}"
        );
    }
    // Skipped images do not count towards the per-split maximum.
    assert_eq!(
        names(&set, Split::Train),
        ["grey_l8.png", "palette_4bit_transparent.png"]
    );
    assert_eq!(
        names(&set, Split::Test),
        ["grey16.png", "COCO_val2014_000000000042.jpg"]
    );
}

/// Writes `text` as a JSON file and returns the error reading it (with an empty image folder).
fn json_error(dir: &Path, name: &str, text: &str) -> DataError {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    fs::create_dir_all(dir.join("images")).unwrap();
    assert!(read_karpathy_entries(&path).is_err());
    read_karpathy(&path, &dir.join("images"), &KarpathyOptions::default()).unwrap_err()
}

#[test]
fn malformed_files_name_the_file_and_the_place() {
    let tmp = scratch_dir("malformed");
    let dir = tmp.path();
    let good = r#"{"filename": "a.png", "split": "train", "sentences": [{"tokens": ["a"]}]}"#;

    let text =
        "{\"images\": [\n {\"filename\": \"a.png\",\n \"split\": \"val\" \"sentences\": []}]}";
    let error = json_error(dir, "syntax.json", text);
    match &error {
        DataError::Format { path, line, msg } => {
            assert_eq!((path, *line), (&dir.join("syntax.json"), 3));
            assert!(msg.starts_with("column "), "{msg}");
        }
        other => panic!("expected a format error, got {other:?}"),
    }
    assert!(
        error.to_string().contains("syntax.json:3: column"),
        "{error}"
    );
    let typed = json_error(dir, "typed.json", "{\"images\": [\n{\"filename\": 5}]}");
    assert!(
        matches!(typed, DataError::Format { line: 2, .. }),
        "{typed}"
    );
    let no_images = json_error(dir, "empty.json", "{\"dataset\": \"coco\"}");
    assert!(
        no_images.to_string().contains("missing field `images`"),
        "{no_images}"
    );

    // Entry errors, one a line: file name | the entry after `good` | words the message holds.
    let cases = r#"
        nofilename  | {"split": "train", "sentences": []}                          | `filename`
        nosentences | {"filename": "b.png", "split": "val"}                        | `b.png` `sentences`
        split       | {"filename": "c.png", "split": "dev", "sentences": []}       | `c.png` `dev`
        nosplit     | {"filename": "d.png", "sentences": [{"tokens": ["x"]}]}      | `d.png` `split`
        escape      | {"filename": "../e.png", "split": "test", "sentences": []}   | `../e.png` folder
        nosentence  | {"filename": "f.png", "split": "test", "sentences": [{}]}    | `f.png` `raw`"#;
    for case in cases.trim().lines() {
        let [name, bad, words] = [0, 1, 2].map(|i| case.split('|').nth(i).unwrap().trim());
        let file = format!("{name}.json");
        let error = json_error(dir, &file, &format!(r#"{{"images": [{good}, {bad}]}}"#));
        match &error {
            DataError::Record { path, index, msg } => {
                assert_eq!((path, *index), (&dir.join(&file), 1), "{error}");
                let missing: Vec<&str> = words.split(' ').filter(|w| !msg.contains(w)).collect();
                assert!(missing.is_empty(), "{name}: {msg:?} lacks {missing:?}");
            }
            other => panic!("{name}: expected a record error, got {other:?}"),
        }
    }

    // A missing JSON or image folder is an I/O error naming it.
    let missing = dir.join("absent.json");
    let error = read_karpathy(&missing, dir, &KarpathyOptions::default()).unwrap_err();
    assert!(
        matches!(&error, DataError::Io { path, .. } if path == &missing),
        "{error}"
    );
    let json = dir.join("nosplit-ok.json");
    fs::write(&json, format!(r#"{{"images": [{good}]}}"#)).unwrap();
    let folder = dir.join("no-such-folder");
    let error = read_karpathy(&json, &folder, &KarpathyOptions::default()).unwrap_err();
    assert!(
        matches!(&error, DataError::Io { path, .. } if path == &folder),
        "{error}"
    );
}
