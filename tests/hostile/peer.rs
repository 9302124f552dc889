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
