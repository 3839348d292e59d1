//! A real RTSP server for tests (GStreamer's RTSP server library): serves a live H.264 test
//! pattern encoded with x264enc at `rtsp://127.0.0.1:PORT/cam`. Prints `ready` when serving.
//! Tests kill and restart this process to simulate a camera going away.
//!
//! Usage: rtsp-test-server PORT [WIDTHxHEIGHT] [USER:PASSWORD]

use anyhow::{Context, Result, anyhow};
use gstreamer as gst;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .context("usage: rtsp-test-server PORT [WxH] [USER:PASS]")?
        .parse()?;
    let size = args.next().unwrap_or_else(|| "320x240".into());
    let (w, h) = size
        .split_once('x')
        .ok_or_else(|| anyhow!("size must be WxH"))?;
    let creds = args.next();
    gst::init()?;
    let main_loop = gst::glib::MainLoop::new(None, false);
    let server = rtsp::RTSPServer::new();
    server.set_address("127.0.0.1");
    server.set_service(&port.to_string());
    let factory = rtsp::RTSPMediaFactory::new();
    factory.set_launch(&format!(
        "( videotestsrc is-live=true pattern=ball ! video/x-raw,width={w},height={h},framerate=25/1 ! \
         x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    ));
    factory.set_shared(true);
    if let Some(c) = creds {
        let (user, pass) = c
            .split_once(':')
            .ok_or_else(|| anyhow!("credentials must be USER:PASS"))?;
        let auth = rtsp::RTSPAuth::new();
        let token = rtsp::RTSPToken::builder()
            .field(rtsp::RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
            .build();
        let basic = rtsp::RTSPAuth::make_basic(user, pass);
        auth.add_basic(basic.as_str(), &token);
        server.set_auth(Some(&auth));
        factory.add_role_from_structure(
            &gst::Structure::builder("camera-user")
                .field(rtsp::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
                .field(rtsp::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, true)
                .build(),
        );
    }
    server
        .mount_points()
        .ok_or_else(|| anyhow!("no mount points"))?
        .add_factory("/cam", factory);
    let _id = server.attach(None)?;
    println!("ready");
    main_loop.run();
    Ok(())
}
