//! The `forward` and `forward-tls` cases' receiver: a listener in the harness on 127.0.0.1:0,
//! the same for every daemon, light enough that the forwarder is what is measured. It accepts
//! every connection (omfwd may reconnect), reads each in its own thread with blocking reads of
//! 256 KiB (through a rustls server for `forward-tls`: the bench certificate, which rsyslogd's
//! gtls anon client and oxsyslogd's anon client both take) and marks the sequence numbers of
//! the lines as they stream by (cases::SeqMarks); nothing is written to a file.

use super::cases::SeqMarks;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes asked for per read.
const CHUNK: usize = 256 * 1024;
/// The run ends when nothing new arrived for this long (the rest is lost), as wait_output.
const STALL: Duration = Duration::from_secs(20);

/// What the connections marked, and when a new sequence number last arrived.
struct State {
    marks: SeqMarks,
    last_new: Option<Instant>,
}

/// A running receiver.
pub struct Receiver {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

/// A rustls server config with the bench certificate and key (PEM files certtool made).
pub fn tls_config(certs: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = (certs.join("cert.pem"), certs.join("key.pem"));
    let chain = CertificateDer::pem_file_iter(&cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| format!("{}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| format!("receiver certificate: {e}"))?;
    Ok(Arc::new(config))
}

impl Receiver {
    /// Listens on 127.0.0.1:0 for the N messages of a run (over TLS with `tls`).
    pub fn start(n: usize, tls: Option<Arc<rustls::ServerConfig>>) -> Result<Receiver, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let state = Arc::new(Mutex::new(State {
            marks: SeqMarks::new(n),
            last_new: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (state2, stop2) = (state.clone(), stop.clone());
        let acceptor = std::thread::spawn(move || {
            let mut conns = Vec::new();
            while !stop2.load(Ordering::Relaxed) {
                let Ok((conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                if stop2.load(Ordering::Relaxed) {
                    break; // the wake-up connection of `finish`
                }
                let (state, stop, tls) = (state2.clone(), stop2.clone(), tls.clone());
                conns.push(std::thread::spawn(move || {
                    read_conn(conn, tls, &state, &stop)
                }));
            }
            for c in conns {
                let _ = c.join();
            }
        });
        Ok(Receiver {
            port,
            state,
            stop,
            acceptor: Some(acceptor),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits until every sequence number below N arrived, or nothing new did for 20 s;
    /// returns the seconds from `t0` to the last new one.
    pub fn wait(&self, t0: Instant) -> f64 {
        loop {
            let (done, last) = match self.state.lock() {
                Ok(s) => (s.marks.missing() == 0, s.last_new),
                Err(_) => return t0.elapsed().as_secs_f64(),
            };
            let quiet = last.unwrap_or(t0).max(t0);
            if done || quiet.elapsed() > STALL {
                return quiet.duration_since(t0).as_secs_f64();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the receiver (after the forwarder is gone) and returns the sequence numbers
    /// that never arrived.
    pub fn finish(mut self) -> u64 {
        self.shut();
        self.state.lock().map_or(u64::MAX, |s| s.marks.missing())
    }

    fn shut(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // wakes the blocking accept
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shut();
    }
}

/// Reads one connection to its end (or `stop`), marking the complete lines of each read.
fn read_conn(
    conn: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: &Mutex<State>,
    stop: &AtomicBool,
) {
    // Blocking reads; the timeout only lets an idle connection notice `stop`.
    let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
    let mut src: Box<dyn Read> = match tls {
        Some(cfg) => match rustls::ServerConnection::new(cfg) {
            Ok(c) => Box::new(rustls::StreamOwned::new(c, conn)),
            Err(e) => {
                eprintln!("e2e: receiver: TLS session: {e}");
                return;
            }
        },
        None => Box::new(conn),
    };
    let mut buf = vec![0u8; CHUNK];
    let mut have = 0usize;
    while !stop.load(Ordering::Relaxed) {
        if have == buf.len() {
            have = 0; // a line longer than the buffer: not one of ours, dropped
        }
        let k = match src.read(&mut buf[have..]) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(_) => break, // reset, or a TLS peer gone without close_notify
        };
        have += k;
        if let Some(end) = memchr::memrchr(b'\n', &buf[..have]) {
            if let Ok(mut s) = state.lock() {
                let before = s.marks.distinct();
                s.marks.mark(&buf[..end]);
                if s.marks.distinct() > before {
                    s.last_new = Some(Instant::now());
                }
            }
            buf.copy_within(end + 1..have, 0);
            have -= end + 1;
        }
    }
}
