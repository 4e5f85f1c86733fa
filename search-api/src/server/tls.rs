//! TLS with rustls: TLS 1.2 and 1.3 only (rustls has nothing older, and the versions are
//! named here rather than left to a default), ring's cipher suites (all AEAD with forward
//! secrecy), HTTP/2 and HTTP/1.1 by ALPN. The certificate and key come from PEM files, or
//! for local use from a self-signed certificate made with rcgen for `localhost`,
//! `127.0.0.1` and `::1`, kept in `DATA/tls/` and reused.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use catalogue::DataLayout;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The names a self-signed certificate is made for.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// A certificate chain and its private key, PEM.
    Files {
        /// The certificate chain (leaf first).
        cert: PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// A self-signed certificate in `DATA/tls/`, made on first use.
    SelfSigned,
}

/// The server configuration of a certificate chain and key (PEM).
pub(crate) fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Arc<ServerConfig>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|err| anyhow::anyhow!("the certificate file is not PEM: {err}"))?;
    anyhow::ensure!(!chain.is_empty(), "the certificate file holds no certificate");
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|err| anyhow::anyhow!("the key file: {err}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the key do not go together")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The server configuration of a source; for a self-signed certificate, also the file
/// a client can trust.
pub(crate) fn load(source: &TlsSource, layout: &DataLayout) -> anyhow::Result<(Arc<ServerConfig>, PathBuf)> {
    let (cert, key) = match source {
        TlsSource::Files { cert, key } => (cert.clone(), key.clone()),
        TlsSource::SelfSigned => self_signed(layout)?,
    };
    let cert_pem = std::fs::read(&cert).with_context(|| format!("reading {}", cert.display()))?;
    let key_pem = std::fs::read(&key).with_context(|| format!("reading {}", key.display()))?;
    let config =
        server_config(&cert_pem, &key_pem).with_context(|| format!("{} and {}", cert.display(), key.display()))?;
    Ok((config, cert))
}

/// The self-signed certificate and key of a data folder (`DATA/tls/self-signed.crt` and
/// `.key`), made now if they do not exist yet. The key is readable by its owner only.
pub(crate) fn self_signed(layout: &DataLayout) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = layout.root().join("tls");
    let cert = dir.join("self-signed.crt");
    let key = dir.join("self-signed.key");
    if cert.is_file() && key.is_file() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|n| (*n).to_owned()).collect();
    let made = rcgen::generate_simple_self_signed(names).context("making a self-signed certificate")?;
    write_private(&key, made.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert, made.cert.pem()).with_context(|| format!("writing {}", cert.display()))?;
    Ok((cert, key))
}

/// Writes a file readable by its owner only (0600 on Unix).
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_made_once_and_loads() {
        let root = std::env::temp_dir().join(format!("shiori-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let layout = DataLayout::new(&root);
        let (cert, key) = self_signed(&layout).unwrap();
        let first = std::fs::read(&cert).unwrap();
        let (config, trusted) = load(&TlsSource::SelfSigned, &layout).unwrap();
        assert_eq!(trusted, cert);
        assert_eq!(std::fs::read(&cert).unwrap(), first, "reused, not made again");
        assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(server_config(b"not pem", b"not pem").is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
