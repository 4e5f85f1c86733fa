//! Server configuration: defaults, then a TOML file, then `SHIORI_*` environment variables,
//! then command-line flags (each overriding the one before).

use std::path::{Path, PathBuf};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?}: use human or json")),
        }
    }
}

/// What `shiori serve` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The data folder.
    pub data: PathBuf,
    /// The address to listen on.
    pub listen: String,
    /// The log format.
    pub log_format: LogFormat,
    /// The public base URL (for links in OpenSearch and SRU), if not the listen address.
    pub base_url: Option<String>,
    /// Serve HTTPS with this certificate (plain HTTP when `None`).
    pub tls: Option<super::tls::TlsSource>,
    /// The hour in Japan (0 to 23) at which every library is backed up each day.
    pub backup_hour: u8,
    /// The largest MARC upload `POST /api/v1/{tenant}/import` accepts, in bytes.
    pub max_import_bytes: usize,
    /// The SMTP relay notices are e-mailed through (none: they wait for the staff).
    pub smtp_url: Option<crate::mailer::SmtpUrl>,
    /// The notices' sender, e.g. `栞市立図書館 <noreply@lib.example.jp>`.
    pub mail_from: Option<String>,
}

/// The file form: every key optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    listen: Option<String>,
    log_format: Option<LogFormat>,
    base_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_self_signed: Option<bool>,
    backup_hour: Option<u8>,
    max_import_bytes: Option<usize>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
}

/// Values given on the command line or in the environment (clap reads both).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--data` / `SHIORI_DATA`.
    pub data: Option<PathBuf>,
    /// `--listen` / `SHIORI_LISTEN`.
    pub listen: Option<String>,
    /// `--log-format` / `SHIORI_LOG_FORMAT`.
    pub log_format: Option<LogFormat>,
    /// `--base-url` / `SHIORI_BASE_URL`.
    pub base_url: Option<String>,
    /// `--tls-cert` / `SHIORI_TLS_CERT`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key` / `SHIORI_TLS_KEY`.
    pub tls_key: Option<PathBuf>,
    /// `--tls-self-signed` (true when given).
    pub tls_self_signed: Option<bool>,
    /// `--backup-hour` / `SHIORI_BACKUP_HOUR`.
    pub backup_hour: Option<u8>,
    /// `--max-import-bytes` / `SHIORI_MAX_IMPORT_BYTES`.
    pub max_import_bytes: Option<usize>,
    /// `SHIORI_SMTP_URL` only (never a flag: a password in it would show in `ps`).
    pub smtp_url: Option<String>,
    /// `--mail-from` / `SHIORI_MAIL_FROM`.
    pub mail_from: Option<String>,
}

/// The default data folder.
pub const DEFAULT_DATA: &str = "./shiori-data";
/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default hour of the daily backups, in Japan: 03:00.
pub const DEFAULT_BACKUP_HOUR: u8 = 3;
/// The default limit of a MARC upload: 64 MiB.
pub const DEFAULT_MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

impl Config {
    /// Defaults, overridden by `file` (if given), then by `overrides`.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Config> {
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|err| anyhow::anyhow!("cannot read the configuration {}: {err}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|err| anyhow::anyhow!("configuration {}: {err}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let cert = overrides.tls_cert.or(from_file.tls_cert);
        let key = overrides.tls_key.or(from_file.tls_key);
        let self_signed = overrides.tls_self_signed.or(from_file.tls_self_signed).unwrap_or(false);
        let tls = match (cert, key, self_signed) {
            (None, None, false) => None,
            (None, None, true) => Some(super::tls::TlsSource::SelfSigned),
            (Some(cert), Some(key), false) => Some(super::tls::TlsSource::Files { cert, key }),
            (Some(_), Some(_), true) => anyhow::bail!("give either a certificate and key, or --tls-self-signed"),
            _ => anyhow::bail!("a TLS certificate needs its key and a key its certificate: give both"),
        };
        let backup_hour = overrides.backup_hour.or(from_file.backup_hour).unwrap_or(DEFAULT_BACKUP_HOUR);
        if backup_hour > 23 {
            anyhow::bail!("backup_hour {backup_hour}: give an hour from 0 to 23 (Japan time)");
        }
        let max_import_bytes =
            overrides.max_import_bytes.or(from_file.max_import_bytes).unwrap_or(DEFAULT_MAX_IMPORT_BYTES);
        if max_import_bytes == 0 {
            anyhow::bail!("max_import_bytes must be more than 0");
        }
        let smtp_url = overrides.smtp_url.or(from_file.smtp_url).filter(|u| !u.trim().is_empty());
        let mail_from = overrides.mail_from.or(from_file.mail_from).filter(|m| !m.trim().is_empty());
        if smtp_url.is_some() && mail_from.is_none() {
            anyhow::bail!("smtp_url is set but mail_from is not: give the notices' sender address");
        }
        Ok(Config {
            smtp_url: smtp_url.map(crate::mailer::SmtpUrl),
            mail_from,
            tls,
            backup_hour,
            max_import_bytes,
            data: overrides.data.or(from_file.data).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA)),
            listen: overrides.listen.or(from_file.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            log_format: overrides.log_format.or(from_file.log_format).unwrap_or_default(),
            base_url: overrides.base_url.or(from_file.base_url),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("shiori-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("shiori.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\n").unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.data, PathBuf::from(DEFAULT_DATA));
        let config =
            Config::load(Some(&file), Overrides { listen: Some("127.0.0.1:1".into()), ..Overrides::default() })
                .unwrap();
        assert_eq!(config.listen, "127.0.0.1:1");
        assert_eq!((config.backup_hour, config.max_import_bytes), (3, 64 * 1024 * 1024));
        std::fs::write(&file, "backup_hour = 5\nmax_import_bytes = 1000\n").unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        assert_eq!((config.backup_hour, config.max_import_bytes), (5, 1000));
        std::fs::write(&file, "backup_hour = 24\n").unwrap();
        assert!(Config::load(Some(&file), Overrides::default()).is_err(), "no hour 24");
        std::fs::write(&file, "lisen = \"typo\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
        std::fs::write(&file, "tls_cert = \"a.pem\"\n").unwrap();
        assert!(Config::load(Some(&file), Overrides::default()).is_err(), "a certificate without its key");
        let config =
            Config::load(Some(&file), Overrides { tls_key: Some("a.key".into()), ..Overrides::default() }).unwrap();
        let files = super::super::tls::TlsSource::Files { cert: "a.pem".into(), key: "a.key".into() };
        assert_eq!(config.tls, Some(files));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
