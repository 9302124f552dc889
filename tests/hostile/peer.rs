//! Misbehaving TCP peers for the hostile suite: every connection to the
//! returned port of 127.0.0.1 is served by a function in its own thread.

use std::net::{TcpListener, TcpStream};

/// Serves every connection with `behaviour`, in a background thread.
pub fn serve(behaviour: fn(TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behaviour(stream));
        }
    });
    port
}

/// The next line from `stream`, without its line ending; `None` at the end
/// of the stream, on a timeout, or past 8 KiB.
pub fn read_line(stream: &mut TcpStream) -> Option<String> {
    use std::io::Read;
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 8192 {
        match stream.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => {
                return Some(String::from_utf8_lossy(&line).trim_end().to_string());
            }
            Ok(1) => line.push(byte[0]),
            _ => return None,
        }
    }
    None
}
