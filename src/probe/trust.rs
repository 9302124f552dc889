//! Trust anchors for certificate validation: the public roots of
//! webpki-roots (deterministic, so two runs judge alike), plus any `--ca-file`.

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Why the trust store could not be built.
#[derive(Debug, Error)]
pub enum TrustError {
    #[error("cannot read CA file {path}: {reason}. Pass a PEM file with one or more certificates")]
    Read { path: PathBuf, reason: String },
    #[error("CA file {path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")]
    Empty { path: PathBuf },
    #[error("CA file {path}: certificate {index} is not a usable trust anchor: {reason}")]
    Invalid {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error("cannot build the certificate verifier: {0}")]
    Verifier(String),
}

/// The roots and the verifier built on them, shared by every handshake.
#[derive(Clone)]
pub struct TrustStore {
    pub provider: Arc<CryptoProvider>,
    pub verifier: Arc<WebPkiServerVerifier>,
    /// DER subjects of every anchor, to tell whether a served chain is complete.
    pub anchor_subjects: Vec<Vec<u8>>,
    /// Human names of the sources, recorded in the evidence.
    pub sources: Vec<String>,
    /// The same anchors, for clients that build their own rustls config
    /// (the MTA-STS policy fetch with reqwest).
    roots: Arc<RootCertStore>,
}

impl TrustStore {
    /// Public roots plus the certificates in `ca_files`.
    pub fn new(ca_files: &[PathBuf]) -> Result<TrustStore, TrustError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let mut sources = vec![format!("webpki-roots ({} roots)", roots.len())];
        for path in ca_files {
            let count = add_ca_file(&mut roots, path)?;
            sources.push(format!("{} ({count} certificates)", path.display()));
        }
        let anchor_subjects = roots
            .roots
            .iter()
            .map(|a| a.subject.as_ref().to_vec())
            .collect();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = Arc::new(roots);
        let verifier = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| TrustError::Verifier(e.to_string()))?;
        Ok(TrustStore {
            provider,
            verifier,
            anchor_subjects,
            sources,
            roots,
        })
    }

    /// The trust anchors (webpki-roots plus `--ca-file`), for a client that
    /// validates strictly with its own rustls configuration.
    pub fn root_store(&self) -> Arc<RootCertStore> {
        self.roots.clone()
    }
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<usize, TrustError> {
    let bytes = std::fs::read(path).map_err(|e| TrustError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut count = 0;
    for (index, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let cert = cert.map_err(|e| TrustError::Invalid {
            path: path.to_path_buf(),
            index: index + 1,
            reason: e.to_string(),
        })?;
        roots.add(cert).map_err(|e| TrustError::Invalid {
            path: path.to_path_buf(),
            index: index + 1,
            reason: e.to_string(),
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(TrustError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_roots_load_and_bad_ca_files_are_named() {
        let store = TrustStore::new(&[]).expect("public roots");
        assert!(store.anchor_subjects.len() > 50);

        let missing = TrustStore::new(&[PathBuf::from("/nonexistent/ca.pem")])
            .err()
            .unwrap();
        assert!(
            missing.to_string().contains("/nonexistent/ca.pem"),
            "{missing}"
        );

        let dir = std::env::temp_dir().join(format!("mailaudit-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "hello").unwrap();
        let error = TrustStore::new(std::slice::from_ref(&empty)).err().unwrap();
        assert!(matches!(error, TrustError::Empty { .. }), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
