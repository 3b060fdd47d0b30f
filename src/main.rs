//! `oxsyslogd`: the daemon's command line, compatible with rsyslogd's flags
//! (`-n -f FILE -N LEVEL -i PIDFILE -d -v`, plus `-C` and `-M DIR` that rsyslog's test
//! harness passes), and our own `--dump-config`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use oxsyslog::config::{self, dump};
use oxsyslog::engine;

#[derive(Parser, Debug)]
#[command(
    name = "oxsyslogd",
    disable_version_flag = true,
    about = "oxsyslogd - a drop-in replacement for rsyslogd"
)]
struct Cli {
    /// Run in the foreground (do not fork).
    #[arg(short = 'n')]
    foreground: bool,
    /// Config file (rsyslogd's default: /etc/rsyslog.conf).
    #[arg(short = 'f', value_name = "FILE", default_value = "/etc/rsyslog.conf")]
    config: PathBuf,
    /// Check the config and exit: 0 when valid, 1 when not (`-N1`).
    #[arg(short = 'N', value_name = "LEVEL")]
    check_level: Option<u32>,
    /// Pid file; `NONE` for none (`-iNONE`).
    #[arg(
        short = 'i',
        value_name = "PIDFILE",
        default_value = "/run/rsyslogd.pid"
    )]
    pidfile: String,
    /// Debug output.
    #[arg(short = 'd')]
    debug: bool,
    /// Print the version and exit.
    #[arg(short = 'v')]
    version: bool,
    /// rsyslogd's "no chdir /" flag; accepted for compatibility.
    #[arg(short = 'C')]
    no_chdir: bool,
    /// rsyslogd's module directory; modules are built in, so it is accepted and unused.
    #[arg(short = 'M', value_name = "DIR")]
    module_dir: Option<String>,
    /// Print the loaded config as canonical RainerScript with every action's effective
    /// parameters, then exit (0 when the config is valid).
    #[arg(long = "dump-config")]
    dump_config: bool,
}

fn main() -> ExitCode {
    // resident pages: drop what the loader and each start-up phase mapped (src/resident.rs)
    oxsyslog::resident::trim();
    let cli = Cli::parse();
    if cli.version {
        println!(
            "oxsyslogd {} (compatible with rsyslogd 8.2302 configuration)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    if cli.debug {
        eprintln!("oxsyslogd: loading config {}", cli.config.display());
    }
    let loaded = config::load_path(&cli.config);
    oxsyslog::resident::trim(); // the config parser
    for d in &loaded.diagnostics {
        eprintln!("{d}");
    }
    let ok = !loaded.has_errors();
    if cli.dump_config {
        if ok {
            print!("{}", dump::dump(&loaded.config));
            return ExitCode::SUCCESS;
        }
        return ExitCode::FAILURE;
    }
    if let Some(level) = cli.check_level {
        let ok = ok && {
            // rules compile as the daemon compiles them: regexes, functions, variables,
            // templates, lookup tables
            let r = oxsyslog::template::Templates::from_config(&loaded.config).and_then(|t| {
                oxsyslog::filter::exec::Rulesets::compile(&loaded.config, &t).map(|_| ())
            });
            if let Err(e) = &r {
                eprintln!("{e}");
            }
            // TLS listeners and actions: their files as the daemon reads them at start
            let (mut tls_errors, mut tls_warnings) =
                oxsyslog::tls::setup::check_config(&loaded.config);
            // RELP over TLS (imrelp/omrelp `tls="on"`)
            let (e, w) = oxsyslog::relp::tls::check_config(&loaded.config);
            tls_errors.extend(e);
            // omkafka's parameters as omkafka.c newActInst checks them
            tls_errors.extend(oxsyslog::output::kafka::check_config(&loaded.config));
            tls_warnings.extend(w);
            for w in &tls_warnings {
                eprintln!("oxsyslogd: {w}");
            }
            for e in &tls_errors {
                eprintln!("{e}");
            }
            r.is_ok() && tls_errors.is_empty()
        };
        if ok {
            eprintln!(
                "oxsyslogd: config {} is valid (check level {level})",
                cli.config.display()
            );
            return ExitCode::SUCCESS;
        }
        eprintln!("oxsyslogd: config {} has errors", cli.config.display());
        return ExitCode::FAILURE;
    }
    if !ok {
        eprintln!(
            "oxsyslogd: config {} has errors, not starting",
            cli.config.display()
        );
        return ExitCode::FAILURE;
    }
    let _ = &cli.module_dir;
    // Like rsyslogd: after reading the config, change to "/" unless -C was given.
    if !cli.no_chdir {
        if let Err(e) = std::env::set_current_dir("/") {
            eprintln!("oxsyslogd: can not do 'cd /' - still trying to run: {e}");
        }
    }
    if !cli.foreground {
        // Detach like rsyslogd without -n (before any thread exists).
        if let Err(e) = nix::unistd::daemon(true, false) {
            eprintln!("oxsyslogd: cannot run in the background: {e}");
            return ExitCode::FAILURE;
        }
    }
    let pidfile = match cli.pidfile.as_str() {
        "NONE" => None,
        p => Some(PathBuf::from(p)),
    };
    let opts = engine::RunOptions {
        config_path: cli.config.clone(),
        pidfile,
    };
    match engine::run(loaded.config, opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
