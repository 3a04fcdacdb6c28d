//! AttnGAN (Xu et al. 2018) on captioned scenes: word attention, the sentence only, no DAMSM.

fn main() -> std::process::ExitCode {
    experiments::cli::main::<experiments::text_to_image::TextToImage>()
}
