//! `wire::parse_error_body`: any bytes a server sends as an error body.
//!
//! Never panics; the message is at most 300 bytes plus an ellipsis, and
//! starts with no blank.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let message = amp_client::__private::parse_error_body(data);
    // 300 bytes, then at most a 3-byte "…".
    assert!(message.len() <= 303, "{} bytes", message.len());
    assert_eq!(message.trim_start(), message);
});
