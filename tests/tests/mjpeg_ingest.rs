//! HTTP MJPEG cameras (multipart/x-mixed-replace), served by a small HTTP server in the test
//! from JPEGs encoded at test time out of a real photo.

#![allow(clippy::panic)] // tests report failures by panicking

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use e2e_tests::{letterbox, testdata};
use pipeline::{Camera, CameraState, SourceOptions, SupervisorOptions};

fn jpeg(img: &image::RgbImage) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Jpeg)
        .expect("jpeg");
    buf.into_inner()
}

#[test]
fn an_http_mjpeg_camera_delivers_decoded_frames() {
    let photo = image::open(testdata().join("faces/face_recognition_examples/obama.jpg"))
        .expect("photo")
        .to_rgb8();
    let frame = jpeg(&letterbox(&photo, 320, 240));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        // Serve every connection (the camera may reconnect) with a stream of JPEG parts.
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let frame = frame.clone();
            std::thread::spawn(move || {
                let mut req = [0u8; 1024];
                let _ = s.read(&mut req);
                let head = "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n";
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..200 {
                    let part = format!(
                        "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                        frame.len()
                    );
                    if s.write_all(part.as_bytes()).is_err()
                        || s.write_all(&frame).is_err()
                        || s.write_all(b"\r\n").is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(40));
                }
            });
        }
    });
    let mut cam = Camera::new(
        SourceOptions::live("mjpeg-gate", format!("http://127.0.0.1:{port}/video.mjpg")),
        SupervisorOptions::default(),
    );
    let mut n = 0;
    while n < 10 {
        let f = cam.next_frame().expect("frame").expect("running");
        assert_eq!((f.width, f.height), (320, 240));
        // The letterboxed photo is in the middle: not a blank frame.
        let mid = f.row(120);
        assert!(mid.iter().any(|&b| b > 40), "decoded frame is blank");
        n += 1;
    }
    let st = cam.status();
    assert_eq!(st.state, CameraState::Running);
    assert_eq!(st.stream.codec.as_deref(), Some("MJPEG"), "{st:?}");
}
