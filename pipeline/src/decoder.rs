//! Hardware decoder selection. GStreamer autoplugs decoders by rank; we raise the rank of the
//! hardware decoders this machine has (VA-API, NVDEC, V4L2) so they win, or lower them to force
//! software decoding. The decoder actually chosen for each camera is reported in its status.

use std::sync::Mutex;

use gstreamer as gst;
use gstreamer::prelude::*;

/// Which decoders a camera may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecoderPreference {
    /// Hardware when this machine has one for the codec, software otherwise.
    #[default]
    Auto,
    /// Software only (e.g. a driver that misbehaves).
    Software,
}

/// Hardware video decoders GStreamer may have, newest plugin families first.
const HARDWARE: &[&str] = &[
    "nvh264dec",
    "nvh265dec",
    "nvjpegdec",
    "vah264dec",
    "vah265dec",
    "vajpegdec",
    "vaapih264dec",
    "vaapih265dec",
    "vaapijpegdec",
    "v4l2h264dec",
    "v4l2h265dec",
    "v4l2jpegdec",
    "nvv4l2decoder",
];

static APPLIED: Mutex<Option<DecoderPreference>> = Mutex::new(None);

/// The hardware decoder factories present on this machine.
pub fn hardware_decoders_present() -> Vec<String> {
    if crate::init().is_err() {
        return Vec::new();
    }
    HARDWARE
        .iter()
        .filter(|n| gst::ElementFactory::find(n).is_some())
        .map(|n| n.to_string())
        .collect()
}

/// Applies a decoder preference process-wide (GStreamer ranks are global).
pub fn set_decoder_preference(pref: DecoderPreference) -> Result<(), crate::PipelineError> {
    crate::init()?;
    let mut applied = APPLIED.lock().unwrap_or_else(|p| p.into_inner());
    if *applied == Some(pref) {
        return Ok(());
    }
    for name in HARDWARE {
        if let Some(f) = gst::ElementFactory::find(name) {
            let rank = match pref {
                DecoderPreference::Auto => gst::Rank::PRIMARY + 10,
                DecoderPreference::Software => gst::Rank::NONE,
            };
            f.set_rank(rank);
            tracing::info!(decoder = name, ?rank, "hardware decoder rank set");
        }
    }
    *applied = Some(pref);
    Ok(())
}

/// Is this element a video (or image) decoder?
pub(crate) fn is_video_decoder(e: &gst::Element) -> bool {
    e.factory().is_some_and(|f| {
        let klass = f.metadata(gst::ELEMENT_METADATA_KLASS).unwrap_or_default();
        klass.contains("Decoder") && (klass.contains("Video") || klass.contains("Image"))
    })
}

/// Whether a decoder factory is one of the hardware ones.
pub(crate) fn is_hardware(factory: &str) -> bool {
    HARDWARE.contains(&factory)
}
