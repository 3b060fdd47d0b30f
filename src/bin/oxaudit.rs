//! `oxaudit`: keys for and verification of oxsyslogd's signed audit log (omaudit).
//!
//! - `oxaudit keygen --type ed25519|p256 --out DIR` writes `DIR/audit.key` (PKCS#8 PEM, mode
//!   0600) and `DIR/audit.pub` (SubjectPublicKeyInfo PEM) and prints the key id.
//! - `oxaudit verify --pubkey FILE|DIR… [--node NAME] [--from SEQ] [--checkpoints FILE] PATH…`
//!   prints `OK: N records, nodes …` and exits 0, or one line per finding (node and sequence
//!   number) and exits 1; warnings (records after the last checkpoint) do not fail. Exit 2:
//!   unusable input (unreadable file or key).
//! - `oxaudit show PATH…` prints the records as a table.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use oxsyslog::audit::keys::{Alg, Keyring, PublicKey, Signer};
use oxsyslog::audit::pkcs11::{self, TokenSpec};
use oxsyslog::audit::record::{to_hex, Record};
use oxsyslog::audit::verify::{verify, Options};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};

#[derive(Parser)]
#[command(
    name = "oxaudit",
    version,
    about = "Keys and verification for oxsyslogd's signed audit log"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate a signing key: DIR/audit.key (0600) and DIR/audit.pub.
    Keygen {
        /// ed25519 or p256
        #[arg(long = "type", default_value = "ed25519")]
        ty: String,
        #[arg(long)]
        out: PathBuf,
        /// Generate the key on a PKCS#11 token through this module (e.g.
        /// /usr/lib/softhsm/libsofthsm2.so): only DIR/audit.pub is written, the private key
        /// stays on the token (non-extractable, p256 only).
        #[arg(long)]
        pkcs11_module: Option<PathBuf>,
        /// Token label (with --pkcs11-module).
        #[arg(long)]
        token: Option<String>,
        /// Slot number (with --pkcs11-module, instead of --token).
        #[arg(long)]
        slot: Option<u64>,
        /// File holding the user PIN (mode 0600).
        #[arg(long)]
        pin_file: Option<PathBuf>,
        /// Key label on the token.
        #[arg(long, default_value = "oxaudit")]
        label: String,
    },
    /// Verify audit files.
    Verify {
        /// Public key file or directory of *.pub files (repeatable; several keys for rollover).
        #[arg(long = "pubkey", required = true)]
        pubkey: Vec<PathBuf>,
        /// Only this node.
        #[arg(long)]
        node: Option<String>,
        /// Start at this sequence number.
        #[arg(long)]
        from: Option<u64>,
        /// Exported checkpoints (omaudit checkpoint.file) to detect truncation against.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print records.
    Show {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Keygen {
            ty,
            out,
            pkcs11_module,
            token,
            slot,
            pin_file,
            label,
        } => {
            let Some(alg) = Alg::parse(&ty) else {
                eprintln!("oxaudit: unknown key type '{ty}' (ed25519 or p256)");
                return ExitCode::from(2);
            };
            if let Some(library) = pkcs11_module {
                if alg != Alg::P256 || ty == "ed25519" {
                    eprintln!("oxaudit: keys on PKCS#11 tokens are p256");
                    return ExitCode::from(2);
                }
                let Some(pin_file) = pin_file else {
                    eprintln!("oxaudit: --pkcs11-module needs --pin-file");
                    return ExitCode::from(2);
                };
                let spec = TokenSpec {
                    library,
                    slot,
                    token_label: token,
                    key_label: label,
                    pin_file,
                };
                let res = pkcs11::generate(&spec).and_then(|der| {
                    let pk = PublicKey::from_spki_der(&der, "token")?;
                    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
                    let pem = p256::ecdsa::VerifyingKey::from_public_key_der(&der)
                        .ok()
                        .and_then(|k| k.to_public_key_pem(LineEnding::LF).ok())
                        .ok_or("cannot encode the public key")?;
                    let pp = out.join("audit.pub");
                    std::fs::write(&pp, pem).map_err(|e| format!("{}: {e}", pp.display()))?;
                    Ok((pk.key_id, pp))
                });
                return match res {
                    Ok((kid, pp)) => {
                        println!(
                            "ecdsa-p256 key {kid} generated on the token (label '{}', non-extractable); public key {}",
                            spec.key_label,
                            pp.display()
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("oxaudit: {e}");
                        ExitCode::from(2)
                    }
                };
            }
            match Signer::generate(alg).and_then(|s| s.write_pair(&out).map(|p| (s, p))) {
                Ok((s, (k, p))) => {
                    println!(
                        "{} key {}: {} (private, 0600), {} (public)",
                        alg.name(),
                        s.key_id(),
                        k.display(),
                        p.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("oxaudit: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Verify {
            pubkey,
            node,
            from,
            checkpoints,
            paths,
        } => {
            let mut ring = Keyring::default();
            for p in &pubkey {
                if let Err(e) = ring.add_path(p) {
                    eprintln!("oxaudit: {e}");
                    return ExitCode::from(2);
                }
            }
            let opts = Options {
                files: paths,
                node,
                from,
                checkpoints,
            };
            match verify(&opts, &ring) {
                Ok(r) => {
                    for f in &r.findings {
                        println!("{f}");
                    }
                    for w in &r.warnings {
                        println!("warning: {w}");
                    }
                    if r.ok() {
                        println!("OK: {} records, nodes {}", r.records, r.nodes.join(", "));
                        ExitCode::SUCCESS
                    } else {
                        println!("FAILED: {} findings", r.findings.len());
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("oxaudit: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Show { paths } => {
            for p in paths {
                let data = match std::fs::read(&p) {
                    Ok(d) => d,
                    Err(e) => {
                        eprintln!("oxaudit: {}: {e}", p.display());
                        return ExitCode::from(2);
                    }
                };
                for (i, line) in data.split(|&c| c == b'\n').enumerate() {
                    if line.is_empty() {
                        continue;
                    }
                    match Record::from_line(line) {
                        Ok(r) => {
                            let key = r
                                .row_protection
                                .split(':')
                                .take(3)
                                .collect::<Vec<_>>()
                                .join(":");
                            println!(
                                "{} seq={} {} ts={} status={} type={} module={} service={} authToken={} sd1={} customId={} sd2={} prev={}… key={} details={}",
                                r.node_id,
                                r.sequence_number,
                                r.kind.name(),
                                r.time_stamp,
                                r.field("eventStatus"),
                                r.field("eventType"),
                                r.field("module"),
                                r.field("service"),
                                r.field("authToken"),
                                r.field("searchDetail1"),
                                r.field("customId"),
                                r.field("searchDetail2"),
                                &to_hex(&r.prev)[..16],
                                key,
                                r.field("additionalDetails")
                            );
                        }
                        Err(e) => println!("{}:{}: malformed record: {e}", p.display(), i + 1),
                    }
                }
            }
            ExitCode::SUCCESS
        }
    }
}
